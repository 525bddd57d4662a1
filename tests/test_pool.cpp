// max_pool2d, avg_pool2d, adaptive_avg_pool2d: registry samples and error inputs, naive window
// loops on randomized settings, tie routing, and PyTorch parity.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "tests/oom_testing.hpp"
#include "tests/op_registry.hpp"
#include "tests/parity.hpp"

namespace xg::testing {

namespace {

Sample pool_sample(std::string desc, Shape shape, TensorFn fn) {
    return Sample{std::move(desc), {rand64(shape)}, std::move(fn)};
}

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k40 = std::int64_t(1) << 40;

}  // namespace

// PyTorch parity (tests/parity/conv_pool.py): the cases of one op, for its registry row.
Parity pool_parity(const std::string& op) {
    std::vector<std::pair<const char*, TensorFn>> cases = {
        {"max_pool2d_basic",
         [](const TensorList& x) { return max_pool2d(x[0], MaxPool2dFuncOptions(2)); }},
        {"max_pool2d_stride_pad",
         [](const TensorList& x) {
             return max_pool2d(x[0], MaxPool2dFuncOptions({3, 2}).stride(Pair2(2, 1)).padding(1));
         }},
        {"max_pool2d_ties",
         [](const TensorList& x) {
             return max_pool2d(x[0], MaxPool2dFuncOptions(3).stride(1).padding(1));
         }},
        {"avg_pool2d_include_pad",
         [](const TensorList& x) {
             return avg_pool2d(x[0], AvgPool2dFuncOptions({3, 2}).stride(2).padding(1));
         }},
        {"avg_pool2d_exclude_pad",
         [](const TensorList& x) {
             return avg_pool2d(
                 x[0],
                 AvgPool2dFuncOptions(3).stride(Pair2(2, 1)).padding(1).count_include_pad(false));
         }},
        {"adaptive_avg_pool2d_odd",
         [](const TensorList& x) {
             return adaptive_avg_pool2d(x[0], {3, 2});
         }},
        {"adaptive_avg_pool2d_global",
         [](const TensorList& x) {
             return adaptive_avg_pool2d(x[0], {1, 1});
         }},
        {"adaptive_avg_pool2d_upsample",
         [](const TensorList& x) {
             return adaptive_avg_pool2d(x[0], {4, 5});
         }},
    };
    Parity p;
    for (const auto& [name, fn] : cases) {
        if (std::string(name).rfind(op + "_", 0) == 0) p.cases.push_back({name, 1, fn});
    }
    return p;
}

XG_REGISTER_OP_INFO(
    max_pool2d_info,
    {"max_pool2d",
     [] {
         return std::vector<Sample>{
             pool_sample(
                 "2x2, stride = kernel", {2, 3, 4, 6},
                 [](const TensorList& x) { return max_pool2d(x[0], MaxPool2dFuncOptions(2)); }),
             pool_sample("3x3 stride 2 pad 1, odd sizes", {1, 2, 5, 7},
                         [](const TensorList& x) {
                             return max_pool2d(x[0], MaxPool2dFuncOptions(3).stride(2).padding(1));
                         }),
             pool_sample("non-square kernel (2,3) stride (1,2) pad (1,1)", {2, 1, 5, 6},
                         [](const TensorList& x) {
                             return max_pool2d(
                                 x[0], MaxPool2dFuncOptions({2, 3}).stride(Pair2(1, 2)).padding(1));
                         }),
             pool_sample("overlapping 3x3 stride 1, batch 1", {1, 1, 5, 5},
                         [](const TensorList& x) {
                             return max_pool2d(x[0], MaxPool2dFuncOptions(3).stride(1));
                         }),
         };
     },
     [] {
         auto x = [] { return rand({1, 2, 5, 5}); };
         return std::vector<ErrorCase>{
             {"3-D input",
              [] {
                  max_pool2d(rand({2, 5, 5}), MaxPool2dFuncOptions(2));
              },
              "expected a 4-D input"},
             {"kernel 0",
              [=] {
                  max_pool2d(x(), MaxPool2dFuncOptions({0, 2}));
              },
              "kernel_size must be positive, got (0, 2)"},
             {"stride 0", [=] { max_pool2d(x(), MaxPool2dFuncOptions(2).stride(Pair2(2, 0))); },
              "stride must be positive, got (2, 0)"},
             {"negative padding",
              [=] {
                  max_pool2d(x(), MaxPool2dFuncOptions(2).padding({-1, 0}));
              },
              "padding must be non-negative, got (-1, 0)"},
             {"padding over half the kernel",
              [=] {
                  max_pool2d(x(), MaxPool2dFuncOptions(3).padding({2, 1}));
              },
              "padding (2, 1) must be at most half the kernel size (3, 3)"},
             {"kernel larger than padded input",
              [=] {
                  max_pool2d(x(), MaxPool2dFuncOptions({8, 2}).padding({1, 0}));
              },
              "kernel 8x2 is larger than the padded input 7x5"},
             {"int64 input",
              [] {
                  max_pool2d(zeros({1, 1, 4, 4}, int64), MaxPool2dFuncOptions(2));
              },
              "must be float32 or float64, got int64"},
             {"undefined", [] { max_pool2d(Tensor(), MaxPool2dFuncOptions(2)); }, "undefined"},
             {"kernel INT64_MAX", [=] { max_pool2d(x(), MaxPool2dFuncOptions(kMax)); },
              "kernel 9223372036854775807x9223372036854775807 is larger"},
             {"kernel and padding near INT64_MAX",
              [=] { max_pool2d(x(), MaxPool2dFuncOptions(kMax).padding(kMax / 2)); },
              "overflows int64"},
             {"empty plane",
              [] {
                  max_pool2d(rand({1, 1, 0, 4}), MaxPool2dFuncOptions(1));
              },
              "input has an empty plane"},
         };
     },
     [] { return pool_parity("max_pool2d"); }});

XG_REGISTER_OP_INFO(
    avg_pool2d_info,
    {"avg_pool2d",
     [] {
         return std::vector<Sample>{
             pool_sample(
                 "2x2, stride = kernel", {2, 3, 4, 6},
                 [](const TensorList& x) { return avg_pool2d(x[0], AvgPool2dFuncOptions(2)); }),
             pool_sample("3x3 stride 2 pad 1, odd sizes, count_include_pad", {1, 2, 5, 7},
                         [](const TensorList& x) {
                             return avg_pool2d(x[0], AvgPool2dFuncOptions(3).stride(2).padding(1));
                         }),
             pool_sample("non-square (2,3) stride (1,2) pad (1,1), exclude pad", {2, 1, 5, 6},
                         [](const TensorList& x) {
                             return avg_pool2d(x[0], AvgPool2dFuncOptions({2, 3})
                                                         .stride(Pair2(1, 2))
                                                         .padding(1)
                                                         .count_include_pad(false));
                         }),
             pool_sample("overlapping 3x3 stride 1, batch 1", {1, 1, 5, 5},
                         [](const TensorList& x) {
                             return avg_pool2d(x[0], AvgPool2dFuncOptions(3).stride(1));
                         }),
         };
     },
     [] {
         auto x = [] { return rand({1, 2, 5, 5}); };
         return std::vector<ErrorCase>{
             {"2-D input",
              [] {
                  avg_pool2d(rand({5, 5}), AvgPool2dFuncOptions(2));
              },
              "expected a 4-D input"},
             {"kernel 0",
              [=] {
                  avg_pool2d(x(), AvgPool2dFuncOptions({2, 0}));
              },
              "kernel_size must be positive"},
             {"stride 0", [=] { avg_pool2d(x(), AvgPool2dFuncOptions(2).stride(Pair2(0, 1))); },
              "stride must be positive, got (0, 1)"},
             {"padding over half the kernel",
              [=] {
                  avg_pool2d(x(), AvgPool2dFuncOptions(2).padding({0, 2}));
              },
              "padding (0, 2) must be at most half the kernel size (2, 2)"},
             {"kernel larger than input", [=] { avg_pool2d(x(), AvgPool2dFuncOptions(6)); },
              "kernel 6x6 is larger than the padded input 5x5"},
             {"int64 input",
              [] {
                  avg_pool2d(zeros({1, 1, 4, 4}, int64), AvgPool2dFuncOptions(2));
              },
              "must be float32 or float64, got int64"},
             {"negative stride",
              [=] { avg_pool2d(x(), AvgPool2dFuncOptions(2).stride(Pair2(-1))); },
              "stride must be positive"},
             {"padding INT64_MIN", [=] { avg_pool2d(x(), AvgPool2dFuncOptions(2).padding(kMin)); },
              "padding must be non-negative"},
         };
     },
     [] { return pool_parity("avg_pool2d"); }});

XG_REGISTER_OP_INFO(
    adaptive_avg_pool2d_info,
    {"adaptive_avg_pool2d",
     [] {
         return std::vector<Sample>{
             pool_sample("global 1x1, odd sizes", {2, 3, 5, 3},
                         [](const TensorList& x) {
                             return adaptive_avg_pool2d(x[0], {1, 1});
                         }),
             pool_sample("7x5 -> 3x2 (uneven, overlapping windows)", {1, 2, 7, 5},
                         [](const TensorList& x) {
                             return adaptive_avg_pool2d(x[0], {3, 2});
                         }),
             pool_sample("3x2 -> 4x5 (more outputs than inputs)", {1, 1, 3, 2},
                         [](const TensorList& x) {
                             return adaptive_avg_pool2d(x[0], {4, 5});
                         }),
             pool_sample("identity size, batch 1", {1, 2, 3, 4},
                         [](const TensorList& x) {
                             return adaptive_avg_pool2d(x[0], {3, 4});
                         }),
         };
     },
     [] {
         std::vector<ErrorCase> e{
             {"3-D input",
              [] {
                  adaptive_avg_pool2d(rand({2, 4, 4}), {1, 1});
              },
              "expected a 4-D input"},
             {"output size 0",
              [] {
                  adaptive_avg_pool2d(rand({1, 1, 4, 4}), {0, 1});
              },
              "output_size must be positive, got (0, 1)"},
             {"empty plane",
              [] {
                  adaptive_avg_pool2d(zeros({1, 1, 0, 4}), {1, 1});
              },
              "input has an empty plane"},
             {"int64 input",
              [] {
                  adaptive_avg_pool2d(zeros({1, 1, 4, 4}, int64), {1, 1});
              },
              "must be float32 or float64, got int64"},
             {"negative output size",
              [] {
                  adaptive_avg_pool2d(rand({1, 1, 4, 4}), {-1, -1});
              },
              "output_size must be positive"},
             {"output 2^40 x 2^40",
              [] {
                  adaptive_avg_pool2d(rand({2, 3, 6, 6}), {k40, k40});
              },
              "too many elements"},
             {"output 2^40 x 1 exceeds the allocation limit",
              [] {
                  adaptive_avg_pool2d(rand({1, 1, 2, 2}), {k40, 1});
              },
              "allocation limit"},
             {"output INT64_MAX",
              [] {
                  adaptive_avg_pool2d(rand({2, 3, 6, 6}), {kMax, 1});
              },
              "too many elements"},
         };
         if (!kAsan) {
             // Past the limit check: the windows cannot be allocated.
             e.push_back({"a genuine allocation failure",
                          [] {
                              LimitGuard g(std::size_t(PTRDIFF_MAX));
                              adaptive_avg_pool2d(rand({1, 1, 1, 1}), {std::int64_t(1) << 44, 1});
                          },
                          "out of memory"});
         }
         return e;
     },
     [] { return pool_parity("adaptive_avg_pool2d"); }});

namespace {

// Naive references: every window recomputed from its definition in PyTorch's docs.
enum class Kind { max, avg_incl, avg_excl };

Tensor pool_naive(const Tensor& x, Kind kind, Pair2 k, Pair2 s, Pair2 p) {
    const auto& X = x.data<double>();
    auto H = static_cast<std::int64_t>(x.shape()[2]), W = static_cast<std::int64_t>(x.shape()[3]);
    std::int64_t OH = (H + 2 * p.first - k.first) / s.first + 1;
    std::int64_t OW = (W + 2 * p.second - k.second) / s.second + 1;
    auto y = xt::xarray<double>::from_shape(
        {x.shape()[0], x.shape()[1], static_cast<std::size_t>(OH), static_cast<std::size_t>(OW)});
    for (std::size_t n = 0; n < x.shape()[0]; ++n)
        for (std::size_t c = 0; c < x.shape()[1]; ++c)
            for (std::int64_t oh = 0; oh < OH; ++oh)
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                    double best = -std::numeric_limits<double>::infinity(), acc = 0;
                    int real = 0, all = 0;
                    for (std::int64_t i = 0; i < k.first; ++i)
                        for (std::int64_t j = 0; j < k.second; ++j) {
                            std::int64_t h = oh * s.first - p.first + i;
                            std::int64_t w = ow * s.second - p.second + j;
                            if (h >= H + p.first || w >= W + p.second) continue;
                            ++all;
                            if (h < 0 || w < 0 || h >= H || w >= W) continue;
                            ++real;
                            double v = X(n, c, h, w);
                            best = std::max(best, v);
                            acc += v;
                        }
                    y(n, c, oh, ow) = kind == Kind::max        ? best
                                      : kind == Kind::avg_incl ? acc / all
                                                               : acc / real;
                }
    return Tensor(std::move(y));
}

Tensor adaptive_naive(const Tensor& x, std::size_t OH, std::size_t OW) {
    const auto& X = x.data<double>();
    std::size_t H = x.shape()[2], W = x.shape()[3];
    auto y = xt::xarray<double>::from_shape({x.shape()[0], x.shape()[1], OH, OW});
    for (std::size_t n = 0; n < x.shape()[0]; ++n)
        for (std::size_t c = 0; c < x.shape()[1]; ++c)
            for (std::size_t oh = 0; oh < OH; ++oh)
                for (std::size_t ow = 0; ow < OW; ++ow) {
                    auto h0 = static_cast<std::size_t>(std::floor(double(oh * H) / OH));
                    auto h1 = static_cast<std::size_t>(std::ceil(double((oh + 1) * H) / OH));
                    auto w0 = static_cast<std::size_t>(std::floor(double(ow * W) / OW));
                    auto w1 = static_cast<std::size_t>(std::ceil(double((ow + 1) * W) / OW));
                    double acc = 0;
                    for (std::size_t h = h0; h < h1; ++h)
                        for (std::size_t w = w0; w < w1; ++w) acc += X(n, c, h, w);
                    y(n, c, oh, ow) = acc / double((h1 - h0) * (w1 - w0));
                }
    return Tensor(std::move(y));
}

}  // namespace

