"""PyTorch fixtures for scaled_dot_product_attention (ops/attention.hpp).

Run with Debian's torch:  /usr/bin/python3 tests/parity/attention_ops.py
torch 1.13 has no public torch.nn.functional.scaled_dot_product_attention (it came in 2.0), so
the reference is the 2.0 definition written out: softmax(q k^T / sqrt(E) + mask) v, a bool mask
meaning "take part". Cases are tests/fixtures/attention_<case>.*.npy (see common.py); the C++
side is the registry row in tests/test_attention.cpp, which builds the same constant masks.
"""
import math

import torch

from common import rnd, save_case

# The constant bool mask [3, 4] of the tests (true = attend; every row keeps a position).
BOOL_MASK = torch.tensor([[0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 0, 1]], dtype=torch.bool)


def sdpa(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        L, S = q.shape[-2], k.shape[-2]
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None and mask.dtype == torch.bool:
        mask = torch.zeros(mask.shape, dtype=q.dtype).masked_fill(~mask, float("-inf"))
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores, -1) @ v


def main():
    def case(name, fn, *inputs):
        save_case("attention_" + name, fn, list(inputs))

    case("plain", sdpa, rnd(2, 3, 4, seed=1), rnd(2, 5, 4, seed=2), rnd(2, 5, 3, seed=3))
    case("bool_mask", lambda q, k, v: sdpa(q, k, v, BOOL_MASK),
         rnd(2, 3, 4, seed=4), rnd(2, 4, 4, seed=5), rnd(2, 4, 2, seed=6))
    case("float_mask", sdpa, rnd(2, 3, 4, seed=7), rnd(2, 4, 4, seed=8), rnd(2, 4, 3, seed=9),
         rnd(3, 4, seed=10))
    case("causal_4d", lambda q, k, v: sdpa(q, k, v, causal=True),
         rnd(2, 2, 4, 3, seed=11), rnd(2, 2, 4, 3, seed=12), rnd(2, 2, 4, 5, seed=13))
    case("causal_rect", lambda q, k, v: sdpa(q, k, v, causal=True),
         rnd(3, 2, seed=14), rnd(5, 2, seed=15), rnd(5, 3, seed=16))


if __name__ == "__main__":
    main()
