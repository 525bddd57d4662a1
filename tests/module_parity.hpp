#pragma once
// PyTorch parity for one module (the fixtures of tests/parity/nn_modules_more.py, in the format
// of nn_modules.py): load the PyTorch state dict into the float64 module, then compare its repr,
// the train-mode output and parameter gradients, the state after the step and the eval output.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

namespace xg::testing {

inline std::string read_fixture_text(const std::string& name, const std::string& part) {
    const std::string path = std::string(XGRAD_FIXTURE_DIR) + "/" + name + "." + part;
    std::ifstream f(path);
    REQUIRE_MESSAGE(f.good(), path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline void check_close(const Tensor& got, const Tensor& want, const std::string& what,
                        double tol = 1e-9) {
    REQUIRE_MESSAGE(got.shape() == want.shape(), what);
    auto a = got.to_vector(), b = want.to_vector();
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    CHECK_MESSAGE(worst <= tol, what << ": max abs diff " << worst);
}

// model: a holder of a Tensor -> Tensor module.
template <class Holder>
void check_module_parity(Holder model, const std::string& name) {
    model->to(float64);
    std::vector<std::string> keys;
    std::istringstream in(read_fixture_text(name, "keys.txt"));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) keys.push_back(line);
    CHECK(model->state_dict().keys() == keys);
    nn::StateDict sd;
    for (const auto& k : keys) sd.insert(k, load_fixture(name, "sd." + k));
    model->load_state_dict(sd);
    CHECK(model->repr() + "\n" == read_fixture_text(name, "repr.txt"));

    Tensor x = load_fixture(name, "in");
    model->train();
    Tensor y = model(x);
    check_close(y, load_fixture(name, "out_train"), name + " train output");
    y.backward(load_fixture(name, "gout"));
    for (const auto& [k, p] : model->named_parameters())
        check_close(p.grad(), load_fixture(name, "grad." + k), name + " grad " + k);
    for (const auto& [k, t] : model->state_dict())
        check_close(t, load_fixture(name, "sd_after." + k), name + " after train " + k, 1e-12);
    model->eval();
    check_close(model(x), load_fixture(name, "out_eval"), name + " eval output");
}

}  // namespace xg::testing
