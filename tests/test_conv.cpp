// conv2d and conv_transpose2d: registry samples and error inputs, the im2col kernels against the
// naive loops on randomized settings, and PyTorch parity.
#include <doctest/doctest.h>

#include <string>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>

#include "tests/conv_reference.hpp"
#include "tests/oom_testing.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"

namespace xg::testing {

namespace {

Tensor conv_fn(const TensorList& x, Conv2dFuncOptions o) {
    return conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), o);
}

Tensor convt_fn(const TensorList& x, ConvTranspose2dFuncOptions o) {
    return conv_transpose2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), o);
}

Sample conv_sample(std::string desc, TensorList in, Conv2dFuncOptions o) {
    return Sample{std::move(desc), std::move(in),
                  [o](const TensorList& x) { return conv_fn(x, o); }};
}

Sample convt_sample(std::string desc, TensorList in, ConvTranspose2dFuncOptions o) {
    return Sample{std::move(desc), std::move(in),
                  [o](const TensorList& x) { return convt_fn(x, o); }};
}

Sample wgrad_sample(std::string desc, TensorList in, Shape ws, Conv2dFuncOptions o) {
    return Sample{std::move(desc), std::move(in),
                  [ws, o](const TensorList& x) { return conv2d_weight_grad(x[0], x[1], ws, o); }};
}

Tensor f64(const Shape& s) {
    return rand(s, float64);
}

// PyTorch parity (tests/parity/conv_pool.py), in the registry rows below.
Parity conv2d_parity() {
    Parity p;
    auto sp = Conv2dFuncOptions().stride({2, 1}).padding({1, 2});
    auto dg = Conv2dFuncOptions().stride({1, 2}).padding({2, 1}).dilation({2, 1}).groups(2);
    auto dw = Conv2dFuncOptions().stride(2).padding(1).groups(3);
    auto run = [](Conv2dFuncOptions o) {
        return [o](const TensorList& x) { return conv_fn(x, o); };
    };
    for (auto [name, n, o] :
         {std::tuple{"conv2d_basic", 3, Conv2dFuncOptions{}},
          std::tuple{"conv2d_stride_pad", 3, sp}, std::tuple{"conv2d_dilation_groups", 3, dg},
          std::tuple{"conv2d_nobias_depthwise", 2, dw}}) {
        p.cases.push_back({name, static_cast<std::size_t>(n), run(o)});
    }
    return p;
}

Parity conv_transpose2d_parity() {
    Parity p;
    auto so = ConvTranspose2dFuncOptions().stride({2, 3}).padding({1, 0}).output_padding({1, 2});
    auto dg =
        ConvTranspose2dFuncOptions().padding({1, 0}).output_padding({1, 0}).dilation({2, 1}).groups(
            2);
    auto run = [](ConvTranspose2dFuncOptions o) {
        return [o](const TensorList& x) { return convt_fn(x, o); };
    };
    for (auto [name, n, o] : {std::tuple{"conv_transpose2d_basic", 3, ConvTranspose2dFuncOptions{}},
                              std::tuple{"conv_transpose2d_stride_outpad", 3, so},
                              std::tuple{"conv_transpose2d_dilation_groups", 2, dg}}) {
        p.cases.push_back({name, static_cast<std::size_t>(n), run(o)});
    }
    return p;
}

Parity conv2d_weight_grad_parity() {
    Parity p;
    auto dg = Conv2dFuncOptions().stride({1, 2}).padding({2, 1}).dilation({2, 1}).groups(2);
    for (auto [name, ws, o] :
         {std::tuple{"conv2d_weight_grad_basic", Shape{4, 3, 3, 3}, Conv2dFuncOptions{}},
          std::tuple{"conv2d_weight_grad_stride_dilation_groups", Shape{6, 2, 3, 3}, dg}}) {
        p.cases.push_back({name, 2, [ws = ws, o = o](const TensorList& x) {
                               return conv2d_weight_grad(x[0], x[1], ws, o);
                           }});
    }
    return p;
}

}  // namespace

