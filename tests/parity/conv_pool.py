"""PyTorch fixtures for conv2d, conv_transpose2d and the 2-D poolings (tests/test_conv.cpp,
tests/test_pool.cpp). Run with Debian's python3-torch: /usr/bin/python3 tests/parity/conv_pool.py
"""
import torch
import torch.nn.functional as F

from common import rnd, save_case


def conv_cases():
    save_case("conv2d_basic", lambda x, w, b: F.conv2d(x, w, b),
              [rnd(2, 3, 5, 6, seed=1), rnd(4, 3, 3, 3, seed=2), rnd(4, seed=3)])
    save_case("conv2d_stride_pad", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
              [rnd(2, 2, 7, 5, seed=4), rnd(3, 2, 3, 2, seed=5), rnd(3, seed=6)])
    save_case("conv2d_dilation_groups",
              lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=(2, 1), dilation=(2, 1),
                                       groups=2),
              [rnd(1, 4, 6, 7, seed=7), rnd(6, 2, 3, 3, seed=8), rnd(6, seed=9)])
    save_case("conv2d_nobias_depthwise",
              lambda x, w: F.conv2d(x, w, None, stride=2, padding=1, groups=3),
              [rnd(3, 3, 5, 5, seed=10), rnd(3, 1, 3, 3, seed=11)])


def conv_transpose_cases():
    save_case("conv_transpose2d_basic", lambda x, w, b: F.conv_transpose2d(x, w, b),
              [rnd(2, 3, 4, 3, seed=12), rnd(3, 2, 3, 2, seed=13), rnd(2, seed=14)])
    save_case("conv_transpose2d_stride_outpad",
              lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0),
                                                 output_padding=(1, 2)),
              [rnd(2, 2, 3, 4, seed=15), rnd(2, 3, 3, 3, seed=16), rnd(3, seed=17)])
    save_case("conv_transpose2d_dilation_groups",
              lambda x, w: F.conv_transpose2d(x, w, None, stride=1, padding=(1, 0),
                                              output_padding=(1, 0), dilation=(2, 1), groups=2),
              [rnd(1, 4, 3, 4, seed=18), rnd(4, 3, 2, 3, seed=19)])


def conv_weight_grad_cases():
    # torch.nn.grad.conv2d_weight is conv2d's weight gradient; its gradients are conv2d's
    # double-backward rules.
    from torch.nn.grad import conv2d_weight
    save_case("conv2d_weight_grad_basic", lambda x, g: conv2d_weight(x, (4, 3, 3, 3), g),
              [rnd(2, 3, 5, 6, seed=40), rnd(2, 4, 3, 4, seed=41)])
    save_case("conv2d_weight_grad_stride_dilation_groups",
              lambda x, g: conv2d_weight(x, (6, 2, 3, 3), g, stride=(1, 2), padding=(2, 1),
                                         dilation=(2, 1), groups=2),
              [rnd(1, 4, 6, 7, seed=42), rnd(1, 6, 6, 4, seed=43)])


def pool_cases():
    save_case("max_pool2d_basic", lambda x: F.max_pool2d(x, 2), [rnd(2, 3, 4, 6, seed=20)])
    save_case("max_pool2d_stride_pad",
              lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 1)),
              [rnd(2, 2, 7, 5, seed=21)])
    # Integer-valued input: many ties, PyTorch's first-max routing is the reference.
    ties = torch.randint(0, 3, (1, 2, 5, 6), generator=torch.Generator().manual_seed(22))
    save_case("max_pool2d_ties", lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
              [ties.to(torch.float64)])
    save_case("avg_pool2d_include_pad",
              lambda x: F.avg_pool2d(x, (3, 2), stride=2, padding=1),
              [rnd(2, 2, 7, 6, seed=23)])
    save_case("avg_pool2d_exclude_pad",
              lambda x: F.avg_pool2d(x, 3, stride=(2, 1), padding=(1, 1),
                                     count_include_pad=False),
              [rnd(2, 2, 7, 6, seed=24)])
    save_case("adaptive_avg_pool2d_odd", lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
              [rnd(2, 3, 7, 5, seed=25)])
    save_case("adaptive_avg_pool2d_global", lambda x: F.adaptive_avg_pool2d(x, 1),
              [rnd(2, 3, 5, 4, seed=26)])
    save_case("adaptive_avg_pool2d_upsample", lambda x: F.adaptive_avg_pool2d(x, (4, 5)),
              [rnd(1, 2, 3, 2, seed=27)])


if __name__ == "__main__":
    conv_cases()
    conv_transpose_cases()
    conv_weight_grad_cases()
    pool_cases()
