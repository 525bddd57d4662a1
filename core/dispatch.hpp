#pragma once
// Internal helpers for op implementations: dtype dispatch, argument checks, dim wrapping.
// Kernels are templates on the scalar type; dispatch_float picks the instantiation at runtime.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/checked.hpp"
#include "core/tensor.hpp"

namespace xg::detail {

// Calls f(T{}) with T = float or double per `dtype`; int64 is an error naming the op. An
// allocation failure inside f becomes xg::Error "op: out of memory", so every kernel run
// through here names itself when memory runs out.
template <class F>
decltype(auto) dispatch_float(const char* op, Dtype dtype, F&& f) {
    try {
        switch (dtype) {
            case Dtype::float32:
                return f(float{});
            case Dtype::float64:
                return f(double{});
            default:
                break;
        }
    } catch (const std::bad_alloc&) {
        throw_out_of_memory(op);
    }
    throw Error(fmt::format("{}: expected a floating-point tensor (float32 or float64), got {}", op,
                            dtype));
}

// Calls f(T{}) for any dtype: float, double, std::int64_t, std::int32_t, bool.
template <class F>
decltype(auto) dispatch_all(Dtype dtype, F&& f) {
    switch (dtype) {
        case Dtype::float32:
            return f(float{});
        case Dtype::float64:
            return f(double{});
        case Dtype::int64:
            return f(std::int64_t{});
        case Dtype::int32:
            return f(std::int32_t{});
        default:
            return f(bool{});
    }
}

// Calls f(T{}) for the dtypes that do arithmetic (all but bool); bool is an error naming the op.
template <class F>
decltype(auto) dispatch_numeric(const char* op, Dtype dtype, F&& f) {
    switch (dtype) {
        case Dtype::float32:
            return f(float{});
        case Dtype::float64:
            return f(double{});
        case Dtype::int64:
            return f(std::int64_t{});
        case Dtype::int32:
            return f(std::int32_t{});
        default:
            break;
    }
    throw Error(fmt::format("{}: not supported for a bool tensor (convert it with .to(...))", op));
}

// One element converted to another dtype's type as PyTorch converts: to bool is "nonzero",
// integers narrow by wrapping; a float that an integer type cannot hold (NaN, inf, out of range)
// is an error naming the op and the value, where C++ would be undefined.
template <class To, class From>
To value_cast(const char* op, From v) {
    if constexpr (std::is_same_v<To, bool>) {
        return v != From(0);
    } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
        // The bounds are powers of two, exact in every floating type.
        constexpr double lo = -static_cast<double>(std::uint64_t{1} << (sizeof(To) * 8 - 1));
        XG_CHECK(static_cast<double>(v) >= lo && static_cast<double>(v) < -lo,
                 "{}: value {} cannot be represented as {}", op, v, dtype_of<To>());
        return static_cast<To>(v);
    } else if constexpr (std::is_integral_v<From> && std::is_integral_v<To> &&
                         !std::is_same_v<From, bool>) {
        return static_cast<To>(static_cast<std::make_unsigned_t<To>>(v));  // wraps, defined
    } else {
        return static_cast<To>(v);
    }
}
// Whether a double holds a value of dtype's range (for scalars given as double).
void check_representable(const char* op, double value, Dtype dtype);

void check_defined(const char* op, const Tensor& t, const char* arg);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t, const char* arg);
// Wraps a possibly negative dim into [0, ndim); throws naming the op if out of range.
std::size_t wrap_dim(const char* op, std::int64_t dim, std::size_t ndim);
// NumPy broadcast of two shapes; throws naming the op and both shapes if incompatible.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
bool is_broadcastable_to(const Shape& from, const Shape& to);

}  // namespace xg::detail
