"""PyTorch fixtures for the Transformer modules (nn/transformer.hpp, tests/test_nn_transformer.cpp).

Run with Debian's python3-torch:  /usr/bin/python3 tests/parity/nn_transformer.py
Each case <name> writes under tests/fixtures/nn/: the state dict (<name>.sd.<key>.npy, keys in
order in <name>.keys.txt, random values so a wrong layout shows), the inputs (<name>.src.npy, or
<name>.tgt.npy and <name>.memory.npy), the masks given (<name>.<mask>.npy as float64: a 0/1 bool
mask, 1 = masked out, or a float -inf/0 mask), the output <name>.out.npy, the upstream gradient
<name>.gout.npy and the gradients of <out, gout> w.r.t. the inputs (<name>.grad.src.npy, ...) and
the parameters (<name>.grad.<key>.npy). The same module in float32 on float32 inputs gives
<name>.out32.npy and <name>.grad32.<key>.npy. Eval mode (dropout 0.1, so off).
"""
import os

import numpy as np
import torch
import torch.nn as nn

from common import FIXTURES


def save(name, part, t):
    os.makedirs(os.path.join(FIXTURES, "nn"), exist_ok=True)
    np.save(os.path.join(FIXTURES, "nn", f"{name}.{part}.npy"), t.detach().to(torch.float64).numpy())


def run(m, inputs, masks, gout=None):
    """out and the gradients of <out, gout> w.r.t. the inputs and parameters."""
    ins = [t.clone().requires_grad_() for t in inputs]
    out = m(*ins, **masks)
    params = list(m.parameters())
    grads = torch.autograd.grad([out], ins + params, [gout.to(out.dtype)])
    return out, grads[:len(ins)], grads[len(ins):]


def case(name, m, input_names, shapes, masks, seed):
    g = torch.Generator().manual_seed(seed)
    m = m.double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5)
    sd = m.state_dict()
    with open(os.path.join(FIXTURES, "nn", f"{name}.keys.txt"), "w") as f:
        f.write("\n".join(sd.keys()) + "\n")
    for k, v in sd.items():
        save(name, f"sd.{k}", v)
    inputs = [torch.rand(s, generator=g, dtype=torch.float64) - 0.5 for s in shapes]
    # A wider input so the layer norms see more than rounding.
    inputs = [2 * t for t in inputs]
    for n, t in zip(input_names, inputs):
        save(name, n, t)
    for k, v in masks.items():
        save(name, k, v)
    out = m(*inputs, **masks)
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    out, gin, gparams = run(m, inputs, masks, gout)
    save(name, "out", out)
    save(name, "gout", gout)
    for n, gr in zip(input_names, gin):
        save(name, f"grad.{n}", gr)
    for (key, _), gr in zip(m.named_parameters(), gparams):
        save(name, f"grad.{key}", gr)
    # float32: the same values rounded, run by PyTorch in float32.
    m32 = m.float()
    masks32 = {k: (v.float() if v.is_floating_point() else v) for k, v in masks.items()}
    out32, _, g32 = run(m32, [t.float() for t in inputs], masks32, gout)
    save(name, "out32", out32)
    for (key, _), gr in zip(m32.named_parameters(), g32):
        save(name, f"grad32.{key}", gr)


def causal_float(n):
    return nn.Transformer.generate_square_subsequent_mask(n).double()


def causal_bool(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


def main():
    torch.manual_seed(0)
    E = 6
    # Post-norm, relu, (S, N, E): a float causal mask and a bool key padding mask.
    kpm = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1]], dtype=torch.bool)
    layer = nn.TransformerEncoderLayer(E, 2, dim_feedforward=10)
    case("tfm_enc_post_relu", layer, ["src"], [(4, 3, E)],
         {"src_mask": causal_float(4), "src_key_padding_mask": kpm}, seed=1)
    # Pre-norm, gelu, batch_first: a bool causal mask and padding.
    kpm = torch.tensor([[0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 1, 0, 1, 0]], dtype=torch.bool)
    layer = nn.TransformerEncoderLayer(E, 3, dim_feedforward=8, activation="gelu",
                                       batch_first=True, norm_first=True, layer_norm_eps=1e-6)
    case("tfm_enc_pre_gelu_bf", layer, ["src"], [(3, 5, E)],
         {"src_mask": causal_bool(5), "src_key_padding_mask": kpm}, seed=2)
    # A GPT-style stack: two pre-norm gelu layers, batch_first, causal, final LayerNorm.
    kpm = torch.tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=torch.bool)
    layer = nn.TransformerEncoderLayer(E, 2, dim_feedforward=12, activation="gelu",
                                       batch_first=True, norm_first=True)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E))
    case("tfm_encoder_stack", enc, ["src"], [(2, 5, E)],
         {"mask": causal_float(5), "src_key_padding_mask": kpm}, seed=3)
    # Post-norm decoder layer, relu, (T, N, E): every mask.
    tkpm = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1]], dtype=torch.bool)
    mkpm = torch.tensor([[0, 0, 0, 0, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    mmask = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]],
                         dtype=torch.bool)
    layer = nn.TransformerDecoderLayer(E, 2, dim_feedforward=10)
    case("tfm_dec_post_relu", layer, ["tgt", "memory"], [(4, 2, E), (5, 2, E)],
         {"tgt_mask": causal_float(4), "memory_mask": mmask, "tgt_key_padding_mask": tkpm,
          "memory_key_padding_mask": mkpm}, seed=4)
    # Decoder stack: pre-norm gelu layers, batch_first, bool causal mask, final LayerNorm.
    layer = nn.TransformerDecoderLayer(E, 3, dim_feedforward=8, activation="gelu",
                                       batch_first=True, norm_first=True)
    dec = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(E))
    case("tfm_decoder_stack", dec, ["tgt", "memory"], [(2, 4, E), (2, 3, E)],
         {"tgt_mask": causal_bool(4),
          "memory_key_padding_mask": torch.tensor([[0, 0, 1], [0, 0, 0]], dtype=torch.bool)},
         seed=5)


if __name__ == "__main__":
    main()
