#include "ops/scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

// Writes each running value of acc = f(acc, x) along the middle axis of (outer, n, inner).
template <class T, class Acc, class F>
void scan_loop(const T* x, T* y, const detail::DimSplit& sp, Acc init, F f) {
    std::vector<Acc> acc(sp.inner);
    for (std::size_t o = 0; o < sp.outer; ++o) {
        std::fill(acc.begin(), acc.end(), init);
        for (std::size_t k = 0; k < sp.n; ++k) {
            const std::size_t at = (o * sp.n + k) * sp.inner;
            for (std::size_t i = 0; i < sp.inner; ++i) {
                acc[i] = f(acc[i], x[at + i]);
                y[at + i] = static_cast<T>(acc[i]);
            }
        }
    }
}

// log(exp(a) + exp(b)) without overflow; NaN wins, and equal infinities stay themselves
// (torch's _log_add_exp_helper).
template <class T>
T log_add_exp(T a, T b) {
    const T lo = std::isnan(b) ? b : std::min(a, b);
    const T hi = std::isnan(b) ? b : std::max(a, b);
    if (lo != hi || std::isfinite(lo)) return hi + std::log1p(std::exp(lo - hi));
    return a;
}

enum class Scan { sum, prod, logsumexp };

// float sums and products accumulate in double, as PyTorch's CPU kernels do; int64 ones in
// uint64, so they wrap like PyTorch's and never overflow a signed type.
Tensor scan_kernel(const char* op, const Tensor& a, std::size_t d, Scan kind) {
    const auto sp = detail::split_at(a.shape(), d);
    return naming_oom(op, [&] {
        if (a.dtype() == int64 && kind != Scan::logsumexp) {
            auto r = xg::array<std::int64_t>::from_shape(a.shape());
            const std::int64_t* x = a.data<std::int64_t>().data();
            auto as_u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
            if (kind == Scan::sum)
                scan_loop(x, r.data(), sp, std::uint64_t{0},
                          [&](std::uint64_t s, std::int64_t v) { return s + as_u(v); });
            else
                scan_loop(x, r.data(), sp, std::uint64_t{1},
                          [&](std::uint64_t s, std::int64_t v) { return s * as_u(v); });
            return Tensor(std::move(r));
        }
        return detail::dispatch_float(op, a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            auto r = xg::array<T>::from_shape(a.shape());
            const T* x = a.data<T>().data();
            if (kind == Scan::sum)
                scan_loop(x, r.data(), sp, 0.0, [](double s, T v) { return s + v; });
            else if (kind == Scan::prod)
                scan_loop(x, r.data(), sp, 1.0, [](double s, T v) { return s * v; });
            else
                scan_loop(x, r.data(), sp, -std::numeric_limits<T>::infinity(),
                          [](T s, T v) { return log_add_exp(v, s); });
            return Tensor(std::move(r));
        });
    });
}

Tensor reverse_cumsum(const Tensor& g, std::size_t d) {
    return detail::flip_dim(cumsum(detail::flip_dim(g, d), static_cast<std::int64_t>(d)), d);
}

bool has_zero(const Tensor& x) {
    return detail::dispatch_float("cumprod", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& v = x.data<T>();
        return std::any_of(v.begin(), v.end(), [](T e) { return e == T(0); });
    });
}

// The gradient of cumprod where x has zeros, in O(n) and not differentiable: for each k,
// (prod_{i<k} x_i) * R_k with R_k = g_k + x_{k+1} R_{k+1}.
Tensor cumprod_grad_raw(const Tensor& g, const Tensor& x, std::size_t d) {
    const auto sp = detail::split_at(x.shape(), d);
    return detail::dispatch_float("cumprod", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto r = xg::array<T>::from_shape(x.shape());
        const T* xp = x.data<T>().data();
        const T* gp = g.data<T>().data();
        T* rp = r.data();
        for (std::size_t o = 0; o < sp.outer; ++o) {
            for (std::size_t i = 0; i < sp.inner; ++i) {
                auto at = [&](std::size_t k) { return (o * sp.n + k) * sp.inner + i; };
                T acc = 0;
                for (std::size_t k = sp.n; k-- > 0;) {
                    acc = k + 1 < sp.n ? gp[at(k)] + xp[at(k + 1)] * acc : gp[at(k)];
                    rp[at(k)] = acc;
                }
                T before = 1;
                for (std::size_t k = 0; k < sp.n; ++k) {
                    rp[at(k)] *= before;
                    before *= xp[at(k)];
                }
            }
        }
        return Tensor(std::move(r));
    });
}