XG_REGISTER_OP_INFO(
    conv2d_info,
    {"conv2d",
     [] {
         return std::vector<Sample>{
             conv_sample("odd sizes 1x3x5x7, bias",
                         {rand64({1, 3, 5, 7}), rand64({2, 3, 3, 2}), rand64({2})}, {}),
             conv_sample(
                 "stride 2 pad 1, non-square kernel",
                 {rand64({2, 2, 5, 6}), rand64({3, 2, 3, 2}), rand64({3})},
                 Conv2dFuncOptions().stride({2, 2}).padding({1, 1}).dilation({1, 1}).groups(1)),
             conv_sample(
                 "dilation (2,1), stride (1,2), pad (1,0), no bias",
                 {rand64({1, 2, 6, 5}), rand64({2, 2, 2, 3})},
                 Conv2dFuncOptions().stride({1, 2}).padding({1, 0}).dilation({2, 1}).groups(1)),
             conv_sample(
                 "groups 2, batch 1, stride 2 pad 1",
                 {rand64({1, 4, 5, 4}), rand64({4, 2, 3, 3}), rand64({4})},
                 Conv2dFuncOptions().stride({2, 2}).padding({1, 1}).dilation({1, 1}).groups(2)),
             conv_sample(
                 "depthwise groups 3, only weight needs grad",
                 {f64({2, 3, 4, 4}), rand64({3, 1, 2, 2})},
                 Conv2dFuncOptions().stride({1, 1}).padding({0, 1}).dilation({1, 1}).groups(3)),
         };
     },
     [] {
         auto x = [] { return rand({2, 3, 5, 5}); };
         auto w = [] { return rand({4, 3, 3, 3}); };
         std::vector<ErrorCase> e{
             {"3-D input",
              [=] {
                  conv2d(rand({3, 5, 5}), w());
              },
              "expected a 4-D input"},
             {"2-D weight",
              [=] {
                  conv2d(x(), rand({4, 27}));
              },
              "expected a 4-D weight"},
             {"channel mismatch",
              [=] {
                  conv2d(rand({2, 4, 5, 5}), w());
              },
              "weight expects 3 input channels, input has 4"},
             {"groups do not divide channels",
              [=] {
                  conv2d(x(), rand({4, 1, 3, 3}), Tensor(),
                         Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({1, 1}).groups(
                             2));
              },
              "groups 2 must divide the input channels 3"},
             {"groups do not divide filters",
              [=] {
                  conv2d(rand({2, 4, 5, 5}), rand({3, 2, 3, 3}), Tensor(),
                         Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({1, 1}).groups(
                             2));
              },
              "groups 2 must divide the output channels"},
             {"stride 0",
              [=] {
                  conv2d(x(), w(), Tensor(), Conv2dFuncOptions().stride({0, 1}));
              },
              "stride must be positive, got (0, 1)"},
             {"dilation 0",
              [=] {
                  conv2d(x(), w(), Tensor(),
                         Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({1, 0}));
              },
              "dilation must be positive, got (1, 0)"},
             {"negative padding",
              [=] {
                  conv2d(x(), w(), Tensor(), Conv2dFuncOptions().stride({1, 1}).padding({-1, 0}));
              },
              "padding must be non-negative, got (-1, 0)"},
             {"groups 0",
              [=] {
                  conv2d(x(), w(), Tensor(),
                         Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({1, 1}).groups(
                             0));
              },
              "groups must be positive, got 0"},
             {"kernel larger than padded input",
              [=] {
                  conv2d(rand({1, 3, 2, 4}), w());
              },
              "kernel 3x3 (dilated 3x3) is larger than the padded input 2x4"},
             {"dilated kernel larger than input",
              [=] {
                  conv2d(x(), w(), Tensor(),
                         Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({3, 3}));
              },
              "(dilated 7x7) is larger than the padded input 5x5"},
             {"bias size", [=] { conv2d(x(), w(), rand({5})); },
              "bias must be 1-D with 4 elements"},
             {"mixed dtypes",
              [=] {
                  conv2d(x(), rand({4, 3, 3, 3}, float64));
              },
              "same dtype",
              {"float64"}},
             {"int64 input",
              [=] {
                  conv2d(zeros({2, 3, 5, 5}, int64), zeros({4, 3, 3, 3}, int64));
              },
              "must be float32 or float64, got int64"},
             {"undefined weight", [=] { conv2d(x(), Tensor()); }, "undefined"},
         };
         // Extreme strides, paddings, dilations and groups: refused or overflow-checked.
         using O = Conv2dFuncOptions;
         const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
         auto x1 = [] { return rand({1, 3, 5, 5}); };
         auto w2 = [] { return rand({2, 3, 3, 3}); };
         for (auto [desc, o, fragment] : std::vector<std::tuple<const char*, O, const char*>>{
                  {"stride INT64_MIN", O().stride(std::numeric_limits<std::int64_t>::min()),
                   "stride must be positive"},
                  {"groups INT64_MAX", O().groups(kMax), "groups 9223372036854775807 must divide"},
                  {"padding INT64_MAX", O().padding(kMax), "padded input height overflows int64"},
                  {"padding 2^62 in width", O().padding({0, std::int64_t(1) << 62}),
                   "padded input width overflows int64"},
                  {"dilation INT64_MAX", O().dilation(kMax),
                   "dilated kernel height overflows int64"},
                  {"padding 2^40 exceeds the allocation limit", O().padding(std::int64_t(1) << 40),
                   "shape [1, 2, 2199023255555, 2199023255555] has too many elements"},
              }) {
             e.push_back({desc, [=, o = o] { conv2d(x1(), w2(), Tensor(), o); }, fragment});
         }
         if (!kAsan) {
             // Past the limit check, a request no machine serves reaches malloc and fails.
             e.push_back({"a genuine allocation failure",
                          [] {
                              LimitGuard g(std::size_t(PTRDIFF_MAX));
                              conv2d(rand({1, 1, 1, 1}), rand({1, 1, 1, 1}), Tensor(),
                                     O().padding({std::int64_t(1) << 22, std::int64_t(1) << 22}));
                          },
                          "out of memory"});
         }
         return e;
     },
     conv2d_parity});

