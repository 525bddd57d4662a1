#include "core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>

#include <xtensor/xbuilder.hpp>

#include "core/checked.hpp"
#include "core/dispatch.hpp"
#include "core/engine.hpp"
#include "core/grad_mode.hpp"
#include "core/memory.hpp"
#include "core/node.hpp"
#include "core/random.hpp"
#include "core/scalar.hpp"
#include "core/tensor_impl.hpp"

namespace xg {

const char* dtype_name(Dtype d) {
    switch (d) {
        case Dtype::float32:
            return "float32";
        case Dtype::float64:
            return "float64";
        case Dtype::int64:
            return "int64";
        case Dtype::int32:
            return "int32";
        case Dtype::bool_:
            return "bool";
    }
    return "unknown";
}

Dtype result_type(Dtype t, const Scalar& s) {
    if (s.is_floating_point() && !is_floating(t)) return float32;
    if (s.is_integral() && t == bool_) return int64;
    return t;
}

Dtype result_type(const Tensor& a, const Tensor& b) {
    const bool da = a.dim() > 0, db = b.dim() > 0;
    if (da == db) return promote_types(a.dtype(), b.dtype());
    // A 0-d tensor counts only when it is of a higher kind (bool < integer < floating point).
    const Dtype dim_t = da ? a.dtype() : b.dtype(), zero_t = da ? b.dtype() : a.dtype();
    auto kind = [](Dtype d) { return is_floating(d) ? 2 : is_integral(d) ? 1 : 0; };
    return kind(zero_t) > kind(dim_t) ? zero_t : dim_t;
}

Dtype promote_types(Dtype a, Dtype b) {
    if (a == b) return a;
    auto kind = [](Dtype d) { return is_floating(d) ? 2 : is_integral(d) ? 1 : 0; };
    if (kind(a) != kind(b)) return kind(a) > kind(b) ? a : b;
    return dtype_size(a) >= dtype_size(b) ? a : b;  // same kind: the wider
}

std::size_t shape_numel(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

std::string shape_str(const Shape& s) {
    return fmt::format("[{}]", fmt::join(s, ", "));
}

namespace {
template <class T>
std::shared_ptr<TensorImpl> make_impl(xg::array<T>&& a) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(Storage{std::move(a), 0, {}, nullptr});
    return impl;
}
}  // namespace

Tensor::Tensor(xg::array<float> a) : impl_(make_impl(std::move(a))) {}
Tensor::Tensor(xg::array<double> a) : impl_(make_impl(std::move(a))) {}
Tensor::Tensor(xg::array<std::int64_t> a) : impl_(make_impl(std::move(a))) {}
Tensor::Tensor(xg::array<std::int32_t> a) : impl_(make_impl(std::move(a))) {}
Tensor::Tensor(xg::array<bool> a) : impl_(make_impl(std::move(a))) {}

const TensorImpl& Tensor::checked() const {
    XG_CHECK(impl_ != nullptr, "Tensor: operation on an undefined tensor");
    return *impl_;
}

namespace {
// Writes a pending broadcast out, once, whichever thread asks first.
void materialize(Storage& s) {
    LazyBroadcast& lz = *s.lazy;
    std::lock_guard<std::mutex> lock(lz.mutex);
    if (!lz.pending.load(std::memory_order_relaxed)) return;
    std::visit(
        [&](const auto& src) {
            using A = std::decay_t<decltype(src)>;
            A r = A::from_shape(lz.shape);
            if (src.size() == 1) {  // raw pointers and a local value: the fill vectorizes
                const auto v = *src.data();
                std::fill(r.data(), r.data() + r.size(), v);
            } else {
                r = xt::broadcast(src, lz.shape);
            }
            s.array = std::move(r);
        },
        lz.source->storage->array);
    lz.pending.store(false, std::memory_order_release);
}
}  // namespace

const Storage& Tensor::ready() const {
    Storage& s = *checked().storage;
    if (s.lazy && s.lazy->pending.load(std::memory_order_acquire)) materialize(s);
    return s;
}

bool Tensor::is_materialized() const {
    const Storage& s = *checked().storage;
    return !s.lazy || !s.lazy->pending.load(std::memory_order_acquire);
}

Dtype Tensor::dtype() const {
    return static_cast<Dtype>(checked().storage->array.index());
}

const Shape& Tensor::shape() const {
    const Storage& s = *checked().storage;
    if (s.lazy) return s.lazy->shape;  // kept after the write-out: the reference stays valid
    return std::visit([](const auto& a) -> const Shape& { return a.shape(); }, s.array);
}

std::size_t Tensor::numel() const {
    const Storage& s = *checked().storage;
    if (s.lazy) return shape_numel(s.lazy->shape);
    return std::visit([](const auto& a) { return a.size(); }, s.array);
}

namespace detail {

Tensor broadcast_lazy(const Tensor& source, const Shape& shape, bool fresh) {
    check_defined("broadcast_lazy", source, "source");
    XG_CHECK(is_broadcastable_to(source.shape(), shape), "expand: cannot broadcast {} to {}",
             source.shape(), shape);
    // A snapshot, as the written-out broadcast would be (a kernel's fresh result is one).
    XG_CHECK(!fresh || (!source.requires_grad() && source.is_materialized()),
             "broadcast_lazy: a fresh source has no history and is written out");
    Tensor src = fresh ? source : source.detach().clone();
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>();
    impl->storage->lazy = std::make_unique<LazyBroadcast>();
    impl->storage->lazy->source = src.impl_ptr();
    impl->storage->lazy->shape = shape;
    std::visit([&](const auto& a) { impl->storage->array = std::decay_t<decltype(a)>(); },
               src.impl()->storage->array);
    return Tensor(impl);
}

Tensor broadcast_source(const Tensor& t) {
    // Once written out the elements may have been changed in place: the source is stale.
    if (!t.defined() || t.is_materialized()) return Tensor();
    return Tensor(t.impl()->storage->lazy->source);
}

}  // namespace detail

std::size_t Tensor::size(std::int64_t d) const {
    return shape()[detail::wrap_dim("size", d, dim())];
}

template <class T>
const xg::array<T>& Tensor::data() const {
    const auto* a = std::get_if<xg::array<T>>(&ready().array);
    XG_CHECK(a != nullptr, "data: tensor has dtype {}, requested {}", dtype(), dtype_of<T>());
    return *a;
}

template <class T>
xg::array<T>& Tensor::mutable_data() {
    XG_CHECK(!(is_leaf() && requires_grad() && GradMode::is_enabled()),
             "mutable_data: a leaf tensor that requires grad cannot be modified in place while "
             "grad mode is on (use xg::NoGradGuard)");
    ready();
    auto* a = std::get_if<xg::array<T>>(&impl_->storage->array);
    XG_CHECK(a != nullptr, "mutable_data: tensor has dtype {}, requested {}", dtype(),
             dtype_of<T>());
    ++impl_->storage->version;
    return *a;
}

template <class T>
T Tensor::item() const {
    XG_CHECK(numel() == 1, "item: a tensor with {} elements (shape {}) has no single value",
             numel(), shape());
    return std::visit([](const auto& a) { return detail::value_cast<T>("item", *a.begin()); },
                      ready().array);
}

std::vector<double> Tensor::to_vector() const {
    return std::visit([](const auto& a) { return std::vector<double>(a.begin(), a.end()); },
                      ready().array);
}

template const xg::array<float>& Tensor::data<float>() const;
template const xg::array<double>& Tensor::data<double>() const;
template const xg::array<std::int64_t>& Tensor::data<std::int64_t>() const;
template xg::array<float>& Tensor::mutable_data<float>();
template xg::array<double>& Tensor::mutable_data<double>();
template xg::array<std::int64_t>& Tensor::mutable_data<std::int64_t>();
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template std::int64_t Tensor::item<std::int64_t>() const;
template const xg::array<std::int32_t>& Tensor::data<std::int32_t>() const;
template const xg::array<bool>& Tensor::data<bool>() const;
template xg::array<std::int32_t>& Tensor::mutable_data<std::int32_t>();
template xg::array<bool>& Tensor::mutable_data<bool>();
template std::int32_t Tensor::item<std::int32_t>() const;
template bool Tensor::item<bool>() const;

Tensor Tensor::to(Dtype d, Site site) const {
    detail::SiteScope at(site);
    detail::check_defined("to", *this, "self");
    if (dtype() == d) return *this;
    XG_CHECK(is_floating(d) || !any_requires_grad({this}),
             "to: cannot cast a tensor that requires grad to {} (integers carry no gradient); "
             "detach() it first",
             d);
    Tensor out = detail::dispatch_all(d, [&](auto tag) {
        using T = decltype(tag);
        return std::visit(
            [](const auto& a) {
                auto r = xg::array<T>::from_shape(a.shape());
                auto* out = r.data();
                const auto* in = a.data();
                for (std::size_t i = 0; i < a.size(); ++i)
                    out[i] = detail::value_cast<T>("to", in[i]);
                return Tensor(std::move(r));
            },
            ready().array);
    });
    if (auto node = record("ToCopyBackward", {*this}, {out})) {
        Dtype from = dtype();
        node->set_fn([from](const TensorList& g) { return TensorList{g[0].to(from)}; });
    }
    return out;
}

Tensor Tensor::clone(Site site) const {
    detail::SiteScope at(site);
    detail::check_defined("clone", *this, "self");
    Tensor out = std::visit([](const auto& a) { return Tensor(std::decay_t<decltype(a)>(a)); },
                            ready().array);
    if (auto node = record("CloneBackward", {*this}, {out}))
        node->set_fn([](const TensorList& g) { return g; });
    return out;
}

bool Tensor::requires_grad() const {
    return impl_ && impl_->requires_grad;
}

Tensor& Tensor::requires_grad_(bool on) {
    checked();
    XG_CHECK(is_leaf() || on,
             "requires_grad_: can only change requires_grad of a leaf tensor (use detach())");
    XG_CHECK(!on || is_floating(dtype()),
             "requires_grad_: only floating-point tensors can require grad, got {}", dtype());
    impl_->requires_grad = on;
    return *this;
}

Tensor Tensor::grad() const {
    return checked().grad ? Tensor(impl_->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
    checked();
    if (g.defined()) {
        XG_CHECK(g.shape() == shape() && g.dtype() == dtype(),
                 "set_grad: gradient {} {} does not match tensor {} {}", g.shape(), g.dtype(),
                 shape(), dtype());
    }
    impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() {
    checked(), impl_->grad.reset();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
    return checked().grad_fn;
}
std::uint32_t Tensor::output_nr() const {
    return checked().output_nr;
}
bool Tensor::is_leaf() const {
    return checked().grad_fn == nullptr;
}

Tensor Tensor::detach() const {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = checked().storage;
    return Tensor(impl);
}

void Tensor::retain_grad() {
    checked();
    if (is_leaf() || impl_->retains_grad) return;
    impl_->retains_grad = true;
    std::weak_ptr<TensorImpl> weak = impl_;  // weak: the hook lives on our own grad_fn
    register_hook([weak](const Tensor& g) {
        auto self = weak.lock();
        if (!self) return Tensor();
        Tensor sum = detail::dispatch_float("retain_grad", g.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (!self->grad) return Tensor(xg::array<T>(g.data<T>()));
            return Tensor(xg::array<T>(Tensor(self->grad).data<T>() + g.data<T>()));
        });
        self->grad = sum.impl_ptr();
        return Tensor();
    });
}

void Tensor::register_hook(TensorHook hook) {
    XG_CHECK(requires_grad(),
             "register_hook: cannot register a hook on a tensor that does not require grad");
    if (is_leaf()) {
        impl_->hooks.push_back(std::move(hook));
    } else {
        impl_->grad_fn->hooks(impl_->output_nr)->push_back(std::move(hook));
    }
}

std::size_t Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) {
    XG_CHECK(requires_grad() && is_leaf(),
             "register_post_accumulate_grad_hook: only a leaf that requires grad accumulates a "
             ".grad (this tensor is {})",
             requires_grad() ? "not a leaf" : "one that does not require grad");
    static std::atomic<std::size_t> next{1};
    const std::size_t handle = next.fetch_add(1, std::memory_order_relaxed);
    impl_->post_accumulate_hooks.emplace_back(handle, std::move(hook));
    return handle;
}

void Tensor::remove_post_accumulate_grad_hook(std::size_t handle) {
    checked();
    auto& v = impl_->post_accumulate_hooks;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& h) { return h.first == handle; }),
            v.end());
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
    xg::backward({*this}, {gradient}, retain_graph, create_graph);
}

