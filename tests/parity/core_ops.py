"""PyTorch parity fixtures for the core ops (elementwise, reductions, matmul, shape ops).

Run from anywhere with Debian's torch:  /usr/bin/python3 tests/parity/core_ops.py
Every case is written as tests/fixtures/core_<case>.*.npy (see common.py); the C++ side is
each op's registry row (tests/test_<family>.cpp). Shapes are tiny and seeds fixed, so reruns give identical files.
"""
import torch
import torch.nn.functional as F

from common import rnd, save_case


def case(name, fn, *inputs):
    save_case("core_" + name, fn, list(inputs))


def distinct(*shape, seed=0):
    """Values with no ties anywhere (a shuffled grid), so max/min pick a unique element."""
    n = 1
    for s in shape:
        n *= s
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g).to(torch.float64)
    return (perm / n - 0.5 + 0.01 * rnd(n, seed=seed + 1)).reshape(shape)


def elementwise():
    a, b = rnd(2, 3, seed=1), rnd(3, seed=2)
    c, d = rnd(2, 1, seed=3), rnd(1, 3, seed=4)
    pos = rnd(2, 3, seed=5, lo=0.5, hi=2.0)
    case("add_2x3_3", torch.add, a, b)
    case("add_2x1_1x3", torch.add, c, d)
    case("sub_2x3_3", torch.sub, a, b)
    case("sub_2x1_1x3", torch.sub, c, d)
    case("mul_2x3_3", torch.mul, a, b)
    case("mul_2x1_1x3", torch.mul, c, d)
    case("div_2x3_3", torch.div, a, rnd(3, seed=6, lo=0.5, hi=2.0))
    case("div_2x1_1x3", torch.div, c, rnd(1, 3, seed=7, lo=-2.0, hi=-0.5))
    case("neg", torch.neg, a)
    case("pow_scalar", lambda x: torch.pow(x, 3.0), a)
    case("pow_scalar_frac", lambda x: torch.pow(x, 0.5), pos)
    case("pow_tensor", torch.pow, pos, rnd(3, seed=8, lo=-2.0, hi=2.0))
    case("exp", torch.exp, a)
    case("log", torch.log, pos)
    case("sqrt", torch.sqrt, pos)
    case("abs", torch.abs, a)
    case("tanh", torch.tanh, rnd(2, 3, seed=9, lo=-3.0, hi=3.0))
    case("sigmoid", torch.sigmoid, rnd(2, 3, seed=10, lo=-3.0, hi=3.0))
    case("relu", torch.relu, a)
    case("leaky_relu", lambda x: F.leaky_relu(x, 0.1), a)
    case("clamp", lambda x: torch.clamp(x, -0.5, 0.5), a)
    case("clamp_min", lambda x: torch.clamp(x, min=-0.2), a)
    case("clamp_max", lambda x: torch.clamp(x, max=0.3), a)


def reductions():
    x = rnd(2, 3, 4, seed=11)
    case("sum_all", torch.sum, x)
    case("sum_dim1", lambda t: torch.sum(t, dim=1), x)
    case("sum_dims02_keepdim", lambda t: torch.sum(t, dim=(0, 2), keepdim=True), x)
    case("sum_dimneg1_keepdim", lambda t: torch.sum(t, dim=-1, keepdim=True), x)
    case("mean_all", torch.mean, x)
    case("mean_dim0", lambda t: torch.mean(t, dim=0), x)
    case("mean_dims12_keepdim", lambda t: torch.mean(t, dim=(1, 2), keepdim=True), x)
    y = distinct(2, 3, 4, seed=12)
    case("max_all", torch.max, y)
    case("min_all", torch.min, y)
    case("amax_dim1", lambda t: torch.amax(t, dim=1), y)
    case("amax_dim2_keepdim", lambda t: torch.amax(t, dim=2, keepdim=True), y)
    case("amin_dim0", lambda t: torch.amin(t, dim=0), y)
    case("amin_dimneg1_keepdim", lambda t: torch.amin(t, dim=-1, keepdim=True), y)
    case("var_all", lambda t: torch.var(t, unbiased=True), x)
    case("var_all_c0", lambda t: torch.var(t, unbiased=False), x)
    case("var_dim1", lambda t: torch.var(t, dim=1, correction=1), x)
    case("var_dim2_c0_keepdim", lambda t: torch.var(t, dim=2, correction=0, keepdim=True), x)
    case("var_dims01", lambda t: torch.var(t, dim=(0, 1), correction=1), x)


def matmuls():
    case("matmul_2d", torch.matmul, rnd(3, 4, seed=20), rnd(4, 5, seed=21))
    case("matmul_batched", torch.matmul, rnd(2, 3, 4, seed=22), rnd(2, 4, 5, seed=23))
    case("matmul_bcast_batch", torch.matmul, rnd(2, 1, 3, 4, seed=24), rnd(3, 4, 5, seed=25))
    case("matmul_1d_2d", torch.matmul, rnd(4, seed=26), rnd(4, 5, seed=27))
    case("matmul_2d_1d", torch.matmul, rnd(3, 4, seed=28), rnd(4, seed=29))
    case("mlp_sigmoid", lambda x, w, b: torch.sigmoid(x @ w + b),
         rnd(4, 3, seed=30), rnd(3, 2, seed=31), rnd(2, seed=32))


def shapes():
    x = rnd(2, 3, 4, seed=40)
    case("reshape", lambda t: t.reshape(4, -1), x)
    case("flatten", lambda t: torch.flatten(t), x)
    case("flatten_1_2", lambda t: torch.flatten(t, 1, 2), x)
    case("transpose", lambda t: torch.transpose(t, 0, 2), x)
    case("permute", lambda t: t.permute(1, 2, 0), x)
    s = rnd(2, 1, 3, 1, seed=41)
    case("squeeze_all", lambda t: torch.squeeze(t), s)
    case("squeeze_dim1", lambda t: torch.squeeze(t, 1), s)
    case("unsqueeze_dim1", lambda t: torch.unsqueeze(t, 1), x)
    case("unsqueeze_dimneg1", lambda t: torch.unsqueeze(t, -1), x)
    w = rnd(3, 7, seed=42)
    case("slice_step", lambda t: t[:, 1:5:2], w)
    case("slice_narrow", lambda t: torch.narrow(t, 0, 1, 2), w)
    case("slice_neg", lambda t: t[:, -4:], w)
    case("cat_dim0", lambda a, b: torch.cat([a, b], 0), rnd(2, 3, seed=43), rnd(1, 3, seed=44))
    case("cat_dim1", lambda a, b, c: torch.cat([a, b, c], 1),
         rnd(2, 1, seed=45), rnd(2, 3, seed=46), rnd(2, 2, seed=47))
    case("stack_dim0", lambda a, b: torch.stack([a, b], 0), rnd(2, 3, seed=48), rnd(2, 3, seed=49))
    case("stack_dim2", lambda a, b, c: torch.stack([a, b, c], 2),
         rnd(2, 3, seed=50), rnd(2, 3, seed=51), rnd(2, 3, seed=52))
    p = rnd(2, 3, seed=53)
    case("pad_last", lambda t: F.pad(t, (1, 2)), p)
    case("pad_two_dims", lambda t: F.pad(t, (2, 0, 1, 1), value=0.5), p)
    case("pad_3d", lambda t: F.pad(t, (0, 1, 1, 0), value=-1.0), x)


if __name__ == "__main__":
    elementwise()
    reductions()
    matmuls()
    shapes()
