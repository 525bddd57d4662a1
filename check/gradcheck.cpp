#include "check/gradcheck.hpp"

#include <algorithm>
#include <cmath>

#include "core/engine.hpp"
#include "core/grad_mode.hpp"
#include "core/random.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"

namespace xg {

namespace {

// Reads/writes element k of a float tensor as double, without recording anything.
double get(const Tensor& t, std::size_t k) {
    return t.dtype() == float64 ? t.data<double>().data()[k]
                                : static_cast<double>(t.data<float>().data()[k]);
}

void set(Tensor& t, std::size_t k, double v) {
    NoGradGuard no_grad;
    if (t.dtype() == float64) {
        t.mutable_data<double>().data()[k] = v;
    } else {
        t.mutable_data<float>().data()[k] = static_cast<float>(v);
    }
}

std::string index_str(const Shape& shape, std::size_t k) {
    std::vector<std::size_t> idx(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        idx[d] = k % shape[d];
        k /= shape[d];
    }
    return fmt::format("[{}]", fmt::join(idx, ", "));
}

Tensor random_like(const Tensor& t, Generator& gen) {
    Tensor r = zeros_like(t);
    for (std::size_t k = 0; k < r.numel(); ++k) set(r, k, gen.normal());
    return r;
}

Tensor eval_no_grad(const TensorFn& fn, const TensorList& xs) {
    NoGradGuard no_grad;
    return fn(xs);
}

// <f(x), v> as double, or element j of f(x) when v is undefined... kept as the full vector.
std::vector<double> flat(const Tensor& t) {
    return t.to_vector();
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& fn, const TensorList& inputs,
                          const GradcheckOptions& opt) {
    GradcheckResult res;
    TensorList xs;
    std::vector<std::size_t> req;  // positions of inputs that require grad
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& in = inputs[i];
        if (!in.defined()) {
            xs.push_back(in);
            continue;
        }
        Tensor x = in.detach().clone();
        if (in.requires_grad()) {
            XG_CHECK(is_floating(in.dtype()), "gradcheck: input {} has dtype {}", i, in.dtype());
            if (in.dtype() != float64) {
                res.log +=
                    fmt::format("warning: input {} is {}; gradcheck is only reliable in float64\n",
                                i, in.dtype());
            }
            x.requires_grad_();
            req.push_back(i);
        }
        xs.push_back(x);
    }
    XG_CHECK(!req.empty(), "gradcheck: no input requires grad, so there is nothing to check");
    TensorList req_xs;
    for (auto i : req) req_xs.push_back(xs[i]);

    Tensor out = fn(xs);
    XG_CHECK(out.defined() && is_floating(out.dtype()),
             "gradcheck: the function must return a floating-point tensor");
    XG_CHECK(out.requires_grad(),
             "gradcheck: the output does not depend on any input that "
             "requires grad (no graph was recorded)");
    const std::size_t n_out = out.numel();
    const bool full = n_out <= opt.full_jacobian_max_outputs();
    Generator gen(opt.seed());

    // Analytic: rows[j][r] = gradient w.r.t. req input r of output element j (full mode) or of
    // <out, v> (one row, VJP mode).
    Tensor v;
    std::vector<TensorList> rows;
    auto analytic = [&](const Tensor& seed) {
        TensorList g = grad({out}, req_xs, {seed}, true, false, true);
        for (std::size_t r = 0; r < g.size(); ++r) {
            if (!g[r].defined()) g[r] = zeros_like(req_xs[r]);
        }
        rows.push_back(g);
    };
    if (full) {
        for (std::size_t j = 0; j < n_out; ++j) {
            Tensor e = zeros_like(out);
            set(e, j, 1.0);
            analytic(e);
        }
    } else {
        v = random_like(out, gen);
        analytic(v);
    }
    std::vector<double> vflat = v.defined() ? flat(v) : std::vector<double>{};

