"""PyTorch fixtures for the linear op (tests/test_matmul.cpp) and the nn modules
(tests/test_nn_layers.cpp). Run with Debian's python3-torch:
    /usr/bin/python3 tests/parity/nn_modules.py

A module case <name> writes its state dict (<name>.sd.<key>.npy, keys listed in order in
<name>.keys.txt), its repr (<name>.repr.txt), an input, the outputs in train mode (<name>.out_train)
and then eval mode (<name>.out_eval), the upstream gradient of the train output (<name>.gout),
the parameter gradients (<name>.grad.<key>.npy) and the state dict after the train step
(<name>.sd_after.<key>.npy: the updated running statistics).
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import FIXTURES, rnd, save_case


def linear_cases():
    save_case("linear_basic", lambda x, w, b: F.linear(x, w, b),
              [rnd(4, 3, seed=40), rnd(5, 3, seed=41), rnd(5, seed=42)])
    save_case("linear_batched", lambda x, w, b: F.linear(x, w, b),
              [rnd(2, 3, 4, seed=43), rnd(2, 4, seed=44), rnd(2, seed=45)])
    save_case("linear_nobias", lambda x, w: F.linear(x, w), [rnd(3, 2, seed=46), rnd(4, 2, seed=47)])


def save(name, part, t):  # module fixtures: tests/fixtures/nn/
    os.makedirs(os.path.join(FIXTURES, "nn"), exist_ok=True)
    np.save(os.path.join(FIXTURES, "nn", f"{name}.{part}.npy"), t.detach().numpy())


def module_case(name, model, x, seed):
    torch.manual_seed(seed)
    model = model.double()
    # Non-default parameter values so a wrong layout or a skipped affine shows.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5)
    sd = model.state_dict()
    with open(os.path.join(FIXTURES, "nn", f"{name}.keys.txt"), "w") as f:
        f.write("\n".join(sd.keys()) + "\n")
    with open(os.path.join(FIXTURES, "nn", f"{name}.repr.txt"), "w") as f:
        f.write(repr(model) + "\n")
    for k, v in sd.items():
        save(name, f"sd.{k}", v)
    save(name, "in", x)
    model.train()
    out = model(x)
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    grads = torch.autograd.grad(out, list(model.parameters()), gout)
    save(name, "out_train", out)
    save(name, "gout", gout)
    for (k, _), gr in zip(model.named_parameters(), grads):
        save(name, f"grad.{k}", gr)
    for k, v in model.state_dict().items():
        save(name, f"sd_after.{k}", v)
    model.eval()
    save(name, "out_eval", model(x))


def module_cases():
    cnn = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.ConvTranspose2d(4, 3, 2, stride=2),
        nn.GroupNorm(1, 3),
        nn.LeakyReLU(0.1),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(),
        nn.Linear(12, 6),
        nn.LayerNorm(6),
        nn.Tanh(),
        nn.Dropout(0.0),
        nn.Linear(6, 5),
        nn.BatchNorm1d(5, momentum=None),
        nn.Sigmoid(),
    )
    module_case("nn_seq_cnn", cnn, rnd(3, 2, 6, 6, seed=48) * 2.0, seed=49)
    nested = nn.Sequential(
        nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4, affine=False)),
        nn.Sequential(nn.ReLU(), nn.Linear(4, 2)),
    )
    module_case("nn_seq_nested", nested, rnd(5, 3, seed=50), seed=51)


if __name__ == "__main__":
    linear_cases()
    module_cases()
