#pragma once
// Loss modules over ops/loss, with PyTorch's defaults (mean reduction). They map (input,
// target) to a loss: loss(input, target). Class weights are registered as a buffer "weight".
#include "nn/module.hpp"
#include "ops/loss.hpp"

namespace xg::nn {

// The modules' options are the functional ones, as in libtorch (where
// F::CrossEntropyFuncOptions is nn::CrossEntropyLossOptions).
using CrossEntropyLossOptions = CrossEntropyFuncOptions;
using NLLLossOptions = NLLLossFuncOptions;
using MSELossOptions = MSELossFuncOptions;
using L1LossOptions = L1LossFuncOptions;
using BCEWithLogitsLossOptions = BinaryCrossEntropyWithLogitsFuncOptions;
using MultiMarginLossOptions = MultiMarginLossFuncOptions;

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
    explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    std::string extra_repr() const override;
    CrossEntropyLossOptions options;
};
XG_MODULE(CrossEntropyLoss);

class NLLLossImpl : public LossModule {
  public:
    explicit NLLLossImpl(const NLLLossOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    NLLLossOptions options;
};
XG_MODULE(NLLLoss);

class MSELossImpl : public LossModule {
  public:
    explicit MSELossImpl(const MSELossOptions& options = {})
        : LossModule("MSELoss"), options(options) {}
    Tensor forward(const Tensor& input, const Tensor& target) override;
    MSELossOptions options;
};
XG_MODULE(MSELoss);

class L1LossImpl : public LossModule {
  public:
    explicit L1LossImpl(const L1LossOptions& options = {})
        : LossModule("L1Loss"), options(options) {}
    Tensor forward(const Tensor& input, const Tensor& target) override;
    L1LossOptions options;
};
XG_MODULE(L1Loss);

class BCEWithLogitsLossImpl : public LossModule {
  public:
    explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    BCEWithLogitsLossOptions options;
};
XG_MODULE(BCEWithLogitsLoss);

class MultiMarginLossImpl : public LossModule {
  public:
    explicit MultiMarginLossImpl(const MultiMarginLossOptions& options = {});
    Tensor forward(const Tensor& input, const Tensor& target) override;
    std::string extra_repr() const override;
    MultiMarginLossOptions options;
};
XG_MODULE(MultiMarginLoss);

}  // namespace xg::nn
