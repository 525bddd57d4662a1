// softmax, log_softmax and the losses: registry samples and errors, fused vs composed, huge and
// equal logits, and PyTorch parity.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>

#include "tests/fused_check.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"

namespace xg::testing {

namespace {

Tensor labels(std::vector<std::int64_t> v) {
    xt::xarray<std::int64_t> a = xt::xarray<std::int64_t>::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return Tensor(std::move(a));
}

Tensor one_hot(const Tensor& y, std::size_t c) {
    Tensor h = zeros({y.size(0), c}, float64);
    auto& a = h.mutable_data<double>();
    for (std::size_t i = 0; i < y.size(0); ++i) a(i, y.data<std::int64_t>()(i)) = 1.0;
    return h;
}

Tensor consts(const Shape& s, double lo, double hi) {
    return rand64(s, lo, hi).detach();
}

NLLLossFuncOptions nll_opts(Reduction r, Tensor w) {
    return NLLLossFuncOptions().reduction(r).weight(std::move(w));
}
BinaryCrossEntropyWithLogitsFuncOptions bce_opts(Reduction r, Tensor w, Tensor pw) {
    return BinaryCrossEntropyWithLogitsFuncOptions()
        .reduction(r)
        .weight(std::move(w))
        .pos_weight(std::move(pw));
}
MultiMarginLossFuncOptions mm_opts(Reduction r, int p, double margin, Tensor w) {
    return MultiMarginLossFuncOptions().reduction(r).p(p).margin(margin).weight(std::move(w));
}
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
const Reduction kBadReduction = static_cast<Reduction>(7);  // no such enumerator

CrossEntropyFuncOptions ce_opts(Reduction r, double ls = 0.0, Tensor w = {}) {
    auto o = CrossEntropyFuncOptions().reduction(r).label_smoothing(ls).weight(std::move(w));
    return o;
}

// The error cases every class-index loss shares.
template <class F>
std::vector<ErrorCase> class_target_errors(F call) {
    auto x = [] { return rand(Shape{3, 4}, float64); };
    return {
        {"label too large",
         [=] {
             call(x(), labels({0, 4, 1}), Tensor());
         },
         "target[1] = 4 is out of range for 4 classes"},
        {"negative label",
         [=] {
             call(x(), labels({0, 1, -1}), Tensor());
         },
         "target[2] = -1 is out of range for 4 classes"},
        {"1-D input", [=] { call(rand(Shape{4}, float64), labels({0}), Tensor()); },
         "input must be 2-D (N, C), got shape [4]"},
        {"mismatched N",
         [=] {
             call(x(), labels({0, 1}), Tensor());
         },
         "target must have shape [3] to match input shape [3, 4], got [2]"},
        {"float target", [=] { call(x(), zeros({3}, float64), Tensor()); },
         "target must hold int64 class indices, got dtype float64"},
        {"weight of the wrong size",
         [=] {
             call(x(), labels({0, 1, 2}), ones({3}, float64));
         },
         "weight must have shape [4] (one per class), got [3]"},
        {"mixed float dtypes",
         [=] {
             call(x(), labels({0, 1, 2}), ones({4}, float32));
         },
         "weight has dtype float32 but input has dtype float64"},
        {"int64 input",
         [=] {
             call(arange(12, int64).reshape({3, 4}), labels({0, 1, 2}), Tensor());
         },
         "float32 or float64"},
    };
}

// PyTorch parity (tests/parity/norm_loss.py) of each loss over the three reductions.
const std::pair<const char*, Reduction> kReductions[] = {
    {"mean", Reduction::mean}, {"sum", Reduction::sum}, {"none", Reduction::none}};

Parity cross_entropy_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        const std::string s = suffix;
        p.cases.push_back({"ce_" + s, 2, [r = r](const TensorList& x) {
                               return cross_entropy(x[0], x[1], ce_opts(r));
                           }});
        Tensor w = load_fixture("ce_weight_smooth_" + s, "w");
        p.cases.push_back({"ce_weight_smooth_" + s, 2, [w, r = r](const TensorList& x) {
                               return cross_entropy(x[0], x[1], ce_opts(r, 0.2, w));
                           }});
    }
    Tensor w = load_fixture("ce_weight_mean", "w");
    p.cases.push_back({"ce_weight_mean", 2, [w](const TensorList& x) {
                           return cross_entropy(x[0], x[1], ce_opts(Reduction::mean, 0.0, w));
                       }});
    p.cases.push_back({"ce_smooth_mean", 2, [](const TensorList& x) {
                           return cross_entropy(x[0], x[1], ce_opts(Reduction::mean, 0.1));
                       }});
    // [N, C, T] logits, labels -100 ignored, with weights and smoothing; then (N, C, d1, d2).
    for (auto [suffix, r] : kReductions) {
        const std::string s = suffix;
        Tensor ws = load_fixture("ce_seq_" + s, "w");
        p.cases.push_back({"ce_seq_" + s, 2, [ws, r = r](const TensorList& x) {
                               return cross_entropy(x[0], x[1], ce_opts(r, 0.1, ws));
                           }});
    }
    p.cases.push_back({"ce_seq_ignore_class_mean", 2, [](const TensorList& x) {
                           return cross_entropy(x[0], x[1],
                                                ce_opts(Reduction::mean).ignore_index(2));
                       }});
    return p;
}

