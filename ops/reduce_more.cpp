#include "ops/reduce_more.hpp"

#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/scan.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::size_t reduced_count(const Shape& s, const std::vector<std::size_t>& axes) {
    std::size_t n = 1;
    for (auto ax : axes) n *= s[ax];
    return n;
}

// The shape of a reduction over axes without keepdim.
Dims dropped_dims(const Shape& in, const std::vector<std::size_t>& axes) {
    Dims out;
    for (std::size_t d = 0, a = 0; d < in.size(); ++d) {
        if (a < axes.size() && axes[a] == d)
            ++a;
        else
            out.push_back(static_cast<std::int64_t>(in[d]));
    }
    return out;
}

}  // namespace

// ---- logsumexp ----

Tensor logsumexp(const Tensor& a, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("logsumexp", a, "input");
    auto axes = detail::reduce_axes("logsumexp", dims, a.dim());
    if (!is_floating(a.dtype())) return logsumexp(a.to(float32), dims, keepdim);
    const Dims over = detail::to_dims_of(axes);
    Tensor out;
    {
        NoGradGuard no_grad;
        Tensor x = a.detach();
        if (reduced_count(a.shape(), axes) == 0) {
            out = log(sum(exp(x), over, keepdim));  // log 0 = -inf, as in torch
        } else {
            // An infinite maximum shifts by 0 instead: all -inf gives log(0) = -inf, not NaN.
            Tensor m = amax(x, over, true);
            m = where(eq(abs(m), kInf), zeros({}, m.dtype()), m);
            out = add(log(sum(exp(sub(x, m)), over, true)), m);
            if (!keepdim) out = reshape(out, dropped_dims(a.shape(), axes));
        }
    }
    if (auto node = record("LogsumexpBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([sa = SavedTensor(a), so = SavedTensor(out), in, axes](const TensorList& g) {
            Tensor x = sa.unpack(), y = detail::unreduce(so.unpack(), in, axes);
            return TensorList{mul(detail::unreduce(g[0], in, axes), exp(sub(x, y)))};
        });
    }
    return out;
}

// ---- norm / dist ----

namespace {

void check_p(const char* op, double p) {
    XG_CHECK(p >= 0 || p == -kInf, "{}: p must be positive, 0, inf or -inf, got {}", op, p);
}

// PyTorch's norm_backward, with differentiable ops; G is the gradient expanded to x's shape.
Tensor norm_backward(const Tensor& G, const Tensor& x, const Tensor& y, const Shape& in,
                     const std::vector<std::size_t>& axes, double p) {
    if (p == 0) return zeros_like(x);
    Tensor s = sign(x.detach());
    if (p == 1) return mul(G, s);
    if (std::isinf(p)) return mul(mul(G, s), detail::tie_weights(abs(x.detach()), y, axes));
    Tensor Y = detail::unreduce(y, in, axes);
    Tensor y_zero = eq(Y.detach(), 0.0);  // all of x is 0 there, and so is the gradient
    if (p == 2) return mul(G, div(x, add(Y, y_zero)));
    // |x| with 1 where x is 0: sign(x) = 0 zeroes those terms without an inf on the way.
    Tensor term = mul(s, pow(add(abs(x), eq(x.detach(), 0.0)), p - 1));
    if (p < 1) return mul(mul(G, term), pow(Y, 1 - p));
    return mul(term, div(G, pow(add(Y, y_zero), p - 1)));
}

Tensor norm_impl(const char* op, const Tensor& a, double p, const Dims& dims, bool keepdim) {
    detail::check_defined(op, a, "input");
    detail::check_floating(op, a, "input");
    check_p(op, p);
    auto axes = detail::reduce_axes(op, dims, a.dim());
    const Dims over = detail::to_dims_of(axes);
    Tensor out;
    {
        NoGradGuard no_grad;
        Tensor x = a.detach();
        if (p == 0) {
            out = sum(ne(x, 0.0), over, keepdim).to(x.dtype());  // a count, as a float
        } else if (std::isinf(p)) {
            if (reduced_count(a.shape(), axes) == 0)
                out = sum(x, over, keepdim);  // 0 over no elements, as torch.norm gives
            else
                out = p > 0 ? amax(abs(x), over, keepdim) : amin(abs(x), over, keepdim);
        } else if (p == 1) {
            out = sum(abs(x), over, keepdim);
        } else if (p == 2) {
            out = sqrt(sum(mul(x, x), over, keepdim));
        } else {
            out = pow(sum(pow(abs(x), p), over, keepdim), 1.0 / p);
        }
    }
    if (auto node = record("NormBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn(
            [sa = SavedTensor(a), so = SavedTensor(out), in, axes, p](const TensorList& g) {
                Tensor G = detail::unreduce(g[0], in, axes);
                return TensorList{norm_backward(G, sa.unpack(), so.unpack(), in, axes, p)};
            });
    }
    return out;
}

}  // namespace

