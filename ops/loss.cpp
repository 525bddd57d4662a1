#include "ops/loss.hpp"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace detail {
namespace {

using Dims64 = std::vector<std::int64_t>;

Dims64 dims_of(const Shape& s) {
    return {s.begin(), s.end()};
}

// ---- softmax ----

// x seen as (outer, n, inner) around the softmax dim.
struct DimView {
    std::size_t outer = 1, n = 1, inner = 1;
};

DimView dim_view(const Shape& s, std::size_t dim) {
    DimView v;
    for (std::size_t i = 0; i < dim; ++i) v.outer *= s[i];
    v.n = s[dim];
    for (std::size_t i = dim + 1; i < s.size(); ++i) v.inner *= s[i];
    return v;
}

// Max-subtracted softmax, or log-softmax as x - max - log(sum(exp(x - max))).
template <class T>
XG_SIMD_CLONES void softmax_kernel(const T* x, T* y, const DimView& v, bool log) {
    if (v.n == 0) return;
    if (v.inner == 1) {  // contiguous rows (softmax over the last dim): vectorizable passes
        for (std::size_t o = 0; o < v.outer; ++o) {
            const T* xr = x + o * v.n;
            T* yr = y + o * v.n;
            T mx = xr[0];
            for (std::size_t d = 1; d < v.n; ++d) mx = std::max(mx, xr[d]);
            for (std::size_t d = 0; d < v.n; ++d) yr[d] = exp_of(xr[d] - mx);
            const double total = sum_run(yr, v.n);
            if (log) {
                const T lse = static_cast<T>(std::log(total));
                for (std::size_t d = 0; d < v.n; ++d) yr[d] = (xr[d] - mx) - lse;
            } else {
                for (std::size_t d = 0; d < v.n; ++d) yr[d] = static_cast<T>(yr[d] / total);
            }
        }
        return;
    }
    for (std::size_t o = 0; o < v.outer; ++o) {
        for (std::size_t i = 0; i < v.inner; ++i) {
            const std::size_t base = o * v.n * v.inner + i, st = v.inner;
            T mx = x[base];
            for (std::size_t d = 1; d < v.n; ++d) mx = std::max(mx, x[base + d * st]);
            double total = 0.0;
            for (std::size_t d = 0; d < v.n; ++d) {
                const T e = std::exp(x[base + d * st] - mx);
                if (!log) y[base + d * st] = e;
                total += e;
            }
            if (log) {
                const T lse = static_cast<T>(std::log(total));
                for (std::size_t d = 0; d < v.n; ++d)
                    y[base + d * st] = (x[base + d * st] - mx) - lse;
            } else {
                for (std::size_t d = 0; d < v.n; ++d)
                    y[base + d * st] = static_cast<T>(y[base + d * st] / total);
            }
        }
    }
}

// The raw backward from the output y: log_softmax dx = g - exp(y) * sum(g), softmax
// dx = y * (g - sum(g * y)), sums over the softmax dim. The differentiable form of the same
// rules runs under create_graph (softmax / log_softmax below).
template <class T>
XG_SIMD_CLONES void softmax_backward_kernel(const T* g, const T* y, T* dx, const DimView& v,
                                            bool log) {
    if (v.inner == 1) {  // contiguous rows: the same passes with unit stride vectorize
        for (std::size_t o = 0; o < v.outer; ++o) {
            const T* gr = g + o * v.n;
            const T* yr = y + o * v.n;
            T* dr = dx + o * v.n;
            if (log) {
                const T s = static_cast<T>(sum_run(gr, v.n));
                for (std::size_t d = 0; d < v.n; ++d) dr[d] = gr[d] - exp_of(yr[d]) * s;
            } else {
                const T s = static_cast<T>(
                    sum_terms<T>(v.n, [gr, yr](std::size_t d) { return gr[d] * yr[d]; }));
                for (std::size_t d = 0; d < v.n; ++d) dr[d] = yr[d] * (gr[d] - s);
            }
        }
        return;
    }
    for (std::size_t o = 0; o < v.outer; ++o) {
        for (std::size_t i = 0; i < v.inner; ++i) {
            const std::size_t base = o * v.n * v.inner + i, st = v.inner;
            const T* gr = g + base;
            const T* yr = y + base;
            T* dr = dx + base;
            const T s = static_cast<T>(
                log ? sum_terms<T>(v.n, [gr, st](std::size_t d) { return gr[d * st]; })
                    : sum_terms<T>(
                          v.n, [gr, yr, st](std::size_t d) { return gr[d * st] * yr[d * st]; }));
            if (log) {
                for (std::size_t d = 0; d < v.n; ++d)
                    dr[d * st] = gr[d * st] - exp_of(yr[d * st]) * s;
            } else {
                for (std::size_t d = 0; d < v.n; ++d) dr[d * st] = yr[d * st] * (gr[d * st] - s);
            }
        }
    }
}

Tensor softmax_backward_raw(const Tensor& g, const Tensor& y, std::size_t dim, bool log) {
    return dispatch_float(log ? "log_softmax" : "softmax", y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> dx = xg::array<T>::from_shape(y.shape());
        softmax_backward_kernel(g.data<T>().data(), y.data<T>().data(), dx.data(),
                                dim_view(y.shape(), dim), log);
        return Tensor(std::move(dx));
    });
}