// nll_loss and multi_margin_loss reuse the class weights of the ce_weight_smooth_* fixtures.
Parity nll_loss_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        const std::string s = suffix;
        Tensor w = load_fixture("ce_weight_smooth_" + s, "w");
        p.cases.push_back({"nll_weight_" + s, 2, [w, r = r](const TensorList& x) {
                               return nll_loss(x[0], x[1], nll_opts(r, w));
                           }});
    }
    return p;
}

Parity multi_margin_loss_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        const std::string s = suffix;
        Tensor w = load_fixture("ce_weight_smooth_" + s, "w");
        p.cases.push_back({"mm_weight_" + s, 2, [w, r = r](const TensorList& x) {
                               return multi_margin_loss(x[0], x[1], mm_opts(r, 1, 1.0, w));
                           }});
    }
    p.cases.push_back({"mm_p2_margin_mean", 2, [](const TensorList& x) {
                           return multi_margin_loss(x[0], x[1],
                                                    mm_opts(Reduction::mean, 2, 0.5, Tensor()));
                       }});
    return p;
}

Parity mse_loss_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        p.cases.push_back({std::string("mse_") + suffix, 2,
                           [r = r](const TensorList& x) { return mse_loss(x[0], x[1], r); }});
    }
    return p;
}

Parity l1_loss_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        p.cases.push_back({std::string("l1_") + suffix, 2,
                           [r = r](const TensorList& x) { return l1_loss(x[0], x[1], r); }});
    }
    return p;
}

Parity bce_parity() {
    Parity p;
    for (auto [suffix, r] : kReductions) {
        const std::string name = std::string("bce_weights_") + suffix;
        Tensor pw = load_fixture(name, "pw"), w = load_fixture(name, "w");
        p.cases.push_back({name, 2, [w, pw, r = r](const TensorList& x) {
                               return binary_cross_entropy_with_logits(x[0], x[1],
                                                                       bce_opts(r, w, pw));
                           }});
    }
    p.cases.push_back({"bce_mean", 2, [](const TensorList& x) {
                           return binary_cross_entropy_with_logits(x[0], x[1]);
                       }});
    return p;
}

}  // namespace

// ---- registry ----

XG_REGISTER_OP_INFO(
    softmax_info,
    {"softmax",
     [] {
         return std::vector<Sample>{
             {"(3, 5) dim 1",
              {rand64({3, 5}, -3, 3)},
              [](const TensorList& x) { return softmax(x[0], 1); }},
             {"(2, 3, 4) dim 1",
              {rand64({2, 3, 4}, -3, 3)},
              [](const TensorList& x) { return softmax(x[0], 1); }},
             {"(2, 3, 4) dim 0",
              {rand64({2, 3, 4}, -3, 3)},
              [](const TensorList& x) { return softmax(x[0], 0); }},
             {"1-D (7) dim -1",
              {rand64({7}, -3, 3)},
              [](const TensorList& x) { return softmax(x[0], -1); }},
             {"batch of 1 (1, 4)",
              {rand64({1, 4}, -3, 3)},
              [](const TensorList& x) { return softmax(x[0], -1); }},
         };
     },
     [] {
         return std::vector<ErrorCase>{
             {"dim out of range",
              [] {
                  softmax(rand(Shape{2, 3}), 2);
              },
              "dim 2 is out of range"},
             {"int64 input", [] { softmax(arange(3, int64), 0); }, "floating-point"},
             {"0-d input", [] { softmax(scalar_tensor(1.0), 0); }, "at least 1 dim"},
         };
     },
     [] {
         return Parity{
             {{"softmax_2d", 1, [](const TensorList& x) { return softmax(x[0], 1); }},
              {"softmax_3d_dim1", 1, [](const TensorList& x) { return softmax(x[0], 1); }}}};
     }});

XG_REGISTER_OP_INFO(log_softmax_info,
                    {"log_softmax",
                     [] {
                         return std::vector<Sample>{
                             {"(3, 5) dim 1",
                              {rand64({3, 5}, -3, 3)},
                              [](const TensorList& x) { return log_softmax(x[0], 1); }},
                             {"(2, 3, 4) dim 2",
                              {rand64({2, 3, 4}, -3, 3)},
                              [](const TensorList& x) { return log_softmax(x[0], 2); }},
                             {"(2, 3, 4) dim 0",
                              {rand64({2, 3, 4}, -3, 3)},
                              [](const TensorList& x) { return log_softmax(x[0], 0); }},
                             {"1-D (5) dim 0",
                              {rand64({5}, -3, 3)},
                              [](const TensorList& x) { return log_softmax(x[0], 0); }},
                         };
                     },
                     [] {
                         return std::vector<ErrorCase>{
                             {"dim out of range",
                              [] {
                                  log_softmax(rand(Shape{2, 3}), -3);
                              },
                              "dim -3 is out of range"},
                             {"int64 input", [] { log_softmax(arange(3, int64), 0); },
                              "floating-point"},
                             {"0-d input", [] { log_softmax(scalar_tensor(1.0), 0); },
                              "input must have at least 1 dim"},
                         };
                     },
                     [] {
                         return Parity{{{"log_softmax_2d", 1,
                                         [](const TensorList& x) { return log_softmax(x[0], -1); }},
                                        {"log_softmax_3d_dim0", 1, [](const TensorList& x) {
                                             return log_softmax(x[0], 0);
                                         }}}};
                     }});

