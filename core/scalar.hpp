#pragma once
// A number given to an op in place of a tensor (libtorch's c10::Scalar): it remembers whether it
// was written as a bool, an integer or a floating-point value, because PyTorch's type promotion
// does: int_tensor * 2 stays an integer tensor, int_tensor * 2.5 becomes float32.
#include <cstdint>
#include <type_traits>

#include "core/dtype.hpp"

namespace xg {

class Scalar {
  public:
    enum class Kind : std::uint8_t { boolean, integral, floating };

    Scalar() = default;  // 0 (integral)
    template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
    Scalar(T v)  // NOLINT: implicit, as c10::Scalar
        : kind_(std::is_same_v<T, bool>       ? Kind::boolean
                : std::is_floating_point_v<T> ? Kind::floating
                                              : Kind::integral),
          d_(static_cast<double>(v)),
          i_(std::is_floating_point_v<T> ? 0 : static_cast<std::int64_t>(v)) {}

    Kind kind() const { return kind_; }
    bool is_floating_point() const { return kind_ == Kind::floating; }
    bool is_integral(bool include_bool = false) const {
        return kind_ == Kind::integral || (include_bool && kind_ == Kind::boolean);
    }
    bool is_boolean() const { return kind_ == Kind::boolean; }
    double to_double() const { return d_; }
    std::int64_t to_long() const { return i_; }  // integral and bool scalars only

  private:
    Kind kind_ = Kind::integral;
    double d_ = 0.0;
    std::int64_t i_ = 0;
};

// The dtype of `tensor op scalar` for a tensor of dtype t (PyTorch's result_type): the tensor's
// dtype unless the scalar is of a higher kind (bool < integer < floating point), which gives
// that kind's default dtype (int64, float32).
Dtype result_type(Dtype t, const Scalar& s);

}  // namespace xg
