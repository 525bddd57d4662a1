#pragma once
// Loss modules over ops/loss, with PyTorch's defaults (mean reduction). They map (input,
// target) to a loss: loss(input, target). Class weights are registered as a buffer "weight".
#include "nn/module.hpp"
#include "ops/loss.hpp"

namespace xg::nn {

class LossModule : public Module {
  public:
    using Module::Module;
    virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
    Tensor operator()(const Tensor& input, const Tensor& target, Site site = Site()) {
        xg::detail::SiteScope at(site);
        return forward(input, target);
    }
};

class CrossEntropyLossImpl : public LossModule {
  public:
    explicit CrossEntropyLossImpl(const CrossEntropyOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    std::string extra_repr() const override;
    CrossEntropyOptions options;
};
XG_MODULE(CrossEntropyLoss);

class NLLLossImpl : public LossModule {
  public:
    explicit NLLLossImpl(const NllLossOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    NllLossOptions options;
};
XG_MODULE(NLLLoss);

class MSELossImpl : public LossModule {
  public:
    explicit MSELossImpl(Reduction reduction = Reduction::mean)
        : LossModule("MSELoss"), reduction(reduction) {}
    Tensor forward(const Tensor& input, const Tensor& target) override;
    Reduction reduction;
};
XG_MODULE(MSELoss);

class L1LossImpl : public LossModule {
  public:
    explicit L1LossImpl(Reduction reduction = Reduction::mean)
        : LossModule("L1Loss"), reduction(reduction) {}
    Tensor forward(const Tensor& input, const Tensor& target) override;
    Reduction reduction;
};
XG_MODULE(L1Loss);

class BCEWithLogitsLossImpl : public LossModule {
  public:
    explicit BCEWithLogitsLossImpl(const BceWithLogitsOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    BceWithLogitsOptions options;
};
XG_MODULE(BCEWithLogitsLoss);

class MultiMarginLossImpl : public LossModule {
  public:
    explicit MultiMarginLossImpl(const MultiMarginOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    std::string extra_repr() const override;
    MultiMarginOptions options;
};
XG_MODULE(MultiMarginLoss);

}  // namespace xg::nn
