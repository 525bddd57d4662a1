#pragma once
// Numeric gradient checking (central differences) against the tape's analytic gradients, and the
// cs231n helpers (rel_error, eval_numerical_gradient, a sparse check).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/options.hpp"
#include "core/tensor.hpp"

namespace xg {

struct GradcheckResult {
    bool ok = false;
    std::string log;  // on failure: input, element, analytic vs numeric, relative error
    explicit operator bool() const { return ok; }
};

struct GradcheckOptions {
    XG_ARG(double, eps) = 1e-6;
    XG_ARG(double, atol) = 1e-5;
    XG_ARG(double, rtol) = 1e-3;
    // Outputs with at most this many elements get the full analytic Jacobian (one backward per
    // output element); larger ones are checked through a random upstream gradient.
    XG_ARG(std::size_t, full_jacobian_max_outputs) = 64;
    XG_ARG(bool, allow_all_zero) = false;  // a check where every gradient is zero proves nothing
    XG_ARG(std::uint64_t, seed) = 0;       // for the random upstream gradient
};

using TensorFn = std::function<Tensor(const TensorList&)>;

// Checks d fn / d inputs[i] for every input that requires grad. Inputs are not modified.
GradcheckResult gradcheck(const TensorFn& fn, const TensorList& inputs,
                          const GradcheckOptions& opt = {});

// Checks second derivatives: gradcheck of the first-order gradients (built with create_graph)
// contracted with random weights, w.r.t. the inputs and the upstream gradient.
GradcheckResult gradgradcheck(const TensorFn& fn, const TensorList& inputs,
                              const GradcheckOptions& opt = {});

// max |x - y| / max(1e-8, |x| + |y|), as in cs231n.
double rel_error(const Tensor& x, const Tensor& y);

// Numeric gradient of a scalar function of x by central differences (x restored afterwards).
Tensor eval_numerical_gradient(const std::function<double(const Tensor&)>& f, const Tensor& x,
                               double h = 1e-5);
// Numeric vector-Jacobian product for a tensor-valued f: d<f(x), df>/dx.
Tensor eval_numerical_gradient_array(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                                     const Tensor& df, double h = 1e-5);
// Samples k entries of x and compares analytic_grad there with central differences; returns
// the worst relative error and logs each sample.
GradcheckResult grad_check_sparse(const std::function<double(const Tensor&)>& f, const Tensor& x,
                                  const Tensor& analytic_grad, std::size_t k = 10, double h = 1e-5,
                                  double tol = 1e-6, std::uint64_t seed = 0);

}  // namespace xg
