#pragma once
// Indexing the libtorch way: t.index({Slice(1, None), 0, None, Ellipsis, idx, mask}) reads and
// t.index_put_({...}, v) writes (docs/ops_index.md). Results are copies (xgrad tensors are
// always contiguous, there are no views): to write into part of a tensor use index_put_, which
// writes into the tensor's own storage. Integers, slices, None and Ellipsis are basic indexing;
// int64/int32 tensors and bool masks are advanced indexing with PyTorch's rules (index tensors
// broadcast together; their dims replace the indexed dims in place when those are adjacent,
// else they come first; integers select before that). Differentiable: the gradient of a read is a
// scatter-add.
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/scalar.hpp"
#include "core/tensor.hpp"

namespace xg {
namespace indexing {

struct NoneType {};
inline constexpr NoneType None{};
struct EllipsisType {};
inline constexpr EllipsisType Ellipsis{};

// A slice bound: an integer, or None for "from the start / to the end / step 1".
class SliceBound {
  public:
    SliceBound() = default;
    SliceBound(NoneType) {}        // NOLINT: implicit, Slice(None, 2)
    SliceBound(std::nullopt_t) {}  // NOLINT: implicit
    template <class T, class = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
    SliceBound(T v) : v_(static_cast<std::int64_t>(v)) {}  // NOLINT: implicit
    const std::optional<std::int64_t>& value() const { return v_; }

  private:
    std::optional<std::int64_t> v_;
};

// Python's start:stop:step; negative start and stop count from the end, step >= 1.
struct Slice {
    Slice(SliceBound start = {}, SliceBound stop = {}, SliceBound step = {})
        : start(start.value()), stop(stop.value()), step(step.value()) {}
    std::optional<std::int64_t> start, stop, step;
};

class TensorIndex {
  public:
    enum class Kind { none, ellipsis, integer, boolean, slice, tensor };
    TensorIndex(NoneType) : kind_(Kind::none) {}          // NOLINT: implicit, as libtorch's
    TensorIndex(EllipsisType) : kind_(Kind::ellipsis) {}  // NOLINT
    TensorIndex(const char* s);                           // NOLINT: "..." is Ellipsis
    template <class T, class = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
    TensorIndex(T i) : kind_(Kind::integer), integer_(static_cast<std::int64_t>(i)) {}  // NOLINT
    // bool only: a double would otherwise convert to bool and add a dim (libtorch restricts it
    // too).
    template <class T, class = std::enable_if_t<std::is_same_v<T, bool>>, class = void>
    TensorIndex(T b) : kind_(Kind::boolean), boolean_(b) {}                // NOLINT
    TensorIndex(Slice s) : kind_(Kind::slice), slice_(s) {}                // NOLINT
    TensorIndex(Tensor t) : kind_(Kind::tensor), tensor_(std::move(t)) {}  // NOLINT

    Kind kind() const { return kind_; }
    std::int64_t integer() const { return integer_; }
    bool boolean() const { return boolean_; }
    const Slice& slice() const { return slice_; }
    const Tensor& tensor() const { return tensor_; }
    std::string str() const;  // as Python writes it, for error messages

  private:
    Kind kind_;
    std::int64_t integer_ = 0;
    bool boolean_ = false;
    Slice slice_;
    Tensor tensor_;
};

}  // namespace indexing

using indexing::TensorIndex;

// self[indices] (torch's Tensor.index). The result is a new tensor.
Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices, Site site = Site());
// self with self[indices] = values (values broadcast to the indexed shape), out of place and
// differentiable in both; accumulate adds instead (repeated positions add up).
Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                 bool accumulate = false, Site site = Site());
// self[indices] = values, in place (torch's index_put_ and Tensor.index_put_): writes into
// self's storage and bumps its version. On a tensor with history the write is recorded (the
// tensor's grad_fn becomes the write), as in PyTorch; refused on a leaf that requires grad
// while grad mode is on. With repeated positions the last write wins.
Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                   bool accumulate = false, Site site = Site());
Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, Scalar value,
                   Site site = Site());

namespace detail {
// index_put under the name of the op the user called.
Tensor index_put_as(const char* op, const Tensor& self, const std::vector<TensorIndex>& indices,
                    const Tensor& values, bool accumulate);
}  // namespace detail

}  // namespace xg