Tensor softmax_forward(const char* op, const Tensor& x, std::size_t dim, bool log) {
    return dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> y = xg::array<T>::from_shape(x.shape());
        softmax_kernel(x.data<T>().data(), y.data(), dim_view(x.shape(), dim), log);
        return Tensor(std::move(y));
    });
}

// ---- shared by the losses ----

// A Reduction made by casting an int is not one of the three: refused, not read as "sum".
void check_reduction(const char* op, Reduction r) {
    XG_CHECK(r == Reduction::none || r == Reduction::mean || r == Reduction::sum,
             "{}: invalid reduction {} (expected Reduction::none, mean or sum)", op,
             static_cast<int>(r));
}

// No label is skipped (nll_loss, multi_margin_loss).
constexpr std::int64_t kNoIgnore = std::numeric_limits<std::int64_t>::min();

// Labels equal to `ignore` are skipped, so they may lie outside [0, C) (PyTorch's ignore_index).
void check_class_target(const char* op, const Tensor& x, const Tensor& target, const Tensor& weight,
                        std::int64_t ignore = kNoIgnore) {
    check_defined(op, x, "input");
    check_defined(op, target, "target");
    check_floating(op, x, "input");
    XG_CHECK(x.dim() == 2, "{}: input must be 2-D (N, C), got shape {}", op, x.shape());
    XG_CHECK(target.dtype() == int64, "{}: target must hold int64 class indices, got dtype {}", op,
             target.dtype());
    const std::size_t n = x.size(0), c = x.size(1);
    XG_CHECK(target.dim() == 1 && target.size(0) == n,
             "{}: target must have shape [{}] to match input shape {}, got {}", op, n, x.shape(),
             target.shape());
    XG_CHECK(c > 0, "{}: input has no classes (shape {})", op, x.shape());
    const auto& y = target.data<std::int64_t>();
    for (std::size_t i = 0; i < n; ++i) {
        XG_CHECK(y(i) == ignore || (y(i) >= 0 && y(i) < static_cast<std::int64_t>(c)),
                 "{}: target[{}] = {} is out of range for {} classes (expected 0 <= label < {})",
                 op, i, y(i), c, c);
    }
    if (!weight.defined()) return;
    XG_CHECK(weight.dtype() == x.dtype(), "{}: weight has dtype {} but input has dtype {}", op,
             weight.dtype(), x.dtype());
    XG_CHECK(weight.shape() == Shape{c}, "{}: weight must have shape [{}] (one per class), got {}",
             op, c, weight.shape());
    XG_CHECK(!weight.requires_grad(),
             "{}: weight must not require grad (class weights are constants)", op);
}

