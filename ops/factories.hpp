#pragma once
// Factories beyond those of core/tensor.hpp (zeros, ones, full, arange, rand, randn, tensor from
// nested lists): tensors from a std::vector, eye, linspace, empty (docs/ops_random.md). No
// gradients.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

// A copy of `values` as a 1-D tensor, or with `shape` (which must hold exactly values.size()
// elements). The dtype defaults to the element type's, as libtorch's torch::tensor(std::vector):
// float -> float32, double -> float64, int and int64_t -> int64. Floats converted to int64 are
// truncated toward zero; NaN, inf and values beyond int64's range are errors.
Tensor tensor(const std::vector<float>& values, std::optional<Dtype> dtype = std::nullopt,
              Site site = Site());
Tensor tensor(const std::vector<double>& values, std::optional<Dtype> dtype = std::nullopt,
              Site site = Site());
Tensor tensor(const std::vector<std::int64_t>& values, std::optional<Dtype> dtype = std::nullopt,
              Site site = Site());
Tensor tensor(const std::vector<int>& values, std::optional<Dtype> dtype = std::nullopt,
              Site site = Site());
Tensor tensor(const std::vector<float>& values, const Shape& shape,
              std::optional<Dtype> dtype = std::nullopt, Site site = Site());
Tensor tensor(const std::vector<double>& values, const Shape& shape,
              std::optional<Dtype> dtype = std::nullopt, Site site = Site());
Tensor tensor(const std::vector<std::int64_t>& values, const Shape& shape,
              std::optional<Dtype> dtype = std::nullopt, Site site = Site());
Tensor tensor(const std::vector<int>& values, const Shape& shape,
              std::optional<Dtype> dtype = std::nullopt, Site site = Site());

// The n x m identity (m defaults to n): ones on the diagonal.
Tensor eye(std::int64_t n, std::optional<std::int64_t> m = std::nullopt, Dtype dtype = float32,
           Site site = Site());
Tensor eye(std::int64_t n, Dtype dtype, Site site = Site());

// `steps` evenly spaced values from start to end inclusive, as torch.linspace: the first half
// counted up from start, the second down from end (so both ends are exact), each value rounded
// once (PyTorch's kernel runs with fused multiply-adds).
Tensor linspace(double start, double end, std::int64_t steps, Dtype dtype = float32,
                Site site = Site());

// A tensor of `shape` whose values are unspecified, as torch.empty; xgrad fills zeros (reading
// uninitialized memory would be undefined behaviour).
Tensor empty(const Shape& shape, Dtype dtype = float32, Site site = Site());

}  // namespace xg
