// The vectorizable float exp/tanh/sigmoid (ops/vec_math.hpp) against glibc: ulp error over a
// dense sweep, special values, and the elementwise ops' flat-loop paths against broadcasting.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/vec_math.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

// Distance in representable floats (0 when both are the same NaN class or equal).
std::int64_t ulp_distance(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
    if (a == b) return 0;
    auto key = [](float f) {
        std::int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? std::int64_t{INT32_MIN} - i : std::int64_t{i};  // monotone in f
    };
    return std::llabs(key(a) - key(b));
}

// Max ulp error of f against ref over [lo, hi] in `steps` evenly spaced points.
template <class F, class R>
std::int64_t max_ulp(F f, R ref, float lo, float hi, int steps, float* worst) {
    std::int64_t m = 0;
    for (int i = 0; i <= steps; ++i) {
        float x = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(steps);
        std::int64_t d = ulp_distance(f(x), ref(x));
        if (d > m) {
            m = d;
            *worst = x;
        }
    }
    return m;
}

const float inf = std::numeric_limits<float>::infinity();
const float nan = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("vec_math: exp_f is within 2 ulp of expf, subnormals and overflow included") {
    float worst = 0;
    auto ref = [](float x) { return std::exp(x); };
    CHECK_MESSAGE(max_ulp(detail::exp_f, ref, -87.0f, 88.5f, 400000, &worst) <= 2, worst);
    // Subnormal results: compare in absolute terms of the smallest subnormal.
    for (float x = -103.9f; x < -87.5f; x += 0.01f) {
        CAPTURE(x);
        CHECK(std::abs(detail::exp_f(x) - std::exp(x)) <= 2 * std::exp(x) * 1.2e-7f + 1.5e-45f);
    }
    CHECK(detail::exp_f(0.0f) == 1.0f);
    CHECK(detail::exp_f(-0.0f) == 1.0f);
    CHECK(detail::exp_f(88.8f) == inf);
    CHECK(detail::exp_f(1000.0f) == inf);
    CHECK(detail::exp_f(inf) == inf);
    CHECK(detail::exp_f(-104.0f) == 0.0f);
    CHECK(detail::exp_f(-1000.0f) == 0.0f);
    CHECK(detail::exp_f(-inf) == 0.0f);
    CHECK(std::isnan(detail::exp_f(nan)));
}

TEST_CASE("vec_math: tanh_f and sigmoid_f are within a few ulp of glibc") {
    float worst = 0;
    auto tanh_ref = [](float x) { return std::tanh(x); };
    CHECK_MESSAGE(max_ulp(detail::tanh_f, tanh_ref, -10.0f, 10.0f, 400000, &worst) <= 4, worst);
    // Near 0 the result must keep its relative accuracy (no 1 - 2/(e+1) cancellation).
    CHECK_MESSAGE(max_ulp(detail::tanh_f, tanh_ref, -1e-3f, 1e-3f, 20000, &worst) <= 2, worst);
    CHECK(detail::tanh_f(1e-30f) == 1e-30f);
    CHECK(detail::tanh_f(0.0f) == 0.0f);
    CHECK(std::signbit(detail::tanh_f(-0.0f)));
    CHECK(detail::tanh_f(50.0f) == 1.0f);
    CHECK(detail::tanh_f(-inf) == -1.0f);
    CHECK(detail::tanh_f(inf) == 1.0f);
    CHECK(std::isnan(detail::tanh_f(nan)));

    // Reference in double, rounded once: accurate on both sides, subnormal results included.
    auto sig_ref = [](float x) { return static_cast<float>(1.0 / (1.0 + std::exp(-double(x)))); };
    CHECK_MESSAGE(max_ulp(detail::sigmoid_f, sig_ref, -80.0f, 30.0f, 400000, &worst) <= 4, worst);
    for (float x = -103.0f; x < -80.0f; x += 0.01f) {  // tiny results keep their value
        CAPTURE(x);
        CHECK(std::abs(detail::sigmoid_f(x) - sig_ref(x)) <= 4 * 1.2e-7f * sig_ref(x) + 3e-45f);
    }
    CHECK(detail::sigmoid_f(-100.0f) > 0.0f);
    CHECK(detail::sigmoid_f(-1000.0f) == 0.0f);
    CHECK(detail::sigmoid_f(1000.0f) == 1.0f);
    CHECK(detail::sigmoid_f(0.0f) == 0.5f);
    CHECK(std::isnan(detail::sigmoid_f(nan)));
}

