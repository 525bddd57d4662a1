#pragma once
// Whole-model gradient check for the nn tests: the tape's gradient of a scalar loss w.r.t. every
// parameter against central differences on that parameter (perturbed in place, restored after).
#include <cmath>
#include <functional>
#include <string>

#include <doctest/doctest.h>

#include "xgrad.hpp"

namespace xg::testing {

// loss() must be deterministic (reseed any dropout generator inside it). Each element must
// satisfy |analytic - numeric| <= atol + rtol * |numeric| (gradcheck's criterion; cs231n's
// rel_error blows up on gradients that are exactly zero). Returns the worst excess ratio.
inline double check_model_gradients(nn::Module& model, const std::function<Tensor()>& loss,
                                    double rtol = 1e-5, double atol = 1e-7) {
    model.zero_grad();
    loss().backward();
    double worst = 0.0;
    for (const auto& item : model.named_parameters()) {
        // Not a structured binding: C++17 lambdas (doctest's macros) cannot capture one.
        const auto& name = std::get<0>(item);
        const auto& p = std::get<1>(item);
        REQUIRE_MESSAGE(p.grad().defined(), name);
        Tensor analytic = p.grad();
        Tensor saved = p.detach().clone();
        Tensor numeric = eval_numerical_gradient(
            [&, p = p](const Tensor& v) {
                NoGradGuard no_grad;
                Tensor(p).copy_(v);
                return loss().item();
            },
            p);
        {
            NoGradGuard no_grad;
            Tensor(p).copy_(saved);
        }
        auto a = analytic.to_vector(), n = numeric.to_vector();
        double e = 0.0;
        std::size_t at = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            double r = std::abs(a[i] - n[i]) / (atol + rtol * std::abs(n[i]));
            if (r > e) e = r, at = i;
        }
        CHECK_MESSAGE(e <= 1.0,
                      name << ": element " << at << " analytic " << a[at] << " numeric " << n[at]);
        worst = std::max(worst, e);
    }
    return worst;
}

}  // namespace xg::testing