// Two same-shape, same-dtype floating tensors (regression losses).
void check_pair(const char* op, const Tensor& x, const Tensor& y) {
    check_defined(op, x, "input");
    check_defined(op, y, "target");
    check_floating(op, x, "input");
    check_floating(op, y, "target");
    check_same_dtype(op, x, y);
    XG_CHECK(x.shape() == y.shape(), "{}: target shape {} differs from input shape {}", op,
             y.shape(), x.shape());
}

// An optional constant that broadcasts to the input (bce weight, pos_weight).
void check_broadcast_weight(const char* op, const Tensor& w, const char* arg, const Tensor& x) {
    if (!w.defined()) return;
    XG_CHECK(w.dtype() == x.dtype(), "{}: {} has dtype {} but input has dtype {}", op, arg,
             w.dtype(), x.dtype());
    XG_CHECK(is_broadcastable_to(w.shape(), x.shape()),
             "{}: {} of shape {} does not broadcast to the input shape {}", op, arg, w.shape(),
             x.shape());
    XG_CHECK(!w.requires_grad(), "{}: {} must not require grad (it is a constant)", op, arg);
}

std::vector<double> class_weights(const Tensor& w, std::size_t c) {
    if (!w.defined()) return std::vector<double>(c, 1.0);
    return w.to_vector();
}

// The per-element losses reduced as asked: mean divides by `den`.
template <class T>
Tensor reduce_loss(xg::array<T>&& per, Reduction r, double den) {
    if (r == Reduction::none) return Tensor(std::move(per));
    double s = 0.0;
    for (const T& v : per) s += v;
    xg::array<T> out = xg::array<T>::from_shape(Shape{});
    out.data()[0] = static_cast<T>(r == Reduction::mean ? s / den : s);
    return Tensor(std::move(out));
}

// The upstream gradient of a reduced loss, shaped to broadcast against its per-element terms
// (`none_shape` is the shape the unreduced gradient takes there).
Tensor grad_scale(const Tensor& g, Reduction r, double den, const Dims64& none_shape) {
    if (r == Reduction::none) return reshape(g, none_shape);
    // An empty batch (or zero total weight) has den 0: inf, as the forward's 0 / 0, not a throw.
    if (r == Reduction::mean)
        return den != 0.0 ? div(g, den) : mul(g, std::numeric_limits<double>::infinity());
    return g;
}

// Constants of the class-index losses' gradients. For target distribution
//   dist[i][j] = (1 - eps) * w[y_i] * [j == y_i] + eps / C * w[j],  coef[i] = sum_j dist[i][j],
// cross_entropy's gradient is g * (softmax(x) * coef - dist), nll_loss's is -g * dist (eps 0).
// A row whose label is `ignore` is all zero.
std::pair<Tensor, Tensor> class_dist(const Tensor& target, const Tensor& weight, double eps,
                                     std::size_t c, Dtype dtype, std::int64_t ignore = kNoIgnore) {
    const auto& y = target.data<std::int64_t>();
    const std::size_t n = target.size(0);
    std::vector<double> w = class_weights(weight, c);
    double wsum = 0.0;
    for (double v : w) wsum += v;
    return dispatch_float("cross_entropy", dtype, [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> dist = xg::array<T>::from_shape({n, c}),
                     coef = xg::array<T>::from_shape({n, 1});
        for (std::size_t i = 0; i < n; ++i) {
            if (y(i) == ignore) {
                for (std::size_t j = 0; j < c; ++j) dist(i, j) = T(0);
                coef(i, 0) = T(0);
                continue;
            }
            const auto yi = static_cast<std::size_t>(y(i));
            for (std::size_t j = 0; j < c; ++j) dist(i, j) = static_cast<T>(eps / c * w[j]);
            dist(i, yi) += static_cast<T>((1.0 - eps) * w[yi]);
            coef(i, 0) = static_cast<T>((1.0 - eps) * w[yi] + eps / c * wsum);
        }
        return std::pair<Tensor, Tensor>{Tensor(std::move(coef)), Tensor(std::move(dist))};
    });
}