XG_REGISTER_OP_INFO(
    cross_entropy_info,
    {"cross_entropy",
     [] {
         Tensor w7 = consts({7}, 0.2, 2), w4 = consts({4}, 0.2, 2), w3 = consts({3}, 0.2, 2);
         auto ce = [](Tensor y, CrossEntropyFuncOptions o) {
             return [y, o](const TensorList& x) { return cross_entropy(x[0], y, o); };
         };
         return std::vector<Sample>{
             {"(4, 5) mean", {rand64({4, 5}, -2, 2)}, ce(labels({0, 4, 2, 2}), {})},
             {"(3, 7) sum, weights",
              {rand64({3, 7}, -2, 2)},
              ce(labels({6, 0, 3}), ce_opts(Reduction::sum, 0, w7))},
             {"(5, 4) none, smoothing 0.2, weights",
              {rand64({5, 4}, -2, 2)},
              ce(labels({1, 3, 0, 1, 2}), ce_opts(Reduction::none, 0.2, w4))},
             {"batch of 1 (1, 3) mean, smoothing 0.1",
              {rand64({1, 3}, -2, 2)},
              ce(labels({2}), ce_opts(Reduction::mean, 0.1))},
             {"(6, 3) mean, smoothing 0.3, weights",
              {rand64({6, 3}, -2, 2)},
              ce(labels({0, 1, 2, 2, 1, 0}), ce_opts(Reduction::mean, 0.3, w3))},
             {"[N, C, T] (2, 4, 3) mean, ignore_index -100, smoothing 0.2, weights",
              {rand64({2, 4, 3}, -2, 2)},
              ce(labels({0, -100, 3, 2, 1, -100}).reshape({2, 3}),
                 ce_opts(Reduction::mean, 0.2, w4))},
             {"[N, C, T] (2, 3, 4) none, ignore_index 1",
              {rand64({2, 3, 4}, -2, 2)},
              ce(labels({0, 1, 2, 2, 1, 0, 1, 2}).reshape({2, 4}),
                 ce_opts(Reduction::none).ignore_index(1))},
             {"(N, C, d1, d2) (2, 3, 2, 2) sum, smoothing 0.1",
              {rand64({2, 3, 2, 2}, -2, 2)},
              ce(labels({0, 1, 2, 2, 1, 0, 1, 2}).reshape({2, 2, 2}),
                 ce_opts(Reduction::sum, 0.1))},
             {"unbatched (5) with a 0-d label",
              {rand64({5}, -2, 2)},
              ce(labels({3}).reshape({}), ce_opts(Reduction::mean, 0.1))},
         };
     },
     [] {
         auto errs = class_target_errors([](Tensor x, Tensor y, Tensor w) {
             cross_entropy(x, y, ce_opts(Reduction::mean, 0.0, w));
         });
         // A 1-D input is cross_entropy's unbatched case, not an error.
         errs.erase(std::remove_if(errs.begin(), errs.end(),
                                   [](const ErrorCase& e) { return e.desc == "1-D input"; }),
                    errs.end());
         errs.push_back({"0-d input", [] { cross_entropy(scalar_tensor(1.0), labels({0})); },
                         "input must be (C), (N, C) or (N, C, d1, ...), got a 0-d tensor"});
         errs.push_back({"unbatched input, 1-D target",
                         [] { cross_entropy(rand(Shape{4}, float64), labels({0})); },
                         "target must be a 0-d class index for the unbatched input of shape [4], "
                         "got shape [1]"});
         errs.push_back(
             {"[N, C, T] input, target of the wrong length",
              [] {
                  cross_entropy(rand(Shape{2, 4, 3}, float64),
                                labels({0, 1, 2, 3, 0, 1, 2, 3}).reshape({2, 4}));
              },
              "target must have shape [2, 3] to match input shape [2, 4, 3], got [2, 4]"});
         errs.push_back({"[N, C, T] label out of range (flat index)",
                         [] {
                             cross_entropy(rand(Shape{2, 4, 3}, float64),
                                           labels({0, 1, 2, 3, 4, 1}).reshape({2, 3}));
                         },
                         "target[4] = 4 is out of range for 4 classes"});
         errs.push_back({"-100 is only ignored when it is ignore_index",
                         [] {
                             cross_entropy(rand(Shape{2, 3}, float64), labels({-100, 1}),
                                           ce_opts(Reduction::mean).ignore_index(-1));
                         },
                         "target[0] = -100 is out of range for 3 classes"});
         errs.push_back({"label_smoothing 1.5",
                         [] {
                             cross_entropy(rand(Shape{2, 3}, float64), labels({0, 1}),
                                           ce_opts(Reduction::mean, 1.5));
                         },
                         "label_smoothing must be in [0, 1], got 1.5"});
         errs.push_back({"weight requiring grad",
                         [] {
                             cross_entropy(
                                 rand(Shape{2, 3}, float64), labels({0, 1}),
                                 ce_opts(Reduction::mean, 0, ones({3}, float64).requires_grad_()));
                         },
                         "weight must not require grad"});
         errs.push_back({"label near INT64_MIN",
                         [] {
                             cross_entropy(rand(Shape{3, 4}), labels({0, -9200000000000000000, 2}));
                         },
                         "target[1] = -9200000000000000000 is out of range"});
         errs.push_back({"zero classes",
                         [] {
                             cross_entropy(zeros({2, 0}), labels({0, 0}));
                         },
                         "input has no classes"});
         errs.push_back({"NaN label_smoothing",
                         [] {
                             cross_entropy(rand(Shape{3, 4}), labels({0, 1, 2}),
                                           ce_opts(Reduction::mean, kNaN));
                         },
                         "label_smoothing must be in [0, 1], got nan"});
         errs.push_back(
             {"invalid Reduction",
              [] {
                  cross_entropy(rand(Shape{3, 4}), labels({0, 1, 2}), ce_opts(kBadReduction));
              },
              "invalid reduction 7"});
         return errs;
     },
     cross_entropy_parity});