// The same with differentiable ops (for create_graph), as an (n x n) product per lane: row k
// is x with x_k replaced by 1, cumulated, and summed against g from column k on.
Tensor cumprod_grad_composed(const Tensor& g, const Tensor& x, std::size_t d) {
    const auto dd = static_cast<std::int64_t>(d), last = static_cast<std::int64_t>(x.dim()) - 1;
    const std::size_t n = x.shape()[d];
    Tensor xt = transpose(x, dd, last), gt = transpose(g, dd, last);
    Shape square = xt.shape();  // [..., n] to [..., n, n]
    square.push_back(n);
    Tensor eye = zeros({n, n}, x.dtype()), upper = zeros({n, n}, x.dtype());
    detail::dispatch_float("cumprod", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto& e = eye.mutable_data<T>();
        auto& u = upper.mutable_data<T>();
        for (std::size_t k = 0; k < n; ++k) {
            e(k, k) = T(1);
            for (std::size_t j = k; j < n; ++j) u(k, j) = T(1);
        }
    });
    Tensor rows = expand(unsqueeze(xt, -2), square);
    Tensor omitted = cumprod(where(ne(eye, 0.0), scalar_tensor(1.0, x.dtype()), rows), -1);
    Tensor gk = sum(mul(mul(omitted, upper), unsqueeze(gt, -2)), {-1});
    return transpose(gk, dd, last);
}

// PyTorch's cumprod_backward: sum_{j >= k} g_j y_j / x_k when no x is zero; otherwise exact
// (O(n) without create_graph, O(n^2) differentiable with it).
Tensor cumprod_backward(const Tensor& g, const Tensor& x, const Tensor& y, std::size_t d) {
    if (detail::split_at(x.shape(), d).n <= 1) return g;
    if (!has_zero(x)) return div(reverse_cumsum(mul(y, g), d), x);
    if (!GradMode::is_enabled()) return cumprod_grad_raw(g, x, d);
    return cumprod_grad_composed(g, x, d);
}

// PyTorch's logcumsumexp_backward: sum_{j >= i} g_j exp(x_i - y_j), the positive and the
// negative g apart, each as a reversed logcumsumexp in log space (no overflow).
Tensor logcumsumexp_backward(const Tensor& g, const Tensor& x, const Tensor& y, std::size_t d) {
    if (g.dim() == 0 || g.numel() == 0) return g;
    const double lowest = g.dtype() == float32 ? std::numeric_limits<float>::lowest()
                                               : std::numeric_limits<double>::lowest();
    Tensor log_abs = log(abs(g)), low = scalar_tensor(lowest, g.dtype());
    Tensor pos = where(gt(g, 0.0), log_abs, low), negs = where(lt(g, 0.0), log_abs, low);
    auto rev = [d](const Tensor& t) {
        return detail::flip_dim(logcumsumexp(detail::flip_dim(t, d), static_cast<std::int64_t>(d)),
                                d);
    };
    return sub(exp(add(rev(sub(pos, y)), x)), exp(add(rev(sub(negs, y)), x)));
}

}  // namespace

namespace detail {

Tensor flip_dim(const Tensor& a, std::size_t dim) {
    const auto sp = split_at(a.shape(), dim);
    Tensor out = naming_oom("flip", [&] {
        return dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            auto r = xg::array<T>::from_shape(a.shape());
            const T* x = a.data<T>().data();
            T* y = r.data();
            for (std::size_t o = 0; o < sp.outer; ++o) {
                for (std::size_t k = 0; k < sp.n; ++k) {
                    const T* src = x + (o * sp.n + sp.n - 1 - k) * sp.inner;
                    std::copy(src, src + sp.inner, y + (o * sp.n + k) * sp.inner);
                }
            }
            return Tensor(std::move(r));
        });
    });
    if (auto node = record("FlipBackward", {a}, {out}))
        node->set_fn([dim](const TensorList& g) { return TensorList{flip_dim(g[0], dim)}; });
    return out;
}

}  // namespace detail

Tensor cumsum(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("cumsum", a, "input");
    const std::size_t d = detail::wrap_dim("cumsum", dim, a.dim());
    Tensor out = scan_kernel("cumsum", a, d, Scan::sum);
    if (auto node = record("CumsumBackward", {a}, {out}))
        node->set_fn([d](const TensorList& g) { return TensorList{reverse_cumsum(g[0], d)}; });
    return out;
}

Tensor cumprod(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("cumprod", a, "input");
    const std::size_t d = detail::wrap_dim("cumprod", dim, a.dim());
    Tensor out = scan_kernel("cumprod", a, d, Scan::prod);
    if (auto node = record("CumprodBackward", {a}, {out})) {
        node->set_fn([sa = SavedTensor(a), so = SavedTensor(out), d](const TensorList& g) {
            return TensorList{cumprod_backward(g[0], sa.unpack(), so.unpack(), d)};
        });
    }
    return out;
}

Tensor logcumsumexp(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("logcumsumexp", a, "input");
    detail::check_floating("logcumsumexp", a, "input");
    const std::size_t d = detail::wrap_dim("logcumsumexp", dim, a.dim());
    Tensor out = scan_kernel("logcumsumexp", a, d, Scan::logsumexp);
    if (auto node = record("LogcumsumexpBackward", {a}, {out})) {
        node->set_fn([sa = SavedTensor(a), so = SavedTensor(out), d](const TensorList& g) {
            return TensorList{logcumsumexp_backward(g[0], sa.unpack(), so.unpack(), d)};
        });
    }
    return out;
}

}  // namespace xg
