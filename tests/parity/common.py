"""Shared helper for the PyTorch parity fixture scripts (run with Debian's python3-torch).

save_case(name, fn, inputs) runs fn on float64 copies of the inputs, draws a seeded upstream
gradient for the output and writes, under tests/fixtures/:
    <name>.in<i>.npy     every input (float64; int64 for label tensors)
    <name>.out.npy       fn(*inputs)
    <name>.gout.npy      the upstream gradient
    <name>.grad<i>.npy   d<out, gout>/d input i, for every floating input
An output without gradient (indices, one-hot rows, factories) gets only the in and out files.
The C++ side (tests/parity.hpp) loads the same files, runs the xgrad op and compares.
"""
import os

import numpy as np
import torch

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def save_case(name, fn, inputs, seed=0):
    os.makedirs(FIXTURES, exist_ok=True)
    ts = []
    for x in inputs:
        t = torch.as_tensor(x)
        if t.is_floating_point():
            t = t.to(torch.float64).clone().requires_grad_(True)
        ts.append(t)
    out = fn(*ts)
    if not out.requires_grad:
        for i, t in enumerate(ts):
            np.save(os.path.join(FIXTURES, f"{name}.in{i}.npy"), t.detach().numpy())
        np.save(os.path.join(FIXTURES, f"{name}.out.npy"), out.detach().numpy())
        return
    g = torch.Generator().manual_seed(seed)
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    floats = [t for t in ts if t.is_floating_point()]
    grads = torch.autograd.grad(out, floats, gout, allow_unused=True) if floats else []
    it = iter(grads)
    for i, t in enumerate(ts):
        np.save(os.path.join(FIXTURES, f"{name}.in{i}.npy"), t.detach().numpy())
        if t.is_floating_point():
            gi = next(it)
            gi = torch.zeros_like(t) if gi is None else gi
            np.save(os.path.join(FIXTURES, f"{name}.grad{i}.npy"), gi.detach().numpy())
    np.save(os.path.join(FIXTURES, f"{name}.out.npy"), out.detach().numpy())
    np.save(os.path.join(FIXTURES, f"{name}.gout.npy"), gout.numpy())


def rnd(*shape, seed=0, lo=-1.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    return lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)