XG_REGISTER_OP_INFO(
    nll_loss_info,
    {"nll_loss",
     [] {
         Tensor w6 = consts({6}, 0.2, 2), w4 = consts({4}, 0.2, 2);
         auto nll = [](Tensor y, Reduction r, Tensor w) {
             return [y, r, w](const TensorList& x) { return nll_loss(x[0], y, nll_opts(r, w)); };
         };
         return std::vector<Sample>{
             {"(4, 5) mean",
              {rand64({4, 5}, -3, 0)},
              nll(labels({1, 0, 4, 4}), Reduction::mean, {})},
             {"(3, 6) sum, weights",
              {rand64({3, 6}, -3, 0)},
              nll(labels({5, 2, 0}), Reduction::sum, w6)},
             {"(5, 3) none",
              {rand64({5, 3}, -3, 0)},
              nll(labels({0, 1, 2, 0, 1}), Reduction::none, {})},
             {"batch of 1 (1, 4) mean, weights",
              {rand64({1, 4}, -3, 0)},
              nll(labels({3}), Reduction::mean, w4)},
         };
     },
     [] {
         auto errs = class_target_errors(
             [](Tensor x, Tensor y, Tensor w) { nll_loss(x, y, nll_opts(Reduction::mean, w)); });
         errs.push_back(
             {"invalid Reduction",
              [] {
                  nll_loss(rand(Shape{3, 4}), labels({0, 1, 2}), nll_opts(kBadReduction, Tensor()));
              },
              "invalid reduction 7"});
         return errs;
     },
     nll_loss_parity});

XG_REGISTER_OP_INFO(
    multi_margin_loss_info,
    {"multi_margin_loss",
     [] {
         Tensor w4 = consts({4}, 0.2, 2);
         auto mm = [](Tensor y, MultiMarginLossFuncOptions o) {
             return [y, o](const TensorList& x) { return multi_margin_loss(x[0], y, o); };
         };
         return std::vector<Sample>{
             {"(4, 5) mean", {rand64({4, 5})}, mm(labels({0, 3, 4, 1}), {})},
             {"(3, 4) sum, weights",
              {rand64({3, 4})},
              mm(labels({3, 3, 0}), mm_opts(Reduction::sum, 1, 1.0, w4))},
             {"(5, 3) none, p 2",
              {rand64({5, 3})},
              mm(labels({2, 0, 1, 1, 0}), mm_opts(Reduction::none, 2, 1.0, Tensor()))},
             {"batch of 1 (1, 6) mean, margin 0.5",
              {rand64({1, 6})},
              mm(labels({4}), mm_opts(Reduction::mean, 1, 0.5, Tensor()))},
             {"(4, 4) mean, p 2, weights",
              {rand64({4, 4})},
              mm(labels({0, 1, 2, 3}), mm_opts(Reduction::mean, 2, 1.0, w4))},
         };
     },
     [] {
         auto errs = class_target_errors([](Tensor x, Tensor y, Tensor w) {
             multi_margin_loss(x, y, mm_opts(Reduction::mean, 1, 1.0, w));
         });
         errs.push_back({"p 3",
                         [] {
                             multi_margin_loss(rand(Shape{2, 3}, float64), labels({0, 1}),
                                               mm_opts(Reduction::mean, 3, 1.0, Tensor()));
                         },
                         "p must be 1 or 2, got 3"});
         for (auto [desc, o, fragment] :
              std::vector<std::tuple<const char*, MultiMarginLossFuncOptions, const char*>>{
                  {"invalid Reduction", mm_opts(kBadReduction, 1, 1.0, Tensor()),
                   "invalid reduction 7"},
                  {"NaN margin", mm_opts(Reduction::mean, 1, kNaN, Tensor()),
                   "margin must be finite, got nan"},
                  {"infinite margin", mm_opts(Reduction::mean, 1, kInf, Tensor()),
                   "margin must be finite, got inf"},
              }) {
             errs.push_back({desc,
                             [o = o] {
                                 multi_margin_loss(rand(Shape{3, 4}), labels({0, 1, 2}), o);
                             },
                             fragment});
         }
         return errs;
     },
     multi_margin_loss_parity});

