"""PyTorch fixtures for batch_norm, layer_norm, group_norm, softmax and the losses.

Run with Debian's python3-torch: /usr/bin/python3 tests/parity/norm_loss.py
Constants an op takes besides its inputs (running stats, class weights, pos_weight) are saved as
extra <name>.<part>.npy files; batch_norm in training mode also saves the running stats before
(rm0, rv0) and after (rm1, rv1) the update.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from common import FIXTURES, rnd, save_case


def save_extra(name, part, t):
    os.makedirs(FIXTURES, exist_ok=True)
    np.save(os.path.join(FIXTURES, f"{name}.{part}.npy"), t.detach().numpy())


def labels(n, c, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, c, (n,), generator=g, dtype=torch.int64)


def batch_norm_cases():
    def train(name, shape, momentum, affine=True):
        c = shape[1]
        rm, rv = rnd(c, seed=11), rnd(c, seed=12, lo=0.5, hi=2.0)
        save_extra(name, "rm0", rm)
        save_extra(name, "rv0", rv)
        inputs = [rnd(*shape, seed=1)]
        if affine:
            inputs += [rnd(c, seed=2, lo=0.5, hi=1.5), rnd(c, seed=3)]
            fn = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, True, momentum, 1e-5)
        else:
            fn = lambda x: F.batch_norm(x, rm, rv, None, None, True, momentum, 1e-5)
        save_case(name, fn, inputs)
        save_extra(name, "rm1", rm)
        save_extra(name, "rv1", rv)

    train("bn_train_2d", (5, 3), 0.1)
    train("bn_train_4d", (3, 4, 3, 5), 0.3)
    train("bn_train_3d_noaffine", (2, 3, 5), 0.1, affine=False)
    train("bn_train_batch1_4d", (1, 2, 3, 3), 0.1)

    rm, rv = rnd(3, seed=11), rnd(3, seed=12, lo=0.5, hi=2.0)
    save_extra("bn_eval_4d", "rm", rm)
    save_extra("bn_eval_4d", "rv", rv)
    save_case("bn_eval_4d", lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5),
              [rnd(2, 3, 3, 3, seed=4), rnd(3, seed=5), rnd(3, seed=6)])


def layer_group_norm_cases():
    save_case("ln_3d", lambda x, w, b: F.layer_norm(x, [3, 4], w, b, 1e-5),
              [rnd(2, 3, 4, seed=1), rnd(3, 4, seed=2), rnd(3, 4, seed=3)])
    save_case("ln_2d_noaffine", lambda x: F.layer_norm(x, [5], None, None, 1e-5),
              [rnd(4, 5, seed=4)])
    save_case("gn_4d", lambda x, w, b: F.group_norm(x, 2, w, b, 1e-5),
              [rnd(2, 4, 3, 3, seed=1), rnd(4, seed=2), rnd(4, seed=3)])
    save_case("gn_3d_noaffine", lambda x: F.group_norm(x, 3, None, None, 1e-5),
              [rnd(3, 6, 5, seed=4)])


def softmax_cases():
    save_case("softmax_2d", lambda x: F.softmax(x, 1), [rnd(3, 5, seed=1, lo=-3, hi=3)])
    save_case("softmax_3d_dim1", lambda x: F.softmax(x, 1), [rnd(2, 3, 4, seed=2, lo=-3, hi=3)])
    save_case("log_softmax_2d", lambda x: F.log_softmax(x, -1), [rnd(3, 5, seed=3, lo=-3, hi=3)])
    save_case("log_softmax_3d_dim0", lambda x: F.log_softmax(x, 0),
              [rnd(2, 3, 4, seed=4, lo=-3, hi=3)])


def class_loss_cases():
    w = rnd(5, seed=9, lo=0.2, hi=2.0)
    for red in ["mean", "sum", "none"]:
        save_case(f"ce_{red}", lambda x, y: F.cross_entropy(x, y, reduction=red),
                  [rnd(4, 5, seed=1, lo=-2, hi=2), labels(4, 5, 1)])
        save_case(f"ce_weight_smooth_{red}",
                  lambda x, y: F.cross_entropy(x, y, weight=w, reduction=red, label_smoothing=0.2),
                  [rnd(6, 5, seed=2, lo=-2, hi=2), labels(6, 5, 2)])
        save_extra(f"ce_weight_smooth_{red}", "w", w)
        save_case(f"nll_weight_{red}", lambda x, y: F.nll_loss(x, y, weight=w, reduction=red),
                  [rnd(6, 5, seed=3, lo=-3, hi=0), labels(6, 5, 3)])
        save_extra(f"nll_weight_{red}", "w", w)
        save_case(f"mm_weight_{red}",
                  lambda x, y: F.multi_margin_loss(x, y, weight=w, reduction=red),
                  [rnd(6, 5, seed=4), labels(6, 5, 4)])
        save_extra(f"mm_weight_{red}", "w", w)
    save_case("ce_weight_mean", lambda x, y: F.cross_entropy(x, y, weight=w),
              [rnd(6, 5, seed=5, lo=-2, hi=2), labels(6, 5, 5)])
    save_extra("ce_weight_mean", "w", w)
    save_case("ce_smooth_mean", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
              [rnd(3, 7, seed=6, lo=-2, hi=2), labels(3, 7, 6)])
    save_case("mm_p2_margin_mean", lambda x, y: F.multi_margin_loss(x, y, p=2, margin=0.5),
              [rnd(5, 4, seed=7), labels(5, 4, 7)])


def regression_loss_cases():
    for red in ["mean", "sum", "none"]:
        save_case(f"mse_{red}", lambda x, y: F.mse_loss(x, y, reduction=red),
                  [rnd(3, 4, seed=1), rnd(3, 4, seed=2)])
        save_case(f"l1_{red}", lambda x, y: F.l1_loss(x, y, reduction=red),
                  [rnd(3, 4, seed=3), rnd(3, 4, seed=4)])
    save_case("bce_mean", lambda x, y: F.binary_cross_entropy_with_logits(x, y),
              [rnd(4, 3, seed=5, lo=-3, hi=3), rnd(4, 3, seed=6, lo=0, hi=1)])
    pw, bw = rnd(3, seed=7, lo=0.5, hi=3.0), rnd(4, 3, seed=8, lo=0.2, hi=1.5)
    for red in ["mean", "sum", "none"]:
        name = f"bce_weights_{red}"
        save_case(name, lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, weight=bw, pos_weight=pw, reduction=red),
                  [rnd(4, 3, seed=9, lo=-3, hi=3), rnd(4, 3, seed=10, lo=0, hi=1)])
        save_extra(name, "pw", pw)
        save_extra(name, "w", bw)


def sequence_ce_cases():
    """cross_entropy over [N, C, T] (and [N, C, d1, d2]) logits with ignored labels."""
    w = rnd(5, seed=21, lo=0.2, hi=2.0)
    y = torch.tensor([[0, 4, -100, 2], [1, -100, -100, 3], [2, 2, 0, 4]], dtype=torch.int64)
    for red in ["mean", "sum", "none"]:
        name = f"ce_seq_{red}"
        save_case(name, lambda x, y: F.cross_entropy(x, y, weight=w, reduction=red,
                                                     label_smoothing=0.1),
                  [rnd(3, 5, 4, seed=22, lo=-2, hi=2), y])
        save_extra(name, "w", w)
    # ignore_index naming a real class, no weights or smoothing, two trailing dims.
    y4 = torch.tensor([[[0, 2], [1, 1]], [[2, 2], [0, 1]]], dtype=torch.int64)
    save_case("ce_seq_ignore_class_mean", lambda x, y: F.cross_entropy(x, y, ignore_index=2),
              [rnd(2, 3, 2, 2, seed=23, lo=-2, hi=2), y4])


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    batch_norm_cases()
    layer_group_norm_cases()
    softmax_cases()
    class_loss_cases()
    regression_loss_cases()
    sequence_ce_cases()