std::uint64_t Tensor::version() const {
    return checked().storage->version;
}

Tensor& Tensor::set_name(std::string name) {
    checked();
    impl_->name = std::move(name);
    return *this;
}

const std::string& Tensor::name() const {
    return checked().name;
}

// ---- factories ----

namespace {
// full() under the name of the factory the user called, so errors name it.
Tensor fill_as(const char* op, const Shape& shape, double value, Dtype dtype) {
    std::size_t n = checked_numel(op, shape, dtype_size(dtype));
    detail::check_representable(op, value, dtype);
    try {
        return detail::dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> a = xg::array<T>::from_shape(shape);
            a.fill(detail::value_cast<T>(op, value));
            return Tensor(std::move(a));
        });
    } catch (const std::bad_alloc&) {
        throw Error(
            fmt::format("{}: out of memory allocating {} elements of {} ({} bytes, shape {})", op,
                        n, dtype_name(dtype), n * dtype_size(dtype), shape_str(shape)));
    }
}

const Tensor& defined_arg(const char* op, const Tensor& t) {
    XG_CHECK(t.defined(), "{}: the input tensor is undefined", op);
    return t;
}
}  // namespace

Tensor full(const Shape& shape, double value, Dtype dtype) {
    return fill_as("full", shape, value, dtype);
}
Tensor zeros(const Shape& shape, Dtype dtype) {
    return fill_as("zeros", shape, 0.0, dtype);
}
Tensor ones(const Shape& shape, Dtype dtype) {
    return fill_as("ones", shape, 1.0, dtype);
}
Tensor zeros_like(const Tensor& t) {
    const Tensor& d = defined_arg("zeros_like", t);
    return fill_as("zeros_like", d.shape(), 0.0, d.dtype());
}
Tensor ones_like(const Tensor& t) {
    const Tensor& d = defined_arg("ones_like", t);
    return fill_as("ones_like", d.shape(), 1.0, d.dtype());
}
Tensor full_like(const Tensor& t, double value) {
    const Tensor& d = defined_arg("full_like", t);
    return fill_as("full_like", d.shape(), value, d.dtype());
}
Tensor scalar_tensor(double value, Dtype dtype) {
    return fill_as("scalar_tensor", Shape{}, value, dtype);
}

