#include "optim/sgd.hpp"

#include "ops/elementwise.hpp"

namespace xg::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<ParamGroup>{ParamGroup(std::move(params))}, std::move(defaults)) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions defaults)
    : Optimizer("SGD", std::move(groups), std::move(defaults)) {
    init();
}

void SGD::validate(const OptimizerOptions& o) const {
    XG_CHECK(o.lr() >= 0.0, "SGD: invalid learning rate {} (must be >= 0)", o.lr());
    XG_CHECK(o.get("momentum") >= 0.0, "SGD: invalid momentum {} (must be >= 0)",
             o.get("momentum"));
    XG_CHECK(o.get("weight_decay") >= 0.0, "SGD: invalid weight_decay {} (must be >= 0)",
             o.get("weight_decay"));
    XG_CHECK(o.get("nesterov") == 0.0 || (o.get("momentum") > 0.0 && o.get("dampening") == 0.0),
             "SGD: Nesterov momentum requires a momentum and zero dampening (momentum {}, "
             "dampening {})",
             o.get("momentum"), o.get("dampening"));
}

std::vector<std::string> SGD::buffer_names(const OptimizerOptions&) const {
    return {"momentum_buffer"};
}

void SGD::update(Tensor& p, const Tensor& grad, ParamState& st, const OptimizerOptions& o) {
    const double lr = o.lr(), momentum = o.get("momentum"), wd = o.get("weight_decay");
    Tensor d_p = o.get("maximize") != 0.0 ? neg(grad) : grad;
    if (wd != 0.0) d_p = d_p.clone().add_(p, wd);
    if (momentum != 0.0) {
        auto it = st.buffers.find("momentum_buffer");
        Tensor buf;
        if (it == st.buffers.end()) {
            buf = st.buffers["momentum_buffer"] = d_p.detach().clone();
        } else {
            buf = it->second;
            buf.mul_(momentum).add_(d_p, 1.0 - o.get("dampening"));
        }
        d_p = o.get("nesterov") != 0.0 ? d_p.clone().add_(buf, momentum) : buf;
    }
    st.step += 1;
    p.add_(d_p, -lr);
}

}  // namespace xg::optim
