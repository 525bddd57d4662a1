#pragma once
// Runtime element types and the shape type shared by every tensor.
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

#include <fmt/format.h>
#include <xtensor/xshape.hpp>

namespace xg {

enum class Dtype : std::uint8_t { float32, float64, int64 };
inline constexpr Dtype float32 = Dtype::float32;
inline constexpr Dtype float64 = Dtype::float64;
inline constexpr Dtype int64 = Dtype::int64;

const char* dtype_name(Dtype d);
inline bool is_floating(Dtype d) {
    return d != Dtype::int64;
}
inline std::size_t dtype_size(Dtype d) {  // bytes per element
    return d == Dtype::float32 ? 4 : 8;
}

// The C++ type stored for a dtype, and back.
template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() {
    return Dtype::float32;
}
template <>
constexpr Dtype dtype_of<double>() {
    return Dtype::float64;
}
template <>
constexpr Dtype dtype_of<std::int64_t>() {
    return Dtype::int64;
}

// Same type as xg::array<T>::shape_type, so shapes move between xgrad and xtensor for free.
using Shape = xt::dynamic_shape<std::size_t>;

std::size_t shape_numel(const Shape& s);
// The element count of s, checked before anything of that size is allocated: throws xg::Error
// naming op when the product overflows or when elem_bytes * count exceeds max_alloc_bytes().
// A shape with a zero dim is 0 whatever its other dims.
std::size_t checked_numel(const char* op, const Shape& s, std::size_t elem_bytes = sizeof(double));

// The largest single buffer, in bytes, that an op may allocate for a size the user chose
// (default 2^40 bytes = 1 TiB): larger requests throw xg::Error naming the op before malloc is
// asked, so a hostile size fails at once instead of paging the machine to death.
// set_max_alloc_bytes(0) restores the default. Process-wide; not meant to change while other
// threads run ops.
std::size_t max_alloc_bytes();
void set_max_alloc_bytes(std::size_t bytes);

// Size arithmetic on user-controlled int64 numbers (options, shape arguments). Each throws
// xg::Error "op: <what> overflows int64 (...)" instead of wrapping or invoking UB.
std::int64_t checked_add(const char* op, const char* what, std::int64_t a, std::int64_t b);
std::int64_t checked_mul(const char* op, const char* what, std::int64_t a, std::int64_t b);
// The output size of a conv or pool along one dim: floor((in + 2 * padding - dilation *
// (kernel - 1) - 1) / stride) + 1. Expects kernel, stride, dilation >= 1 and padding >= 0
// (checked: Error naming op and dim otherwise); throws when any step overflows or the dilated
// kernel is larger than the padded input.
std::int64_t conv_out_size(const char* op, const char* dim, std::int64_t in, std::int64_t kernel,
                           std::int64_t stride, std::int64_t padding, std::int64_t dilation);
// The output size of a transposed conv along one dim: (in - 1) * stride - 2 * padding +
// dilation * (kernel - 1) + output_padding + 1; throws when a step overflows. The result may
// be zero or negative (padding too large): the caller reports that with its own context.
std::int64_t conv_transpose_out_size(const char* op, const char* dim, std::int64_t in,
                                     std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                     std::int64_t dilation, std::int64_t output_padding);
// Runs f() and turns an allocation failure (std::bad_alloc, std::bad_array_new_length) into
// xg::Error "op: out of memory ...", so the caller learns which op failed.
template <class F>
decltype(auto) naming_oom(const char* op, F&& f);
[[noreturn]] void throw_out_of_memory(const char* op);
std::string shape_str(const Shape& s);  // "[4, 3]"

template <class F>
decltype(auto) naming_oom(const char* op, F&& f) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        throw_out_of_memory(op);
    }
}

}  // namespace xg

template <>
struct fmt::formatter<xg::Dtype> : fmt::formatter<fmt::string_view> {
    template <class Ctx>
    auto format(xg::Dtype d, Ctx& ctx) const {
        return fmt::formatter<fmt::string_view>::format(xg::dtype_name(d), ctx);
    }
};

template <>
struct fmt::formatter<xg::Shape> : fmt::formatter<fmt::string_view> {
    template <class Ctx>
    auto format(const xg::Shape& s, Ctx& ctx) const {
        return fmt::formatter<fmt::string_view>::format(xg::shape_str(s), ctx);
    }
};
