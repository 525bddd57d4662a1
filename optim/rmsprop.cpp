#include "optim/rmsprop.hpp"

#include "ops/elementwise.hpp"

namespace xg::optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<ParamGroup>{ParamGroup(std::move(params))}, std::move(defaults)) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults)
    : Optimizer("RMSprop", std::move(groups),
                std::make_unique<RMSpropOptions>(std::move(defaults))) {
    init();
}

void RMSprop::validate(const OptimizerOptions& options) const {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    XG_CHECK(o.lr() >= 0.0, "RMSprop: invalid learning rate {} (must be >= 0)", o.lr());
    XG_CHECK(o.eps() >= 0.0, "RMSprop: invalid eps {} (must be >= 0)", o.eps());
    XG_CHECK(o.momentum() >= 0.0, "RMSprop: invalid momentum {} (must be >= 0)", o.momentum());
    XG_CHECK(o.weight_decay() >= 0.0, "RMSprop: invalid weight_decay {} (must be >= 0)",
             o.weight_decay());
    XG_CHECK(o.alpha() >= 0.0, "RMSprop: invalid alpha {} (must be >= 0)", o.alpha());
}

std::vector<std::string> RMSprop::buffer_names(const OptimizerOptions&) const {
    return {"square_avg", "momentum_buffer", "grad_avg"};
}

void RMSprop::update(Tensor& p, const Tensor& grad_in, ParamState& st,
                     const OptimizerOptions& options) {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    const double lr = o.lr(), alpha = o.alpha(), eps = o.eps();
    const double momentum = o.momentum(), wd = o.weight_decay();
    const bool centered = o.centered();
    auto buffer = [&](const char* name) -> Tensor& {  // zeros on first use
        auto it = st.buffers.find(name);
        if (it == st.buffers.end()) it = st.buffers.emplace(name, zeros_like(p)).first;
        return it->second;
    };
    Tensor grad = o.maximize() ? neg(grad_in) : grad_in;
    st.step += 1;
    if (wd != 0.0) grad = grad.clone().add_(p, wd);
    Tensor& square_avg = buffer("square_avg");
    square_avg.mul_(alpha).addcmul_(grad, grad, 1.0 - alpha);
    Tensor avg;
    if (centered) {
        Tensor& grad_avg = buffer("grad_avg");
        grad_avg.mul_(alpha).add_(grad, 1.0 - alpha);
        avg = square_avg.clone().addcmul_(grad_avg, grad_avg, -1.0).sqrt_();
    } else {
        avg = sqrt(square_avg);
    }
    avg.add_(eps);
    if (momentum > 0.0) {
        Tensor& buf = buffer("momentum_buffer");
        buf.mul_(momentum).addcdiv_(grad, avg);
        p.add_(buf, -lr);
    } else {
        p.addcdiv_(grad, avg, -lr);
    }
}

}  // namespace xg::optim
