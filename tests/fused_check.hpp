#pragma once
// Checks a fused op against the same function composed of primitive ops: the outputs and the
// gradients of every input that requires grad (for one random upstream gradient) must agree.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "xgrad.hpp"

namespace xg::testing {

inline std::string max_diff(const Tensor& a, const Tensor& b, double* worst) {
    if (a.shape() != b.shape()) return fmt::format("shape {} vs {}", a.shape(), b.shape());
    auto x = a.to_vector(), y = b.to_vector();
    *worst = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        double d = std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i]));
        if (!(d <= *worst)) *worst = std::isnan(d) ? HUGE_VAL : d;
    }
    return "";
}

inline void check_fused_vs_composed(const TensorFn& fused, const TensorFn& composed,
                                    const TensorList& inputs, double tol = 1e-10) {
    auto copy = [&] {
        TensorList c;
        for (const auto& t : inputs) {
            Tensor d = t.defined() ? t.detach().clone() : Tensor();
            if (t.defined() && t.requires_grad()) d.requires_grad_();
            c.push_back(d);
        }
        return c;
    };
    TensorList a = copy(), b = copy();
    Tensor fa = fused(a), fb = composed(b);
    double worst = 0.0;
    std::string err = max_diff(fa, fb, &worst);
    CHECK_MESSAGE(err.empty(), "output: " << err);
    CHECK_MESSAGE(worst <= tol, "output differs by " << worst);
    TensorList ra, rb;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
        ra.push_back(a[i]);
        rb.push_back(b[i]);
    }
    if (ra.empty()) return;
    Generator gen(42);
    Tensor gout = zeros_like(fa.detach());
    {
        NoGradGuard ng;
        for (std::size_t k = 0; k < gout.numel(); ++k) {
            if (gout.dtype() == float64)
                gout.mutable_data<double>().data()[k] = gen.normal();
            else
                gout.mutable_data<float>().data()[k] = static_cast<float>(gen.normal());
        }
    }
    TensorList ga = grad({fa}, ra, {gout}, {}, false, true);
    TensorList gb = grad({fb}, rb, {gout}, {}, false, true);
    for (std::size_t i = 0; i < ga.size(); ++i) {
        CAPTURE(i);
        Tensor x = ga[i].defined() ? ga[i] : zeros_like(ra[i]);
        Tensor y = gb[i].defined() ? gb[i] : zeros_like(rb[i]);
        err = max_diff(x, y, &worst);
        CHECK_MESSAGE(err.empty(), "gradient: " << err);
        CHECK_MESSAGE(worst <= tol, "gradient of input " << i << " differs by " << worst);
    }
}

}  // namespace xg::testing
