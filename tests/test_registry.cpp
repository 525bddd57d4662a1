// Walks the op registry: every public op has samples and error inputs, every sample passes a
// float64 gradcheck (and gradgradcheck), every error input throws an xg::Error naming the op.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/op_registry.hpp"

namespace xg::testing {

std::vector<OpInfo>& registry() {
    static std::vector<OpInfo> r;
    return r;
}

Tensor rand64(const Shape& shape, double lo, double hi) {
    return add(mul(rand(shape, float64), hi - lo), lo).detach().requires_grad_();
}

Tensor pos64(const Shape& shape, double lo, double hi) {
    return rand64(shape, lo, hi);
}

void check_values(const Tensor& t, const std::vector<double>& expected, double eps) {
    auto v = t.to_vector();
    REQUIRE(v.size() == expected.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        CAPTURE(i);
        CHECK(v[i] == doctest::Approx(expected[i]).epsilon(eps));
    }
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    auto x = a.to_vector(), y = b.to_vector();
    double m = 0;
    for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
    return m;
}

namespace {
const OpInfo* find(const std::string& name) {
    for (const auto& info : registry()) {
        if (info.name == name) return &info;
    }
    return nullptr;
}
}  // namespace

TEST_CASE("registry: every op in op_list has an OpInfo, and every OpInfo an op") {
    for (const auto& op : op_list()) {
        CAPTURE(op.name);
        const OpInfo* info = find(op.name);
        REQUIRE_MESSAGE(info != nullptr, "op '" << op.name << "' has no OpInfo in tests/");
        manual_seed(0);
        if (op.differentiable) {
            CHECK_MESSAGE(
                info->samples().size() >= info->min_samples,
                "op '" << op.name << "' needs at least " << info->min_samples << " samples");
        }
        CHECK_MESSAGE(!info->errors().empty(), "op '" << op.name << "' has no error inputs");
    }
    for (const auto& info : registry()) {
        bool listed = std::any_of(op_list().begin(), op_list().end(),
                                  [&](const OpDecl& d) { return d.name == info.name; });
        CHECK_MESSAGE(listed, "OpInfo '" << info.name << "' names no op in op_list()");
    }
}

TEST_CASE("registry: gradcheck every sample in float64") {
    for (const auto& op : op_list()) {
        const OpInfo* info = find(op.name);
        if (!info) continue;
        manual_seed(0);
        for (const auto& s : info->samples()) {
            CAPTURE(op.name);
            CAPTURE(s.desc);
            if (!op.differentiable) {
                Tensor out = s.fn(s.inputs);
                CHECK_FALSE(out.requires_grad());
                continue;
            }
            auto r = gradcheck(s.fn, s.inputs, s.opt);
            CHECK_MESSAGE(r.ok, op.name << " [" << s.desc << "]: " << r.log);
            if (s.gradgrad) {
                auto rr = gradgradcheck(s.fn, s.inputs, s.opt);
                CHECK_MESSAGE(rr.ok, op.name << " [" << s.desc << "] second order: " << rr.log);
            }
        }
    }
}

TEST_CASE("registry: error inputs throw xg::Error naming the op") {
    for (const auto& info : registry()) {
        for (const auto& e : info.errors()) {
            CAPTURE(info.name);
            CAPTURE(e.desc);
            std::string msg;
            try {
                e.call();
            } catch (const Error& err) {
                msg = err.what();
            }
            CHECK_MESSAGE(!msg.empty(), info.name << " [" << e.desc << "] did not throw");
            if (msg.empty()) continue;
            CHECK_MESSAGE(msg.rfind(info.name + ":", 0) == 0,
                          "message does not start with '" << info.name << ":': " << msg);
            CHECK_MESSAGE(msg.find(e.fragment) != std::string::npos,
                          "message lacks '" << e.fragment << "': " << msg);
        }
    }
}

}  // namespace xg::testing