Tensor arange(double end, Dtype dtype) {
    return arange(0.0, end, 1.0, dtype);
}

Tensor arange(double start, double end, double step, Dtype dtype) {
    XG_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
             "arange: start, end and step must be finite, got {}, {}, {}", start, end, step);
    XG_CHECK(step != 0.0, "arange: step must be nonzero");
    XG_CHECK((end - start) / step >= 0.0, "arange: cannot go from {} to {} with step {}", start,
             end, step);
    double count = std::ceil((end - start) / step);
    // Beyond 2^48 elements no machine holds the result, and the cast below would be undefined.
    XG_CHECK(count <= 281474976710656.0,
             "arange: {} elements (from {} to {} with step {}) is too many", count, start, end,
             step);
    XG_CHECK(dtype != bool_, "arange: not supported for bool");
    detail::check_representable("arange", start, dtype);
    detail::check_representable("arange", start + step * std::max(0.0, count - 1), dtype);
    auto n = static_cast<std::size_t>(count);
    checked_numel("arange", Shape{n}, dtype_size(dtype));
    return naming_oom("arange", [&] {
        return detail::dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> a = xg::array<T>::from_shape({n});
            for (std::size_t i = 0; i < n; ++i)
                a(i) = detail::value_cast<T>("arange", start + step * double(i));
            return Tensor(std::move(a));
        });
    });
}