// log(1 + exp(x)) computed stably, differentiable (d/dx = sigmoid(x)); used by the BCE rule.
Tensor softplus(const Tensor& x) {
    Tensor out = dispatch_float("softplus", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& a = x.data<T>();
        return Tensor(xg::array<T>(xt::log1p(xt::exp(-xt::abs(a))) + xt::maximum(a, T(0))));
    });
    if (auto node = record("SoftplusBackward", {x}, {out})) {
        SavedTensor sx = x;
        node->set_fn(
            [sx](const TensorList& g) { return TensorList{mul(g[0], sigmoid(sx.unpack()))}; });
    }
    return out;
}

}  // namespace
}  // namespace detail

// ---- softmax / log_softmax ----

Tensor softmax(const Tensor& x, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("softmax", x, "input");
    XG_CHECK(x.dim() > 0, "softmax: input must have at least 1 dim, got a 0-d tensor");
    const std::size_t d = detail::wrap_dim("softmax", dim, x.dim());
    Tensor out = detail::softmax_forward("softmax", x, d, false);
    if (auto node = record("SoftmaxBackward", {x}, {out})) {
        SavedTensor so = out;
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn([so, sd](const TensorList& g) {  // dx = y * (g - sum(g * y))
            Tensor y = so.unpack();
            if (!GradMode::is_enabled())
                return TensorList{detail::softmax_backward_raw(g[0], y, std::size_t(sd), false)};
            return TensorList{mul(y, sub(g[0], sum(mul(g[0], y), {sd}, true)))};
        });
    }
    return out;
}

Tensor log_softmax(const Tensor& x, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("log_softmax", x, "input");
    XG_CHECK(x.dim() > 0, "log_softmax: input must have at least 1 dim, got a 0-d tensor");
    const std::size_t d = detail::wrap_dim("log_softmax", dim, x.dim());
    Tensor out = detail::softmax_forward("log_softmax", x, d, true);
    if (auto node = record("LogSoftmaxBackward", {x}, {out})) {
        SavedTensor so = out;
        const auto sd = static_cast<std::int64_t>(d);
        node->set_fn([so, sd](const TensorList& g) {  // dx = g - exp(y) * sum(g)
            Tensor y = so.unpack();
            if (!GradMode::is_enabled())
                return TensorList{detail::softmax_backward_raw(g[0], y, std::size_t(sd), true)};
            return TensorList{sub(g[0], mul(exp(y), sum(g[0], {sd}, true)))};
        });
    }
    return out;
}

// ---- class-index losses ----

namespace detail {
namespace {

// cross_entropy on (N, C) logits and (N) labels.
Tensor cross_entropy_2d(const Tensor& x, const Tensor& target, const CrossEntropyFuncOptions& o) {
    const char* op = "cross_entropy";
    const std::int64_t ignore = o.ignore_index();
    detail::check_class_target(op, x, target, o.weight(), ignore);
    const double eps = o.label_smoothing();
    const std::size_t n = x.size(0), c = x.size(1);
    const std::vector<double> w = detail::class_weights(o.weight(), c);
    double den = 0.0;
    std::size_t counted = 0;
    Tensor out = detail::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> logp = xg::array<T>::from_shape(x.shape());
        detail::softmax_kernel(x.data<T>().data(), logp.data(), {n, c, 1}, true);
        const auto& y = target.data<std::int64_t>();
        xg::array<T> per = xg::array<T>::from_shape({n});
        for (std::size_t i = 0; i < n; ++i) {
            if (y(i) == ignore) {
                per(i) = T(0);
                continue;
            }
            const auto yi = static_cast<std::size_t>(y(i));
            den += w[yi];
            ++counted;
            double l = -(1.0 - eps) * w[yi] * logp(i, yi);
            if (eps > 0.0) {
                double s = 0.0;
                for (std::size_t j = 0; j < c; ++j) s += w[j] * logp(i, j);
                l -= eps / static_cast<double>(c) * s;
            }
            per(i) = static_cast<T>(l);
        }
        return detail::reduce_loss(std::move(per), o.reduction(), den);
    });
    if (auto node = record("CrossEntropyBackward", {x}, {out})) {
        SavedTensor sx = x, st = target;
        node->set_fn([sx, st, wt = o.weight(), eps, red = o.reduction(), den, n, c, ignore,
                      counted](const TensorList& g) {
            Tensor xs = sx.unpack();
            // Every label ignored: the mean is NaN but the gradient 0, as PyTorch.
            if (counted == 0) return TensorList{zeros(xs.shape(), xs.dtype())};
            auto [coef, dist] = detail::class_dist(st.unpack(), wt, eps, c, xs.dtype(), ignore);
            Tensor gs = detail::grad_scale(g[0], red, den, {static_cast<std::int64_t>(n), 1});
            return TensorList{mul(gs, sub(mul(softmax(xs, 1), coef), dist))};
        });
    }
    return out;
}

}  // namespace
}  // namespace detail

