#pragma once
// Runtime element types and the shape type shared by every tensor.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <xtensor/xshape.hpp>

namespace xg {

// The enum values index Storage's variant (core/tensor_impl.hpp): append, never reorder.
enum class Dtype : std::uint8_t { float32, float64, int64, int32, bool_ };
inline constexpr Dtype float32 = Dtype::float32;
inline constexpr Dtype float64 = Dtype::float64;
inline constexpr Dtype int64 = Dtype::int64;
inline constexpr Dtype int32 = Dtype::int32;
inline constexpr Dtype bool_ = Dtype::bool_;  // NumPy's spelling; `bool` is taken
// libtorch's spellings (torch::kFloat32 ...), so its code reads the same.
inline constexpr Dtype kFloat32 = float32, kFloat = float32, kFloat64 = float64, kDouble = float64,
                       kInt64 = int64, kLong = int64, kInt32 = int32, kInt = int32, kBool = bool_;

const char* dtype_name(Dtype d);
inline bool is_floating(Dtype d) {
    return d == Dtype::float32 || d == Dtype::float64;
}
inline bool is_integral(Dtype d, bool include_bool = false) {  // torch.is_integral semantics
    return d == Dtype::int64 || d == Dtype::int32 || (include_bool && d == Dtype::bool_);
}
inline std::size_t dtype_size(Dtype d) {  // bytes per element
    switch (d) {
        case Dtype::float32:
        case Dtype::int32:
            return 4;
        case Dtype::bool_:
            return 1;
        default:
            return 8;
    }
}
// PyTorch's type promotion between two tensors of the same kind of rank (torch.promote_types):
// bool < integers < floating point; within a kind the wider type.
Dtype promote_types(Dtype a, Dtype b);

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
template <>
constexpr Dtype dtype_of<std::int32_t>() {
    return Dtype::int32;
}
template <>
constexpr Dtype dtype_of<bool>() {
    return Dtype::bool_;
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
