#pragma once
// Inverted dropout (see docs/ops_norm_loss.md).
#include "core/random.hpp"
#include "core/tensor.hpp"

namespace xg {

// p is the probability of DROPPING an element, as in PyTorch (cs231n's dropout_forward takes the
// probability of keeping one: its p is 1 - p here). In training each element is kept with
// probability 1 - p and scaled by 1 / (1 - p), so the expected output is the input; the 0 or
// 1 / (1 - p) mask is drawn from xg::default_generator() and saved for backward (dx = dy * mask),
// so xg::manual_seed(s) makes a run reproducible. Not training, or p == 0: returns the input
// itself. p must be in [0, 1): unlike PyTorch, p == 1 (all zeros) is refused, since it is what a
// keep probability of 1 (no dropout) would be mistaken for.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, Site site = Site());
// The same with the mask drawn from gen (so a model's dropout can have its own stream).
Tensor dropout(const Tensor& input, double p, bool training, Generator& gen, Site site = Site());

}  // namespace xg
