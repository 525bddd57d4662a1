#pragma once
// Sorting and order statistics along one dim, as PyTorch's: sort, argsort, topk, kthvalue,
// median. Values come with int64 indices into the input; the values' gradient goes back to
// those positions (twice differentiable). NaN sorts as the largest value. Ties keep their input
// order (the sort is stable); topk, kthvalue and median pick as that stable order does.
// float32, float64 and int64 (int64 values have no gradient).
#include <cstdint>
#include <tuple>

#include "core/tensor.hpp"

namespace xg {

std::tuple<Tensor, Tensor> sort(const Tensor& a, std::int64_t dim = -1, bool descending = false,
                                Site site = Site());
// No gradient: the indices of sort.
Tensor argsort(const Tensor& a, std::int64_t dim = -1, bool descending = false, Site site = Site());
// The k largest (or smallest) along dim, in order (sorted = false gives them in order too).
std::tuple<Tensor, Tensor> topk(const Tensor& a, std::int64_t k, std::int64_t dim = -1,
                                bool largest = true, bool sorted = true, Site site = Site());
// The k-th smallest (k from 1) along dim.
std::tuple<Tensor, Tensor> kthvalue(const Tensor& a, std::int64_t k, std::int64_t dim = -1,
                                    bool keepdim = false, Site site = Site());
// The lower median of all elements (NaN if any is NaN, and for no elements); the gradient is
// shared evenly among the elements equal to it, as torch.median's.
Tensor median(const Tensor& a, Site site = Site());
// The lower median along dim (a NaN in the row gives that NaN and its index).
std::tuple<Tensor, Tensor> median(const Tensor& a, std::int64_t dim, bool keepdim = false,
                                  Site site = Site());

}  // namespace xg