// (C) with a 0-d label is a batch of one; (N, C, d1, ...) with (N, d1, ...) labels moves the
// classes last and flattens to (N * d1 * ..., C), so a label's flat index is its position in
// the target read in row-major order.
Tensor cross_entropy(const Tensor& x, const Tensor& target, const CrossEntropyFuncOptions& o,
                     Site site) {
    detail::SiteScope at(site);
    const char* op = "cross_entropy";
    detail::check_reduction(op, o.reduction());
    detail::check_defined(op, x, "input");
    detail::check_defined(op, target, "target");
    const double eps = o.label_smoothing();
    XG_CHECK(eps >= 0.0 && eps <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got {}",
             eps);
    XG_CHECK(x.dim() >= 1,
             "cross_entropy: input must be (C), (N, C) or (N, C, d1, ...), got a 0-d tensor");
    if (x.dim() == 2) return detail::cross_entropy_2d(x, target, o);
    detail::check_floating(op, x, "input");
    XG_CHECK(target.dtype() == int64, "{}: target must hold int64 class indices, got dtype {}", op,
             target.dtype());
    if (x.dim() == 1) {
        XG_CHECK(target.dim() == 0,
                 "{}: target must be a 0-d class index for the unbatched input of shape {}, got "
                 "shape {}",
                 op, x.shape(), target.shape());
        Tensor out = detail::cross_entropy_2d(unsqueeze(x, 0), reshape(target, {1}), o);
        return o.reduction() == Reduction::none ? reshape(out, std::vector<std::int64_t>{}) : out;
    }
    Shape want{x.size(0)};
    std::vector<std::int64_t> per_shape{static_cast<std::int64_t>(x.size(0))};
    for (std::size_t d = 2; d < x.dim(); ++d) {
        want.push_back(x.size(d));
        per_shape.push_back(static_cast<std::int64_t>(x.size(d)));
    }
    XG_CHECK(target.shape() == want,
             "{}: target must have shape {} to match input shape {}, got {}", op, want, x.shape(),
             target.shape());
    const auto c = static_cast<std::int64_t>(x.size(1));
    XG_CHECK(c > 0, "{}: input has no classes (shape {})", op, x.shape());
    Tensor flat = reshape(movedim(x, 1, -1), {-1, c});
    Tensor out = detail::cross_entropy_2d(flat, reshape(target, {-1}), o);
    return o.reduction() == Reduction::none ? reshape(out, per_shape) : out;
}

Tensor nll_loss(const Tensor& x, const Tensor& target, const NLLLossFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    const char* op = "nll_loss";
    detail::check_reduction(op, o.reduction());
    detail::check_class_target(op, x, target, o.weight());
    const std::size_t n = x.size(0), c = x.size(1);
    const std::vector<double> w = detail::class_weights(o.weight(), c);
    double den = 0.0;
    Tensor out = detail::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& lp = x.data<T>();
        const auto& y = target.data<std::int64_t>();
        xg::array<T> per = xg::array<T>::from_shape({n});
        for (std::size_t i = 0; i < n; ++i) {
            const auto yi = static_cast<std::size_t>(y(i));
            den += w[yi];
            per(i) = static_cast<T>(-w[yi] * lp(i, yi));
        }
        return detail::reduce_loss(std::move(per), o.reduction(), den);
    });
    if (auto node = record("NllLossBackward", {x}, {out})) {
        SavedTensor st = target;
        Dtype dt = x.dtype();
        node->set_fn(
            [st, wt = o.weight(), red = o.reduction(), den, n, c, dt](const TensorList& g) {
                Tensor dist = detail::class_dist(st.unpack(), wt, 0.0, c, dt).second;
                Tensor gs = detail::grad_scale(g[0], red, den, {static_cast<std::int64_t>(n), 1});
                return TensorList{neg(mul(gs, dist))};
            });
    }
    return out;
}

