#include "optim/sgd.hpp"

#include "ops/elementwise.hpp"

namespace xg::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, std::move(defaults)) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions defaults)
    : Optimizer("SGD", std::move(groups), std::make_unique<SGDOptions>(std::move(defaults))) {
    init();
}

void SGD::validate(const OptimizerOptions& options) const {
    const auto& o = static_cast<const SGDOptions&>(options);
    XG_CHECK(o.lr() >= 0.0, "SGD: invalid learning rate {} (must be >= 0)", o.lr());
    XG_CHECK(o.momentum() >= 0.0, "SGD: invalid momentum {} (must be >= 0)", o.momentum());
    XG_CHECK(o.weight_decay() >= 0.0, "SGD: invalid weight_decay {} (must be >= 0)",
             o.weight_decay());
    XG_CHECK(!o.nesterov() || (o.momentum() > 0.0 && o.dampening() == 0.0),
             "SGD: Nesterov momentum requires a momentum and zero dampening (momentum {}, "
             "dampening {})",
             o.momentum(), o.dampening());
}

std::vector<std::string> SGD::buffer_names(const OptimizerOptions&) const {
    return {"momentum_buffer"};
}

void SGD::update(Tensor& p, const Tensor& grad, ParamState& st, const OptimizerOptions& options) {
    const auto& o = static_cast<const SGDOptions&>(options);
    const double lr = o.lr(), momentum = o.momentum(), wd = o.weight_decay();
    Tensor d_p = o.maximize() ? neg(grad) : grad;
    if (wd != 0.0) d_p = d_p.clone().add_(p, wd);
    if (momentum != 0.0) {
        auto it = st.buffers.find("momentum_buffer");
        Tensor buf;
        if (it == st.buffers.end()) {
            buf = st.buffers["momentum_buffer"] = d_p.detach().clone();
        } else {
            buf = it->second;
            buf.mul_(momentum).add_(d_p, 1.0 - o.dampening());
        }
        d_p = o.nesterov() ? d_p.clone().add_(buf, momentum) : buf;
    }
    st.step += 1;
    p.add_(d_p, -lr);
}

}  // namespace xg::optim