XG_REGISTER_OP_INFO(
    conv_transpose2d_info,
    {"conv_transpose2d",
     [] {
         return std::vector<Sample>{
             convt_sample("odd sizes, bias",
                          {rand64({1, 2, 3, 5}), rand64({2, 3, 2, 3}), rand64({3})}, {}),
             convt_sample("stride 2 pad 1 output_padding 1, non-square",
                          {rand64({2, 2, 3, 3}), rand64({2, 2, 3, 2}), rand64({2})},
                          ConvTranspose2dFuncOptions()
                              .stride({2, 2})
                              .padding({1, 0})
                              .output_padding({1, 1})
                              .dilation({1, 1})
                              .groups(1)),
             convt_sample("dilation (2,1), output_padding < dilation, no bias",
                          {rand64({1, 3, 3, 2}), rand64({3, 2, 2, 2})},
                          ConvTranspose2dFuncOptions()
                              .stride({1, 1})
                              .padding({0, 0})
                              .output_padding({1, 0})
                              .dilation({2, 1})
                              .groups(1)),
             convt_sample("groups 2, batch 1, stride (1,2)",
                          {rand64({1, 4, 3, 3}), rand64({4, 1, 3, 3}), rand64({2})},
                          ConvTranspose2dFuncOptions()
                              .stride({1, 2})
                              .padding({1, 1})
                              .output_padding({0, 1})
                              .dilation({1, 1})
                              .groups(2)),
         };
     },
     [] {
         auto x = [] { return rand({2, 3, 4, 4}); };
         auto w = [] { return rand({3, 2, 3, 3}); };
         std::vector<ErrorCase> e{
             {"3-D input",
              [=] {
                  conv_transpose2d(rand({3, 4, 4}), w());
              },
              "expected a 4-D input"},
             {"channel mismatch",
              [=] {
                  conv_transpose2d(rand({2, 4, 4, 4}), w());
              },
              "weight expects 3 input channels, input has 4"},
             {"groups do not divide channels",
              [=] {
                  conv_transpose2d(x(), w(), Tensor(),
                                   ConvTranspose2dFuncOptions()
                                       .stride({1, 1})
                                       .padding({0, 0})
                                       .output_padding({0, 0})
                                       .dilation({1, 1})
                                       .groups(2));
              },
              "groups 2 must divide the input channels 3"},
             {"stride 0",
              [=] {
                  conv_transpose2d(x(), w(), Tensor(), ConvTranspose2dFuncOptions().stride({1, 0}));
              },
              "stride must be positive, got (1, 0)"},
             {"output_padding too large",
              [=] {
                  conv_transpose2d(
                      x(), w(), Tensor(),
                      ConvTranspose2dFuncOptions().stride({2, 2}).padding({0, 0}).output_padding(
                          {2, 0}));
              },
              "output_padding (2, 0) must be non-negative and smaller than stride (2, 2)"},
             {"padding eats the output",
              [=] {
                  conv_transpose2d(rand({1, 3, 1, 1}), w(), Tensor(),
                                   ConvTranspose2dFuncOptions().stride({1, 1}).padding({2, 2}));
              },
              "output size -1x-1 is not positive"},
             {"bias size", [=] { conv_transpose2d(x(), w(), rand({3})); },
              "bias must be 1-D with 2 elements"},
             {"mixed dtypes", [=] { conv_transpose2d(x(), w(), rand({2}, float64)); },
              "same dtype"},
             {"int64 input",
              [=] {
                  conv_transpose2d(zeros({2, 3, 4, 4}, int64), zeros({3, 2, 3, 3}, int64));
              },
              "must be float32 or float64, got int64"},
         };
         // Extreme strides, dilations and paddings: refused or overflow-checked.
         using T = ConvTranspose2dFuncOptions;
         const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
         auto x1 = [] { return rand({1, 3, 5, 5}); };
         for (auto [desc, o, fragment] : std::vector<std::tuple<const char*, T, const char*>>{
                  {"output_padding -1", T().output_padding(-1), "output_padding (-1, -1)"},
                  {"stride INT64_MAX", T().stride(kMax), "the output height overflows int64"},
                  {"dilation INT64_MAX", T().dilation(kMax), "the output height overflows int64"},
                  {"output_padding near INT64_MAX", T().stride(kMax).output_padding(kMax - 1),
                   "overflows int64"},
                  {"stride 2^40 exceeds the allocation limit", T().stride(std::int64_t(1) << 40),
                   "has too many elements"},
                  {"padding INT64_MAX", T().padding(kMax), "overflows int64"},
              }) {
             e.push_back(
                 {desc, [=, o = o] { conv_transpose2d(x1(), w(), Tensor(), o); }, fragment});
         }
         return e;
     },
     conv_transpose2d_parity});

