#pragma once
// Runtime element types and the shape type shared by every tensor.
#include <cstddef>
#include <cstdint>
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
std::string shape_str(const Shape& s);  // "[4, 3]"

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
