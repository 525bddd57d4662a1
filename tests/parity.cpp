#include "tests/parity.hpp"
#include "test_paths.hpp"

#include <cmath>
#include <fstream>

#include <xtensor/xnpy.hpp>

namespace xg::testing {

Tensor load_fixture(const std::string& name, const std::string& part) {
    std::string path = std::string(XGRAD_FIXTURE_DIR) + "/" + name + "." + part + ".npy";
    std::ifstream probe(path, std::ios::binary);
    XG_CHECK(probe.good(), "load_fixture: missing fixture {} (run the scripts in tests/parity/)",
             path);
    char header[128] = {};
    probe.read(header, sizeof(header));
    std::string h(header, sizeof(header));
    if (h.find("'<i8'") != std::string::npos)
        return Tensor(xt::xarray<std::int64_t>(xt::load_npy<std::int64_t>(path)));
    XG_CHECK(h.find("'<f8'") != std::string::npos, "load_fixture: {} is neither float64 nor int64",
             path);
    return Tensor(xt::xarray<double>(xt::load_npy<double>(path)));
}

namespace {
std::string compare(const std::string& what, const Tensor& got, const Tensor& want, double rtol,
                    double atol) {
    if (got.shape() != want.shape())
        return fmt::format("{}: shape {} vs expected {}\n", what, got.shape(), want.shape());
    auto a = got.to_vector(), b = want.to_vector();
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i])))
            return fmt::format("{}: element {} is {:.12g}, PyTorch gives {:.12g}\n", what, i, a[i],
                               b[i]);
    }
    return "";
}
}  // namespace

ParityResult check_parity(const std::string& name, std::size_t n_inputs, const TensorFn& fn,
                          double rtol, double atol) {
    TensorList in;
    for (std::size_t i = 0; i < n_inputs; ++i) {
        Tensor t = load_fixture(name, fmt::format("in{}", i));
        if (is_floating(t.dtype())) t.requires_grad_();
        in.push_back(t);
    }
    Tensor out = fn(in);
    ParityResult r;
    r.log += compare(name + " output", out, load_fixture(name, "out"), rtol, atol);
    // No upstream gradient was written: PyTorch's output has no gradient, nor may xgrad's.
    if (!std::ifstream(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".gout.npy").good()) {
        if (out.requires_grad())
            r.log += name + ": PyTorch's output has no gradient, xgrad's has\n";
        r.ok = r.log.empty();
        return r;
    }
    TensorList req;
    for (const auto& t : in) {
        if (t.requires_grad()) req.push_back(t);
    }
    TensorList g = grad({out}, req, {load_fixture(name, "gout")}, {}, false, true);
    std::size_t k = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (!in[i].requires_grad()) continue;
        Tensor gi = g[k++];
        if (!gi.defined()) gi = zeros_like(in[i]);
        r.log += compare(fmt::format("{} grad of input {}", name, i), gi,
                         load_fixture(name, fmt::format("grad{}", i)), rtol, atol);
    }
    r.ok = r.log.empty();
    return r;
}

}  // namespace xg::testing