XG_REGISTER_OP_INFO(
    conv2d_weight_grad_info,
    {"conv2d_weight_grad",
     [] {
         return std::vector<Sample>{
             wgrad_sample("plain 3x3", {rand64({2, 2, 5, 4}), rand64({2, 3, 3, 2})}, {3, 2, 3, 3},
                          {}),
             wgrad_sample(
                 "stride 2 pad 1", {rand64({1, 2, 5, 6}), rand64({1, 3, 3, 4})}, {3, 2, 3, 2},
                 Conv2dFuncOptions().stride({2, 2}).padding({1, 1}).dilation({1, 1}).groups(1)),
             wgrad_sample(
                 "dilation 2, groups 2", {rand64({2, 4, 6, 5}), rand64({2, 2, 4, 3})}, {2, 2, 2, 2},
                 Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({2, 2}).groups(2)),
             wgrad_sample(
                 "grad_output one row short (output_padding < dilation)",
                 {rand64({1, 2, 5, 5}), rand64({1, 2, 2, 3})}, {2, 2, 2, 2},
                 Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({2, 2}).groups(1)),
             wgrad_sample(
                 "only grad_output needs grad", {f64({1, 3, 4, 4}), rand64({1, 3, 2, 2})},
                 {3, 1, 3, 3},
                 Conv2dFuncOptions().stride({1, 1}).padding({0, 0}).dilation({1, 1}).groups(3)),
         };
     },
     [] {
         auto x = [] { return rand({2, 3, 5, 5}); };
         auto gy = [] { return rand({2, 4, 3, 3}); };
         return std::vector<ErrorCase>{
             {"3-D input",
              [=] {
                  conv2d_weight_grad(rand({3, 5, 5}), gy(), {4, 3, 3, 3});
              },
              "4-D input"},
             {"weight_shape rank",
              [=] {
                  conv2d_weight_grad(x(), gy(), {4, 27});
              },
              "weight_shape must be 4-D"},
             {"channels",
              [=] {
                  conv2d_weight_grad(x(), gy(), {4, 2, 3, 3});
              },
              "weight expects 2 input channels, input has 3"},
             {"grad_output channels",
              [=] {
                  conv2d_weight_grad(x(), gy(), {5, 3, 3, 3});
              },
              "grad_output must be (2, 5, OH, OW)"},
             {"grad_output too large",
              [=] {
                  conv2d_weight_grad(x(), rand({2, 4, 4, 3}), {4, 3, 3, 3});
              },
              "grad_output is 4x3, conv2d's output is 3x3"},
             {"grad_output too small",
              [=] {
                  conv2d_weight_grad(x(), rand({2, 4, 2, 3}), {4, 3, 3, 3});
              },
              "more than stride (1, 1) or dilation (1, 1) allow"},
             {"zero stride",
              [=] {
                  conv2d_weight_grad(x(), gy(), {4, 3, 3, 3}, Conv2dFuncOptions().stride({0, 1}));
              },
              "stride must be positive"},
             {"mixed dtypes",
              [=] {
                  conv2d_weight_grad(x(), gy().to(float64), {4, 3, 3, 3});
              },
              "float64"},
             {"undefined grad_output",
              [=] {
                  conv2d_weight_grad(x(), Tensor(), {4, 3, 3, 3});
              },
              "undefined"},
         };
     },
     conv2d_weight_grad_parity});

