#pragma once
// Shared option types for ops and modules, in the shape of libtorch's: options structs with
// chained setters (`MaxPool2dFuncOptions(2).stride(2)`), and Pair2, a (height, width) pair
// built from one int or two, like torch::ExpandingArray<2>.
#include <cstdint>
#include <optional>
#include <utility>

#include "core/tensor.hpp"

namespace xg {

// (height, width). Pair2(3) is (3, 3); Pair2(3, 1) and {3, 1} are (3, 1). Derives from
// std::pair so .first/.second keep working.
struct Pair2 : std::pair<std::int64_t, std::int64_t> {
    Pair2(std::int64_t v = 0) : std::pair<std::int64_t, std::int64_t>(v, v) {}  // NOLINT
    Pair2(std::int64_t h, std::int64_t w) : std::pair<std::int64_t, std::int64_t>(h, w) {}
    Pair2(std::pair<std::int64_t, std::int64_t> p)  // NOLINT
        : std::pair<std::int64_t, std::int64_t>(p) {}
};

// Declares `T name_` with a chained setter `name(v)` and a getter `name()`, as TORCH_ARG.
#define XG_ARG(T, name)      \
  public:                    \
    auto& name(const T& v) { \
        name##_ = v;         \
        return *this;        \
    }                        \
    const T& name() const {  \
        return name##_;      \
    }                        \
                             \
  private:                   \
    T name##_

// torch::nn::functional::MaxPool2dFuncOptions: stride defaults to kernel_size.
struct MaxPool2dFuncOptions {
    MaxPool2dFuncOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(Pair2, kernel_size);
    XG_ARG(std::optional<Pair2>, stride) = std::nullopt;
    XG_ARG(Pair2, padding) = 0;
};

// torch::nn::functional::AvgPool2dFuncOptions.
struct AvgPool2dFuncOptions {
    AvgPool2dFuncOptions(Pair2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT
    XG_ARG(Pair2, kernel_size);
    XG_ARG(std::optional<Pair2>, stride) = std::nullopt;
    XG_ARG(Pair2, padding) = 0;
    XG_ARG(bool, count_include_pad) = true;
};

// torch::nn::functional::BatchNormFuncOptions: the tensors besides input and running stats.
struct BatchNormFuncOptions {
    XG_ARG(Tensor, weight);
    XG_ARG(Tensor, bias);
    XG_ARG(bool, training) = false;
    XG_ARG(double, momentum) = 0.1;
    XG_ARG(double, eps) = 1e-5;
};

}  // namespace xg