TEST_CASE("pooling: kernels match the naive window loops on random settings") {
    std::mt19937 rng(4321);
    manual_seed(3);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    for (int t = 0; t < 40; ++t) {
        Pair2 k{pick(1, 4), pick(1, 4)}, s{pick(1, 3), pick(1, 3)};
        Pair2 p{pick(0, static_cast<int>(k.first / 2)), pick(0, static_cast<int>(k.second / 2))};
        auto h = static_cast<std::size_t>(
            pick(static_cast<int>(std::max<std::int64_t>(1, k.first - 2 * p.first)), 9));
        auto w = static_cast<std::size_t>(
            pick(static_cast<int>(std::max<std::int64_t>(1, k.second - 2 * p.second)), 9));
        Tensor x = rand64(
            {static_cast<std::size_t>(pick(1, 2)), static_cast<std::size_t>(pick(1, 3)), h, w});
        CAPTURE(x.shape());
        std::string setting = fmt::format("kernel ({}, {}) stride ({}, {}) padding ({}, {})",
                                          k.first, k.second, s.first, s.second, p.first, p.second);
        CAPTURE(setting);
        CHECK(max_abs_diff(max_pool2d(x, MaxPool2dFuncOptions(k).stride(s).padding(p)),
                           pool_naive(x, Kind::max, k, s, p)) == 0.0);
        CHECK(max_abs_diff(avg_pool2d(x, AvgPool2dFuncOptions(k).stride(s).padding(p)),
                           pool_naive(x, Kind::avg_incl, k, s, p)) < 1e-14);
        CHECK(max_abs_diff(
                  avg_pool2d(x,
                             AvgPool2dFuncOptions(k).stride(s).padding(p).count_include_pad(false)),
                  pool_naive(x, Kind::avg_excl, k, s, p)) < 1e-14);
        auto oh = static_cast<std::size_t>(pick(1, 8)), ow = static_cast<std::size_t>(pick(1, 8));
        CHECK(max_abs_diff(adaptive_avg_pool2d(
                               x, {static_cast<std::int64_t>(oh), static_cast<std::int64_t>(ow)}),
                           adaptive_naive(x, oh, ow)) < 1e-14);
        if (t % 4 == 0) {  // gradients by finite differences on a few of them
            for (auto fn : std::vector<TensorFn>{
                     [=](const TensorList& a) {
                         return max_pool2d(a[0], MaxPool2dFuncOptions(k).stride(s).padding(p));
                     },
                     [=](const TensorList& a) {
                         return avg_pool2d(
                             a[0],
                             AvgPool2dFuncOptions(k).stride(s).padding(p).count_include_pad(false));
                     }}) {
                auto r = gradcheck(fn, {x});
                CHECK_MESSAGE(r.ok, r.log);
            }
        }
    }
}

