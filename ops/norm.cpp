#include "ops/norm.hpp"

#include <array>
#include <cmath>
#include <memory>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"
#include "ops/vec_math.hpp"

namespace xg {

namespace detail {

// The three norms differ only in how they view x. Statistics: x as (P, S, Q), one mean and
// variance per s over p and q. Affine: x as (A, C, B), one weight and bias per c.
//   batch_norm (N, C, L):  stats (N, C, L)        affine (N, C, L)
//   layer_norm (M, K):     stats (1, M, K)        affine (M, K, 1)
//   group_norm (N, C, L):  stats (1, N*G, C/G*L)  affine (N, C, L)
struct NormGeometry {
    std::size_t P, S, Q, A, C, B;
};

struct NormSpec {
    const char* op;
    const char* node_name;
    NormGeometry geo;
    bool batch_stats;  // normalize by x's own statistics; else by fixed (running) ones
    double eps;
};

struct NormOutput {
    Tensor out, mean, var;  // mean and biased variance, shape (S)
};

namespace {

std::vector<std::int64_t> as_dims(std::initializer_list<std::size_t> s) {
    return {s.begin(), s.end()};
}

// Mean and biased variance per s, two passes, accumulated in double.
template <class T>
void norm_moments(const T* x, const NormGeometry& g, T* mean, T* var) {
    std::vector<double> m(g.S, 0.0), v(g.S, 0.0);
    const double n = static_cast<double>(g.P * g.Q);
    for (std::size_t p = 0; p < g.P; ++p) {
        for (std::size_t s = 0; s < g.S; ++s) {
            m[s] += sum_run(x + (p * g.S + s) * g.Q, g.Q);
        }
    }
    for (auto& ms : m) ms /= n;
    for (std::size_t p = 0; p < g.P; ++p) {
        for (std::size_t s = 0; s < g.S; ++s) {
            const T* row = x + (p * g.S + s) * g.Q;
            const T ms = static_cast<T>(m[s]);  // deviations in T vectorize; sums stay accurate
            v[s] += sum_terms<T>(
                g.Q, [row, ms](std::size_t q) { return (row[q] - ms) * (row[q] - ms); });
        }
    }
    for (std::size_t s = 0; s < g.S; ++s) {
        mean[s] = static_cast<T>(m[s]);
        var[s] = static_cast<T>(v[s] / n);
    }
}

// xhat = (x - mean) * rstd over the stats view.
template <class T>
void norm_xhat(const T* x, const NormGeometry& g, const T* mean, const T* rstd, T* xhat) {
    for (std::size_t p = 0; p < g.P; ++p) {
        for (std::size_t s = 0; s < g.S; ++s) {
            const std::size_t o = (p * g.S + s) * g.Q;
            for (std::size_t q = 0; q < g.Q; ++q) xhat[o + q] = (x[o + q] - mean[s]) * rstd[s];
        }
    }
}

// y = y * w + b in place over the affine view (w or b may be null).
template <class T>
void norm_affine(const NormGeometry& g, const T* w, const T* b, T* y) {
    if (!w && !b) return;
    for (std::size_t a = 0; a < g.A; ++a) {
        for (std::size_t c = 0; c < g.C; ++c) {
            const T wc = w ? w[c] : T(1), bc = b ? b[c] : T(0);
            T* row = y + (a * g.C + c) * g.B;
            for (std::size_t k = 0; k < g.B; ++k) row[k] = row[k] * wc + bc;
        }
    }
}

// The raw backward: dgamma, dbeta, and dx by batchnorm_backward_alt's closed form,
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * gamma,
// with the means over the statistics' (p, q); with fixed statistics dx = dxhat * rstd.
template <class T>
void norm_backward_kernel(const NormSpec& sp, const T* dy, const T* x, const T* w, const T* mean,
                          const T* rstd, std::size_t n, T* dx, T* dw, T* db) {
    const NormGeometry& g = sp.geo;
    std::unique_ptr<T[]> xhat_buf(new T[n]);  // uninitialized: norm_xhat writes every entry
    const T* xhat_data = xhat_buf.get();
    norm_xhat(x, g, mean, rstd, xhat_buf.get());
    std::vector<double> sw(dw ? g.C : 0, 0.0), sb(db ? g.C : 0, 0.0);
    for (std::size_t a = 0; a < g.A && g.B == 1; ++a) {  // layer_norm: one value per (a, c)
        const T* dyo = dy + a * g.C;
        const T* xo = xhat_data + a * g.C;
        for (std::size_t c = 0; dw && c < g.C; ++c) sw[c] += dyo[c] * xo[c];
        for (std::size_t c = 0; db && c < g.C; ++c) sb[c] += dyo[c];
        for (std::size_t c = 0; dx && c < g.C; ++c) dx[a * g.C + c] = dyo[c] * (w ? w[c] : T(1));
    }
    for (std::size_t a = 0; a < g.A && g.B != 1; ++a) {
        for (std::size_t c = 0; c < g.C; ++c) {
            const std::size_t o = (a * g.C + c) * g.B;
            const T wc = w ? w[c] : T(1);
            const T* dyo = dy + o;
            const T* xo = xhat_data + o;
            if (dw) sw[c] += sum_terms<T>(g.B, [dyo, xo](std::size_t k) { return dyo[k] * xo[k]; });
            if (db) sb[c] += sum_run(dyo, g.B);
            if (dx) {
                for (std::size_t k = 0; k < g.B; ++k) dx[o + k] = dyo[k] * wc;  // dxhat, see below
            }
        }
    }
    for (std::size_t c = 0; dw && c < g.C; ++c) dw[c] = static_cast<T>(sw[c]);
    for (std::size_t c = 0; db && c < g.C; ++c) db[c] = static_cast<T>(sb[c]);
    if (!dx) return;
    std::vector<double> s1(g.S, 0.0), s2(g.S, 0.0);
    if (sp.batch_stats) {
        for (std::size_t p = 0; p < g.P; ++p) {
            for (std::size_t s = 0; s < g.S; ++s) {
                const T* d = dx + (p * g.S + s) * g.Q;
                const T* xo = xhat_data + (p * g.S + s) * g.Q;
                s1[s] += sum_run(d, g.Q);
                s2[s] += sum_terms<T>(g.Q, [d, xo](std::size_t q) { return d[q] * xo[q]; });
            }
        }
        const double m = static_cast<double>(g.P * g.Q);
        for (std::size_t s = 0; s < g.S; ++s) s1[s] /= m, s2[s] /= m;
    }
    for (std::size_t p = 0; p < g.P; ++p) {
        for (std::size_t s = 0; s < g.S; ++s) {
            const std::size_t o = (p * g.S + s) * g.Q;
            const T m1 = static_cast<T>(s1[s]), m2 = static_cast<T>(s2[s]);
            for (std::size_t q = 0; q < g.Q; ++q)
                dx[o + q] = rstd[s] * (dx[o + q] - m1 - xhat_data[o + q] * m2);
        }
    }
}

TensorList norm_backward_raw(const NormSpec& sp, const Tensor& dy, const Tensor& x, const Tensor& w,
                             const Tensor& mean, const Tensor& rstd, const bool need[3],
                             const Shape& bias_shape) {
    return dispatch_float(sp.op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto make = [](const Shape& s) { return xg::array<T>::from_shape(s); };
        xg::array<T> dx = need[0] ? make(x.shape()) : xg::array<T>();
        xg::array<T> dw = need[1] ? make(w.shape()) : xg::array<T>();
        xg::array<T> db = need[2] ? make(bias_shape) : xg::array<T>();
        norm_backward_kernel<T>(sp, dy.data<T>().data(), x.data<T>().data(),
                                w.defined() ? w.data<T>().data() : nullptr, mean.data<T>().data(),
                                rstd.data<T>().data(), x.numel(), need[0] ? dx.data() : nullptr,
                                need[1] ? dw.data() : nullptr, need[2] ? db.data() : nullptr);
        return TensorList{need[0] ? Tensor(std::move(dx)) : Tensor(),
                          need[1] ? Tensor(std::move(dw)) : Tensor(),
                          need[2] ? Tensor(std::move(db)) : Tensor()};
    });
}

// The same rule written with differentiable ops (used under create_graph, so the norms are
// twice differentiable). The statistics are recomputed from x so they carry its history.
TensorList norm_backward_graph(const NormSpec& sp, const Tensor& dy, const Tensor& x,
                               const Tensor& w, const Tensor& mean, const Tensor& rstd,
                               const bool need[3], const Shape& bias_shape) {
    const NormGeometry& g = sp.geo;
    const Dims stat_axes = {0, 2};
    Tensor x3 = reshape(x, as_dims({g.P, g.S, g.Q}));
    Tensor mu = reshape(mean, as_dims({1, g.S, 1})), rs = reshape(rstd, as_dims({1, g.S, 1}));
    if (sp.batch_stats) {
        mu = xg::mean(x3, stat_axes, true);
        Tensor xc = sub(x3, mu);
        rs = pow(add(xg::mean(mul(xc, xc), stat_axes, true), sp.eps), -0.5);
    }
    Tensor xhat3 = mul(sub(x3, mu), rs);
    Tensor dy3 = reshape(dy, as_dims({g.A, g.C, g.B}));
    auto per_channel = [&](const Tensor& t, const Shape& s) {
        return reshape(sum(t, stat_axes), {s.begin(), s.end()});
    };
    Tensor dw = need[1] ? per_channel(mul(dy3, reshape(xhat3, as_dims({g.A, g.C, g.B}))), w.shape())
                        : Tensor();
    Tensor db = need[2] ? per_channel(dy3, bias_shape) : Tensor();
    if (!need[0]) return {Tensor(), dw, db};
    Tensor dxhat = w.defined() ? mul(dy3, reshape(w, as_dims({1, g.C, 1}))) : dy3;
    dxhat = reshape(dxhat, as_dims({g.P, g.S, g.Q}));
    Tensor dx3 = mul(dxhat, rs);
    if (sp.batch_stats) {
        Tensor centered = sub(dxhat, xg::mean(dxhat, stat_axes, true));
        dx3 = mul(rs, sub(centered, mul(xhat3, xg::mean(mul(dxhat, xhat3), stat_axes, true))));
    }
    return {reshape(dx3, {x.shape().begin(), x.shape().end()}), dw, db};
}

}  // namespace

// Normalizes x as the spec says (by its own statistics, or by fixed_mean/fixed_var) and records
// one node for x, weight and bias.
NormOutput normalize(const NormSpec& sp, const Tensor& x, const Tensor& w, const Tensor& b,
                     const Tensor& fixed_mean = Tensor(), const Tensor& fixed_var = Tensor()) {
    NormOutput r;
    Tensor rstd;
    dispatch_float(sp.op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const std::size_t S = sp.geo.S;
        xg::array<T> mean = xg::array<T>::from_shape({S}), var = mean, rs = mean;
        if (sp.batch_stats) {
            norm_moments(x.data<T>().data(), sp.geo, mean.data(), var.data());
        } else {  // copies, so later running-stat updates cannot reach what backward uses
            mean = fixed_mean.data<T>();
            var = fixed_var.data<T>();
        }
        for (std::size_t s = 0; s < S; ++s) rs(s) = T(1) / std::sqrt(var(s) + T(sp.eps));
        xg::array<T> y = xg::array<T>::from_shape(x.shape());
        norm_xhat(x.data<T>().data(), sp.geo, mean.data(), rs.data(), y.data());
        norm_affine(sp.geo, w.defined() ? w.data<T>().data() : nullptr,
                    b.defined() ? b.data<T>().data() : nullptr, y.data());
        r.out = Tensor(std::move(y));
        r.mean = Tensor(std::move(mean));
        r.var = Tensor(std::move(var));
        rstd = Tensor(std::move(rs));
    });
    if (auto node = record(sp.node_name, {x, w, b}, {r.out})) {
        std::array<bool, 3> need = {x.requires_grad(), w.requires_grad(), b.requires_grad()};
        Shape bias_shape = b.defined() ? b.shape() : Shape{};
        SavedTensor sx = x, sw = w;
        node->set_fn([sp, sx, sw, mean = r.mean, rstd, need, bias_shape](const TensorList& g) {
            if (GradMode::is_enabled())
                return norm_backward_graph(sp, g[0], sx.unpack(), sw.unpack(), mean, rstd,
                                           need.data(), bias_shape);
            return norm_backward_raw(sp, g[0], sx.unpack(), sw.unpack(), mean, rstd, need.data(),
                                     bias_shape);
        });
    }
    return r;
}