namespace {

// Regression-loss samples: both input and target require grad.
template <class Options>
std::vector<Sample> pair_samples(Tensor (*f)(const Tensor&, const Tensor&, const Options&, Site)) {
    auto s = [f](Reduction r) {
        return [f, r](const TensorList& x) { return f(x[0], x[1], r, Site()); };
    };
    return {
        {"(3, 4) mean", {rand64({3, 4}), rand64({3, 4})}, s(Reduction::mean)},
        {"1-D (5) sum", {rand64({5}), rand64({5})}, s(Reduction::sum)},
        {"(2, 3, 2) none", {rand64({2, 3, 2}), rand64({2, 3, 2})}, s(Reduction::none)},
        {"(1, 1) mean", {rand64({1, 1}), rand64({1, 1})}, s(Reduction::mean)},
        {"(3, 3) mean, constant target",
         {rand64({3, 3}), consts({3, 3}, -1, 1)},
         s(Reduction::mean)},
    };
}

template <class F>
std::vector<ErrorCase> pair_errors(F f) {
    return {
        {"shape mismatch",
         [=] {
             f(rand(Shape{2, 3}, float64), rand(Shape{3, 2}, float64));
         },
         "target shape [3, 2] differs from input shape [2, 3]"},
        {"mixed float dtypes",
         [=] {
             f(rand(Shape{2, 3}, float64), rand(Shape{2, 3}));
         },
         "same dtype, got float64 and float32"},
        {"int64 target", [=] { f(rand(Shape{3}, float64), arange(3, int64)); },
         "'target' must be float32 or float64"},
    };
}

}  // namespace

XG_REGISTER_OP_INFO(
    mse_loss_info,
    {"mse_loss", [] { return pair_samples(mse_loss); },
     [] {
         auto errs = pair_errors([](Tensor x, Tensor y) { mse_loss(x, y); });
         errs.push_back(
             {"invalid Reduction",
              [] {
                  mse_loss(rand(Shape{3, 4}), rand(Shape{3, 4}), static_cast<Reduction>(-1));
              },
              "invalid reduction -1"});
         return errs;
     },
     mse_loss_parity});

XG_REGISTER_OP_INFO(l1_loss_info,
                    {"l1_loss", [] { return pair_samples(l1_loss); },
                     [] {
                         auto errs = pair_errors([](Tensor x, Tensor y) { l1_loss(x, y); });
                         errs.push_back(
                             {"invalid Reduction",
                              [] {
                                  l1_loss(rand(Shape{3, 4}), rand(Shape{3, 4}), kBadReduction);
                              },
                              "invalid reduction 7"});
                         return errs;
                     },
                     l1_loss_parity});

XG_REGISTER_OP_INFO(
    bce_info,
    {"binary_cross_entropy_with_logits",
     [] {
         auto bce = [](BinaryCrossEntropyWithLogitsFuncOptions o) {
             return [o](const TensorList& x) {
                 return binary_cross_entropy_with_logits(x[0], x[1], o);
             };
         };
         Tensor pw = consts({5}, 0.5, 3), w = consts({2, 3}, 0.2, 1.5), pw3 = consts({3}, 0.5, 3);
         return std::vector<Sample>{
             {"(4, 3) mean", {rand64({4, 3}, -3, 3), rand64({4, 3}, 0, 1)}, bce({})},
             {"(3, 5) sum, pos_weight (5)",
              {rand64({3, 5}, -3, 3), rand64({3, 5}, 0, 1)},
              bce(bce_opts(Reduction::sum, Tensor(), pw))},
             {"(2, 3) none, weight and pos_weight",
              {rand64({2, 3}, -3, 3), rand64({2, 3}, 0, 1)},
              bce(bce_opts(Reduction::none, w, pw3))},
             {"1-D (7) mean, constant 0/1 target",
              {rand64({7}, -3, 3), ge(consts({7}, 0, 1), 0.5).to(float64)},
              bce({})},
             {"batch of 1 (1, 3) mean, pos_weight",
              {rand64({1, 3}, -3, 3), rand64({1, 3}, 0, 1)},
              bce(bce_opts(Reduction::mean, Tensor(), pw3))},
         };
     },
     [] {
         auto errs =
             pair_errors([](Tensor x, Tensor y) { binary_cross_entropy_with_logits(x, y); });
         errs.push_back({"pos_weight that does not broadcast",
                         [] {
                             binary_cross_entropy_with_logits(
                                 rand(Shape{2, 3}, float64), rand(Shape{2, 3}, float64),
                                 BinaryCrossEntropyWithLogitsFuncOptions()
                                     .reduction(Reduction::mean)
                                     .weight(Tensor())
                                     .pos_weight(ones({4}, float64)));
                         },
                         "pos_weight of shape [4] does not broadcast to the input shape [2, 3]"});
         errs.push_back({"weight of another dtype",
                         [] {
                             binary_cross_entropy_with_logits(
                                 rand(Shape{2, 3}, float64), rand(Shape{2, 3}, float64),
                                 BinaryCrossEntropyWithLogitsFuncOptions()
                                     .reduction(Reduction::mean)
                                     .weight(ones({3}))
                                     .pos_weight(Tensor()));
                         },
                         "weight has dtype float32 but input has dtype float64"});
         errs.push_back({"invalid Reduction",
                         [] {
                             binary_cross_entropy_with_logits(
                                 rand(Shape{3, 4}), rand(Shape{3, 4}),
                                 bce_opts(kBadReduction, Tensor(), Tensor()));
                         },
                         "invalid reduction 7"});
         return errs;
     },
     bce_parity});

