#pragma once
// The option classes of the optimizers, libtorch style: SGDOptions(0.1).momentum(0.9). Every
// value lives in OptimizerOptions' map (optim/optimizer.hpp), under the setter's name; Adam's
// betas are stored as beta1 and beta2. Defaults are PyTorch 1.13's.
#include <tuple>

#include "optim/optimizer.hpp"

#define XG_OPTIM_ARG(Class, name) \
    Class& name(double v) {       \
        values_[#name] = v;       \
        return *this;             \
    }                             \
    double name() const {         \
        return get(#name);        \
    }

#define XG_OPTIM_FLAG(Class, name)      \
    Class& name(bool v) {               \
        values_[#name] = v ? 1.0 : 0.0; \
        return *this;                   \
    }                                   \
    bool name() const {                 \
        return get(#name) != 0.0;       \
    }

namespace xg::optim {

struct SGDOptions : OptimizerOptions {
    explicit SGDOptions(double lr);  // no default, as in PyTorch
    XG_OPTIM_ARG(SGDOptions, lr)
    XG_OPTIM_ARG(SGDOptions, momentum)      // 0
    XG_OPTIM_ARG(SGDOptions, dampening)     // 0
    XG_OPTIM_ARG(SGDOptions, weight_decay)  // 0
    XG_OPTIM_FLAG(SGDOptions, nesterov)     // false
    XG_OPTIM_FLAG(SGDOptions, maximize)     // false
};

struct RMSpropOptions : OptimizerOptions {
    explicit RMSpropOptions(double lr = 1e-2);
    XG_OPTIM_ARG(RMSpropOptions, lr)
    XG_OPTIM_ARG(RMSpropOptions, alpha)         // 0.99
    XG_OPTIM_ARG(RMSpropOptions, eps)           // 1e-8
    XG_OPTIM_ARG(RMSpropOptions, weight_decay)  // 0
    XG_OPTIM_ARG(RMSpropOptions, momentum)      // 0
    XG_OPTIM_FLAG(RMSpropOptions, centered)     // false
    XG_OPTIM_FLAG(RMSpropOptions, maximize)     // false
};

struct AdamOptions : OptimizerOptions {
    explicit AdamOptions(double lr = 1e-3);
    XG_OPTIM_ARG(AdamOptions, lr)
    AdamOptions& betas(std::tuple<double, double> b);  // (0.9, 0.999)
    std::tuple<double, double> betas() const { return {get("beta1"), get("beta2")}; }
    XG_OPTIM_ARG(AdamOptions, eps)           // 1e-8
    XG_OPTIM_ARG(AdamOptions, weight_decay)  // 0 (1e-2 in AdamWOptions)
    XG_OPTIM_FLAG(AdamOptions, amsgrad)      // false
    XG_OPTIM_FLAG(AdamOptions, maximize)     // false
};

// Adam's options with weight_decay 1e-2 by default (AdamW decays the weights directly).
struct AdamWOptions : OptimizerOptions {
    explicit AdamWOptions(double lr = 1e-3);
    XG_OPTIM_ARG(AdamWOptions, lr)
    AdamWOptions& betas(std::tuple<double, double> b);
    std::tuple<double, double> betas() const { return {get("beta1"), get("beta2")}; }
    XG_OPTIM_ARG(AdamWOptions, eps)
    XG_OPTIM_ARG(AdamWOptions, weight_decay)  // 1e-2
    XG_OPTIM_FLAG(AdamWOptions, amsgrad)
    XG_OPTIM_FLAG(AdamWOptions, maximize)
};

}  // namespace xg::optim
