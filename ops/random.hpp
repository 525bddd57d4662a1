#pragma once
// Random factories and in-place fillers (docs/ops_random.md), PyTorch's names and checks. Each
// comes in two forms: one draws from a given Generator (only that stream advances), the other
// from the global default_generator() (seeded by xg::manual_seed). The streams are xgrad's own
// (core/random.hpp): a seed gives the same values on every platform, not PyTorch's values. No
// gradients: results never require grad.
#include <cstdint>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace xg {

// Integers uniform in [low, high) (unbiased, no modulo bias), of `dtype` (int64 by default;
// float32 and float64 hold the same integers). randint(high, shape) draws from [0, high).
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Dtype dtype = int64,
               Site site = Site());
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen,
               Dtype dtype = int64, Site site = Site());
Tensor randint(std::int64_t high, const Shape& shape, Dtype dtype = int64, Site site = Site());
Tensor randint(std::int64_t high, const Shape& shape, Generator& gen, Dtype dtype = int64,
               Site site = Site());

// A uniformly random permutation of 0 .. n-1 (Fisher-Yates).
Tensor randperm(std::int64_t n, Dtype dtype = int64, Site site = Site());
Tensor randperm(std::int64_t n, Generator& gen, Dtype dtype = int64, Site site = Site());

// num_samples category indices per row of non-negative weights (1-D: one row, result
// [num_samples]; 2-D: [rows, num_samples]), int64. Without replacement no index repeats within
// a row, so a row needs at least num_samples categories of nonzero weight.
Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement = false,
                   Site site = Site());
Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement, Generator& gen,
                   Site site = Site());

// 1 with probability p (each element of p in [0, 1]), else 0; p's shape and float dtype.
Tensor bernoulli(const Tensor& p, Site site = Site());
Tensor bernoulli(const Tensor& p, Generator& gen, Site site = Site());

// Draws from N(mean, std^2) (std >= 0), float32 or float64.
Tensor normal(double mean, double std, const Shape& shape, Dtype dtype = float32,
              Site site = Site());
Tensor normal(double mean, double std, const Shape& shape, Generator& gen, Dtype dtype = float32,
              Site site = Site());

// In-place fillers of a float tensor: uniform in [from, to), normal with mean and std. Like the
// in-place ops of ops/inplace.cpp they bump the version and are refused, while grad mode is on,
// on a tensor that requires grad (fill parameters under xg::NoGradGuard).
Tensor& uniform_(Tensor& t, double from = 0.0, double to = 1.0, Site site = Site());
Tensor& uniform_(Tensor& t, double from, double to, Generator& gen, Site site = Site());
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0, Site site = Site());
Tensor& normal_(Tensor& t, double mean, double std, Generator& gen, Site site = Site());

}  // namespace xg