namespace {

// weight/bias: undefined, or of the input's dtype and the given shape.
void check_affine(const char* op, const Tensor& t, const char* arg, const Tensor& x,
                  const Shape& shape) {
    if (!t.defined()) return;
    XG_CHECK(t.dtype() == x.dtype(), "{}: {} has dtype {} but input has dtype {}", op, arg,
             t.dtype(), x.dtype());
    XG_CHECK(t.shape() == shape, "{}: {} must have shape {}, got {}", op, arg, shape, t.shape());
}

// Elements per (sample, channel): the product of dims 2...
std::size_t trailing_numel(const Tensor& x) {
    std::size_t l = 1;
    for (std::size_t d = 2; d < x.dim(); ++d) l *= x.shape()[d];
    return l;
}

void check_input(const char* op, const Tensor& x, std::size_t min_dim) {
    check_defined(op, x, "input");
    check_floating(op, x, "input");
    XG_CHECK(x.dim() >= min_dim, "{}: input must have at least {} dims, got shape {}", op, min_dim,
             x.shape());
}

void check_running(const Tensor& t, const char* arg, const Tensor& x, std::size_t c) {
    if (!t.defined()) return;
    XG_CHECK(t.dtype() == x.dtype(), "batch_norm: {} has dtype {} but input has dtype {}", arg,
             t.dtype(), x.dtype());
    XG_CHECK(t.shape() == Shape{c}, "batch_norm: {} must have shape [{}], got {}", arg, c,
             t.shape());
    XG_CHECK(!t.requires_grad(), "batch_norm: {} must not require grad (it is a buffer)", arg);
}

}  // namespace

}  // namespace detail

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    const char* op = "batch_norm";
    const Tensor& weight = o.weight();
    const Tensor& bias = o.bias();
    const bool training = o.training();
    const double momentum = o.momentum(), eps = o.eps();
    detail::check_input(op, x, 2);
    const std::size_t n = x.size(0), c = x.size(1), l = detail::trailing_numel(x);
    detail::check_affine(op, weight, "weight", x, Shape{c});
    detail::check_affine(op, bias, "bias", x, Shape{c});
    XG_CHECK(running_mean.defined() == running_var.defined(),
             "batch_norm: running_mean and running_var must be given together (got only {})",
             running_mean.defined() ? "running_mean" : "running_var");
    detail::check_running(running_mean, "running_mean", x, c);
    detail::check_running(running_var, "running_var", x, c);
    XG_CHECK(training || running_mean.defined(),
             "batch_norm: running_mean and running_var are required in eval mode");
    XG_CHECK(!training || n * l > 1,
             "batch_norm: expected more than 1 value per channel when training, got input of "
             "shape {}",
             x.shape());
    XG_CHECK(momentum >= 0.0 && momentum <= 1.0, "batch_norm: momentum must be in [0, 1], got {}",
             momentum);
    XG_CHECK(eps >= 0.0, "batch_norm: eps must be >= 0, got {}", eps);

    detail::NormSpec sp{op, "BatchNormBackward", {n, c, l, n, c, l}, training, eps};
    detail::NormOutput r = detail::normalize(sp, x, weight, bias, running_mean, running_var);
    if (training && running_mean.defined()) {
        NoGradGuard no_grad;
        const double unbias = static_cast<double>(n * l) / static_cast<double>(n * l - 1);
        // The running stats are the caller's buffers: updated in place, as in PyTorch.
        Tensor rm = running_mean, rv = running_var;
        rm.mul_(1.0 - momentum).add_(r.mean, momentum);
        rv.mul_(1.0 - momentum).add_(r.var, momentum * unbias);
    }
    return r.out;
}

