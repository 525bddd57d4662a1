#pragma once
// Internal helpers for op implementations: dtype dispatch, argument checks, dim wrapping.
// Kernels are templates on the scalar type; dispatch_float picks the instantiation at runtime.
#include <cstdint>
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

// Calls f(T{}) for any dtype, int64 included.
template <class F>
decltype(auto) dispatch_all(Dtype dtype, F&& f) {
    switch (dtype) {
        case Dtype::float32:
            return f(float{});
        case Dtype::float64:
            return f(double{});
        default:
            return f(std::int64_t{});
    }
}

void check_defined(const char* op, const Tensor& t, const char* arg);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t, const char* arg);
// Wraps a possibly negative dim into [0, ndim); throws naming the op if out of range.
std::size_t wrap_dim(const char* op, std::int64_t dim, std::size_t ndim);
// NumPy broadcast of two shapes; throws naming the op and both shapes if incompatible.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
bool is_broadcastable_to(const Shape& from, const Shape& to);

}  // namespace xg::detail
