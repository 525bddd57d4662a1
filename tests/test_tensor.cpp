// The Tensor handle: factories, data access, autograd state, formatting; OpInfos for the
// differentiable cast to() and clone().
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include "tests/error_of.hpp"
#include "tests/oom_testing.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

using Samples = std::vector<Sample>;
using Errors = std::vector<ErrorCase>;

XG_REGISTER_OP_INFO(
    to_info,
    {"to",
     [] {
         // Through float32 the values are rounded to ~6e-8, so the finite
         // difference needs a larger step and a looser tolerance.
         GradcheckOptions loose;
         loose.eps(1e-3);
         loose.atol(1e-4);
         loose.rtol(1e-2);
         Tensor labels = tensor({{0, 1, 2}, {2, 1, 0}}, int64);
         return Samples{
             {"float64 -> float32 -> float64",
              {rand64({2, 3})},
              [](const TensorList& x) { return x[0].to(float32).to(float64); },
              loose},
             {"0-d through float32",
              {rand64({})},
              [](const TensorList& x) { return (x[0].to(float32) * 3.0f).to(float64); },
              loose},
             {"mixed with an int64 constant cast to float64",
              {rand64({2, 3}), labels},
              [](const TensorList& x) { return x[0] * x[1].to(float64); }},
             {"float64 to float64 is the identity",
              {rand64({3})},
              [](const TensorList& x) { return exp(x[0]).to(float64); }},
         };
     },
     [] {
         return Errors{
             {"requires grad, to int64", [] { rand64({3}).to(int64); },
              "integers carry no gradient"},
             {"undefined tensor", [] { Tensor().to(float32); }, "undefined"},
         };
     },
     [] { return no_parity("a cast: values and gradients checked by hand in this file"); }});

XG_REGISTER_OP_INFO(
    clone_info,
    {"clone",
     [] {
         return Samples{
             {"[2,3]", {rand64({2, 3})}, [](const TensorList& x) { return x[0].clone(); }},
             {"0-d", {rand64({})}, [](const TensorList& x) { return x[0].clone(); }},
             {"of a non-leaf",
              {rand64({3})},
              [](const TensorList& x) { return (x[0] * x[0]).clone(); }},
             {"[2,1,3] with a size-1 dim",
              {rand64({2, 1, 3})},
              [](const TensorList& x) { return x[0].clone(); }},
         };
     },
     [] {
         return Errors{{"undefined tensor", [] { Tensor().clone(); }, "undefined"}};
     },
     [] { return no_parity("a copy: values and gradients checked by hand in this file"); }});

}  // namespace

TEST_CASE("tensor: zeros, ones, full") {
    Tensor z = zeros({2, 3});
    CHECK(z.dtype() == float32);
    CHECK(z.shape() == Shape{2, 3});
    check_values(z, {0, 0, 0, 0, 0, 0});
    Tensor o = ones({4}, float64);
    CHECK(o.dtype() == float64);
    check_values(o, {1, 1, 1, 1});
    Tensor f = full({2, 2}, -1.5, float64);
    check_values(f, {-1.5, -1.5, -1.5, -1.5});
    Tensor fi = full({3}, 7, int64);
    CHECK(fi.dtype() == int64);
    CHECK(fi.data<std::int64_t>()(2) == 7);
    CHECK(zeros({}).dim() == 0);
    CHECK(zeros({}).numel() == 1);
    CHECK(zeros({0, 3}).numel() == 0);
    check_values(ones_like(f), {1, 1, 1, 1});
    CHECK(zeros_like(fi).dtype() == int64);
    CHECK(full_like(o, 2.0).to_vector()[3] == 2.0);
    CHECK(scalar_tensor(3.0, float64).shape() == Shape{});
}

TEST_CASE("tensor: arange, both overloads") {
    Tensor a = arange(5);
    CHECK(a.dtype() == float32);
    check_values(a, {0, 1, 2, 3, 4});
    Tensor b = arange(1, 2, 0.25, float64);
    check_values(b, {1, 1.25, 1.5, 1.75});
    Tensor c = arange(5, 0, -2, int64);
    CHECK(c.dtype() == int64);
    check_values(c, {5, 3, 1});
    CHECK(arange(3, int64).data<std::int64_t>()(2) == 2);
    CHECK(arange(0).numel() == 0);
    CHECK(arange(0, 1, 0.1).numel() == 10);
    CHECK_THROWS_WITH_AS(arange(0, 1, 0), "arange: step must be nonzero", Error);
    CHECK_THROWS_WITH_AS(arange(0, 1, -1), doctest::Contains("arange: cannot go from 0 to 1"),
                         Error);
    const double inf = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(arange(0, inf),
                         "arange: start, end and step must be finite, got 0, inf, 1", Error);
    CHECK_THROWS_WITH_AS(arange(-inf, 0, 1), doctest::Contains("must be finite"), Error);
}

