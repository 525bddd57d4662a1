#pragma once
// Adam and AdamW as torch.optim.Adam / AdamW (1.13), with bias correction and amsgrad:
//   exp_avg = b1*exp_avg + (1-b1)*g;  exp_avg_sq = b2*exp_avg_sq + (1-b2)*g^2
//   denom = sqrt(exp_avg_sq (or its running max)) / sqrt(1 - b2^t) + eps
//   p -= lr / (1 - b1^t) * exp_avg / denom
// Adam adds weight_decay * p to g (L2); AdamW multiplies p by 1 - lr*weight_decay first.
#include "optim/options.hpp"

namespace xg::optim {

class Adam : public Optimizer {
  public:
    Adam(std::vector<Tensor> params, AdamOptions defaults = AdamOptions());
    Adam(std::vector<ParamGroup> groups, AdamOptions defaults = AdamOptions());

  protected:
    Adam(const char* type, std::vector<ParamGroup> groups,
         std::unique_ptr<OptimizerOptions> defaults);
    void validate(const OptimizerOptions& o) const override;
    void update(Tensor& p, const Tensor& grad, ParamState& st, const OptimizerOptions& o) override;
    std::vector<std::string> buffer_names(const OptimizerOptions& o) const override;
    // The common case (no amsgrad, no maximize, decoupled or no weight decay) in one pass.
    void fused_update(Tensor& p, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, double lr,
                      double b1, double b2, double eps, double decay, double step);
    bool decoupled_ = false;
};

class AdamW : public Adam {
  public:
    AdamW(std::vector<Tensor> params, AdamWOptions defaults = AdamWOptions());
    AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults = AdamWOptions());
};

}  // namespace xg::optim
