#pragma once
// RMSprop as torch.optim.RMSprop (1.13): square_avg = alpha*square_avg + (1-alpha)*g^2;
// centered subtracts grad_avg^2 (grad_avg = alpha*grad_avg + (1-alpha)*g) before the sqrt;
// avg = sqrt(.) + eps; p -= lr * g / avg, or through a momentum buffer buf = momentum*buf + g/avg.
#include "optim/options.hpp"

namespace xg::optim {

class RMSprop : public Optimizer {
  public:
    RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = RMSpropOptions());
    RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults = RMSpropOptions());

  protected:
    void validate(const OptimizerOptions& o) const override;
    void update(Tensor& p, const Tensor& grad, ParamState& st, const OptimizerOptions& o) override;
    std::vector<std::string> buffer_names(const OptimizerOptions& o) const override;
};

}  // namespace xg::optim