Tensor multi_margin_loss(const Tensor& x, const Tensor& target, const MultiMarginLossFuncOptions& o,
                         Site site) {
    detail::SiteScope at(site);
    const char* op = "multi_margin_loss";
    detail::check_reduction(op, o.reduction());
    detail::check_class_target(op, x, target, o.weight());
    XG_CHECK(o.p() == 1 || o.p() == 2, "multi_margin_loss: p must be 1 or 2, got {}", o.p());
    XG_CHECK(std::isfinite(o.margin()), "multi_margin_loss: margin must be finite, got {}",
             o.margin());
    const std::size_t n = x.size(0), c = x.size(1);
    const std::vector<double> w = detail::class_weights(o.weight(), c);
    const double margin = o.margin();
    const int p = o.p();
    // active(i, j): the hinge of class j is open for sample i; its gradient scale w[y] / C.
    auto active = [=](const Tensor& xt_, const Tensor& tg) {
        return detail::dispatch_float(op, xt_.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const auto& a = xt_.data<T>();
            const auto& y = tg.data<std::int64_t>();
            xg::array<T> m = xt::zeros<T>({n, c}), hot = m;
            for (std::size_t i = 0; i < n; ++i) {
                const auto yi = static_cast<std::size_t>(y(i));
                hot(i, yi) = T(1);
                for (std::size_t j = 0; j < c; ++j) {
                    if (j != yi && margin - a(i, yi) + a(i, j) > 0) m(i, j) = T(w[yi] / c);
                }
            }
            return std::pair<Tensor, Tensor>{Tensor(std::move(m)), Tensor(std::move(hot))};
        });
    };
    Tensor out = detail::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& a = x.data<T>();
        const auto& y = target.data<std::int64_t>();
        xg::array<T> per = xg::array<T>::from_shape({n});
        for (std::size_t i = 0; i < n; ++i) {
            const auto yi = static_cast<std::size_t>(y(i));
            double s = 0.0;
            for (std::size_t j = 0; j < c; ++j) {
                const double z = margin - a(i, yi) + a(i, j);
                if (j != yi && z > 0) s += w[yi] * (p == 1 ? z : z * z);
            }
            per(i) = static_cast<T>(s / static_cast<double>(c));
        }
        return detail::reduce_loss(std::move(per), o.reduction(), static_cast<double>(n));
    });
    if (auto node = record("MultiMarginLossBackward", {x}, {out})) {
        SavedTensor sx = x, st = target;
        node->set_fn([sx, st, active, p, margin, red = o.reduction(), n](const TensorList& g) {
            Tensor xs = sx.unpack();
            auto [scale, hot] = active(xs, st.unpack());
            Tensor dz = scale;  // d loss_i / d z_ij, z = margin - x[y] + x[j]
            if (p == 2)
                dz = mul(scale, mul(add(sub(xs, sum(mul(xs, hot), {1}, true)), margin), 2.0));
            Tensor gs = detail::grad_scale(g[0], red, static_cast<double>(n),
                                           {static_cast<std::int64_t>(n), 1});
            return TensorList{mul(gs, sub(dz, mul(hot, sum(dz, {1}, true))))};
        });
    }
    return out;
}

// ---- regression losses ----

