"""PyTorch parity fixtures for indexing (ops/index.hpp): Tensor.__getitem__ and index_put.

Run with Debian's torch:  /usr/bin/python3 tests/parity/index_ops.py
Each case is written as tests/fixtures/index_<case>.*.npy (see common.py); the C++ side is the
rows in tests/test_index.cpp. Index tensors are int64 inputs; masks are int64 0/1 inputs that
both sides turn into bool.
"""
import torch

from common import rnd, save_case


def idx(*values):
    return torch.tensor(values, dtype=torch.int64)


def main():
    save_case("index_basic", lambda x: x[1:, 0], [rnd(3, 4, seed=1)])
    save_case("index_step_none_ellipsis", lambda x: x[..., None, ::2], [rnd(2, 3, 5, seed=2)])
    save_case("index_tensor_dup", lambda x, i: x[:, i], [rnd(3, 4, seed=3), idx(3, 0, 3, -1)])
    save_case("index_mask", lambda x, m: x[m.bool()], [rnd(2, 3, 2, seed=4),
                                                       idx([1, 0, 1], [0, 0, 1])])
    save_case("index_separated", lambda x, i, j: x[i, :, j],
              [rnd(3, 2, 4, seed=5), idx([0], [2]), idx(1, 3)])
    save_case("index_adjacent_bcast", lambda x, i, j: x[:, i, j],
              [rnd(2, 3, 4, seed=6), idx([0], [2]), idx(1, 3, 0)])
    save_case("index_int_and_tensor", lambda x, i: x[0, :, i], [rnd(2, 3, 4, seed=7), idx(1, 2)])
    save_case("index_put", lambda x, v, i: torch.index_put(x, (i,), v),
              [rnd(4, 3, seed=8), rnd(2, 3, seed=9), idx(2, 0)])
    save_case("index_put_accumulate", lambda x, v, i: torch.index_put(x, (i,), v, accumulate=True),
              [rnd(4, 3, seed=10), rnd(3, 3, seed=11), idx(1, 1, 3)])


if __name__ == "__main__":
    main()