    double max_abs = 0.0;
    for (std::size_t r = 0; r < req.size(); ++r) {
        Tensor& x = xs[req[r]];
        for (std::size_t k = 0; k < x.numel(); ++k) {
            const double x0 = get(x, k);
            set(x, k, x0 + opt.eps());
            const double up = get(x, k);
            std::vector<double> fp = flat(eval_no_grad(fn, xs));
            set(x, k, x0 - opt.eps());
            const double down = get(x, k);
            std::vector<double> fm = flat(eval_no_grad(fn, xs));
            set(x, k, x0);
            if (up == x0 || down == x0) {
                res.ok = false;
                res.log += fmt::format(
                    "gradcheck failed: perturbing input {} element {} by eps={} did not change "
                    "it (value {}); use float64 or a larger eps\n",
                    req[r], index_str(x.shape(), k), opt.eps(), x0);
                return res;
            }
            for (std::size_t j = 0; j < (full ? n_out : 1); ++j) {
                double num = 0.0;
                if (full) {
                    num = (fp[j] - fm[j]) / (up - down);
                } else {
                    for (std::size_t o = 0; o < n_out; ++o) num += (fp[o] - fm[o]) * vflat[o];
                    num /= (up - down);
                }
                const double ana = get(rows[j][r], k);
                max_abs = std::max({max_abs, std::abs(num), std::abs(ana)});
                const double err = std::abs(ana - num);
                if (!std::isfinite(ana) || !std::isfinite(num) ||
                    err > opt.atol() + opt.rtol() * std::abs(num)) {
                    double rel = err / std::max({std::abs(ana), std::abs(num), 1e-300});
                    res.log += fmt::format(
                        "gradcheck failed: input {} (shape {}) element {}{}: analytic {:.10g} vs "
                        "numeric {:.10g}, abs error {:.3g}, relative error {:.3g} (atol {}, rtol "
                        "{})\n",
                        req[r], x.shape(), index_str(x.shape(), k),
                        full ? fmt::format(", output element {}", index_str(out.shape(), j))
                             : std::string(", with a random upstream gradient"),
                        ana, num, err, rel, opt.atol(), opt.rtol());
                    res.ok = false;
                    return res;
                }
            }
        }
    }
    if (max_abs == 0.0 && !opt.allow_all_zero()) {
        res.ok = false;
        res.log +=
            "gradcheck refused: every analytic and numeric gradient is exactly zero, so "
            "the check proves nothing (set allow_all_zero if that is intended)\n";
        return res;
    }
    res.ok = true;
    return res;
}

GradcheckResult gradgradcheck(const TensorFn& fn, const TensorList& inputs,
                              const GradcheckOptions& opt) {
    Generator gen(opt.seed() + 1);
    std::size_t n_req = 0;
    TensorList all = inputs;
    for (const auto& t : inputs) n_req += t.defined() && t.requires_grad();
    XG_CHECK(n_req > 0, "gradgradcheck: no input requires grad");
    Tensor out0 = eval_no_grad(fn, inputs);
    Tensor v = random_like(out0, gen).requires_grad_();
    all.push_back(v);  // the upstream gradient is an input too: first gradients are linear in it
    TensorList ws;
    for (const auto& t : inputs) {
        if (t.defined() && t.requires_grad()) ws.push_back(random_like(t, gen));
    }
    auto first_order = [&, n = inputs.size()](const TensorList& xs) {
        EnableGradGuard enable;  // gradcheck evaluates it under no_grad for the numeric part
        TensorList in(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n));
        TensorList req;
        for (const auto& t : in) {
            if (t.defined() && t.requires_grad()) req.push_back(t);
        }
        Tensor out = fn(in);
        TensorList g = grad({out}, req, {xs[n]}, true, true, true);
        Tensor total = zeros(Shape{}, xs[n].dtype());
        for (std::size_t r = 0; r < g.size(); ++r) {
            if (g[r].defined()) total = add(total, sum(mul(g[r], ws[r])));
        }
        return total;
    };
    GradcheckOptions o = opt;
    o.seed(opt.seed() + 2);
    return gradcheck(first_order, all, o);
}

double rel_error(const Tensor& x, const Tensor& y) {
    XG_CHECK(x.shape() == y.shape(), "rel_error: shapes {} and {} differ", x.shape(), y.shape());
    auto a = x.to_vector(), b = y.to_vector();
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst,
                         std::abs(a[i] - b[i]) / std::max(1e-8, std::abs(a[i]) + std::abs(b[i])));
    }
    return worst;
}

namespace {
// (f(x + h e_k) - f(x - h e_k)) / 2h, with x[k] restored afterwards.
double central_difference(const std::function<double(const Tensor&)>& f, Tensor& xw, std::size_t k,
                          double h) {
    const double x0 = get(xw, k);
    set(xw, k, x0 + h);
    const double fp = f(xw);
    set(xw, k, x0 - h);
    const double fm = f(xw);
    set(xw, k, x0);
    return (fp - fm) / (2 * h);
}
}  // namespace

Tensor eval_numerical_gradient(const std::function<double(const Tensor&)>& f, const Tensor& x,
                               double h) {
    Tensor xw = x.detach().clone();
    Tensor g = zeros_like(xw);
    for (std::size_t k = 0; k < xw.numel(); ++k) {
        set(g, k, central_difference(f, xw, k, h));
    }
    return g;
}

Tensor eval_numerical_gradient_array(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                                     const Tensor& df, double h) {
    auto dfv = df.to_vector();
    return eval_numerical_gradient(
        [&](const Tensor& xx) {
            auto y = f(xx).to_vector();
            XG_CHECK(y.size() == dfv.size(),
                     "eval_numerical_gradient_array: f returned {} elements, df has {}", y.size(),
                     dfv.size());
            double s = 0.0;
            for (std::size_t i = 0; i < y.size(); ++i) s += y[i] * dfv[i];
            return s;
        },
        x, h);
}

GradcheckResult grad_check_sparse(const std::function<double(const Tensor&)>& f, const Tensor& x,
                                  const Tensor& analytic_grad, std::size_t k, double h, double tol,
                                  std::uint64_t seed) {
    XG_CHECK(x.shape() == analytic_grad.shape(),
             "grad_check_sparse: x has shape {} but the gradient has shape {}", x.shape(),
             analytic_grad.shape());
    XG_CHECK(x.numel() > 0, "grad_check_sparse: x is empty");
    Generator gen(seed);
    Tensor xw = x.detach().clone();
    GradcheckResult res{true, ""};
    for (std::size_t s = 0; s < k; ++s) {
        std::size_t i = gen.next_u64() % xw.numel();
        const double num = central_difference(f, xw, i, h), ana = get(analytic_grad, i);
        const double rel = std::abs(num - ana) / std::max(1e-8, std::abs(num) + std::abs(ana));
        res.log +=
            fmt::format("element {}: numerical {:.8g} analytic {:.8g}, relative error {:.3g}\n",
                        index_str(x.shape(), i), num, ana, rel);
        if (!(rel <= tol)) res.ok = false;
    }
    return res;
}

}  // namespace xg
