#include "ops/shape.hpp"

#include <algorithm>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/reduce.hpp"

namespace xg {

namespace detail {

Tensor reshape_raw(const Tensor& a, const Shape& shape) {
    return dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xt::xarray<T> r = a.data<T>();
        r.reshape(shape);
        return Tensor(std::move(r));
    });
}

// Resolves one -1 and checks the element count.
Shape infer_shape(const char* op, const Shape& in, const std::vector<std::int64_t>& spec) {
    Shape out(spec.size());
    std::size_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < spec.size(); ++i) {
        if (spec[i] == -1) {
            XG_CHECK(infer < 0, "{}: only one dimension can be -1, got shape {}", op,
                     fmt::join(spec, ", "));
            infer = static_cast<int>(i);
            continue;
        }
        XG_CHECK(spec[i] >= 0, "{}: invalid size {} at dim {}", op, spec[i], i);
        out[i] = static_cast<std::size_t>(spec[i]);
        known *= out[i];
    }
    std::size_t n = shape_numel(in);
    if (infer >= 0) {
        XG_CHECK(known != 0 && n % known == 0, "{}: shape [{}] is invalid for input of size {}",
                 op, fmt::join(spec, ", "), n);
        out[infer] = n / known;
    }
    XG_CHECK(shape_numel(out) == n, "{}: shape [{}] is invalid for input of size {} (shape {})", op,
             fmt::join(spec, ", "), n, in);
    return out;
}

}  // namespace detail

namespace {
// Every size-only change goes through here: one copy, backward reshapes back.
Tensor reshape_to(const char* name, const Tensor& a, const Shape& shape) {
    if (a.shape() == shape) return a;
    Tensor out = detail::reshape_raw(a, shape);
    if (auto node = record(name, {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) {
            return TensorList{reshape(g[0], std::vector<std::int64_t>(in.begin(), in.end()))};
        });
    }
    return out;
}
}  // namespace

Tensor reshape(const Tensor& a, const std::vector<std::int64_t>& shape) {
    detail::check_defined("reshape", a, "input");
    return reshape_to("ReshapeBackward", a, detail::infer_shape("reshape", a.shape(), shape));
}

Tensor view(const Tensor& a, const std::vector<std::int64_t>& shape) {
    detail::check_defined("view", a, "input");
    return reshape_to("ViewBackward", a, detail::infer_shape("view", a.shape(), shape));
}

Tensor flatten(const Tensor& a, std::int64_t start_dim, std::int64_t end_dim) {
    detail::check_defined("flatten", a, "input");
    if (a.dim() == 0) return reshape_to("FlattenBackward", a, Shape{1});
    std::size_t s = detail::wrap_dim("flatten", start_dim, a.dim());
    std::size_t e = detail::wrap_dim("flatten", end_dim, a.dim());
    XG_CHECK(s <= e, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
    Shape out;
    for (std::size_t i = 0; i < s; ++i) out.push_back(a.shape()[i]);
    std::size_t n = 1;
    for (std::size_t i = s; i <= e; ++i) n *= a.shape()[i];
    out.push_back(n);
    for (std::size_t i = e + 1; i < a.dim(); ++i) out.push_back(a.shape()[i]);
    return reshape_to("FlattenBackward", a, out);
}

Tensor squeeze(const Tensor& a) {
    detail::check_defined("squeeze", a, "input");
    Shape out;
    for (auto d : a.shape()) {
        if (d != 1) out.push_back(d);
    }
    return reshape_to("SqueezeBackward", a, out);
}

Tensor squeeze(const Tensor& a, std::int64_t dim) {
    detail::check_defined("squeeze", a, "input");
    if (a.dim() == 0) return a;
    std::size_t d = detail::wrap_dim("squeeze", dim, a.dim());
    if (a.shape()[d] != 1) return a;  // as in PyTorch: a no-op on a dim that is not 1
    Shape out = a.shape();
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(d));
    return reshape_to("SqueezeBackward", a, out);
}

Tensor unsqueeze(const Tensor& a, std::int64_t dim) {
    detail::check_defined("unsqueeze", a, "input");
    std::size_t d = detail::wrap_dim("unsqueeze", dim, a.dim() + 1);
    Shape out = a.shape();
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(d), 1);
    return reshape_to("UnsqueezeBackward", a, out);
}

Tensor Tensor::reshape(std::vector<std::int64_t> shape) const { return xg::reshape(*this, shape); }
Tensor Tensor::view(std::vector<std::int64_t> shape) const { return xg::view(*this, shape); }
Tensor Tensor::flatten(std::int64_t s, std::int64_t e) const { return xg::flatten(*this, s, e); }
Tensor Tensor::squeeze() const { return xg::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t dim) const { return xg::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(std::int64_t dim) const { return xg::unsqueeze(*this, dim); }

}  // namespace xg