namespace {

// The cs231n conv_backward_naive loops: dx and dw of <conv2d(x, w), dy>.
std::pair<Tensor, Tensor> conv_backward_naive(const Tensor& x, const Tensor& w, const Tensor& dy,
                                              const Conv2dFuncOptions& o) {
    const auto &X = x.data<double>(), &W = w.data<double>(), &D = dy.data<double>();
    xt::xarray<double> dx = xt::zeros<double>(x.shape()), dw = xt::zeros<double>(w.shape());
    std::size_t F = w.shape()[0], Cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
    std::size_t Fg = F / static_cast<std::size_t>(o.groups());
    for (std::size_t n = 0; n < dy.shape()[0]; ++n)
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t oh = 0; oh < dy.shape()[2]; ++oh)
                for (std::size_t ow = 0; ow < dy.shape()[3]; ++ow)
                    for (std::size_t c = 0; c < Cg; ++c)
                        for (std::size_t i = 0; i < kh; ++i)
                            for (std::size_t j = 0; j < kw; ++j) {
                                auto ih = static_cast<std::int64_t>(oh) * o.stride().first -
                                          o.padding().first +
                                          static_cast<std::int64_t>(i) * o.dilation().first;
                                auto iw = static_cast<std::int64_t>(ow) * o.stride().second -
                                          o.padding().second +
                                          static_cast<std::int64_t>(j) * o.dilation().second;
                                if (ih < 0 || iw < 0 ||
                                    ih >= static_cast<std::int64_t>(x.shape()[2]) ||
                                    iw >= static_cast<std::int64_t>(x.shape()[3]))
                                    continue;
                                std::size_t ci = (f / Fg) * Cg + c;
                                double g = D(n, f, oh, ow);
                                dx(n, ci, ih, iw) += g * W(f, c, i, j);
                                dw(f, c, i, j) += g * X(n, ci, ih, iw);
                            }
    return {Tensor(dx), Tensor(dw)};
}

struct RandomConv {
    Shape x, w;
    Conv2dFuncOptions o;
};

// A random valid conv2d setting with tiny sizes.
RandomConv random_conv(std::mt19937& rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    for (;;) {
        std::int64_t groups = pick(1, 3), cg = pick(1, 3), fg = pick(1, 3);
        std::int64_t kh = pick(1, 4), kw = pick(1, 4), h = pick(1, 9), w = pick(1, 9);
        auto o = Conv2dFuncOptions()
                     .stride({pick(1, 3), pick(1, 3)})
                     .padding({pick(0, 2), pick(0, 2)})
                     .dilation({pick(1, 2), pick(1, 2)})
                     .groups(groups);
        if (o.dilation().first * (kh - 1) + 1 > h + 2 * o.padding().first) continue;
        if (o.dilation().second * (kw - 1) + 1 > w + 2 * o.padding().second) continue;
        auto u = [](std::int64_t v) { return static_cast<std::size_t>(v); };
        return {
            {u(pick(1, 3)), u(groups * cg), u(h), u(w)}, {u(groups * fg), u(cg), u(kh), u(kw)}, o};
    }
}

