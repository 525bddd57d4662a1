#pragma once
// Loads the PyTorch fixtures written by tests/parity/*.py and checks an xgrad function against
// them: same output, same gradient for every floating input (see tests/parity/common.py).
#include <string>

#include "xgrad.hpp"

namespace xg::testing {

// Loads tests/fixtures/<name>.<part>.npy (float64 or int64) as a tensor; throws if missing.
Tensor load_fixture(const std::string& name, const std::string& part);

struct ParityResult {
    bool ok = false;
    std::string log;
    explicit operator bool() const { return ok; }
};

// Loads <name>.in0.. (n_inputs of them), runs fn in float64, compares with <name>.out and each
// <name>.grad<i> (for the upstream gradient <name>.gout) within atol + rtol * |expected|. Without
// a <name>.gout (PyTorch's output had no gradient) only the output is compared.
ParityResult check_parity(const std::string& name, std::size_t n_inputs, const TensorFn& fn,
                          double rtol = 1e-7, double atol = 1e-9);

}  // namespace xg::testing
