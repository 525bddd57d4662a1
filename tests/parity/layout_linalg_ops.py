"""PyTorch parity fixtures for the layout ops (ops/layout.hpp) and the batched products and
einsum (ops/linalg.hpp).

Run from anywhere with Debian's torch:  /usr/bin/python3 tests/parity/layout_linalg_ops.py
Cases are written as tests/fixtures/layout_<case>.*.npy and linalg_<case>.*.npy (see common.py);
the C++ side is the ops' registry rows in tests/test_layout.cpp and tests/test_linalg.cpp, which
use the same names. Ops that return several tensors are compared through one tensor: the pieces
scaled by 1, 2, 3, ... and joined (cat or stack), so each piece's gradient is checked as well.
"""
import torch

from common import rnd, save_case


def weighted_cat(pieces, dim):
    return torch.cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


def weighted_stack(pieces):
    return torch.stack([p * (i + 1) for i, p in enumerate(pieces)])


def layout():
    def case(name, fn, *inputs):
        save_case("layout_" + name, fn, list(inputs))

    x23, x35, x234 = rnd(2, 3, seed=1), rnd(3, 5, seed=2), rnd(2, 3, 4, seed=3)
    case("split_2_dim1", lambda x: weighted_cat(torch.split(x, 2, 1), 1), x35)
    case("split_sizes_dim0", lambda x: weighted_cat(torch.split(x, [1, 0, 3, 2], 0), 0),
         rnd(6, 2, seed=4))
    case("chunk_3_dim_m1", lambda x: weighted_cat(torch.chunk(x, 3, -1), -1), rnd(2, 7, seed=5))
    case("unbind_dim1", lambda x: weighted_stack(torch.unbind(x, 1)), x234)
    case("narrow", lambda x: torch.narrow(x, 1, -3, 2), rnd(4, 5, seed=6))
    case("repeat", lambda x: x.repeat(2, 1, 3), x23)
    case("tile", lambda x: torch.tile(x, (2,)), x23)
    case("repeat_interleave_dim1", lambda x: torch.repeat_interleave(x, 2, dim=1), x23)
    case("repeat_interleave_flat", lambda x: torch.repeat_interleave(x, 3), x23)
    case("repeat_interleave_tensor", lambda x, r: torch.repeat_interleave(x, r, dim=0),
         rnd(3, 2, seed=7), torch.tensor([2, 0, 3]))
    case("flip", lambda x: torch.flip(x, [0, 2]), x234)
    case("roll", lambda x: torch.roll(x, [1, -5], [0, 1]), rnd(3, 4, seed=8))
    case("roll_flat", lambda x: torch.roll(x, 5), rnd(3, 4, seed=8))
    case("tril", lambda x: torch.tril(x, -1), rnd(2, 4, 3, seed=9))
    case("triu", lambda x: torch.triu(x, 1), rnd(4, 5, seed=10))
    case("diagonal", lambda x: torch.diagonal(x, 1), rnd(3, 4, seed=11))
    case("diagonal_dims_2_0", lambda x: torch.diagonal(x, -1, 2, 0), x234)
    case("movedim", lambda x: torch.movedim(x, [0, 1], [2, 0]), x234)
    case("swapaxes", lambda x: torch.swapaxes(x, 0, -1), x234)
    case("expand_as", lambda x: x.expand_as(torch.empty(2, 3, 4)), rnd(3, 1, seed=12))
    case("broadcast_to", lambda x: torch.broadcast_to(x, (2, -1, 4)), rnd(3, 1, seed=12))
    a, b, c = rnd(3, seed=13), rnd(2, seed=14), rnd(4, seed=15)
    case("meshgrid_ij", lambda *t: weighted_stack(torch.meshgrid(*t, indexing="ij")), a, b, c)
    case("meshgrid_xy", lambda *t: weighted_stack(torch.meshgrid(*t, indexing="xy")), a, b, c)


EINSUM = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "implicit": ("ij,kj", [(2, 3), (4, 3)]),
    "trace": ("ii", [(3, 3)]),
    "diag": ("ii->i", [(3, 3)]),
    "attention": ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "ellipsis": ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 2)]),
    "three": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "sum": ("ijk->j", [(2, 3, 4)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "bilinear": ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    "batch_broadcast": ("bij,bjk->bik", [(1, 2, 3), (2, 3, 4)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "diag_matmul": ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    "dot": ("i,i->", [(5,), (5,)]),
    "permuted_batch": ("bqhd,bkhd->bhqk", [(2, 3, 2, 4), (2, 5, 2, 4)]),
    "ellipsis_summed": ("...ij->ij", [(2, 3, 2, 3)]),
    "broadcast_one": ("i,i->i", [(1,), (3,)]),
    "contract_one": ("ij,j->i", [(2, 3), (1,)]),
    "diag_ellipsis": ("i...i->...", [(3, 2, 3)]),
}


def linalg():
    def case(name, fn, *inputs):
        save_case("linalg_" + name, fn, list(inputs))

    case("bmm", torch.bmm, rnd(2, 3, 4, seed=20), rnd(2, 4, 5, seed=21))
    case("baddbmm", lambda i, p, q: torch.baddbmm(i, p, q, beta=0.5, alpha=2.0),
         rnd(3, 1, seed=22), rnd(2, 3, 4, seed=23), rnd(2, 4, 5, seed=24))
    case("addmm", lambda i, p, q: torch.addmm(i, p, q, beta=-1.0, alpha=0.5), rnd(5, seed=25),
         rnd(3, 4, seed=26), rnd(4, 5, seed=27))
    case("outer", torch.outer, rnd(3, seed=28), rnd(4, seed=29))
    for i, (name, (eq, shapes)) in enumerate(EINSUM.items()):
        ins = [rnd(*s, seed=100 + 10 * i + j) for j, s in enumerate(shapes)]
        case("einsum_" + name, lambda *t, eq=eq: torch.einsum(eq, *t), *ins)


if __name__ == "__main__":
    layout()
    linalg()
