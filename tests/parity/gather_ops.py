"""PyTorch parity fixtures for the index-tensor ops (ops/gather.hpp) and the factories eye and
linspace (ops/factories.hpp).

Run from anywhere with Debian's torch:  /usr/bin/python3 tests/parity/gather_ops.py
Every case is written as tests/fixtures/gather_<case>.*.npy (see common.py); the C++ side is the
ops' registry rows in tests/test_gather.cpp and tests/test_random.cpp. Index tensors are int64
inputs. scatter's cases use unique indices: PyTorch leaves the winner among duplicates unspecified.
"""
import torch
import torch.nn.functional as F

from common import rnd, save_case


def case(name, fn, *inputs):
    save_case("gather_" + name, fn, list(inputs))


def idx(*values):
    return torch.tensor(values, dtype=torch.int64)


def main():
    case("index_select_dim0", lambda x, i: torch.index_select(x, 0, i), rnd(4, 3, seed=1),
         idx(2, 0, 2))
    case("index_select_dim_neg1", lambda x, i: torch.index_select(x, -1, i), rnd(2, 5, seed=2),
         idx(4, 1, 1, 0))
    case("gather_dim0", lambda x, i: torch.gather(x, 0, i), rnd(3, 4, seed=3),
         idx([2, 0, 1, 2], [0, 0, 2, 1]))
    case("gather_dim1_wide", lambda x, i: torch.gather(x, 1, i), rnd(3, 4, seed=4),
         idx([3, 3, 0, 1, 2], [0, 1, 0, 1, 0], [2, 2, 2, 3, 3]))
    case("take_along_dim_bcast", lambda x, i: torch.take_along_dim(x, i, 2), rnd(1, 3, 4, seed=5),
         idx([[3], [0], [1]], [[2], [2], [0]]))
    case("take_along_dim_flat", lambda x, i: torch.take_along_dim(x, i), rnd(3, 4, seed=6),
         idx(11, 0, 5, 5, 7))
    case("scatter_src", lambda x, i, s: torch.scatter(x, 0, i, s), rnd(3, 4, seed=7),
         idx([2, 0, 1, 0], [0, 1, 2, 2]), rnd(2, 4, seed=8))
    case("scatter_value", lambda x, i: torch.scatter(x, 1, i, 0.5), rnd(2, 4, seed=9),
         idx([3, 0], [1, 1]))
    case("scatter_add", lambda x, i, s: torch.scatter_add(x, 1, i, s), rnd(3, 4, seed=10),
         idx([0, 0, 3], [2, 1, 2], [3, 3, 3]), rnd(3, 3, seed=11))
    case("index_add_alpha", lambda x, i, s: torch.index_add(x, 0, i, s, alpha=2.5),
         rnd(4, 3, seed=12), idx(0, 2, 0), rnd(3, 3, seed=13))
    case("embedding", lambda w, i: F.embedding(i, w), rnd(5, 3, seed=14),
         idx([1, 4, 1], [0, 1, 3]))
    case("embedding_padding", lambda w, i: F.embedding(i, w, padding_idx=1), rnd(5, 3, seed=15),
         idx([1, 4, 1], [0, 1, 3]))
    case("one_hot", lambda i: F.one_hot(i), idx([0, 3], [1, 1]))
    case("one_hot_classes", lambda i: F.one_hot(i, 5), idx(4, 0, 2))
    nz = rnd(3, 4, seed=16) * (rnd(3, 4, seed=17) > 0)
    nz[1, 2] = float("nan")
    case("nonzero", torch.nonzero, nz)
    # Factories: float32 results compared as float64 (the fixtures hold float64 and int64).
    case("linspace_f32", lambda: torch.linspace(-1.3, 2.9, 11, dtype=torch.float32).double())
    case("linspace_f64", lambda: torch.linspace(0.1, 1.0, 7, dtype=torch.float64))
    case("linspace_i64", lambda: torch.linspace(-3, 10, 6, dtype=torch.int64))
    case("eye_3x5", lambda: torch.eye(3, 5, dtype=torch.float64))


if __name__ == "__main__":
    main()
