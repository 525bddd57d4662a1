#pragma once
// Indexing with index tensors, as PyTorch 1.13 (docs/ops_index.md): index_select, gather,
// take_along_dim, scatter, scatter_add, index_add, embedding, one_hot, nonzero. Index tensors
// are int64. Every index is bounds-checked (negative indices are refused, as PyTorch's
// index_select/gather/embedding do); errors name the op, the index, the dim and its size.
// Out-of-place; the data tensor may have any dtype, gradients flow to float ones. Each backward
// rule is another op of this family, so all are twice differentiable.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

// The slices index[0], index[1], ... of `a` along dim; index is 1-D (or 0-d). The result has
// a's shape with dim's size replaced by index.numel(). Gradient: index_add into zeros.
Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index, Site site = Site());

// out[i][j][k] = a[index[i][j][k]][j][k] for dim 0 (and so on): index has a's number of dims
// and is no larger than a in the other dims; the result has index's shape. Gradient:
// scatter_add into zeros.
Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index, Site site = Site());

// gather after broadcasting a and indices against each other in every dim but `dim`; without a
// dim, both are flattened first (torch.take_along_dim).
Tensor take_along_dim(const Tensor& a, const Tensor& indices,
                      std::optional<std::int64_t> dim = std::nullopt, Site site = Site());

// A copy of `a` with out[index[i][j]][j] = src[i][j] for dim 0 (and so on); index is no larger
// than src in any dim nor than a outside dim. PyTorch leaves the winner among duplicate indices
// unspecified; xgrad is deterministic: the last write in row-major order of index wins, and
// only that element of src receives the gradient. Gradient of a: the upstream gradient with the
// written positions zeroed.
Tensor scatter(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& src,
               Site site = Site());
Tensor scatter(const Tensor& a, std::int64_t dim, const Tensor& index, double value,
               Site site = Site());
// As scatter, but adds: duplicates accumulate (row-major order; int64 wraps on overflow).
Tensor scatter_add(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& src,
                   Site site = Site());

// A copy of `a` with alpha * source's slice i added to a's slice index[i] along dim; index is
// 1-D (or 0-d) and source has a's shape but index.numel() in dim. Duplicates accumulate.
Tensor index_add(const Tensor& a, std::int64_t dim, const Tensor& index, const Tensor& source,
                 double alpha = 1.0, Site site = Site());

// torch.nn.functional.embedding: the rows of the 2-D weight picked by indices of any shape
// (result shape: indices' shape + [embedding_dim]). The gradient of weight adds the upstream
// rows into the rows picked (duplicates accumulate); rows at padding_idx (negative counts from
// the end) get none.
Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<std::int64_t> padding_idx = std::nullopt, Site site = Site());

// int64 one-hot rows: shape indices' shape + [num_classes]; num_classes -1 is max(indices) + 1.
Tensor one_hot(const Tensor& indices, std::int64_t num_classes = -1, Site site = Site());

// The coordinates of the nonzero elements (NaN counts as nonzero), row-major: int64 of shape
// [count, a.dim()]. No gradient.
Tensor nonzero(const Tensor& a, Site site = Site());

namespace detail {

// The one place index tensors are read: checks that `index` is defined and an index dtype
// (int64; int32 joins here), and returns its values as int64, row-major. `arg` names it in
// errors ("index", "indices").
std::vector<std::int64_t> index_values(const char* op, const Tensor& index,
                                       const char* arg = "index");

// i as an offset into a dim of `size`: throws "op: index i is out of bounds for dim d with size
// n" unless 0 <= i < size (no negative indices).
inline std::size_t checked_index(const char* op, std::int64_t i, std::size_t dim,
                                 std::size_t size) {
    if (i < 0 || static_cast<std::uint64_t>(i) >= size)
        throw Error(
            fmt::format("{}: index {} is out of bounds for dim {} with size {}", op, i, dim, size));
    return static_cast<std::size_t>(i);
}

}  // namespace detail

}  // namespace xg
