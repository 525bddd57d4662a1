#pragma once
// Layout ops with PyTorch 1.13 semantics: splitting, repeating, flipping, rolling, triangles,
// diagonals, moving dims and broadcasting. xgrad tensors are always contiguous, so each returns
// new tensors (a copy); the broadcasts (expand_as, broadcast_to, meshgrid) are written out when
// first read. Every backward is written in differentiable ops (twice differentiable). All dtypes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

// Pieces of split_size along dim (the last one smaller); split_size 0 only for an empty dim.
TensorList split(const Tensor& a, std::int64_t split_size, std::int64_t dim = 0,
                 Site site = Site());
// torch.split with a list (libtorch's split_with_sizes): the sizes must sum to the dim's size.
TensorList split(const Tensor& a, const std::vector<std::int64_t>& sizes, std::int64_t dim = 0,
                 Site site = Site());
// At most `chunks` pieces of ceil(size / chunks) along dim (fewer when the dim is short).
TensorList chunk(const Tensor& a, std::int64_t chunks, std::int64_t dim = 0, Site site = Site());
// The slices along dim, with dim removed.
TensorList unbind(const Tensor& a, std::int64_t dim = 0, Site site = Site());
// Elements start .. start + length - 1 of dim; start in [-size, size].
Tensor narrow(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t length,
              Site site = Site());
// Tensor.repeat: tiles a repeats[i] times along dim i (leading repeats add dims); at least
// a.dim() entries.
Tensor repeat(const Tensor& a, const std::vector<std::int64_t>& repeats, Site site = Site());
// torch.tile: repeat, with reps padded by leading 1s when shorter than a.dim().
Tensor tile(const Tensor& a, const std::vector<std::int64_t>& reps, Site site = Site());
// Each element repeated `repeats` times along dim; without a dim, over the flattened input.
Tensor repeat_interleave(const Tensor& a, std::int64_t repeats,
                         std::optional<std::int64_t> dim = std::nullopt, Site site = Site());
// repeats: an int64 tensor, 0-d or 1-D (one count per element along dim, or one for all).
Tensor repeat_interleave(const Tensor& a, const Tensor& repeats,
                         std::optional<std::int64_t> dim = std::nullopt, Site site = Site());
Tensor flip(const Tensor& a, const std::vector<std::int64_t>& dims, Site site = Site());
// Rolls shifts[i] places along dims[i]; with no dims, one shift over the flattened tensor.
Tensor roll(const Tensor& a, const std::vector<std::int64_t>& shifts,
            const std::vector<std::int64_t>& dims = {}, Site site = Site());
// Lower / upper triangle of the last two dims (batched); diagonal > 0 is above the main one.
Tensor tril(const Tensor& a, std::int64_t diagonal = 0, Site site = Site());
Tensor triu(const Tensor& a, std::int64_t diagonal = 0, Site site = Site());
// The diagonal of dims dim1, dim2 (offset > 0 above the main one), appended as the last dim.
Tensor diagonal(const Tensor& a, std::int64_t offset = 0, std::int64_t dim1 = 0,
                std::int64_t dim2 = 1, Site site = Site());
Tensor movedim(const Tensor& a, std::int64_t source, std::int64_t destination, Site site = Site());
Tensor movedim(const Tensor& a, const std::vector<std::int64_t>& source,
               const std::vector<std::int64_t>& destination, Site site = Site());
Tensor swapaxes(const Tensor& a, std::int64_t axis0, std::int64_t axis1, Site site = Site());
Tensor expand_as(const Tensor& a, const Tensor& other, Site site = Site());
// -1 keeps the input's size of an existing dim.
Tensor broadcast_to(const Tensor& a, const std::vector<std::int64_t>& shape, Site site = Site());
// Coordinate grids of 0-d or 1-D tensors; indexing "ij" (matrix) or "xy" (Cartesian: the
// first two dims swapped).
TensorList meshgrid(const TensorList& tensors, const std::string& indexing = "ij",
                    Site site = Site());

namespace detail {
// permute(a, perm) on the layout kernel (whole rows copied when the last dim stays last): the
// differentiable permute movedim and einsum use; its backward is the inverse permute_copy.
Tensor permute_copy(const Tensor& a, const std::vector<std::int64_t>& perm);
// The gradient of diagonal: g (the diagonal as its last dim) written into zeros of in_shape.
// Differentiable; its own backward is diagonal.
Tensor diagonal_backward(const Tensor& g, const Shape& in_shape, std::int64_t offset,
                         std::size_t dim1, std::size_t dim2);
// Element k along dim repeated counts[k] times (repeat_interleave's kernel; one count is used
// for every k), and its gradient: the sums of those runs. Each is the other's backward.
Tensor repeat_runs(const Tensor& a, const std::vector<std::int64_t>& counts, std::size_t dim);
Tensor sum_runs(const Tensor& g, const std::vector<std::int64_t>& counts, std::size_t dim,
                std::size_t n);  // n: the input's size along dim
}  // namespace detail

}  // namespace xg
