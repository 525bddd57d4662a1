#include "optim/adam.hpp"

#include <cmath>

#include "core/dispatch.hpp"
#include "ops/elementwise.hpp"
#include "ops/vec_math.hpp"

namespace xg::optim {

Adam::Adam(std::vector<Tensor> params, AdamOptions defaults)
    : Adam(std::vector<ParamGroup>{ParamGroup(std::move(params))}, std::move(defaults)) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions defaults)
    : Optimizer("Adam", std::move(groups), std::make_unique<AdamOptions>(std::move(defaults))) {
    init();
}

Adam::Adam(const char* type, std::vector<ParamGroup> groups,
           std::unique_ptr<OptimizerOptions> defaults)
    : Optimizer(type, std::move(groups), std::move(defaults)) {}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions defaults)
    : AdamW(std::vector<ParamGroup>{ParamGroup(std::move(params))}, std::move(defaults)) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults)
    : Adam("AdamW", std::move(groups), std::make_unique<AdamWOptions>(std::move(defaults))) {
    decoupled_ = true;
    init();
}

namespace {
// Adam's and AdamW's options are two classes with the same fields.
struct AdamConfig {
    double lr, b1, b2, eps, wd;
    bool amsgrad, maximize;
};
template <class O>
AdamConfig config_of(const O& o) {
    auto [b1, b2] = o.betas();
    return {o.lr(), b1, b2, o.eps(), o.weight_decay(), o.amsgrad(), o.maximize()};
}
AdamConfig config_of(const OptimizerOptions& o, bool decoupled) {
    return decoupled ? config_of(static_cast<const AdamWOptions&>(o))
                     : config_of(static_cast<const AdamOptions&>(o));
}
}  // namespace

void Adam::validate(const OptimizerOptions& options) const {
    const std::string& t = type();
    const AdamConfig o = config_of(options, decoupled_);
    XG_CHECK(o.lr >= 0.0, "{}: invalid learning rate {} (must be >= 0)", t, o.lr);
    XG_CHECK(o.eps >= 0.0, "{}: invalid eps {} (must be >= 0)", t, o.eps);
    XG_CHECK(o.b1 >= 0.0 && o.b1 < 1.0,
             "{}: invalid beta parameter at index 0: {} (must be in [0, 1))", t, o.b1);
    XG_CHECK(o.b2 >= 0.0 && o.b2 < 1.0,
             "{}: invalid beta parameter at index 1: {} (must be in [0, 1))", t, o.b2);
    XG_CHECK(o.wd >= 0.0, "{}: invalid weight_decay {} (must be >= 0)", t, o.wd);
}

std::vector<std::string> Adam::buffer_names(const OptimizerOptions&) const {
    return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
}

namespace {

// One pass over a parameter: the same float operations, in the same order and precision, as
// the in-place ops of the general path below (so the same bits), without its five passes and
// two temporaries. Measured on the FullyConnectedNet step of bench_steps (docs/PERFORMANCE.md).
template <class T>
XG_SIMD_CLONES void adam_loop(T* p, const T* g, T* m, T* v, std::size_t n, T decay, T b1,
                              T one_minus_b1, T b2, T one_minus_b2, T bc2_sqrt, T eps, T neg_step) {
    for (std::size_t i = 0; i < n; ++i) {
        const T pi = p[i] * decay;
        const T mi = m[i] * b1 + one_minus_b1 * g[i];
        const T vi = v[i] * b2 + one_minus_b2 * g[i] * g[i];
        const T denom = std::sqrt(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi + neg_step * mi / denom;
    }
}

}  // namespace

void Adam::fused_update(Tensor& p, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                        double lr, double b1, double b2, double eps, double decay, double step) {
    const double bias_correction1 = 1.0 - std::pow(b1, step);
    const double bias_correction2 = 1.0 - std::pow(b2, step);
    const double step_size = lr / bias_correction1;
    detail::dispatch_float(type().c_str(), p.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* g = grad.data<T>().data();
        T* m = exp_avg.mutable_data<T>().data();
        T* v = exp_avg_sq.mutable_data<T>().data();
        T* w = p.mutable_data<T>().data();
        adam_loop<T>(w, g, m, v, p.numel(), T(decay), T(b1), T(1.0 - b1), T(b2), T(1.0 - b2),
                     T(std::sqrt(bias_correction2)), T(eps), T(-step_size));
    });
}

void Adam::update(Tensor& p, const Tensor& grad_in, ParamState& st,
                  const OptimizerOptions& options) {
    const auto [lr, b1, b2, eps, wd, amsgrad, maximize] = config_of(options, decoupled_);
    auto buffer = [&](const char* name) -> Tensor& {
        auto it = st.buffers.find(name);
        if (it == st.buffers.end()) it = st.buffers.emplace(name, zeros_like(p)).first;
        return it->second;
    };
    if (!amsgrad && !maximize && (decoupled_ || wd == 0.0) && grad_in.shape() == p.shape() &&
        grad_in.dtype() == p.dtype()) {
        st.step += 1;
        fused_update(p, grad_in, buffer("exp_avg"), buffer("exp_avg_sq"), lr, b1, b2, eps,
                     decoupled_ ? 1.0 - lr * wd : 1.0, st.step);
        return;
    }
    Tensor grad = maximize ? neg(grad_in) : grad_in;
    st.step += 1;
    if (decoupled_) {
        p.mul_(1.0 - lr * wd);
    } else if (wd != 0.0) {
        grad = grad.clone().add_(p, wd);
    }
    Tensor& exp_avg = buffer("exp_avg");
    Tensor& exp_avg_sq = buffer("exp_avg_sq");
    exp_avg.mul_(b1).add_(grad, 1.0 - b1);
    exp_avg_sq.mul_(b2).addcmul_(grad, grad, 1.0 - b2);
    const double bias_correction1 = 1.0 - std::pow(b1, st.step);
    const double bias_correction2 = 1.0 - std::pow(b2, st.step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    Tensor second = exp_avg_sq;
    if (amsgrad) {  // max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq), NaN propagating
        Tensor& m = buffer("max_exp_avg_sq");
        detail::dispatch_float(type().c_str(), p.dtype(), [&](auto tag) {
            using T = decltype(tag);
            const T* v = exp_avg_sq.data<T>().data();
            T* mx = m.mutable_data<T>().data();
            for (std::size_t i = 0, n = m.numel(); i < n; ++i)
                mx[i] = (v[i] > mx[i] || v[i] != v[i]) ? v[i] : mx[i];
        });
        second = m;
    }
    Tensor denom = div(sqrt(second), bias_correction2_sqrt).add_(eps);
    p.addcdiv_(exp_avg, denom, -step_size);
}

}  // namespace xg::optim