Tensor norm(const Tensor& a, double p, const Dims& dims, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return norm_impl("norm", a, p, dims, keepdim);
}

Tensor dist(const Tensor& a, const Tensor& b, double p, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("dist", a, "input");
    detail::check_defined("dist", b, "other");
    detail::check_floating("dist", a, "input");
    detail::check_same_dtype("dist", a, b);
    detail::broadcast_shapes("dist", a.shape(), b.shape());
    check_p("dist", p);
    return norm_impl("dist", sub(a, b), p, {}, false);
}

// ---- prod ----

namespace {

// For each element, the product of the others along dim d: exclusive cumulative products from
// both ends multiplied (torch's prod_safe_zeros_backward), exact with zeros, differentiable.
Tensor product_of_others(const Tensor& x, std::size_t d) {
    const std::size_t n = x.dim() == 0 ? 1 : x.shape()[d];
    if (n <= 1) return ones_like(x);
    const auto dd = static_cast<std::int64_t>(d), nn = static_cast<std::int64_t>(n);
    Shape one = x.shape();
    one[d] = 1;
    Tensor ones_row = ones(one, x.dtype());
    Tensor before = cumprod(cat({ones_row, slice(x, dd, 0, nn - 1)}, dd), dd);
    Tensor rev = cat({ones_row, detail::flip_dim(slice(x, dd, 1, nn), d)}, dd);
    Tensor after = detail::flip_dim(cumprod(rev, dd), d);
    return mul(before, after);
}

// Products along the middle axis of (outer, n, inner); float in double, int64 wrapping.
template <class T>
xg::array<T> prod_raw(const xg::array<T>& x, const detail::DimSplit& sp, const Shape& kept) {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;
    auto r = xg::array<T>::from_shape(kept);
    for (std::size_t o = 0; o < sp.outer; ++o) {
        for (std::size_t i = 0; i < sp.inner; ++i) {
            Acc acc = 1;
            for (std::size_t k = 0; k < sp.n; ++k)
                acc *= static_cast<Acc>(x.data()[(o * sp.n + k) * sp.inner + i]);
            r.data()[o * sp.inner + i] = static_cast<T>(acc);
        }
    }
    return r;
}

Tensor prod_impl(const Tensor& a, std::int64_t dim, bool keepdim) {
    detail::check_defined("prod", a, "input");
    const std::size_t d = detail::wrap_dim("prod", dim, a.dim());
    const auto sp = detail::split_at(a.shape(), d);
    Shape kept = a.shape(), dropped = a.shape();
    if (a.dim() > 0) {
        kept[d] = 1;
        dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(d));
    }
    Tensor out = naming_oom("prod", [&] {
        if (a.dtype() == int64) return Tensor(prod_raw(a.data<std::int64_t>(), sp, kept));
        return detail::dispatch_float("prod", a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            return Tensor(prod_raw(a.data<T>(), sp, kept));
        });
    });
    if (!keepdim) out = detail::reshape_raw(out, dropped);
    if (auto node = record("ProdBackward", {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([sa = SavedTensor(a), in, kept, d](const TensorList& g) {
            Tensor x = sa.unpack();
            Tensor G = expand(reshape(g[0], Dims(kept.begin(), kept.end())), in);
            return TensorList{mul(G, product_of_others(x, d))};
        });
    }
    return out;
}

}  // namespace

Tensor prod(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("prod", a, "input");
    return prod_impl(reshape(a, {-1}), 0, false);
}

Tensor prod(const Tensor& a, std::int64_t dim, bool keepdim, Site site) {
    detail::SiteScope at(site);
    return prod_impl(a, dim, keepdim);
}

}  // namespace xg
