#pragma once
// xg::Tensor: a cheap-to-copy handle to data (an xt::xarray of the tensor's dtype) plus the
// autograd state (requires_grad, grad, grad_fn). Ops live in ops/; the methods declared here
// that mirror torch::Tensor's are defined next to their ops.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <xtensor/xarray.hpp>

#include "core/anomaly.hpp"
#include "core/debug.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/scalar.hpp"

namespace xg {

// The array behind every tensor: an xt::xarray whose buffer comes from xgrad's buffer cache
// (core/memory.hpp). It converts to and from xt::xarray like any xtensor container.
template <class T>
using array = xt::xarray<T, xt::layout_type::row_major, detail::cache_allocator<T>>;

namespace detail {
template <class E>
inline constexpr bool is_tensor_array_v =
    std::is_same_v<E, array<float>> || std::is_same_v<E, array<double>> ||
    std::is_same_v<E, array<std::int64_t>> || std::is_same_v<E, array<std::int32_t>> ||
    std::is_same_v<E, array<bool>>;
// float, double, int32 and bool keep their type; other floats become double, other integers
// int64 (as torch.from_numpy keeps a NumPy dtype it has).
template <class V>
using tensor_scalar_t = std::conditional_t<
    std::is_same_v<V, float>, float,
    std::conditional_t<std::is_floating_point_v<V>, double,
                       std::conditional_t<std::is_same_v<V, bool>, bool,
                                          std::conditional_t<std::is_same_v<V, std::int32_t>,
                                                             std::int32_t, std::int64_t>>>>;
}  // namespace detail

class Node;
class Tensor;
class Generator;
namespace indexing {
class TensorIndex;
}
using TensorList = std::vector<Tensor>;
using TensorHook = std::function<Tensor(const Tensor&)>;
// Run on a leaf after backward has accumulated into its .grad (PyTorch's
// register_post_accumulate_grad_hook): the leaf is passed, its .grad already updated.
using PostAccumulateGradHook = std::function<void(Tensor&)>;

// The data and autograd state behind a handle (core/tensor_impl.hpp).
struct TensorImpl;
struct Storage;

class Tensor {
  public:
    Tensor() = default;  // undefined tensor, like a default torch::Tensor
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
    explicit Tensor(xg::array<float> a);
    explicit Tensor(xg::array<double> a);
    explicit Tensor(xg::array<std::int64_t> a);
    explicit Tensor(xg::array<std::int32_t> a);
    explicit Tensor(xg::array<bool> a);
    // From any xtensor container or expression (an xt::xarray, xt::zeros(...)): copied.
    template <class E, class = std::enable_if_t<xt::is_xexpression<std::decay_t<E>>::value &&
                                                !detail::is_tensor_array_v<std::decay_t<E>>>>
    explicit Tensor(const E& e)
        : Tensor(array<detail::tensor_scalar_t<typename std::decay_t<E>::value_type>>(e)) {}

    bool defined() const { return impl_ != nullptr; }
    Dtype dtype() const;
    const Shape& shape() const;
    std::size_t dim() const { return shape().size(); }
    std::size_t numel() const;
    std::size_t size(std::int64_t d) const;  // negative d counts from the end

    // Data access. data<T>() throws xg::Error if T is not the tensor's dtype. mutable_data<T>()
    // counts as an in-place write (bumps the version) and is refused on a leaf that requires
    // grad while grad mode is on, as in PyTorch.
    template <class T>
    const xg::array<T>& data() const;
    template <class T>
    xg::array<T>& mutable_data();
    template <class T = double>
    T item() const;
    std::vector<double> to_vector() const;  // flat, row-major, as double
    Tensor to(Dtype d,
              Site site = Site()) const;     // differentiable cast; returns *this if same dtype
    Tensor clone(Site site = Site()) const;  // differentiable copy