std::string describe(const RandomConv& c) {
    return fmt::format("x {} w {} stride ({}, {}) pad ({}, {}) dil ({}, {}) groups {}", c.x, c.w,
                       c.o.stride().first, c.o.stride().second, c.o.padding().first,
                       c.o.padding().second, c.o.dilation().first, c.o.dilation().second,
                       c.o.groups());
}

}  // namespace

TEST_CASE("conv2d: im2col kernels match the naive loops on random settings") {
    std::mt19937 rng(1234);
    manual_seed(7);
    for (int t = 0; t < 40; ++t) {
        RandomConv c = random_conv(rng);
        CAPTURE(describe(c));
        Tensor x = rand64(c.x), w = rand64(c.w), b = rand64({c.w[0]});
        Tensor y = conv2d(x, w, b, c.o);
        CHECK(max_abs_diff(y, conv2d_naive(x, w, b, c.o)) < 1e-12);
        Tensor dy = rand(y.shape(), float64);
        auto g = grad({y}, {x, w, b}, {dy});
        auto [dx, dw] = conv_backward_naive(x, w, dy, c.o);
        CHECK(max_abs_diff(g[0], dx) < 1e-12);
        CHECK(max_abs_diff(g[1], dw) < 1e-12);
        CHECK(max_abs_diff(g[2], sum(dy, {0, 2, 3})) < 1e-12);
        // float32 runs the same kernels, both ways.
        Tensor x32 = x.detach().to(float32).requires_grad_();
        Tensor w32 = w.detach().to(float32).requires_grad_();
        Tensor y32 = conv2d(x32, w32, b.detach().to(float32), c.o);
        CHECK(max_abs_diff(y32, y) < 1e-4);
        auto g32 = grad({y32}, {x32, w32}, {dy.to(float32)});
        CHECK(max_abs_diff(g32[0], dx) < 1e-4);
        CHECK(max_abs_diff(g32[1], dw) < 1e-4);
    }
}

TEST_CASE("conv2d: batches larger than the column buffer ring, and columns larger than it") {
    // 147 x 1600 float64 columns are 1.9 MB, so the 4 MB ring holds 2 of the 5 samples.
    manual_seed(11);
    auto o = Conv2dFuncOptions().padding(3);
    Tensor x = rand64({5, 3, 40, 40}), w = rand64({2, 3, 7, 7}), b = rand64({2});
    Tensor y = conv2d(x, w, b, o);
    CHECK(max_abs_diff(y, conv2d_naive(x, w, b, o)) < 1e-12);
    Tensor dy = rand(y.shape(), float64);
    auto g = grad({y}, {x, w}, {dy});
    auto [dx, dw] = conv_backward_naive(x, w, dy, o);
    CHECK(max_abs_diff(g[0], dx) < 1e-12);
    CHECK(max_abs_diff(g[1], dw) < 1e-11);
    // 147 x 4096 float64 columns do not fit the ring at all: one buffer per call.
    Tensor x2 = rand64({2, 3, 64, 64}), w2 = rand64({1, 3, 7, 7});
    CHECK(max_abs_diff(conv2d(x2, w2, Tensor(), o), conv2d_naive(x2, w2, Tensor(), o)) < 1e-12);
}