TEST_CASE("tensor: randn and rand with manual_seed") {
    manual_seed(42);
    Tensor a = randn({3, 4});
    Tensor u = rand({5}, float64);
    manual_seed(42);
    Tensor b = randn({3, 4});
    Tensor v = rand({5}, float64);
    CHECK(a.to_vector() == b.to_vector());
    CHECK(u.to_vector() == v.to_vector());
    manual_seed(43);
    CHECK(randn({3, 4}).to_vector() != a.to_vector());
    for (double x : u.to_vector()) CHECK((x >= 0.0 && x < 1.0));
    CHECK(a.dtype() == float32);

    manual_seed(0);
    Tensor big = randn({100000}, float64);
    auto xs = big.to_vector();
    double m = 0.0, s2 = 0.0;
    for (double x : xs) m += x;
    m /= xs.size();
    for (double x : xs) s2 += (x - m) * (x - m);
    double sd = std::sqrt(s2 / (xs.size() - 1));
    CHECK(std::abs(m) < 0.02);
    CHECK(std::abs(sd - 1.0) < 0.02);
    Tensor ubig = rand({100000}, float64);
    CHECK(std::abs(mean(ubig).item() - 0.5) < 0.01);
    CHECK_THROWS_WITH_AS(randn({2}, int64), doctest::Contains("randn:"), Error);
}