TEST_CASE("elementwise: float32 exp, tanh, sigmoid use the vector math, float64 stays exact") {
    Tensor x = tensor({-3.0, -0.5, 0.0, 1e-4, 2.0, 90.0});
    auto xs = x.to_vector();
    auto e = exp(x).to_vector(), t = tanh(x).to_vector(), s = sigmoid(x).to_vector();
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CAPTURE(xs[i]);
        float xf = static_cast<float>(xs[i]);
        CHECK(ulp_distance(static_cast<float>(e[i]), std::exp(xf)) <= 2);
        CHECK(ulp_distance(static_cast<float>(t[i]), std::tanh(xf)) <= 4);
        CHECK(ulp_distance(static_cast<float>(s[i]), 1.0f / (1.0f + std::exp(-xf))) <= 4);
    }
    Tensor xd = x.to(float64);
    auto ed = exp(xd).to_vector(), td = tanh(xd).to_vector();
    for (std::size_t i = 0; i < xs.size(); ++i) {
        CHECK(ed[i] == std::exp(xs[i]));
        CHECK(td[i] == std::tanh(xs[i]));
    }
}

TEST_CASE("elementwise: the vectorized loops give the scalar function's bits") {
    // Long enough for the vector body (SSE2 or the AVX2 clone) rather than the scalar tail.
    Tensor x = sub(mul(arange(20001, float32), 0.002), 20.0);  // -20 .. 20
    auto xs = x.to_vector();
    auto e = exp(x).to_vector(), t = tanh(x).to_vector(), s = sigmoid(x).to_vector();
    std::size_t differ = 0;
    float first = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const float xf = static_cast<float>(xs[i]);
        if (static_cast<float>(e[i]) != detail::exp_f(xf) ||
            static_cast<float>(t[i]) != detail::tanh_f(xf) ||
            static_cast<float>(s[i]) != detail::sigmoid_f(xf)) {
            if (differ++ == 0) first = xf;
        }
    }
    CHECK_MESSAGE(differ == 0, "vector and scalar results differ, first at x = " << first);
    CHECK(xs.size() == 20001);
}

TEST_CASE("elementwise: flat loops, one-element operands and general broadcasting agree") {
    manual_seed(3);
    Tensor a = randn({3, 4}), b = randn({3, 4});
    Tensor s1 = randn({1, 1}), r = randn({1, 4}), c = randn({3, 1});
    // Same shape (flat loop) vs the same values through the general broadcast path.
    CHECK(max_abs_diff((a.reshape({1, 3, 4}) * b).reshape({3, 4}), a * b) == 0.0);
    CHECK(max_abs_diff((a.reshape({1, 3, 4}) - b).reshape({3, 4}), a - b) == 0.0);
    // One-element tensor on either side equals a scalar operand.
    double sv = s1.item();
    CHECK(max_abs_diff(a - s1, a - sv) == 0.0);
    CHECK(max_abs_diff(s1 - a, sv - a) == 0.0);
    CHECK(max_abs_diff(a / s1, a / sv) == 0.0);
    // General broadcasting equals expanding explicitly first.
    CHECK(max_abs_diff(r + c, expand(r, {3, 4}) + expand(c, {3, 4})) == 0.0);
    CHECK(max_abs_diff(a * r, a * expand(r, {3, 4})) == 0.0);
    CHECK((a - s1).shape() == Shape{3, 4});
    CHECK((randn({4}) + s1).shape() == Shape{1, 4});  // 1 x 1 against 4: a [1, 4] result
    CHECK((s1 + randn({2, 1, 1})).shape() == Shape{2, 1, 1});
}

namespace {
// a - 2 b by plain index arithmetic over the broadcast shape.
std::vector<double> naive_broadcast(const Tensor& a, const Tensor& b, const Shape& out) {
    auto va = a.to_vector(), vb = b.to_vector();
    std::vector<double> r(shape_numel(out));
    const std::size_t nd = out.size();
    for (std::size_t i = 0; i < r.size(); ++i) {
        std::size_t rem = i, ia = 0, ib = 0, ma = 1, mb = 1;
        for (std::size_t d = nd; d-- > 0;) {
            std::size_t c = rem % out[d];
            rem /= out[d];
            std::size_t la = nd - a.dim(), lb = nd - b.dim();
            if (d >= la) {
                std::size_t n = a.shape()[d - la];
                ia += (n == 1 ? 0 : c) * ma;
                ma *= n;
            }
            if (d >= lb) {
                std::size_t n = b.shape()[d - lb];
                ib += (n == 1 ? 0 : c) * mb;
                mb *= n;
            }
        }
        r[i] = va[ia] - 2 * vb[ib];
    }
    return r;
}
}  // namespace

