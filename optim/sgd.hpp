#pragma once
// SGD with momentum, dampening, Nesterov momentum, weight decay and maximize, as
// torch.optim.SGD (1.13):
//   g = grad (+ weight_decay * p);  buf = g on the first step, else momentum*buf + (1-dampening)*g
//   g = nesterov ? g + momentum*buf : buf (when momentum != 0);  p -= lr * g
#include "optim/options.hpp"

namespace xg::optim {

class SGD : public Optimizer {
  public:
    SGD(std::vector<Tensor> params, SGDOptions defaults);
    SGD(std::vector<ParamGroup> groups, SGDOptions defaults);

  protected:
    void validate(const OptimizerOptions& o) const override;
    void update(Tensor& p, const Tensor& grad, ParamState& st, const OptimizerOptions& o) override;
    std::vector<std::string> buffer_names(const OptimizerOptions& o) const override;
};

}  // namespace xg::optim