    // Autograd state.
    bool requires_grad() const;
    Tensor& requires_grad_(bool on = true);
    Tensor grad() const;
    void set_grad(const Tensor& g);
    void zero_grad();  // drops .grad, like set_to_none
    const std::shared_ptr<Node>& grad_fn() const;
    std::uint32_t output_nr() const;
    bool is_leaf() const;
    Tensor detach() const;  // shares data, no history
    void retain_grad();     // keep .grad on a non-leaf
    void register_hook(TensorHook hook);
    // Leaves that require grad only; returns a handle for remove_post_accumulate_grad_hook.
    std::size_t register_post_accumulate_grad_hook(PostAccumulateGradHook hook);
    void remove_post_accumulate_grad_hook(std::size_t handle);
    void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = {},
                  bool create_graph = false) const;
    std::uint64_t version() const;
    Tensor& set_name(std::string name);
    const std::string& name() const;

    // Methods mirroring torch::Tensor (defined in ops/).
    Tensor sum(Site site = Site()) const;
    Tensor sum(std::vector<std::int64_t> dims, bool keepdim = false, Site site = Site()) const;
    Tensor mean(Site site = Site()) const;
    Tensor mean(std::vector<std::int64_t> dims, bool keepdim = false, Site site = Site()) const;
    Tensor reshape(std::vector<std::int64_t> shape, Site site = Site()) const;
    Tensor view(std::vector<std::int64_t> shape, Site site = Site()) const;
    Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1, Site site = Site()) const;
    Tensor transpose(std::int64_t d0, std::int64_t d1, Site site = Site()) const;
    Tensor permute(std::vector<std::int64_t> dims, Site site = Site()) const;
    Tensor squeeze(Site site = Site()) const;
    Tensor squeeze(std::int64_t dim, Site site = Site()) const;
    Tensor unsqueeze(std::int64_t dim, Site site = Site()) const;
    Tensor matmul(const Tensor& other, Site site = Site()) const;
    Tensor pow(double exponent, Site site = Site()) const;
    Tensor exp(Site site = Site()) const;
    Tensor log(Site site = Site()) const;
    Tensor tanh(Site site = Site()) const;
    Tensor relu(Site site = Site()) const;
    Tensor sigmoid(Site site = Site()) const;
    Tensor neg(Site site = Site()) const;
    Tensor sqrt(Site site = Site()) const;
    Tensor abs(Site site = Site()) const;
    Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = {},
                 Site site = Site()) const;
    // ops/math.hpp
    Tensor sin(Site site = Site()) const;
    Tensor cos(Site site = Site()) const;
    Tensor tan(Site site = Site()) const;
    Tensor asin(Site site = Site()) const;
    Tensor acos(Site site = Site()) const;
    Tensor atan(Site site = Site()) const;
    Tensor sinh(Site site = Site()) const;
    Tensor cosh(Site site = Site()) const;
    Tensor erf(Site site = Site()) const;
    Tensor erfinv(Site site = Site()) const;
    Tensor log1p(Site site = Site()) const;
    Tensor expm1(Site site = Site()) const;
    Tensor log2(Site site = Site()) const;
    Tensor log10(Site site = Site()) const;
    Tensor rsqrt(Site site = Site()) const;
    Tensor reciprocal(Site site = Site()) const;
    Tensor square(Site site = Site()) const;
    Tensor floor(Site site = Site()) const;
    Tensor ceil(Site site = Site()) const;
    Tensor round(Site site = Site()) const;
    Tensor trunc(Site site = Site()) const;
    Tensor frac(Site site = Site()) const;
    Tensor argmax(std::optional<std::int64_t> dim = {}, bool keepdim = false) const;
    // More methods mirroring torch::Tensor, each calling the xg:: function of the same name
    // (ops/tensor_methods.cpp). Dims are int64 and may be negative.
    Tensor sum(std::int64_t dim, bool keepdim = false, Site site = Site()) const;
    Tensor mean(std::int64_t dim, bool keepdim = false, Site site = Site()) const;
    Tensor add(const Tensor& other, Site site = Site()) const;
    Tensor add(Scalar other, Site site = Site()) const;
    Tensor sub(const Tensor& other, Site site = Site()) const;
    Tensor sub(Scalar other, Site site = Site()) const;
    Tensor mul(const Tensor& other, Site site = Site()) const;
    Tensor mul(Scalar other, Site site = Site()) const;
    Tensor div(const Tensor& other, Site site = Site()) const;
    Tensor div(Scalar other, Site site = Site()) const;
    Tensor eq(const Tensor& other) const;
    Tensor eq(Scalar other) const;
    Tensor ne(const Tensor& other) const;
    Tensor ne(Scalar other) const;
    Tensor lt(const Tensor& other) const;
    Tensor lt(Scalar other) const;
    Tensor le(const Tensor& other) const;
    Tensor le(Scalar other) const;
    Tensor gt(const Tensor& other) const;
    Tensor gt(Scalar other) const;
    Tensor ge(const Tensor& other) const;
    Tensor ge(Scalar other) const;
    Tensor logical_and(const Tensor& other, Site site = Site()) const;
    Tensor logical_or(const Tensor& other, Site site = Site()) const;
    Tensor logical_xor(const Tensor& other, Site site = Site()) const;
    Tensor logical_not(Site site = Site()) const;
    Tensor any(Site site = Site()) const;
    Tensor any(std::int64_t dim, bool keepdim = false, Site site = Site()) const;
    Tensor all(Site site = Site()) const;
    Tensor all(std::int64_t dim, bool keepdim = false, Site site = Site()) const;
    Tensor masked_fill(const Tensor& mask, Scalar value, Site site = Site()) const;
    Tensor masked_fill(const Tensor& mask, const Tensor& value, Site site = Site()) const;
    Tensor masked_select(const Tensor& mask, Site site = Site()) const;
    Tensor floor_divide(const Tensor& other, Site site = Site()) const;
    Tensor argmin(std::optional<std::int64_t> dim = {}, bool keepdim = false) const;
    // ops/reduce.hpp, ops/reduce_more.hpp, ops/scan.hpp, ops/sort.hpp
    Tensor max(Site site = Site()) const;
    Tensor min(Site site = Site()) const;
    std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false,
                                   Site site = Site()) const;
    std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false,
                                   Site site = Site()) const;
    Tensor amax(std::vector<std::int64_t> dims = {}, bool keepdim = false,
                Site site = Site()) const;
    Tensor amin(std::vector<std::int64_t> dims = {}, bool keepdim = false,
                Site site = Site()) const;
    Tensor var(std::vector<std::int64_t> dims = {}, std::int64_t correction = 1,
               bool keepdim = false, Site site = Site()) const;
    Tensor std(std::vector<std::int64_t> dims = {}, std::int64_t correction = 1,
               bool keepdim = false, Site site = Site()) const;
    Tensor logsumexp(std::vector<std::int64_t> dims, bool keepdim = false,
                     Site site = Site()) const;
    Tensor norm(double p = 2.0, std::vector<std::int64_t> dims = {}, bool keepdim = false,
                Site site = Site()) const;
    Tensor dist(const Tensor& other, double p = 2.0, Site site = Site()) const;
    Tensor prod(Site site = Site()) const;
    Tensor prod(std::int64_t dim, bool keepdim = false, Site site = Site()) const;
    Tensor cumsum(std::int64_t dim, Site site = Site()) const;
    Tensor cumprod(std::int64_t dim, Site site = Site()) const;
    Tensor logcumsumexp(std::int64_t dim, Site site = Site()) const;
    std::tuple<Tensor, Tensor> sort(std::int64_t dim = -1, bool descending = false,
                                    Site site = Site()) const;
    Tensor argsort(std::int64_t dim = -1, bool descending = false, Site site = Site()) const;
    std::tuple<Tensor, Tensor> topk(std::int64_t k, std::int64_t dim = -1, bool largest = true,
                                    bool sorted = true, Site site = Site()) const;
    std::tuple<Tensor, Tensor> kthvalue(std::int64_t k, std::int64_t dim = -1, bool keepdim = false,
                                        Site site = Site()) const;
    Tensor median(Site site = Site()) const;
    std::tuple<Tensor, Tensor> median(std::int64_t dim, bool keepdim = false,
                                      Site site = Site()) const;
    // ops/layout.hpp, ops/linalg.hpp
    std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0,
                              Site site = Site()) const;
    std::vector<Tensor> split(const std::vector<std::int64_t>& sizes, std::int64_t dim = 0,
                              Site site = Site()) const;
    std::vector<Tensor> split_with_sizes(const std::vector<std::int64_t>& sizes,
                                         std::int64_t dim = 0, Site site = Site()) const;
    std::vector<Tensor> chunk(std::int64_t chunks, std::int64_t dim = 0, Site site = Site()) const;
    std::vector<Tensor> unbind(std::int64_t dim = 0, Site site = Site()) const;
    Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length,
                  Site site = Site()) const;
    Tensor repeat(const std::vector<std::int64_t>& repeats, Site site = Site()) const;
    Tensor tile(const std::vector<std::int64_t>& reps, Site site = Site()) const;
    Tensor repeat_interleave(std::int64_t repeats, std::optional<std::int64_t> dim = {},
                             Site site = Site()) const;
    Tensor repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> dim = {},
                             Site site = Site()) const;
    Tensor flip(const std::vector<std::int64_t>& dims, Site site = Site()) const;
    Tensor roll(const std::vector<std::int64_t>& shifts, const std::vector<std::int64_t>& dims = {},
                Site site = Site()) const;
    Tensor tril(std::int64_t diagonal = 0, Site site = Site()) const;
    Tensor triu(std::int64_t diagonal = 0, Site site = Site()) const;
    Tensor diagonal(std::int64_t offset = 0, std::int64_t dim1 = 0, std::int64_t dim2 = 1,
                    Site site = Site()) const;
    Tensor movedim(std::int64_t source, std::int64_t destination, Site site = Site()) const;
    Tensor movedim(const std::vector<std::int64_t>& source,
                   const std::vector<std::int64_t>& destination, Site site = Site()) const;
    Tensor swapaxes(std::int64_t axis0, std::int64_t axis1, Site site = Site()) const;
    Tensor expand_as(const Tensor& other, Site site = Site()) const;
    Tensor expand(const std::vector<std::int64_t>& size, Site site = Site()) const;  // -1 keeps
    Tensor broadcast_to(const std::vector<std::int64_t>& size, Site site = Site()) const;
    Tensor bmm(const Tensor& mat2, Site site = Site()) const;
    Tensor baddbmm(const Tensor& batch1, const Tensor& batch2, double beta = 1.0,
                   double alpha = 1.0, Site site = Site()) const;
    Tensor addmm(const Tensor& mat1, const Tensor& mat2, double beta = 1.0, double alpha = 1.0,
                 Site site = Site()) const;
    Tensor outer(const Tensor& vec2, Site site = Site()) const;
    // ops/gather.hpp, ops/random.hpp
    Tensor index_select(std::int64_t dim, const Tensor& index, Site site = Site()) const;
    Tensor gather(std::int64_t dim, const Tensor& index, Site site = Site()) const;
    Tensor take_along_dim(const Tensor& indices, std::optional<std::int64_t> dim = {},
                          Site site = Site()) const;
    Tensor scatter(std::int64_t dim, const Tensor& index, const Tensor& src,
                   Site site = Site()) const;
    Tensor scatter(std::int64_t dim, const Tensor& index, double value, Site site = Site()) const;
    Tensor scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src,
                       Site site = Site()) const;
    Tensor index_add(std::int64_t dim, const Tensor& index, const Tensor& source,
                     double alpha = 1.0, Site site = Site()) const;
    Tensor nonzero(Site site = Site()) const;
    Tensor bernoulli(Site site = Site()) const;
    Tensor multinomial(std::int64_t num_samples, bool replacement = false,
                       Site site = Site()) const;
    Tensor& uniform_(double from = 0.0, double to = 1.0);
    Tensor& uniform_(double from, double to, Generator& gen);
    Tensor& normal_(double mean = 0.0, double std = 1.0);
    Tensor& normal_(double mean, double std, Generator& gen);
    // ops/index.hpp: t.index({Slice(), 0}) reads, t.index_put_({mask}, 0) writes in place.
    Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
    Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values);
    Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, Scalar value);

    // In-place ops (ops/inplace.cpp), PyTorch's semantics: they write into this tensor's
    // storage, bump its version and return *this. A tensor argument must have this tensor's
    // dtype and may broadcast to its shape (not the other way). Refused while grad mode is on
    // when this tensor requires grad (a leaf, or a non-leaf: no view+in-place autograd here)
    // or when an argument requires grad (in-place ops are never recorded).
    Tensor& add_(const Tensor& other, double alpha = 1.0);  // self += alpha * other
    Tensor& add_(double other);
    Tensor& sub_(const Tensor& other, double alpha = 1.0);  // self -= alpha * other
    Tensor& sub_(double other);
    Tensor& mul_(const Tensor& other);
    Tensor& mul_(double other);
    Tensor& div_(const Tensor& other);
    Tensor& div_(double other);
    Tensor& addcmul_(const Tensor& t1, const Tensor& t2, double value = 1.0);  // += v*t1*t2
    Tensor& addcdiv_(const Tensor& t1, const Tensor& t2, double value = 1.0);  // += v*t1/t2
    Tensor& lerp_(const Tensor& end, double weight);  // self += weight * (end - self)
    Tensor& clamp_(std::optional<double> min, std::optional<double> max = {});
    Tensor& sqrt_();
    Tensor& zero_();
    Tensor& fill_(double value);
    Tensor& copy_(const Tensor& src);  // same dtype required (use src.to(dtype) first)

    // Whether the elements exist yet (false for a broadcast not written out, LazyBroadcast).
    bool is_materialized() const;

    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  private:
    const TensorImpl& checked() const;
    const Storage& ready() const;  // the storage, with a pending broadcast written out
    std::shared_ptr<TensorImpl> impl_;
};