TEST_CASE("elementwise: the broadcast walk matches index arithmetic on random shapes") {
    manual_seed(11);
    std::uint64_t state = 12345;
    auto next = [&state](std::size_t n) {  // a small LCG: the shapes must not depend on libc
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>((state >> 33) % n);
    };
    for (int trial = 0; trial < 300; ++trial) {
        const std::size_t nd = 1 + next(4);
        Shape out(nd), sa, sb;
        for (auto& d : out) d = next(10) == 0 ? 0 : 1 + next(4);
        const std::size_t da = 1 + next(nd), db = 1 + next(nd);
        for (std::size_t d = nd - da; d < nd; ++d) sa.push_back(next(3) == 0 ? 1 : out[d]);
        for (std::size_t d = nd - db; d < nd; ++d) sb.push_back(next(3) == 0 ? 1 : out[d]);
        Tensor a = randn(sa, float64), b = randn(sb, float64);
        Shape expect = detail::broadcast_shapes("test", sa, sb);
        CAPTURE(shape_str(sa));
        CAPTURE(shape_str(sb));
        Tensor r = a - b * 2.0;
        REQUIRE(r.shape() == expect);
        CHECK(r.to_vector() == naive_broadcast(a, b, expect));
        Tensor c = lt(a, b);
        CHECK(c.shape() == expect);
    }
}

TEST_CASE("sum: the flat-loop reduction matches index arithmetic on random shapes and dims") {
    manual_seed(5);
    std::uint64_t state = 777;
    auto next = [&state](std::size_t n) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>((state >> 33) % n);
    };
    for (int trial = 0; trial < 200; ++trial) {
        const std::size_t nd = 1 + next(4);
        Shape shape(nd);
        for (auto& d : shape) d = next(12) == 0 ? 0 : 1 + next(5);
        Dims dims;
        for (std::size_t d = 0; d < nd; ++d)
            if (next(2)) dims.push_back(static_cast<std::int64_t>(d));
        const bool keepdim = next(2) == 1;
        Tensor x = randn(shape, float64);
        CAPTURE(shape_str(shape));
        CAPTURE(fmt::format("{}", fmt::join(dims, ",")));
        Tensor r = sum(x, dims, keepdim);
        // Reference: accumulate every element into its output slot.
        std::vector<bool> red(nd, dims.empty());
        for (auto d : dims) red[static_cast<std::size_t>(d)] = true;
        Shape kshape = shape;
        for (std::size_t d = 0; d < nd; ++d)
            if (red[d]) kshape[d] = 1;
        std::vector<double> ref(shape_numel(kshape), 0.0), v = x.to_vector();
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::size_t rem = i, o = 0, mul = 1;
            for (std::size_t d = nd; d-- > 0;) {
                std::size_t c = rem % shape[d];
                rem /= shape[d];
                o += (red[d] ? 0 : c) * mul;
                mul *= kshape[d];
            }
            ref[o] += v[i];
        }
        REQUIRE(r.numel() == ref.size());
        if (keepdim) CHECK(r.shape() == kshape);
        auto got = r.to_vector();
        for (std::size_t i = 0; i < ref.size(); ++i) CHECK(got[i] == doctest::Approx(ref[i]));
    }
}

TEST_CASE("sum: float32 over 2^22 ones is exact, and 0.1 * n stays accurate") {
    CHECK(sum(ones({1u << 22})).item() == 4194304.0);
    // A single running float32 sum of 2^22 tenths drifts by ~1%; blocked partial sums do not.
    CHECK(sum(full({1u << 22}, 0.1)).item() == doctest::Approx(419430.4).epsilon(1e-5));
}

TEST_CASE("tanh, sigmoid: the one-pass backward equals the recorded rule bit for bit") {
    manual_seed(9);
    for (Dtype dt : {float32, float64}) {
        Tensor x = randn({1000}, dt).requires_grad_();
        Tensor up = randn({1000}, dt);
        for (auto f : {+[](const Tensor& t) { return tanh(t); },
                       +[](const Tensor& t) { return sigmoid(t); }}) {
            Tensor raw = grad({f(x)}, {x}, {up})[0];                             // one pass
            Tensor rec = grad({f(x)}, {x}, {up}, {}, /*create_graph=*/true)[0];  // recorded ops
            CHECK(rec.requires_grad());
            CHECK(raw.to_vector() == rec.to_vector());
        }
    }
}

TEST_CASE("elementwise: relu, leaky_relu and clamp keep NaN, like PyTorch") {
    const double n = std::numeric_limits<double>::quiet_NaN();
    Tensor x = tensor({n, -1.0, 2.0});
    CHECK(std::isnan(relu(x).to_vector()[0]));
    CHECK(std::isnan(leaky_relu(x, 0.1).to_vector()[0]));
    CHECK(std::isnan(clamp(x, -0.5, 0.5).to_vector()[0]));
    check_values(slice(relu(x), 0, 1, 3), {0.0, 2.0});
    check_values(slice(clamp(x, -0.5, 0.5), 0, 1, 3), {-0.5, 0.5});
}

}  // namespace xg::testing