Tensor layer_norm(const Tensor& x, const std::vector<std::int64_t>& normalized_shape,
                  const Tensor& weight, const Tensor& bias, double eps, Site site) {
    detail::SiteScope at(site);
    const char* op = "layer_norm";
    detail::check_input(op, x, 1);
    XG_CHECK(!normalized_shape.empty() && normalized_shape.size() <= x.dim(),
             "layer_norm: normalized_shape [{}] must name 1 to {} trailing dims of input shape {}",
             fmt::join(normalized_shape, ", "), x.dim(), x.shape());
    Shape norm(normalized_shape.size());
    const std::size_t lead = x.dim() - norm.size();
    std::size_t k = 1;
    for (std::size_t i = 0; i < norm.size(); ++i) {
        XG_CHECK(normalized_shape[i] > 0 &&
                     static_cast<std::size_t>(normalized_shape[i]) == x.shape()[lead + i],
                 "layer_norm: normalized_shape [{}] does not match the trailing dims of input "
                 "shape {}",
                 fmt::join(normalized_shape, ", "), x.shape());
        norm[i] = x.shape()[lead + i];
        k *= norm[i];
    }
    detail::check_affine(op, weight, "weight", x, norm);
    detail::check_affine(op, bias, "bias", x, norm);
    XG_CHECK(eps >= 0.0, "layer_norm: eps must be >= 0, got {}", eps);
    const std::size_t m = x.numel() / k;
    detail::NormSpec sp{op, "LayerNormBackward", {1, m, k, m, k, 1}, true, eps};
    return detail::normalize(sp, x, weight, bias).out;
}

Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight,
                  const Tensor& bias, double eps, Site site) {
    detail::SiteScope at(site);
    const char* op = "group_norm";
    detail::check_input(op, x, 2);
    const std::size_t n = x.size(0), c = x.size(1);
    XG_CHECK(num_groups > 0 && c % static_cast<std::size_t>(num_groups) == 0,
             "group_norm: num_groups {} must be positive and divide the {} input channels",
             num_groups, c);
    detail::check_affine(op, weight, "weight", x, Shape{c});
    detail::check_affine(op, bias, "bias", x, Shape{c});
    XG_CHECK(eps >= 0.0, "group_norm: eps must be >= 0, got {}", eps);
    const std::size_t g = static_cast<std::size_t>(num_groups);
    const std::size_t l = detail::trailing_numel(x);
    detail::NormSpec sp{op, "GroupNormBackward", {1, n * g, c / g * l, n, c, l}, true, eps};
    return detail::normalize(sp, x, weight, bias).out;
}

}  // namespace xg