TEST_CASE("conv_transpose2d: matches the naive scatter loops and is the adjoint of conv2d") {
    std::mt19937 rng(99);
    manual_seed(8);
    for (int t = 0; t < 30; ++t) {
        RandomConv c = random_conv(rng);
        CAPTURE(describe(c));
        // conv2d maps x -> y; conv_transpose2d with the same weight maps y-shaped -> x-shaped,
        // with output_padding making up what the strided conv dropped.
        Tensor x0 = rand64(c.x), w = rand64(c.w);
        Tensor y0 = conv2d(x0, w, Tensor(), c.o);
        auto extra = [](std::size_t in, std::size_t out, std::int64_t s, std::int64_t p,
                        std::int64_t d, std::size_t k) {
            return static_cast<std::int64_t>(in) -
                   ((static_cast<std::int64_t>(out) - 1) * s - 2 * p +
                    d * (static_cast<std::int64_t>(k) - 1) + 1);
        };
        Pair2 op{extra(c.x[2], y0.shape()[2], c.o.stride().first, c.o.padding().first,
                       c.o.dilation().first, c.w[2]),
                 extra(c.x[3], y0.shape()[3], c.o.stride().second, c.o.padding().second,
                       c.o.dilation().second, c.w[3])};
        bool ok = (op.first < c.o.stride().first || op.first < c.o.dilation().first) &&
                  (op.second < c.o.stride().second || op.second < c.o.dilation().second);
        if (!ok) continue;  // PyTorch refuses such output_padding too
        auto to = ConvTranspose2dFuncOptions()
                      .stride(c.o.stride())
                      .padding(c.o.padding())
                      .output_padding(op)
                      .dilation(c.o.dilation())
                      .groups(c.o.groups());
        // The transposed weight layout (C_in, C_out/groups, kh, kw) is conv2d's (F, C/groups).
        Tensor y = rand64(y0.shape()), b = rand64({c.x[1]});
        Tensor z = conv_transpose2d(y, w, b, to);
        REQUIRE(z.shape() == x0.shape());
        CHECK(max_abs_diff(z, conv_transpose2d_naive(y, w, b, to)) < 1e-12);
        // Adjoint: <conv2d(x), y> == <x, conv_transpose2d(y)> (without bias).
        Tensor zt = conv_transpose2d(y, w, Tensor(), to);
        double lhs = sum(mul(y0, y)).item(), rhs = sum(mul(x0, zt)).item();
        CHECK(std::abs(lhs - rhs) < 1e-10 * std::max(1.0, std::abs(lhs)));
        // Its gradients, the other two conv kernels, by finite differences.
        if (t % 3 == 0) {
            auto r = gradcheck(
                [to](const TensorList& a) { return conv_transpose2d(a[0], a[1], a[2], to); },
                {y, w, b});
            CHECK_MESSAGE(r.ok, r.log);
        }
    }
}

TEST_CASE("conv2d: 1x1 kernel is a matmul over channels; shapes follow PyTorch's formula") {
    Tensor x = rand({2, 3, 4, 5}), w = rand({6, 3, 1, 1});
    Tensor y = conv2d(x, w);
    CHECK(y.shape() == Shape{2, 6, 4, 5});
    CHECK(conv2d(rand({1, 1, 28, 28}), rand({6, 1, 5, 5})).shape() == Shape{1, 6, 24, 24});
    CHECK(conv2d(rand({1, 3, 32, 32}), rand({8, 3, 7, 7}), Tensor(),
                 Conv2dFuncOptions().stride({1, 1}).padding({3, 3}))
              .shape() == Shape{1, 8, 32, 32});
    CHECK(conv2d(rand({1, 1, 7, 6}), rand({1, 1, 3, 2}), Tensor(),
                 Conv2dFuncOptions().stride({2, 3}).padding({1, 0}).dilation({1, 2}))
              .shape() == Shape{1, 1, 4, 2});
    CHECK(conv_transpose2d(rand({1, 2, 3, 4}), rand({2, 5, 3, 3}), Tensor(),
                           ConvTranspose2dFuncOptions().stride(2).padding(1).output_padding({1, 0}))
              .shape() == Shape{1, 5, 6, 7});
    CHECK(conv2d(rand({0, 3, 5, 5}), rand({2, 3, 3, 3})).shape() == Shape{0, 2, 3, 3});
    // A stride past the input takes the one window at the origin, as in PyTorch.
    CHECK(conv2d(rand({1, 3, 5, 5}), rand({2, 3, 3, 3}), Tensor(),
                 Conv2dFuncOptions().stride(std::numeric_limits<std::int64_t>::max()))
              .shape() == Shape{1, 2, 1, 1});
    // NaN propagates.
    Tensor nan_in = full({1, 3, 3, 3}, std::numeric_limits<double>::quiet_NaN());
    CHECK(std::isnan(conv2d(nan_in, rand({2, 3, 3, 3})).to_vector()[0]));
}