TEST_CASE("tensor: tensor() from nested lists of depth 0 to 4") {
    Tensor t0 = tensor(2.5);
    CHECK(t0.dim() == 0);
    CHECK(t0.item() == 2.5);
    Tensor t1 = tensor({1, 2, 3});
    CHECK(t1.shape() == Shape{3});
    CHECK(t1.dtype() == float32);
    Tensor t2 = tensor({{1, 2, 3}, {4, 5, 6}}, float64);
    CHECK(t2.shape() == Shape{2, 3});
    CHECK(t2.dtype() == float64);
    check_values(t2, {1, 2, 3, 4, 5, 6});
    Tensor t3 = tensor({{{1, 2}}, {{3, 4}}}, int64);
    CHECK(t3.shape() == Shape{2, 1, 2});
    CHECK(t3.dtype() == int64);
    CHECK(t3.data<std::int64_t>()(1, 0, 1) == 4);
    Tensor t4 = tensor({{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}});
    CHECK(t4.shape() == Shape{1, 2, 2, 2});
    check_values(t4, {1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(tensor({{1, 2}}).shape() == Shape{1, 2});
    CHECK(tensor({1}).shape() == Shape{1});
    // A list whose innermost lists hold one element each ({{1}, {2}}) is ambiguous in C++
    // (the {1} could be a scalar): write tensor({1, 2}).reshape({2, 1}).
    CHECK(tensor({1, 2}).reshape({2, 1}).shape() == Shape{2, 1});
    CHECK(tensor({2.7, -2.7}, int64).to_vector() == std::vector<double>{2, -2});  // truncates
}

TEST_CASE("tensor: ragged nested lists are refused, not read or written out of bounds") {
    CHECK_THROWS_WITH_AS(tensor({{1, 2}, {3, 4, 5}}),
                         "tensor: nested lists are ragged: a list at depth 1 has 3 elements, "
                         "expected 2 (shape [2, 2] from the first elements)",
                         Error);
    CHECK_THROWS_WITH_AS(tensor({{1, 2, 3}, {4, 5}}), doctest::Contains("has 2 elements"), Error);
    CHECK_THROWS_WITH_AS(tensor({{{1, 2}, {3, 4}}, {{5, 6}, {7}}}),
                         doctest::Contains("depth 2 has 1 elements"), Error);
    CHECK_THROWS_WITH_AS(tensor({{}, {1, 2}}, int64), doctest::Contains("ragged"), Error);
}

TEST_CASE("tensor: from_array copies") {
    xt::xarray<double> a = {{1.0, 2.0}, {3.0, 4.0}};
    Tensor t = from_array(a);
    CHECK(t.dtype() == float64);
    CHECK(t.shape() == Shape{2, 2});
    a(0, 0) = 100.0;
    CHECK(t.data<double>()(0, 0) == 1.0);
    xt::xarray<std::int64_t> i = {3, 4};
    CHECK(from_array(i).dtype() == int64);
    CHECK(from_array(xt::xarray<float>{1.5f}).dtype() == float32);
}

TEST_CASE("tensor: item") {
    CHECK(tensor(3.5).item() == 3.5);
    CHECK(tensor({7}, int64).item<std::int64_t>() == 7);
    CHECK(tensor({2.5}).item<float>() == 2.5f);
    CHECK_THROWS_WITH_AS(tensor({1, 2}).item(),
                         "item: a tensor with 2 elements (shape [2]) has no single value", Error);
    CHECK_THROWS_AS(zeros({0}).item(), Error);
}

TEST_CASE("tensor: to(dtype)") {
    Tensor a = tensor({1.5, -2.5});
    Tensor d = a.to(float64);
    CHECK(d.dtype() == float64);
    check_values(d, {1.5, -2.5});
    CHECK(a.to(float32).is_same(a));  // same dtype: the tensor itself
    Tensor i = a.to(int64);
    CHECK(i.dtype() == int64);
    CHECK(i.to_vector() == std::vector<double>{1, -2});
    check_values(i.to(float32), {1, -2});
    // The cast is differentiable and its gradient comes back in the source dtype.
    Tensor x = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor y = (x.to(float32) * 2.0).sum();
    CHECK(y.dtype() == float32);
    y.backward();
    CHECK(x.grad().dtype() == float64);
    check_values(x.grad(), {2, 2});
    // Casting to int64 needs detach(); nothing is recorded by the refused call.
    CHECK_THROWS_WITH_AS(x.to(int64), doctest::Contains("to: cannot cast"), Error);
    CHECK(x.detach().to(int64).dtype() == int64);
    {
        NoGradGuard no_grad;  // nothing would be recorded, so the cast is allowed
        CHECK(x.to(int64).dtype() == int64);
    }
}

TEST_CASE("tensor: shape, numel, dim, size") {
    Tensor t = zeros({4, 3, 2});
    CHECK(t.shape() == Shape{4, 3, 2});
    CHECK(t.numel() == 24);
    CHECK(t.dim() == 3);
    CHECK(t.size(0) == 4);
    CHECK(t.size(-1) == 2);
    CHECK(t.size(-3) == 4);
    CHECK_THROWS_WITH_AS(t.size(3), "size: dim 3 is out of range for a tensor of 3 dims", Error);
    CHECK_THROWS_AS(t.size(-4), Error);
    Tensor u;
    CHECK_FALSE(u.defined());
    CHECK_THROWS_WITH_AS(u.shape(), doctest::Contains("undefined tensor"), Error);
}

TEST_CASE("tensor: requires_grad_ and is_leaf") {
    Tensor a = ones({2}, float64);
    CHECK_FALSE(a.requires_grad());
    CHECK(a.is_leaf());
    a.requires_grad_();
    CHECK(a.requires_grad());
    CHECK(a.is_leaf());
    Tensor b = a * 2.0;
    CHECK(b.requires_grad());
    CHECK_FALSE(b.is_leaf());
    CHECK(b.grad_fn() != nullptr);
    CHECK_THROWS_WITH_AS(b.requires_grad_(false), doctest::Contains("requires_grad_: can only"),
                         Error);
    CHECK_THROWS_WITH_AS(ones({2}, int64).requires_grad_(),
                         "requires_grad_: only floating-point tensors can require grad, got int64",
                         Error);
    a.requires_grad_(false);
    CHECK_FALSE((a * 2.0).requires_grad());
    {
        Tensor c = ones({2}).requires_grad_();
        NoGradGuard no_grad;
        Tensor d = c * 2.0;
        CHECK_FALSE(d.requires_grad());
        CHECK(d.is_leaf());
    }
}

TEST_CASE("tensor: detach shares data but not history") {
    Tensor a = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor b = a * 3.0;
    Tensor d = b.detach();
    CHECK(d.is_leaf());
    CHECK_FALSE(d.requires_grad());
    CHECK(d.grad_fn() == nullptr);
    check_values(d, {3, 6});
    auto v0 = b.version();
    d.mutable_data<double>()(0) = 10.0;  // same storage
    CHECK(b.data<double>()(0) == 10.0);
    CHECK(b.version() == v0 + 1);
    Tensor da = a.detach();
    CHECK_FALSE(da.requires_grad());
    da.mutable_data<double>()(1) = 5.0;
    CHECK(a.data<double>()(1) == 5.0);
}

TEST_CASE("tensor: mutable_data on a leaf that requires grad") {
    Tensor a = ones({3}, float64).requires_grad_();
    CHECK_THROWS_WITH_AS(a.mutable_data<double>(), doctest::Contains("mutable_data: a leaf tensor"),
                         Error);
    CHECK(a.version() == 0);
    {
        NoGradGuard no_grad;
        a.mutable_data<double>()(0) = 4.0;
    }
    CHECK(a.version() == 1);
    CHECK(a.data<double>()(0) == 4.0);
    Tensor plain = ones({3}, float64);
    plain.mutable_data<double>()(2) = 0.0;  // no grad: always allowed
    CHECK(plain.version() == 1);
    CHECK_THROWS_WITH_AS(plain.mutable_data<float>(),
                         "mutable_data: tensor has dtype float64, requested float32", Error);
    CHECK_THROWS_WITH_AS(plain.data<std::int64_t>(),
                         "data: tensor has dtype float64, requested int64", Error);
}

TEST_CASE("tensor: fmt formatting of Tensor, Shape and Dtype") {
    CHECK(fmt::format("{}", Shape{4, 3}) == "[4, 3]");
    CHECK(fmt::format("{}", Shape{}) == "[]");
    CHECK(shape_str(Shape{2}) == "[2]");
    CHECK(fmt::format("{}", float64) == "float64");
    Tensor a = tensor({1, 2}, float64);
    std::string s = fmt::format("{}", a);
    CHECK(s.rfind("tensor(", 0) == 0);
    CHECK(s.find("dtype=float64") != std::string::npos);
    CHECK(s.find('1') != std::string::npos);
    CHECK(s.find("grad") == std::string::npos);
    a.requires_grad_();
    CHECK(fmt::format("{}", a).find("requires_grad=true") != std::string::npos);
    CHECK(fmt::format("{}", a + a).find("grad_fn=AddBackward") != std::string::npos);
    CHECK(fmt::format("{}", Tensor()) == "tensor(undefined)");
    CHECK(to_string(tensor(1.0, int64)).find("dtype=int64") != std::string::npos);
}

TEST_CASE("tensor: printing follows PyTorch's repr") {
    CHECK(to_string(tensor({1.5, -2.25, 3.0})) == "tensor({ 1.5000, -2.2500,  3.0000})");
    CHECK(to_string(tensor({1, 2, 3})) == "tensor({1., 2., 3.})");
    CHECK(to_string(arange(3, int64)) == "tensor({0, 1, 2}, dtype=int64)");
    CHECK(to_string(tensor(0.5, float64)) == "tensor(0.5000, dtype=float64)");
    CHECK(to_string(tensor({{1, 2}, {3, 4}})) == "tensor({{1., 2.},\n        {3., 4.}})");
    CHECK(to_string(reshape(arange(8), {2, 2, 2})) ==
          "tensor({{{0., 1.},\n         {2., 3.}},\n\n        {{4., 5.},\n         {6., 7.}}})");
    CHECK(to_string(tensor({1e-5, 1.0})) == "tensor({1.0000e-05, 1.0000e+00})");
    CHECK(to_string(tensor({1.0, std::nan(""), -HUGE_VAL})) == "tensor({  1.,  nan, -inf})");
    CHECK(to_string(zeros({2, 0})) == "tensor({}, size=[2, 0])");
    std::string big = to_string(arange(2000));
    CHECK(big == "tensor({   0.,    1.,    2., ..., 1997., 1998., 1999.})");
    Tensor x = tensor({1.0}).requires_grad_();
    CHECK(to_string(x * 2.0) == "tensor({2.}, grad_fn=MulBackward)");
}

TEST_CASE("tensor: freed buffers go to xgrad's cache and come back") {
    empty_cache();
    CHECK(cache_stats().cached_bytes == 0);
    const auto before = cache_stats();
    {
        Tensor a = zeros({256, 256});  // 256 KB: above the cache threshold
        CHECK(cache_stats().allocated_bytes >= before.allocated_bytes + 256 * 256 * 4);
    }
    auto freed = cache_stats();
    CHECK(freed.cached_bytes >= 256 * 256 * 4);
    CHECK(freed.allocated_bytes == before.allocated_bytes);
    {
        Tensor b = ones({256, 250});  // a little smaller: served by the same block
        CHECK(cache_stats().hits == freed.hits + 1);
        CHECK(b.sum().item() == doctest::Approx(256 * 250));
        Tensor c = ones({1024, 1024});  // 4 MB: nothing cached fits
        CHECK(cache_stats().misses == freed.misses + 1);
    }
    CHECK(cache_stats().peak_bytes >= cache_stats().cached_bytes);
    empty_cache();
    CHECK(cache_stats().cached_bytes == 0);
    {
        Tensor small = zeros({8});  // small buffers bypass the cache
        CHECK(cache_stats().allocated_bytes == before.allocated_bytes);
    }
}

TEST_CASE("tensor: the cache keeps at most its limit") {
    const auto limit = cache_stats().limit_bytes;
    set_cache_limit(1 << 20);
    { Tensor a = zeros({1024, 1024}), b = zeros({512, 512}); }  // 4 MB and 1 MB freed
    CHECK(cache_stats().cached_bytes <= (1u << 20));
    set_cache_limit(0);  // caching off
    { Tensor c = zeros({512, 512}); }
    CHECK(cache_stats().cached_bytes == 0);
    set_cache_limit(limit);
    CHECK_FALSE(std::getenv("MALLOC_MMAP_THRESHOLD_"));  // xgrad never sets glibc's knobs
}

TEST_CASE("tensor: xt::xarray and xtensor expressions convert into tensors") {
    xt::xarray<float> f = {{1.0f, 2.0f}, {3.0f, 4.0f}};
    Tensor a(f);
    CHECK(a.dtype() == float32);
    CHECK(a.sum().item() == 10.0);
    Tensor b(xt::xarray<int>{1, 2, 3});
    CHECK(b.dtype() == int32);  // int is int32, as torch.from_numpy keeps it
    Tensor l(xt::xarray<long long>{1, 2});
    CHECK(l.dtype() == int64);
    Tensor c(xt::zeros<double>({2, 3}));
    CHECK(c.dtype() == float64);
    CHECK(c.shape() == Shape{2, 3});
    xt::xarray<float> back = a.data<float>();
    CHECK(back == f);
}

TEST_CASE("tensor: set_name") {
    Tensor a = ones({2});
    CHECK(a.name().empty());
    Tensor& r = a.set_name("weight");
    CHECK(&r == &a);
    CHECK(a.name() == "weight");
    Tensor b = a;  // a handle: same impl, same name
    CHECK(b.name() == "weight");
    CHECK(a.detach().name().empty());
}

TEST_CASE("tensor: clone copies data and keeps the gradient path") {
    Tensor a = tensor({1.0, 2.0}, float64).requires_grad_();
    Tensor c = a.clone();
    CHECK_FALSE(c.is_leaf());
    CHECK(c.grad_fn()->name() == "CloneBackward");
    (c * c).sum().backward();
    check_values(a.grad(), {2, 4});
    Tensor p = tensor({1, 2}, int64);
    Tensor q = p.clone();
    q.mutable_data<std::int64_t>()(0) = 9;
    CHECK(p.data<std::int64_t>()(0) == 1);
}

}  // namespace xg::testing

TEST_CASE("set_num_threads: sets the BLAS thread count, refuses less than one, results unchanged") {
    int before = xg::get_num_threads();
    CHECK(before >= 1);
    xg::manual_seed(1);
    auto a = xg::randn({200, 300}), b = xg::randn({300, 100});
    auto c2 = xg::matmul(a, b);
    xg::set_num_threads(1);
    if (xg::blas_threads_controllable()) CHECK(xg::get_num_threads() == 1);
    auto c1 = xg::matmul(a, b);
    CHECK(xg::testing::max_abs_diff(c1, c2) < 1e-3);
    CHECK_THROWS_WITH_AS(xg::set_num_threads(0),
                         "set_num_threads: expected at least 1 thread, got 0", xg::Error);
    xg::set_num_threads(before);
    CHECK(xg::get_num_threads() == before);
}

TEST_CASE("factories: overflowing shapes, unrepresentable int64 values, undefined inputs") {
    using xg::Error;
    const std::size_t big = std::size_t(1) << 40;
    CHECK_THROWS_WITH_AS(xg::ones({big, big}), doctest::Contains("too many elements"), Error);
    CHECK_THROWS_WITH_AS(xg::randn({big, big}), doctest::Contains("randn: shape"), Error);
    CHECK_THROWS_WITH_AS(xg::full({2}, std::nan(""), xg::int64),
                         "full: value nan cannot be represented as int64", Error);
    CHECK_THROWS_WITH_AS(xg::full({2}, 1e19, xg::int64), doctest::Contains("int64"), Error);
    CHECK(xg::full({1}, -9223372036854775808.0, xg::int64).item<std::int64_t>() == INT64_MIN);
    CHECK_THROWS_WITH_AS(xg::tensor({1.0, INFINITY}, xg::int64),
                         "tensor: value inf cannot be represented as int64", Error);
    CHECK(xg::tensor({-1.5, 2.7}, xg::int64).to_vector() == std::vector<double>{-1, 2});
    CHECK_THROWS_WITH_AS(xg::arange(0, 1e30), doctest::Contains("arange: 1e+30 elements"), Error);
    CHECK_THROWS_WITH_AS(xg::arange(0, 2e19, 1e18, xg::int64),
                         doctest::Contains("cannot be represented as int64"), Error);
    CHECK_THROWS_WITH_AS(xg::zeros_like(xg::Tensor()), "zeros_like: the input tensor is undefined",
                         Error);
    CHECK_THROWS_WITH_AS(xg::full_like(xg::Tensor(), 1), doctest::Contains("full_like:"), Error);
    const std::size_t b31 = std::size_t(1) << 31;
    CHECK(xg::zeros({0, b31, b31}).numel() == 0);  // an empty tensor with huge dims is fine...
    // ...as long as its strides (products of the nonzero dims) fit in ptrdiff_t: the table below.
}

// What a careless caller can hand to the factories: shapes past the allocation limit (the
// default 2^40 bytes, or one lowered for a scope), non-finite ranges, and a request that reaches
// malloc and genuinely fails. Each throws an xg::Error naming the factory.
TEST_CASE("factories: bad inputs throw an xg::Error naming the factory") {
    using namespace xg;
    using testing::LimitGuard;
    const std::size_t big = std::size_t(1) << 40, f45 = std::size_t(1) << 45;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<testing::ErrorRow> rows = {
        {"zeros: shape whose product overflows",
         [=] {
             zeros({big, big});
         },
         {"zeros: shape", "overflows"}},
        {"zeros: empty tensor whose strides overflow",
         [=] {
             zeros({0, big, big});
         },
         {"zeros: shape [0, 1099511627776, 1099511627776] has too many elements"}},
        {"ones: 2^45 floats exceed the allocation limit",
         [=] { ones({f45}); },
         {"ones: shape [35184372088832]", "allocation limit"}},
        {"randn: 2^45 floats exceed the allocation limit",
         [=] { randn({f45}); },
         {"randn:", "allocation limit"}},
        {"arange: 2^45 elements exceed the allocation limit",
         [] { arange(0, 35184372088832.0); },
         {"arange:", "allocation limit"}},
        {"arange: NaN step", [=] { arange(0, 5, nan); }, {"arange:", "finite"}},
        {"full: float64 counts 8 bytes per element",
         [] {
             LimitGuard g(1 << 20);
             full({(1 << 17) + 1}, 1.0, float64);
         },
         {"full:", "8 bytes", "allocation limit of 1048576"}},
        {"zeros: a lowered limit names the factory",
         [] {
             LimitGuard g(1000);
             zeros({251});
         },
         {"zeros: shape [251]", "1004 bytes", "allocation limit of 1000"}},
    };
    if (!testing::kAsan) {
        // Past the limit check: a request no machine serves reaches malloc, which fails; the
        // error names the factory and the process goes on.
        rows.push_back({"zeros: a genuine allocation failure names the factory",
                        [] {
                            LimitGuard g(std::size_t(PTRDIFF_MAX));
                            zeros({std::size_t(1) << 45}, float64);  // 256 TiB
                        },
                        {"zeros: out of memory"}});
    }
    testing::check_error_rows(rows);
    CHECK(max_alloc_bytes() == (std::size_t(1) << 40));  // every row restored the limit
}

TEST_CASE("factories: at a lowered allocation limit exactly is fine; 0 restores the default") {
    {
        xg::testing::LimitGuard g(1000);
        CHECK(xg::zeros({250}).numel() == 250);
    }
    xg::set_max_alloc_bytes(5);
    xg::set_max_alloc_bytes(0);
    CHECK(xg::max_alloc_bytes() == (std::size_t(1) << 40));
}