TEST_CASE("max_pool2d: on ties exactly one element (the first maximum) gets the gradient") {
    Tensor x = ones({1, 1, 4, 4}, float64).requires_grad_();
    Tensor y = max_pool2d(x, MaxPool2dFuncOptions(2));
    y.sum().backward();
    // Top-left element of every 2x2 window.
    std::vector<double> want = {1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0};
    CHECK(x.grad().to_vector() == want);
    // Overlapping windows: stride 1 over a constant plane, each window routes to its first.
    Tensor z = ones({1, 1, 3, 3}, float64).requires_grad_();
    max_pool2d(z, MaxPool2dFuncOptions(2).stride(1)).sum().backward();
    CHECK(z.grad().to_vector() == std::vector<double>{1, 1, 0, 1, 1, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d: padding is never the maximum; NaN propagates") {
    Tensor x = full({1, 1, 2, 2}, -5.0, float64);
    Tensor y = max_pool2d(x, MaxPool2dFuncOptions(2).stride(1).padding(1));
    CHECK(y.shape() == Shape{1, 1, 3, 3});
    for (double v : y.to_vector()) CHECK(v == -5.0);
    Tensor n = tensor({{{{1.0, std::nan("")}, {3.0, 2.0}}}}, float64).requires_grad_();
    Tensor m = max_pool2d(n, MaxPool2dFuncOptions(2));
    CHECK(std::isnan(m.item()));
    m.backward();
    CHECK(n.grad().to_vector() == std::vector<double>{0, 1, 0, 0});  // the NaN gets it
    // Without NaN (the branch-free path) ties still go to the first maximum.
    Tensor t = tensor({{{{2.0, 7.0, 7.0, 1.0}, {7.0, 0.0, 3.0, 7.0}}}}, float64).requires_grad_();
    max_pool2d(t, MaxPool2dFuncOptions(2)).sum().backward();
    CHECK(t.grad().to_vector() == std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("pooling: an empty plane is refused (a window in the padding has no argmax)") {
    // Used to pass the checks with padding and write out of bounds in max_pool2d's backward.
    Tensor x = zeros({1, 1, 0, 2}, float64).requires_grad_();
    CHECK_THROWS_WITH(max_pool2d(x, MaxPool2dFuncOptions(2).stride(2).padding(1)),
                      "max_pool2d: input has an empty plane (shape [1, 1, 0, 2])");
    CHECK_THROWS_WITH(
        avg_pool2d(x, AvgPool2dFuncOptions(2).stride(2).padding(1).count_include_pad(false)),
        "avg_pool2d: input has an empty plane (shape [1, 1, 0, 2])");
    // An empty batch is fine.
    Tensor e = zeros({0, 2, 3, 3}, float64).requires_grad_();
    max_pool2d(e, MaxPool2dFuncOptions(2).stride(1).padding(1)).sum().backward();
    CHECK(e.grad().shape() == Shape{0, 2, 3, 3});
}

TEST_CASE("pooling: second derivatives (the backward rules are differentiable ops)") {
    manual_seed(5);
    Tensor x = rand64({1, 2, 5, 5});
    for (auto fn : std::vector<TensorFn>{
             [](const TensorList& a) {
                 return max_pool2d(a[0],
                                   MaxPool2dFuncOptions({3, 2}).stride(Pair2(2, 1)).padding(1));
             },
             [](const TensorList& a) {
                 return avg_pool2d(
                     a[0], AvgPool2dFuncOptions(3).stride(2).padding(1).count_include_pad(false));
             },
             [](const TensorList& a) {
                 return adaptive_avg_pool2d(a[0], {2, 3});
             }}) {
        auto r = gradgradcheck(fn, {x});
        CHECK_MESSAGE(r.ok, r.log);
    }
    Tensor y = max_pool2d(x, MaxPool2dFuncOptions(2));
    CHECK(y.grad_fn()->name() == "MaxPool2dBackward");
    CHECK(avg_pool2d(x, AvgPool2dFuncOptions(2)).grad_fn()->name() == "AvgPool2dBackward");
    CHECK(adaptive_avg_pool2d(x, {1, 1}).grad_fn()->name() == "AdaptiveAvgPool2dBackward");
}

TEST_CASE("pooling: extreme kernels and strides, empty batches and upsampling as in PyTorch") {
    Tensor x = rand({2, 3, 6, 6});
    // A kernel of 2^62 with padding 2^61 covers each plane in one window: its max.
    const std::int64_t k62 = std::int64_t(1) << 62;
    Tensor one = max_pool2d(x, MaxPool2dFuncOptions(k62).padding(k62 / 2));
    CHECK(one.shape() == Shape{2, 3, 1, 1});
    CHECK(one.to_vector() == amax(x, {2, 3}, true).to_vector());
    // A stride past the input takes the first window only.
    CHECK(max_pool2d(x, MaxPool2dFuncOptions(2).stride(Pair2(kMax))).shape() == Shape{2, 3, 1, 1});
    // Zero batches give zero batches.
    CHECK(max_pool2d(rand({0, 3, 6, 6}), MaxPool2dFuncOptions(2)).shape() == Shape{0, 3, 3, 3});
    CHECK(avg_pool2d(rand({0, 2, 4, 4}), AvgPool2dFuncOptions(2)).numel() == 0);
    CHECK(adaptive_avg_pool2d(rand({0, 2, 4, 4}), {2, 2}).shape() == Shape{0, 2, 2, 2});
    // More outputs than inputs: torch gives [[0, .5, 1], [1, 1.5, 2], [2, 2.5, 3]].
    Tensor up = adaptive_avg_pool2d(arange(4.0).reshape({1, 1, 2, 2}), {3, 3});
    CHECK(up.to_vector() == std::vector<double>{0, .5, 1, 1, 1.5, 2, 2, 2.5, 3});
}

TEST_CASE("adaptive_avg_pool2d: global pooling is the mean over H and W; float32 works") {
    Tensor x = rand({3, 4, 5, 7});
    Tensor y = adaptive_avg_pool2d(x, {1, 1});
    CHECK(y.shape() == Shape{3, 4, 1, 1});
    CHECK(max_abs_diff(y, mean(x, {2, 3}, true)) < 1e-6);
    CHECK(y.dtype() == float32);
}

}  // namespace xg::testing

namespace xg::testing {

// Pooling splits the planes over threads; each output is computed by one thread, so every
// thread count gives the same bits.
TEST_CASE("pooling: the same bits for 1 and 2 threads") {
    const int before = get_num_threads();
    auto run = [](int threads) {
        set_num_threads(threads);
        Generator gen(3);
        Tensor x = randn({8, 16, 20, 20}, gen).requires_grad_();
        Tensor y = max_pool2d(x, MaxPool2dFuncOptions(3).stride(2)) +
                   avg_pool2d(x, AvgPool2dFuncOptions(3).stride(2).padding(1)).sum() * 0.5;
        (y * y).sum().backward();
        return TensorList{y.detach(), x.grad()};
    };
    TensorList one = run(1), two = run(2);
    set_num_threads(before);
    CHECK(one[0].data<float>() == two[0].data<float>());
    CHECK(one[1].data<float>() == two[1].data<float>());
}

}  // namespace xg::testing