namespace {
template <class Draw>
Tensor random_fill(const char* op, const Shape& shape, Dtype dtype, Draw draw) {
    checked_numel(op, shape, dtype_size(dtype));
    return detail::dispatch_float(op, dtype, [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> a = xg::array<T>::from_shape(shape);
        for (auto& v : a) v = static_cast<T>(draw());
        return Tensor(std::move(a));
    });
}
}  // namespace

Tensor randn(const Shape& shape, Dtype dtype) {
    return randn(shape, default_generator(), dtype);
}

Tensor rand(const Shape& shape, Dtype dtype) {
    return rand(shape, default_generator(), dtype);
}

Tensor randn(const Shape& shape, Generator& gen, Dtype dtype) {
    return random_fill("randn", shape, dtype, [&gen] { return gen.normal(); });
}

Tensor rand(const Shape& shape, Generator& gen, Dtype dtype) {
    return random_fill("rand", shape, dtype, [&gen] { return gen.uniform(); });
}

namespace {
// xtensor sizes nested lists by their first elements and copies past its buffer when a later
// list is longer, so every list must match the shape it inferred.
void check_nested(double, const Shape&, std::size_t) {}
template <class L>
void check_nested(std::initializer_list<L> v, const Shape& shape, std::size_t depth) {
    XG_CHECK(v.size() == shape[depth],
             "tensor: nested lists are ragged: a list at depth {} has {} elements, expected {} "
             "(shape {} from the first elements)",
             depth, v.size(), shape[depth], shape);
    for (const auto& e : v) check_nested(e, shape, depth + 1);
}

template <std::size_t N>
Tensor from_nested(xt::nested_initializer_list_t<double, N> v, Dtype dtype) {
    check_nested(v, xt::shape<Shape>(v), 0);
    xg::array<double> a(v);
    if (dtype == float64) return Tensor(std::move(a));
    return detail::dispatch_all(dtype, [&](auto tag) {  // truncated toward zero, as PyTorch
        using T = decltype(tag);
        auto r = xg::array<T>::from_shape(a.shape());
        for (std::size_t i = 0; i < a.size(); ++i)
            r.data()[i] = detail::value_cast<T>("tensor", a.data()[i]);
        return Tensor(std::move(r));
    });
}
}  // namespace

Tensor tensor(xt::nested_initializer_list_t<double, 0> v, Dtype d) {
    return from_nested<0>(v, d);
}
Tensor tensor(xt::nested_initializer_list_t<double, 1> v, Dtype d) {
    return from_nested<1>(v, d);
}
Tensor tensor(xt::nested_initializer_list_t<double, 2> v, Dtype d) {
    return from_nested<2>(v, d);
}
Tensor tensor(xt::nested_initializer_list_t<double, 3> v, Dtype d) {
    return from_nested<3>(v, d);
}
Tensor tensor(xt::nested_initializer_list_t<double, 4> v, Dtype d) {
    return from_nested<4>(v, d);
}

}  // namespace xg
