"""PyTorch parity fixtures for the math ops (ops/math.hpp): trigonometric, hyperbolic and special
functions, rounding, remainders and the activations of torch.nn.functional.

Run from anywhere with Debian's torch:  /usr/bin/python3 tests/parity/math_ops.py
Every case is written as tests/fixtures/math_<case>.*.npy (see common.py); the C++ side is the
ops' registry rows in tests/test_math.cpp, which use the same names and domains.
"""
import torch
import torch.nn.functional as F

from common import rnd, save_case

# name -> (function, low, high): inputs of shape (3, 4) drawn uniformly in [low, high].
UNARY = {
    "sin": (torch.sin, -3, 3),
    "cos": (torch.cos, -3, 3),
    "tan": (torch.tan, -1.2, 1.2),
    "asin": (torch.asin, -0.9, 0.9),
    "acos": (torch.acos, -0.9, 0.9),
    "atan": (torch.atan, -3, 3),
    "sinh": (torch.sinh, -2, 2),
    "cosh": (torch.cosh, -2, 2),
    "erf": (torch.erf, -2, 2),
    "erfinv": (torch.erfinv, -0.95, 0.95),
    "log1p": (torch.log1p, -0.5, 2),
    "expm1": (torch.expm1, -2, 2),
    "log2": (torch.log2, 0.5, 2),
    "log10": (torch.log10, 0.5, 2),
    "rsqrt": (torch.rsqrt, 0.5, 2),
    "reciprocal": (torch.reciprocal, 0.5, 2),
    "square": (torch.square, -2, 2),
    "floor": (torch.floor, -3, 3),
    "ceil": (torch.ceil, -3, 3),
    "round": (torch.round, -3, 3),
    "trunc": (torch.trunc, -3, 3),
    "frac": (torch.frac, -3, 3),
    "softplus": (F.softplus, -3, 3),
    "softplus_beta2_threshold1": (lambda x: F.softplus(x, beta=2.0, threshold=1.0), -3, 3),
    "gelu": (F.gelu, -3, 3),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), -3, 3),
    "silu": (F.silu, -3, 3),
    "mish": (F.mish, -3, 3),
    "elu": (F.elu, -3, 3),
    "elu_alpha05": (lambda x: F.elu(x, alpha=0.5), -3, 3),
    "selu": (F.selu, -3, 3),
    "hardtanh": (F.hardtanh, -2, 2),
    "hardtanh_m05_15": (lambda x: F.hardtanh(x, -0.5, 1.5), -2, 2),
    "hardsigmoid": (F.hardsigmoid, -5, 5),
    "hardswish": (F.hardswish, -5, 5),
    "logsigmoid": (F.logsigmoid, -5, 5),
}


def main():
    for i, (name, (fn, lo, hi)) in enumerate(UNARY.items()):
        save_case("math_" + name, fn, [rnd(3, 4, seed=100 + i, lo=lo, hi=hi)])
    a, b = rnd(3, 4, seed=1), rnd(4, seed=2)
    save_case("math_atan2", torch.atan2, [a, b])
    x = rnd(3, 4, seed=3, lo=-3, hi=3)
    d = rnd(4, seed=4, lo=0.5, hi=1.5) * torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    save_case("math_fmod", torch.fmod, [x, d])
    save_case("math_remainder", torch.remainder, [x, d])
    save_case("math_fmod_scalar", lambda t: torch.fmod(t, -0.7), [x])
    save_case("math_remainder_scalar", lambda t: torch.remainder(t, -0.7), [x])


if __name__ == "__main__":
    main()