Tensor mse_loss(const Tensor& x, const Tensor& y, const MSELossFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    const Reduction r = o.reduction();
    detail::check_reduction("mse_loss", r);
    detail::check_pair("mse_loss", x, y);
    const double n = static_cast<double>(x.numel());
    Tensor out = detail::dispatch_float("mse_loss", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> d = x.data<T>() - y.data<T>();
        return detail::reduce_loss(xg::array<T>(d * d), r, n);
    });
    if (auto node = record("MseLossBackward", {x, y}, {out})) {
        SavedTensor sx = x, sy = y;
        bool gx = x.requires_grad(), gy = y.requires_grad();
        node->set_fn([sx, sy, gx, gy, r, n](const TensorList& g) {
            Tensor xs = sx.unpack();
            Tensor gs = detail::grad_scale(g[0], r, n, detail::dims_of(xs.shape()));
            Tensor dx = mul(mul(sub(xs, sy.unpack()), gs), 2.0);
            return TensorList{gx ? dx : Tensor(), gy ? neg(dx) : Tensor()};
        });
    }
    return out;
}

Tensor l1_loss(const Tensor& x, const Tensor& y, const L1LossFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    const Reduction r = o.reduction();
    detail::check_reduction("l1_loss", r);
    detail::check_pair("l1_loss", x, y);
    const double n = static_cast<double>(x.numel());
    Tensor out = detail::dispatch_float("l1_loss", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return detail::reduce_loss(xg::array<T>(xt::abs(x.data<T>() - y.data<T>())), r, n);
    });
    if (auto node = record("L1LossBackward", {x, y}, {out})) {
        SavedTensor sx = x, sy = y;
        bool gx = x.requires_grad(), gy = y.requires_grad();
        node->set_fn([sx, sy, gx, gy, r, n](const TensorList& g) {
            Tensor xs = sx.unpack();
            Tensor s = sign(sub(xs.detach(), sy.unpack().detach()));  // constant, like abs
            Tensor dx = mul(detail::grad_scale(g[0], r, n, detail::dims_of(xs.shape())), s);
            return TensorList{gx ? dx : Tensor(), gy ? neg(dx) : Tensor()};
        });
    }
    return out;
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& o,
                                        Site site) {
    detail::SiteScope at(site);
    const char* op = "binary_cross_entropy_with_logits";
    detail::check_reduction(op, o.reduction());
    detail::check_pair(op, x, y);
    detail::check_broadcast_weight(op, o.weight(), "weight", x);
    detail::check_broadcast_weight(op, o.pos_weight(), "pos_weight", x);
    const double n = static_cast<double>(x.numel());
    Tensor out = detail::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& a = x.data<T>();
        const auto& t = y.data<T>();
        xg::array<T> sp = xt::log1p(xt::exp(-xt::abs(a))) + xt::maximum(-a, T(0));
        xg::array<T> per = (T(1) - t) * a;
        if (o.pos_weight().defined()) {
            per += ((o.pos_weight().data<T>() - T(1)) * t + T(1)) * sp;
        } else {
            per += sp;
        }
        if (o.weight().defined()) per *= o.weight().data<T>();
        return detail::reduce_loss(std::move(per), o.reduction(), n);
    });
    if (auto node = record("BinaryCrossEntropyWithLogitsBackward", {x, y}, {out})) {
        SavedTensor sx = x, sy = y;
        bool gx = x.requires_grad(), gy = y.requires_grad();
        node->set_fn([sx, sy, gx, gy, o, n](const TensorList& g) {
            Tensor xs = sx.unpack(), ys = sy.unpack();
            Tensor gs = detail::grad_scale(g[0], o.reduction(), n, detail::dims_of(xs.shape()));
            if (o.weight().defined()) gs = mul(gs, o.weight());
            Tensor pw1 = o.pos_weight().defined() ? sub(o.pos_weight(), 1.0) : Tensor();
            Tensor dx, dy;
            if (gx) {  // (1 - y) - (1 + (pw - 1) y) * sigmoid(-x)
                Tensor s = sigmoid(neg(xs));
                if (pw1.defined()) s = mul(add(mul(pw1, ys), 1.0), s);
                dx = mul(gs, sub(rsub(1.0, ys), s));
            }
            if (gy) {  // -x + (pw - 1) * softplus(-x)
                Tensor t = neg(xs);
                if (pw1.defined()) t = add(t, mul(pw1, detail::softplus(neg(xs))));
                dy = mul(gs, t);
            }
            return TensorList{dx, dy};
        });
    }
    return out;
}

}  // namespace xg