// The dtype a binary op on a and b computes in (torch.result_type): promote_types of the two,
// except that a 0-d tensor beside a dimensioned one counts only when of a higher kind.
Dtype result_type(const Tensor& a, const Tensor& b);

// Factories. Shapes are row-major; the default dtype is float32, as in PyTorch.
Tensor zeros(const Shape& shape, Dtype dtype = float32);
Tensor ones(const Shape& shape, Dtype dtype = float32);
Tensor full(const Shape& shape, double value, Dtype dtype = float32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor arange(double end, Dtype dtype = float32);
Tensor arange(double start, double end, double step = 1.0, Dtype dtype = float32);
class Generator;
Tensor randn(const Shape& shape, Dtype dtype = float32);  // N(0, 1) from the global generator
Tensor rand(const Shape& shape, Dtype dtype = float32);   // U[0, 1) from the global generator
// The same from a given generator (its stream only; the global one is not touched).
Tensor randn(const Shape& shape, Generator& gen, Dtype dtype = float32);
Tensor rand(const Shape& shape, Generator& gen, Dtype dtype = float32);
Tensor scalar_tensor(double value, Dtype dtype = float32);

namespace detail {
// `source` broadcast to `shape` (which it must broadcast to), without writing the elements out
// until something reads them. No history. The source's values are copied (it is at most as big
// as the result), so in-place writes to `source` later do not show through; `fresh` says that
// source is a kernel's new result that nobody else holds, taken without a copy.
Tensor broadcast_lazy(const Tensor& source, const Shape& shape, bool fresh = false);
// The source of a tensor made by broadcast_lazy and not yet written out (undefined otherwise),
// to be read with broadcasting against the tensor's shape.
Tensor broadcast_source(const Tensor& t);
}  // namespace detail

// From xtensor data (copied) and from nested initializer lists.
template <class E>
Tensor from_array(const xt::xexpression<E>& a) {
    return Tensor(a.derived_cast());
}
Tensor tensor(xt::nested_initializer_list_t<double, 0> v, Dtype dtype = float32);
Tensor tensor(xt::nested_initializer_list_t<double, 1> v, Dtype dtype = float32);
Tensor tensor(xt::nested_initializer_list_t<double, 2> v, Dtype dtype = float32);
Tensor tensor(xt::nested_initializer_list_t<double, 3> v, Dtype dtype = float32);
Tensor tensor(xt::nested_initializer_list_t<double, 4> v, Dtype dtype = float32);

// As PyTorch's repr, with braces: "tensor({{1.0000, 2.5000}}, dtype=float64, grad_fn=MulBackward)";
// dtype is shown unless float32; more than 1000 elements print the first and last 3 per dim.
std::string to_string(const Tensor& t);
// std::cout << t prints what fmt::print("{}", t) does.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace xg

template <>
struct fmt::formatter<xg::Tensor> : fmt::formatter<fmt::string_view> {
    template <class Ctx>
    auto format(const xg::Tensor& t, Ctx& ctx) const {
        return fmt::formatter<fmt::string_view>::format(xg::to_string(t), ctx);
    }
};
