// In-place ops: Tensor::add_, mul_, addcmul_, copy_, zero_, ... (declared in core/tensor.hpp).
// Flat loops over the tensor's own buffer, which GCC vectorizes (AVX2 clone as in
// ops/elementwise.cpp). Every check runs before the first write, so a refused call changes
// nothing; a successful one bumps the storage version once.
#include <cmath>

#include <xtensor/xbroadcast.hpp>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise_kernels.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace {

using detail::dispatch_all;
using detail::dispatch_float;

template <class T, class F>
XG_SIMD_CLONES void loop0(T* y, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(y[i]);
}

template <class T, class F>
XG_SIMD_CLONES void loop1(T* y, const T* a, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(y[i], a[i]);
}

template <class T, class F>
XG_SIMD_CLONES void loop2(T* y, const T* a, const T* b, std::size_t n, F f) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f(y[i], a[i], b[i]);
}

// The tape cannot follow a write into a tensor that is part of it: a leaf that requires grad
// would lose its value, a non-leaf would need PyTorch's view+in-place rebase, which xgrad does
// not implement.
void check_self(const char* op, const Tensor& self) {
    detail::check_defined(op, self, "self");
    if (!GradMode::is_enabled() || !self.requires_grad()) return;
    XG_CHECK(!self.is_leaf(),
             "{}: a leaf Variable that requires grad is being used in an in-place operation "
             "(update parameters under xg::NoGradGuard)",
             op);
    throw Error(fmt::format(
        "{}: in-place operation on a tensor that requires grad and has a grad_fn is not "
        "supported while grad mode is on (use the out-of-place op, or xg::NoGradGuard)",
        op));
}

void check_operand(const char* op, const Tensor& self, const Tensor& o, const char* arg) {
    detail::check_defined(op, o, arg);
    XG_CHECK(o.dtype() == self.dtype(), "{}: {} has dtype {}, self has dtype {}", op, arg,
             o.dtype(), self.dtype());
    XG_CHECK(detail::is_broadcastable_to(o.shape(), self.shape()),
             "{}: {} of shape {} cannot be broadcast to self's shape {}", op, arg, o.shape(),
             self.shape());
    XG_CHECK(!(GradMode::is_enabled() && o.requires_grad()),
             "{}: {} requires grad, but in-place ops are not recorded on the tape (use the "
             "out-of-place op, or xg::NoGradGuard)",
             op, arg);
}

// An integer tensor takes whole scalars within its range only (casting 2.5, NaN or 3e9 to
// int32 is lossy or undefined), as PyTorch refuses a floating alpha for integral tensors.
void check_scalar(const char* op, const Tensor& self, double s, const char* arg) {
    if (is_floating(self.dtype()) || self.dtype() == bool_) return;
    const double lo = self.dtype() == int32 ? -2147483648.0 : -9223372036854775808.0;
    XG_CHECK(std::isfinite(s) && s == std::floor(s) && s >= lo && s < -lo,
             "{}: an {} tensor takes a whole {} within {}'s range, got {}", op, self.dtype(), arg,
             self.dtype(), s);
}

// The operand's data at self's shape: its own buffer, or a broadcast copy.
template <class T>
const T* operand(const Tensor& o, const Shape& shape, xg::array<T>& tmp) {
    const auto& a = o.data<T>();
    if (a.shape() == shape) return a.data();
    tmp = xt::broadcast(a, shape);
    return tmp.data();
}

template <class Dispatch, class F>
Tensor& unary_inplace(const char* op, Tensor& self, Dispatch dispatch, F f) {
    check_self(op, self);
    dispatch(op, self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto& y = self.mutable_data<T>();
        loop0(y.data(), y.size(), [&f](T v) { return f(v); });
    });
    return self;
}

template <class Dispatch, class F>
Tensor& binary_inplace(const char* op, Tensor& self, const Tensor& a, Dispatch dispatch, F f) {
    check_self(op, self);
    check_operand(op, self, a, "other");
    dispatch(op, self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> ta;
        const T* pa = operand(a, self.shape(), ta);
        auto& y = self.mutable_data<T>();
        loop1(y.data(), pa, y.size(), [&f](T v, T x) { return f(v, x); });
    });
    return self;
}

template <class F>
Tensor& ternary_inplace(const char* op, Tensor& self, const Tensor& a, const Tensor& b, F f) {
    check_self(op, self);
    check_operand(op, self, a, "tensor1");
    check_operand(op, self, b, "tensor2");
    dispatch_float(op, self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> ta, tb;
        const T* pa = operand(a, self.shape(), ta);
        const T* pb = operand(b, self.shape(), tb);
        auto& y = self.mutable_data<T>();
        loop2(y.data(), pa, pb, y.size(), [&f](T v, T x, T z) { return f(v, x, z); });
    });
    return self;
}