// ---- the same functions composed of primitive ops ----

namespace {

// Shift-free forms: exact enough for the moderate logits these tests use.
Tensor log_softmax_composed(const Tensor& x, std::int64_t d) {
    return sub(x, log(sum(exp(x), {d}, true)));
}

Tensor softmax_composed(const Tensor& x, std::int64_t d) {
    Tensor e = exp(x);
    return div(e, sum(e, {d}, true));
}

Tensor reduce(const Tensor& per, Reduction r, const Tensor& den) {
    if (r == Reduction::none) return per;
    if (r == Reduction::sum) return sum(per);
    return div(sum(per), den);
}

// PyTorch's definition: (1 - eps) * nll_loss(logp, y, w) + eps / C * smooth, both normalized by
// the summed target weights under mean.
Tensor ce_composed(const Tensor& x, const Tensor& y, const CrossEntropyFuncOptions& o) {
    const std::size_t c = x.size(1);
    Tensor w = o.weight().defined() ? o.weight() : ones({c}, float64);
    Tensor hot = one_hot(y, c), logp = log_softmax_composed(x, 1);
    Tensor wy = sum(mul(hot, w), {1});
    Tensor nll = neg(mul(sum(mul(hot, logp), {1}), wy));
    Tensor smooth = neg(sum(mul(logp, w), {1}));
    Tensor per = add(mul(nll, 1.0 - o.label_smoothing()), mul(smooth, o.label_smoothing() / c));
    return reduce(per, o.reduction(), sum(wy));
}

Tensor bce_composed(const Tensor& x, const Tensor& y,
                    const BinaryCrossEntropyWithLogitsFuncOptions& o) {
    Tensor sp = add(relu(neg(x)), log(add(exp(neg(abs(x))), 1.0)));
    Tensor lw =
        o.pos_weight().defined() ? add(mul(sub(o.pos_weight(), 1.0), y), 1.0) : ones_like(x);
    Tensor per = add(mul(rsub(1.0, y), x), mul(lw, sp));
    if (o.weight().defined()) per = mul(per, o.weight());
    return reduce(per, o.reduction(), scalar_tensor(static_cast<double>(x.numel()), float64));
}

Tensor mm_composed(const Tensor& x, const Tensor& y, const MultiMarginLossFuncOptions& o) {
    const std::size_t c = x.size(1);
    Tensor hot = one_hot(y, c);
    Tensor w = o.weight().defined() ? o.weight() : ones({c}, float64);
    Tensor z = relu(add(sub(x, sum(mul(x, hot), {1}, true)), o.margin()));
    if (o.p() == 2) z = mul(z, z);
    Tensor per = div(mul(sum(mul(z, rsub(1.0, hot)), {1}), sum(mul(hot, w), {1})), double(c));
    return reduce(per, o.reduction(), scalar_tensor(static_cast<double>(x.size(0)), float64));
}

}  // namespace

TEST_CASE("softmax, log_softmax: fused matches the composed function") {
    manual_seed(1);
    TensorList in = {rand64({3, 4, 5}, -4, 4)};
    for (std::int64_t d : {0, 1, 2, -1}) {
        CAPTURE(d);
        check_fused_vs_composed([d](const TensorList& x) { return softmax(x[0], d); },
                                [d](const TensorList& x) { return softmax_composed(x[0], d); }, in);
        check_fused_vs_composed([d](const TensorList& x) { return log_softmax(x[0], d); },
                                [d](const TensorList& x) { return log_softmax_composed(x[0], d); },
                                in);
    }
}

TEST_CASE("cross_entropy and nll_loss: fused matches the composed function") {
    manual_seed(2);
    Tensor y = labels({0, 3, 2, 2, 4, 1});
    Tensor w = consts({5}, 0.2, 2);
    TensorList in = {rand64({6, 5}, -3, 3)};
    for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
        for (double ls : {0.0, 0.25}) {
            for (Tensor wt : {Tensor(), w}) {
                CAPTURE(static_cast<int>(r));
                CAPTURE(ls);
                CrossEntropyFuncOptions o = ce_opts(r, ls, wt);
                check_fused_vs_composed(
                    [&](const TensorList& x) { return cross_entropy(x[0], y, o); },
                    [&](const TensorList& x) { return ce_composed(x[0], y, o); }, in);
                // nll_loss of log_softmax is cross_entropy without smoothing.
                if (ls == 0.0) {
                    check_fused_vs_composed(
                        [&](const TensorList& x) {
                            return nll_loss(log_softmax(x[0], 1), y, nll_opts(r, wt));
                        },
                        [&](const TensorList& x) { return ce_composed(x[0], y, o); }, in);
                }
            }
        }
    }
}

