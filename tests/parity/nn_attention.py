"""PyTorch fixtures for nn::MultiheadAttention (nn/attention.hpp, tests/test_nn_attention.cpp).

Run with Debian's python3-torch:  /usr/bin/python3 tests/parity/nn_attention.py
Each case <name> writes under tests/fixtures/nn/: the state dict (<name>.sd.<key>.npy, keys in
order in <name>.keys.txt, non-default random values so a wrong layout shows), the inputs
(<name>.query/key/value.npy), the masks as float64 (<name>.key_padding_mask.npy: 1 = masked out;
<name>.attn_mask.npy: a 0/1 bool mask, or the float -inf/0 causal mask), the outputs
(<name>.out.npy, <name>.weights.npy), the upstream gradients of both (<name>.gout.npy,
<name>.gweights.npy) and the gradients of <out, gout> + <weights, gweights> w.r.t. the inputs
(<name>.grad.query.npy, ...) and the parameters (<name>.grad.<key>.npy). Training mode, dropout 0.
"""
import os

import numpy as np
import torch
import torch.nn as nn

from common import FIXTURES


def save(name, part, t):
    os.makedirs(os.path.join(FIXTURES, "nn"), exist_ok=True)
    np.save(os.path.join(FIXTURES, "nn", f"{name}.{part}.npy"), t.detach().to(torch.float64).numpy())


def case(name, E, H, batch_first, q_shape, kv_shape, kpm, attn_mask, average, seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    m = nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5)
    sd = m.state_dict()
    with open(os.path.join(FIXTURES, "nn", f"{name}.keys.txt"), "w") as f:
        f.write("\n".join(sd.keys()) + "\n")
    for k, v in sd.items():
        save(name, f"sd.{k}", v)
    q = (torch.rand(q_shape, generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    k = (torch.rand(kv_shape, generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    v = (torch.rand(kv_shape, generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=attn_mask, need_weights=True,
               average_attn_weights=average)
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    gw = torch.randn(w.shape, generator=g, dtype=torch.float64)
    params = list(m.parameters())
    grads = torch.autograd.grad([out, w], [q, k, v] + params, [gout, gw])
    for part, t in [("query", q), ("key", k), ("value", v), ("out", out), ("weights", w),
                    ("gout", gout), ("gweights", gw)]:
        save(name, part, t)
    save(name, "key_padding_mask", kpm)
    save(name, "attn_mask", attn_mask)
    for part, gr in zip(["query", "key", "value"], grads[:3]):
        save(name, f"grad.{part}", gr)
    for (key, _), gr in zip(m.named_parameters(), grads[3:]):
        save(name, f"grad.{key}", gr)


def main():
    # (L, N, E) layout, a causal float attn_mask and a bool key_padding_mask (1 = padding).
    L, N, E = 4, 2, 6
    kpm = torch.tensor([[0, 0, 0, 1], [0, 0, 1, 1]], dtype=torch.bool)
    causal = nn.Transformer.generate_square_subsequent_mask(L).double()
    case("mha_causal", E, 2, False, (L, N, E), (L, N, E), kpm, causal, True, seed=1)
    # batch_first, cross-attention (S != L), a bool attn_mask (true = masked), per-head weights.
    kpm = torch.tensor([[0, 0, 0, 0, 1], [1, 0, 0, 0, 0]], dtype=torch.bool)
    am = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    case("mha_batch_first", E, 3, True, (N, 3, E), (N, 5, E), kpm, am, False, seed=2)


if __name__ == "__main__":
    main()