// dispatch_all takes no op name; this adapter gives both the same call shape.
auto any_dtype = [](const char*, Dtype d, auto&& f) { return dispatch_all(d, f); };
auto numeric = [](const char* op, Dtype d, auto&& f) { return detail::dispatch_numeric(op, d, f); };
auto float_only = [](const char* op, Dtype d, auto&& f) { return dispatch_float(op, d, f); };

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
    if (defined()) check_scalar("add_", *this, alpha, "alpha");
    if (alpha == 1.0)
        return binary_inplace("add_", *this, other, any_dtype,
                              [](auto y, auto x) { return detail::wrap_add(y, x); });
    return binary_inplace("add_", *this, other, numeric, [alpha](auto y, auto x) {
        using T = decltype(y);
        return detail::wrap_add(y, detail::wrap_mul(T(alpha), x));
    });
}

Tensor& Tensor::add_(double s) {
    if (defined()) check_scalar("add_", *this, s, "scalar");
    return unary_inplace("add_", *this, numeric,
                         [s](auto y) { return detail::wrap_add(y, decltype(y)(s)); });
}

Tensor& Tensor::sub_(const Tensor& other, double alpha) {
    if (defined()) check_scalar("sub_", *this, alpha, "alpha");
    if (alpha == 1.0)
        return binary_inplace("sub_", *this, other, numeric,
                              [](auto y, auto x) { return detail::wrap_sub(y, x); });
    return binary_inplace("sub_", *this, other, numeric, [alpha](auto y, auto x) {
        using T = decltype(y);
        return detail::wrap_sub(y, detail::wrap_mul(T(alpha), x));
    });
}

Tensor& Tensor::sub_(double s) {
    if (defined()) check_scalar("sub_", *this, s, "scalar");
    return unary_inplace("sub_", *this, numeric,
                         [s](auto y) { return detail::wrap_sub(y, decltype(y)(s)); });
}

Tensor& Tensor::mul_(const Tensor& other) {
    return binary_inplace("mul_", *this, other, any_dtype,
                          [](auto y, auto x) { return detail::wrap_mul(y, x); });
}

Tensor& Tensor::mul_(double s) {
    if (defined()) check_scalar("mul_", *this, s, "scalar");
    return unary_inplace("mul_", *this, numeric,
                         [s](auto y) { return detail::wrap_mul(y, decltype(y)(s)); });
}

Tensor& Tensor::div_(const Tensor& other) {
    return binary_inplace("div_", *this, other, float_only, [](auto y, auto x) { return y / x; });
}

Tensor& Tensor::div_(double s) {
    return unary_inplace("div_", *this, float_only, [s](auto y) { return y / decltype(y)(s); });
}

// PyTorch's CPU kernels: self + value * t1 * t2 and self + value * t1 / t2, in that order.
Tensor& Tensor::addcmul_(const Tensor& t1, const Tensor& t2, double value) {
    return ternary_inplace("addcmul_", *this, t1, t2, [value](auto y, auto a, auto b) {
        using T = decltype(y);
        return y + T(value) * a * b;
    });
}

Tensor& Tensor::addcdiv_(const Tensor& t1, const Tensor& t2, double value) {
    return ternary_inplace("addcdiv_", *this, t1, t2, [value](auto y, auto a, auto b) {
        using T = decltype(y);
        return y + T(value) * a / b;
    });
}

// PyTorch's lerp: from whichever end is nearer, so weight 1 gives `end` exactly.
Tensor& Tensor::lerp_(const Tensor& end, double weight) {
    return binary_inplace("lerp_", *this, end, float_only, [weight](auto y, auto e) {
        using T = decltype(y);
        const T w = T(weight);
        return std::abs(w) < T(0.5) ? y + w * (e - y) : e - (e - y) * (T(1) - w);
    });
}

Tensor& Tensor::clamp_(std::optional<double> lo, std::optional<double> hi) {
    XG_CHECK(lo || hi, "clamp_: at least one of min and max must be given");
    XG_CHECK(!(lo && hi) || *lo <= *hi, "clamp_: min {} is greater than max {}", lo.value_or(0.0),
             hi.value_or(0.0));
    const double l = lo.value_or(-HUGE_VAL), h = hi.value_or(HUGE_VAL);
    return unary_inplace("clamp_", *this, float_only, [l, h](auto x) {
        using T = decltype(x);
        return x < T(l) ? T(l) : (x > T(h) ? T(h) : x);  // NaN stays NaN
    });
}

Tensor& Tensor::sqrt_() {
    return unary_inplace("sqrt_", *this, float_only, [](auto x) { return std::sqrt(x); });
}

Tensor& Tensor::zero_() {
    return fill_(0.0);
}

Tensor& Tensor::fill_(double value) {
    check_self("fill_", *this);
    check_scalar("fill_", *this, value, "value");
    dispatch_all(dtype(), [&](auto tag) {
        using T = decltype(tag);
        mutable_data<T>().fill(detail::value_cast<T>("fill_", value));
    });
    return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
    return binary_inplace("copy_", *this, src, any_dtype, [](auto, auto x) { return x; });
}

}  // namespace xg