TEST_CASE("conv2d: the create_graph backward gives the raw backward's values") {
    std::mt19937 rng(77);
    manual_seed(21);
    for (int t = 0; t < 20; ++t) {
        RandomConv c = random_conv(rng);
        CAPTURE(describe(c));
        Tensor x = rand64(c.x), w = rand64(c.w), b = rand64({c.w[0]});
        Tensor y = conv2d(x, w, b, c.o);
        Tensor dy = rand(y.shape(), float64);
        TensorList raw = grad({y}, {x, w, b}, {dy}, true, false);
        TensorList rec = grad({y}, {x, w, b}, {dy}, true, true);
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(!raw[i].requires_grad());
            CHECK(rec[i].requires_grad() == (i < 2));  // the bias gradient is sum(dy) alone
            CHECK(max_abs_diff(raw[i], rec[i]) < 1e-12);
        }
        // conv_transpose2d of a conv2d-output-shaped tensor back to x's shape, both paths.
        auto [oph, opw] =
            std::pair{static_cast<std::int64_t>(c.x[2] + 2 * c.o.padding().first) -
                          ((static_cast<std::int64_t>(y.shape()[2]) - 1) * c.o.stride().first +
                           c.o.dilation().first * (static_cast<std::int64_t>(c.w[2]) - 1) + 1),
                      static_cast<std::int64_t>(c.x[3] + 2 * c.o.padding().second) -
                          ((static_cast<std::int64_t>(y.shape()[3]) - 1) * c.o.stride().second +
                           c.o.dilation().second * (static_cast<std::int64_t>(c.w[3]) - 1) + 1)};
        auto to = ConvTranspose2dFuncOptions()
                      .stride(c.o.stride())
                      .padding(c.o.padding())
                      .output_padding({oph, opw})
                      .dilation(c.o.dilation())
                      .groups(c.o.groups());
        Tensor yt = rand64(y.shape()), bt = rand64({c.x[1]});
        Tensor z = conv_transpose2d(yt, w, bt, to);
        Tensor dz = rand(z.shape(), float64);
        TensorList traw = grad({z}, {yt, w, bt}, {dz}, true, false);
        TensorList trec = grad({z}, {yt, w, bt}, {dz}, true, true);
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(max_abs_diff(traw[i], trec[i]) < 1e-12);
        }
    }
}

TEST_CASE(
    "conv2d: second derivatives through the recorded rule; no conv node is once-differentiable") {
    Tensor x = rand64({1, 1, 4, 4}), w = rand64({1, 1, 2, 2});
    Tensor y = conv2d(x, w);
    CHECK(y.grad_fn()->name() == "Conv2dBackward");
    CHECK(!y.grad_fn()->once_differentiable());
    auto g = grad({sum(mul(y, y))}, {x}, {}, {}, true);
    CHECK(g[0].grad_fn()->name() == "ConvTranspose2dBackward");
    backward({sum(g[0])});
    CHECK(w.grad().defined());
    // The weight gradient is its own op, differentiable again.
    auto gw = grad({sum(mul(conv2d(x, w), y.detach()))}, {w}, {}, {}, true);
    CHECK(gw[0].grad_fn()->name() == "Conv2dWeightGradBackward");
}

}  // namespace xg::testing

namespace xg::testing {

// conv2d splits the batch over threads (float32 with the oneDNN gemm) and sums dw in fixed
// chunks of the batch (9 samples: uneven chunks), so every thread count gives the same bits
// with oneDNN's gemm; OpenBLAS's threaded gemm rounds differently, so there only to rounding.
TEST_CASE("conv2d: results across thread counts") {
    const int before = get_num_threads();
    auto run = [](int threads) {
        set_num_threads(threads);
        Generator gen(11);
        Tensor x = randn({9, 3, 12, 12}, gen).requires_grad_();
        Tensor w = randn({8, 3, 3, 3}, gen).requires_grad_();
        Tensor b = randn({8}, gen).requires_grad_();
        Tensor y = conv2d(x, w, b, Conv2dFuncOptions().padding(1));
        (y * y).sum().backward();
        return TensorList{y.detach(), x.grad(), w.grad(), b.grad()};
    };
    TensorList one = run(1), two = run(2), two_again = run(2), three = run(3);
    set_num_threads(before);
    const bool onednn = std::string(detail::gemm_backend()).find("oneDNN") == 0;
    for (std::size_t i = 0; i < one.size(); ++i) {
        CAPTURE(i);
        CHECK(two[i].data<float>() == two_again[i].data<float>());
        CHECK(xt::allclose(one[i].data<float>(), two[i].data<float>(), 1e-5, 1e-4));
        if (onednn) {
            CHECK(one[i].data<float>() == two[i].data<float>());
            CHECK(three[i].data<float>() == two[i].data<float>());
        }
    }
}

}  // namespace xg::testing