TEST_CASE("bce_with_logits, multi_margin, mse, l1: fused matches the composed function") {
    manual_seed(3);
    TensorList in = {rand64({4, 3}, -4, 4), rand64({4, 3}, 0, 1)};
    Tensor pw = consts({3}, 0.5, 3), w = consts({4, 3}, 0.2, 1.5);
    for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
        for (auto o :
             {BinaryCrossEntropyWithLogitsFuncOptions().reduction(r),
              BinaryCrossEntropyWithLogitsFuncOptions().reduction(r).weight(w).pos_weight(pw)}) {
            check_fused_vs_composed(
                [&](const TensorList& x) {
                    return binary_cross_entropy_with_logits(x[0], x[1], o);
                },
                [&](const TensorList& x) { return bce_composed(x[0], x[1], o); }, in);
        }
        check_fused_vs_composed([&](const TensorList& x) { return mse_loss(x[0], x[1], r); },
                                [&](const TensorList& x) {
                                    return reduce(pow(sub(x[0], x[1]), 2.0), r,
                                                  scalar_tensor(12.0, float64));
                                },
                                in);
        check_fused_vs_composed([&](const TensorList& x) { return l1_loss(x[0], x[1], r); },
                                [&](const TensorList& x) {
                                    return reduce(abs(sub(x[0], x[1])), r,
                                                  scalar_tensor(12.0, float64));
                                },
                                in);
        Tensor y = labels({0, 2, 1, 2});
        for (auto o : {MultiMarginLossFuncOptions().reduction(r),
                       MultiMarginLossFuncOptions().reduction(r).p(2).margin(0.7).weight(pw)}) {
            check_fused_vs_composed(
                [&](const TensorList& x) { return multi_margin_loss(x[0], y, o); },
                [&](const TensorList& x) { return mm_composed(x[0], y, o); }, {in[0]});
        }
    }
}

TEST_CASE("cross_entropy over [N, C, T]: the per-position (N, C) rows, ignored labels skipped") {
    manual_seed(4);
    Tensor x = rand64({2, 4, 3}, -2, 2);
    Tensor y = labels({0, -100, 3, 2, 1, -100}).reshape({2, 3});
    Tensor w = consts({4}, 0.2, 2);
    auto o = ce_opts(Reduction::none, 0.2, w);
    Tensor per = cross_entropy(x, y, o);
    REQUIRE(per.shape() == Shape{2, 3});
    // Row (n, t) is cross_entropy of x[n, :, t] with y[n, t]; an ignored one is 0.
    Tensor rows = reshape(movedim(x, 1, -1), {6, 4}).detach();
    auto p = per.to_vector();
    auto yv = y.reshape({6}).to_vector();
    double num = 0.0, den = 0.0;
    for (std::size_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        if (yv[i] == -100) {
            CHECK(p[i] == 0.0);
            continue;
        }
        const auto yi = static_cast<std::int64_t>(yv[i]);
        Tensor row = rows.index({static_cast<std::int64_t>(i)}).reshape({1, 4});
        CHECK(std::abs(p[i] - cross_entropy(row, labels({yi}), o).item()) < 1e-12);
        num += p[i];
        den += w.to_vector()[static_cast<std::size_t>(yi)];
    }
    // mean divides by the weights of the labels that count.
    Tensor m = cross_entropy(x, y, ce_opts(Reduction::mean, 0.2, w));
    CHECK(std::abs(m.item() - num / den) < 1e-12);
    m.backward();
    Tensor gx = movedim(x.grad(), 1, -1);  // (N, T, C)
    for (double v : gx.index({0, 1}).to_vector()) CHECK(v == 0.0);
    for (double v : gx.index({1, 2}).to_vector()) CHECK(v == 0.0);
    CHECK(max(abs(gx.index({0, 0}))).item() > 0.0);
    // Every label ignored: mean is 0 / 0, as PyTorch.
    Tensor x2 = rand64({2, 4, 3}, -2, 2);
    Tensor none = cross_entropy(x2, full({2, 3}, -100.0, float64).to(int64));
    CHECK(std::isnan(none.item()));
    none.backward();  // with a zero gradient, as PyTorch
    CHECK(max(abs(x2.grad())).item() == 0.0);
    // The module takes the same options.
    nn::CrossEntropyLoss loss(CrossEntropyFuncOptions().ignore_index(3).label_smoothing(0.1));
    Tensor yl = labels({0, 3, 3, 2, 1, 0}).reshape({2, 3});
    CHECK(loss(x, yl).item() ==
          cross_entropy(x, yl, CrossEntropyFuncOptions().ignore_index(3).label_smoothing(0.1))
              .item());
}

// ---- numerical edge cases ----

