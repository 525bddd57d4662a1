"""PyTorch parity fixtures for the scan, reduction and sort ops (ops/scan.hpp,
ops/reduce_more.hpp, std and max/min over a dim in ops/reduce.hpp, ops/sort.hpp).

Run from anywhere with Debian's torch:  /usr/bin/python3 tests/parity/reduce_sort_ops.py
Every case is written as tests/fixtures/rs_<case>.*.npy (see common.py); ops that also return
indices write them as rs_<case>.idx.npy. The C++ side is the ops' registry rows in
tests/test_scan.cpp, tests/test_reduce.cpp, tests/test_reduce_more.cpp and tests/test_sort.cpp.
Random inputs have no ties, so the chosen indices are the same in any implementation.
"""
import os

import numpy as np
import torch

from common import FIXTURES, rnd, save_case


def case(name, fn, *inputs):
    save_case("rs_" + name, fn, list(inputs))


def indexed(name, fn, *inputs):
    """fn returns (values, indices): values as a case, indices as rs_<name>.idx.npy."""
    case(name, lambda *t: fn(*t)[0], *inputs)
    ts = [torch.as_tensor(x) for x in inputs]
    idx = fn(*ts)[1]
    np.save(os.path.join(FIXTURES, f"rs_{name}.idx.npy"), idx.numpy())


def main():
    x34, x234 = rnd(3, 4, seed=1), rnd(2, 3, 4, seed=2)
    # scans
    case("cumsum_dim1", lambda t: torch.cumsum(t, 1), x34)
    case("cumsum_dim0", lambda t: torch.cumsum(t, 0), x34)
    case("cumsum_dimneg1_3d", lambda t: torch.cumsum(t, -1), x234)
    p34 = rnd(3, 4, seed=3, lo=0.5, hi=1.5) * torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64)
    case("cumprod_dim1", lambda t: torch.cumprod(t, 1), p34)
    case("cumprod_dim0", lambda t: torch.cumprod(t, 0), p34)
    z = rnd(3, 5, seed=4, lo=0.5, hi=1.5)
    z[0, 2] = 0.0  # one zero
    z[1, 1] = 0.0  # two zeros
    z[1, 3] = 0.0
    z[2, 0] = 0.0  # a zero first
    case("cumprod_zeros_dim1", lambda t: torch.cumprod(t, 1), z)
    case("logcumsumexp_dim1", lambda t: torch.logcumsumexp(t, 1), rnd(3, 4, seed=5, lo=-3, hi=3))
    case("logcumsumexp_dim0_3d", lambda t: torch.logcumsumexp(t, 0), x234)
    big = rnd(2, 4, seed=6, lo=-1, hi=1) * 500
    case("logcumsumexp_large", lambda t: torch.logcumsumexp(t, -1), big)
    # reductions
    case("logsumexp_dim1", lambda t: torch.logsumexp(t, 1), x34)
    case("logsumexp_dims02_keepdim", lambda t: torch.logsumexp(t, (0, 2), keepdim=True), x234)
    case("logsumexp_large", lambda t: torch.logsumexp(t, -1), big)
    case("std_all", lambda t: torch.std(t), x234)
    case("std_dim1", lambda t: torch.std(t, 1), x34)
    case("std_dim2_c0_keepdim", lambda t: torch.std(t, 2, correction=0, keepdim=True), x234)
    case("norm_p2_all", lambda t: torch.norm(t), x234)
    case("norm_p1_dim1", lambda t: torch.norm(t, 1, 1), x34)
    case("norm_p3_dim0_keepdim", lambda t: torch.norm(t, 3, 0, keepdim=True), x34)
    case("norm_p05_dim1", lambda t: torch.norm(t, 0.5, 1), x34)
    case("norm_p15_dims01", lambda t: torch.norm(t, 1.5, (0, 1)), x234)
    case("norm_inf_dim1", lambda t: torch.norm(t, float("inf"), 1), x34)
    case("norm_neginf_dimneg1", lambda t: torch.norm(t, float("-inf"), -1), x234)
    case("dist_p2_bcast", lambda a, b: torch.dist(a, b), x34, rnd(4, seed=7))
    case("dist_p1", lambda a, b: torch.dist(a, b, 1), x34, rnd(3, 4, seed=8))
    case("dist_inf", lambda a, b: torch.dist(a, b, float("inf")), x34, rnd(3, 4, seed=9))
    case("prod_all", lambda t: torch.prod(t), p34)
    case("prod_dim1", lambda t: torch.prod(t, 1), p34)
    case("prod_dim0_keepdim", lambda t: torch.prod(t, 0, keepdim=True), p34)
    case("prod_zeros_dim1", lambda t: torch.prod(t, 1), z)
    indexed("max_dim1", lambda t: torch.max(t, 1), x34)
    indexed("max_dimneg1_keepdim", lambda t: torch.max(t, -1, keepdim=True), x234)
    indexed("min_dim0", lambda t: torch.min(t, 0), x34)
    indexed("min_dim1_keepdim", lambda t: torch.min(t, 1, keepdim=True), x234)
    # sorting
    indexed("sort_dim1", lambda t: torch.sort(t, 1), x34)
    indexed("sort_dim0_descending", lambda t: torch.sort(t, 0, descending=True), x34)
    indexed("sort_3d_dimneg1", lambda t: torch.sort(t), x234)
    indexed("topk_k2", lambda t: torch.topk(t, 2), x34)
    indexed("topk_k2_smallest_dim0", lambda t: torch.topk(t, 2, 0, largest=False), x34)
    indexed("topk_k3_dim1_3d", lambda t: torch.topk(t, 3, 1), x234)
    indexed("kthvalue_k2", lambda t: torch.kthvalue(t, 2), x34)
    indexed("kthvalue_k3_dim0_keepdim", lambda t: torch.kthvalue(t, 3, 0, keepdim=True), x34)
    indexed("kthvalue_k1_dim1_3d", lambda t: torch.kthvalue(t, 1, 1), x234)
    case("median_all_odd", lambda t: torch.median(t), rnd(3, 5, seed=10))
    case("median_all_even", lambda t: torch.median(t), x34)
    indexed("median_dim1", lambda t: torch.median(t, 1), x34)
    indexed("median_dim0_keepdim", lambda t: torch.median(t, 0, keepdim=True), x34)
    indexed("median_dimneg1_3d", lambda t: torch.median(t, -1), x234)


if __name__ == "__main__":
    main()