TEST_CASE("cross_entropy: equal logits give exactly log(C)") {
    for (Dtype dt : {float32, float64}) {
        for (std::size_t c : {2, 3, 7, 10, 1000}) {
            CAPTURE(c);
            Tensor x = full({4, c}, 0.375, dt);
            Tensor y = labels({0, 1, 1, 0});
            const double want =
                dt == float32 ? static_cast<float>(std::log(double(c))) : std::log(double(c));
            for (double v : cross_entropy(x, y, ce_opts(Reduction::none)).to_vector())
                CHECK(v == want);
            // The mean of two equal terms is exact too.
            CHECK(cross_entropy(full({2, c}, -3.5, dt), labels({1, 0})).item<double>() == want);
            // log_softmax itself is exactly -log(C) everywhere.
            for (double v : log_softmax(x, 1).to_vector()) CHECK(v == -want);
        }
    }
}

TEST_CASE("cross_entropy, softmax, bce: logits of +-1e4 give finite losses and gradients") {
    for (Dtype dt : {float32, float64}) {
        Tensor x = tensor({{1e4, -1e4, 0}, {-1e4, 1e4, 1e4}}, dt).requires_grad_();
        Tensor y = labels({1, 0});
        Tensor loss = cross_entropy(x, y);
        // Sample 0: -log p[1] = 2e4; sample 1: -log p[0] = 2e4 + log 2.
        CHECK(loss.item<double>() == doctest::Approx((4e4 + std::log(2.0)) / 2).epsilon(1e-6));
        for (double v : grad({loss}, {x})[0].to_vector()) CHECK(std::isfinite(v));
        Tensor s = softmax(x, 1);
        CHECK(s.to_vector()[0] == 1.0);
        CHECK(s.to_vector()[4] == doctest::Approx(0.5));
        Tensor ls = log_softmax(x, 1);
        for (double v : ls.to_vector()) CHECK(std::isfinite(v));
        for (double v : grad({sum(ls)}, {x})[0].to_vector()) CHECK(std::isfinite(v));

        Tensor bx = tensor({1e4, -1e4, 1e4, -1e4}, dt).requires_grad_();
        Tensor by = tensor({0, 1, 1, 0}, dt);
        Tensor bl = binary_cross_entropy_with_logits(
            bx, by, BinaryCrossEntropyWithLogitsFuncOptions().reduction(Reduction::none));
        auto bv = bl.to_vector();
        CHECK(bv[0] == doctest::Approx(1e4));
        CHECK(bv[1] == doctest::Approx(1e4));
        CHECK(bv[2] == 0.0);
        CHECK(bv[3] == 0.0);
        auto bg = grad({sum(bl)}, {bx})[0].to_vector();
        CHECK(bg == std::vector<double>{1, -1, 0, 0});
        Tensor mm = multi_margin_loss(x, y);
        CHECK(std::isfinite(mm.item<double>()));
    }
}

TEST_CASE("losses: mean over an empty batch is NaN and its backward gives an empty gradient") {
    // The backward used to throw dividing the upstream gradient by 0 (PyTorch returns it).
    Tensor x = zeros({0, 3}, float64).requires_grad_();
    Tensor y = labels({});
    std::vector<Tensor> losses = {cross_entropy(x, y), nll_loss(x, y), multi_margin_loss(x, y),
                                  mse_loss(x, zeros({0, 3}, float64)),
                                  binary_cross_entropy_with_logits(x, zeros({0, 3}, float64))};
    for (const Tensor& l : losses) {
        CHECK(std::isnan(l.item<double>()));
        Tensor g = grad({l}, {x})[0];
        CHECK(g.shape() == Shape{0, 3});
    }
    CHECK(std::isnan(mse_loss(zeros({0}), zeros({0})).item<float>()));  // 1-D float32 too
    // With sum, an empty batch is 0.
    CHECK(cross_entropy(zeros({0, 3}), zeros({0}, int64), ce_opts(Reduction::sum)).item<float>() ==
          0.0f);
    // Zero total class weight: 0 / 0, so a NaN loss and NaN gradients in the target column (as
    // PyTorch; it leaves the other columns 0, here they are NaN too), not a throw.
    Tensor z = zeros({2, 3}, float64).requires_grad_();
    auto o = NLLLossFuncOptions().weight(tensor({0.0, 1.0, 1.0}, float64));
    Tensor l = nll_loss(z, labels({0, 0}), o);
    CHECK(std::isnan(l.item<double>()));
    std::vector<double> gz = grad({l}, {z})[0].to_vector();
    CHECK(std::isnan(gz[0]));
    CHECK(std::isnan(gz[3]));
}

TEST_CASE("multi_margin_loss: cs231n's svm_loss is the PyTorch loss times C") {
    // svm_loss: sum over samples and wrong classes of max(0, s_j - s_y + 1), divided by N.
    Tensor x = tensor({{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}}, float64);
    Tensor y = labels({0, 1, 2});
    // cs231n's lecture example: per-image losses 2.9, 0 and 6.3 + 6.6 = 12.9.
    const double svm = (2.9 + 0.0 + 12.9) / 3.0;
    CHECK(multi_margin_loss(x, y).item<double>() * 3 == doctest::Approx(svm).epsilon(1e-12));
}

}  // namespace xg::testing
