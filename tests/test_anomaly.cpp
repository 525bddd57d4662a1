// Anomaly mode (core/anomaly.hpp): call-site capture through default arguments, and the
// backward check that names the first node returning NaN or inf, its input and the user's line.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

using namespace xg;

namespace {

Site site_here(Site site = Site()) {
    return site;
}
// A site passed on by a function that has its own defaulted Site: the outer caller's wins.
Site site_via(Site site = Site()) {
    return site_here(site);
}

using xg::testing::error_of;

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The end of an anomaly message: "... called at <this file>:<line>)".
std::string at_line(int line) {
    return "test_anomaly.cpp:" + std::to_string(line) + ")";
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Tensor t64(xt::nested_initializer_list_t<double, 1> v) {
    return tensor(v, float64).requires_grad_();
}

// Its backward gives input 1 a NaN gradient.
struct NanForSecond : Function<NanForSecond> {
    static constexpr const char* name = "NanForSecondBackward";
    static Tensor forward(AutogradContext*, const Tensor& a, const Tensor& b) { return a * b; }
    static TensorList backward(AutogradContext*, const TensorList& g) {
        return {g[0], g[0] * std::numeric_limits<double>::quiet_NaN()};
    }
};

// A module built from ops: its nodes report the line that called the module.
struct SqrtTwice : nn::UnaryModule {
    SqrtTwice() : nn::UnaryModule("SqrtTwice") {}
    Tensor forward(const Tensor& x) override { return xg::sqrt(x) * 2.0; }
};

}  // namespace

TEST_CASE("anomaly: a defaulted Site is the caller's file and line, also when nested") {
    const int line = __LINE__ + 1;
    Site s = site_here();
    CHECK(s.line == line);
    CHECK(ends_with(s.file, "test_anomaly.cpp"));
    const int line_v = __LINE__ + 1;
    Site v = site_via();
    CHECK(v.line == line_v);
    CHECK(ends_with(v.file, "test_anomaly.cpp"));
    CHECK_FALSE(Site::unknown().known());
    CHECK_FALSE(detail::current_site().known());  // no op running
}

TEST_CASE("anomaly: the guard sets the process-wide flag and restores it, also when nested") {
    CHECK_FALSE(is_anomaly_enabled());
    {
        DetectAnomalyGuard on;
        CHECK(is_anomaly_enabled());
        bool seen_by_other_thread = false;
        std::thread([&] { seen_by_other_thread = is_anomaly_enabled(); }).join();
        CHECK(seen_by_other_thread);  // global, as PyTorch's
        {
            DetectAnomalyGuard off(false);
            CHECK_FALSE(is_anomaly_enabled());
        }
        CHECK(is_anomaly_enabled());
    }
    CHECK_FALSE(is_anomaly_enabled());
    set_detect_anomaly(true);
    CHECK(is_anomaly_enabled());
    set_detect_anomaly(false);
    CHECK_FALSE(is_anomaly_enabled());
}

TEST_CASE("anomaly: sqrt of a negative number: SqrtBackward, input 0, the line of the call") {
    DetectAnomalyGuard guard;
    auto x = t64({4.0, -1.0});
    const int line = __LINE__ + 1;
    auto y = xg::sqrt(x);
    auto loss = y.sum();
    std::string msg = error_of([&] { loss.backward(); });
    CHECK(contains(msg,
                   "anomaly: SqrtBackward returned nan values in the gradient for input 0 "
                   "(its forward op was called at "));
    CHECK(ends_with(msg, at_line(line)));
    CHECK_FALSE(x.grad().defined());  // stopped before reaching the leaf
}

TEST_CASE("anomaly: log(0) * 0: LogBackward (not MulBackward) and the line of log") {
    DetectAnomalyGuard guard;
    auto x = t64({0.0, 1.0});
    const int line_log = __LINE__ + 1;
    auto l = x.log();
    auto y = l * 0.0;
    std::string msg = error_of([&] { y.sum().backward(); });
    CHECK(contains(msg, "anomaly: LogBackward returned nan values in the gradient for input 0"));
    CHECK(ends_with(msg, at_line(line_log)));
}

TEST_CASE("anomaly: an operator reports its own line and the input whose gradient is bad") {
    DetectAnomalyGuard guard;
    auto b = t64({1.0, 0.0});
    auto a = tensor({1.0, 1.0}, float64);  // no grad: DivBackward returns none for input 0
    const int line = __LINE__ + 1;
    auto y = a / b;
    std::string msg = error_of([&] { y.sum().backward(); });
    CHECK(contains(msg, "anomaly: DivBackward returned inf values in the gradient for input 1"));
    CHECK(ends_with(msg, at_line(line)));

    const int line_r = __LINE__ + 1;
    auto c = 2.0 / b;  // double on the left
    msg = error_of([&] { c.sum().backward(); });
    CHECK(contains(msg, "returned inf values in the gradient for input 0"));
    CHECK(ends_with(msg, at_line(line_r)));
}

TEST_CASE("anomaly: a custom Function: its name, the input and the line of apply") {
    DetectAnomalyGuard guard;
    auto a = t64({1.0, 2.0}), b = t64({3.0, 4.0});
    const int line = __LINE__ + 1;
    auto y = NanForSecond::apply(a, b);
    std::string msg = error_of([&] { y.sum().backward(); });
    CHECK(contains(
        msg, "anomaly: NanForSecondBackward returned nan values in the gradient for input 1"));
    CHECK(ends_with(msg, at_line(line)));
}

TEST_CASE("anomaly: a composite op reports the user's line, not the line inside the op") {
    DetectAnomalyGuard guard;
    // matmul is built from reshape and gemm_op; the bad gradient comes from its MmBackward.
    const double inf = std::numeric_limits<double>::infinity();
    auto a = tensor({{1.0, 2.0}, {3.0, 4.0}}, float64).requires_grad_();
    auto b = tensor({{inf, 1.0}, {1.0, 1.0}}, float64);
    const int line = __LINE__ + 1;
    auto y = xg::matmul(a, b);
    std::string msg = error_of([&] { y.sum().backward(); });
    CHECK(contains(msg, "anomaly: MmBackward returned inf values in the gradient for input 0"));
    CHECK(ends_with(msg, at_line(line)));

    // A module's ops report the line that called the module, through a holder too.
    auto m = std::make_shared<SqrtTwice>();
    auto x = t64({-1.0});
    const int line_m = __LINE__ + 1;
    auto z = (*m)(x);
    msg = error_of([&] { z.sum().backward(); });
    CHECK(contains(msg, "anomaly: SqrtBackward returned nan"));
    CHECK(ends_with(msg, at_line(line_m)));

    nn::Linear fc(2, 1);
    {
        NoGradGuard no_grad;
        fc->weight.fill_(inf);
    }
    auto in = tensor({{1.0f, 2.0f}}).requires_grad_();
    const int line_fc = __LINE__ + 1;
    auto out = fc(in);
    msg = error_of([&] { out.sum().backward(); });
    CHECK(contains(msg, "anomaly: LinearBackward returned inf values in the gradient for input 0"));
    CHECK(ends_with(msg, at_line(line_fc)));
}

TEST_CASE("anomaly: off, nothing is checked or recorded and the NaN reaches .grad") {
    REQUIRE_FALSE(is_anomaly_enabled());
    auto x = t64({4.0, -1.0});
    auto y = xg::sqrt(x);
    CHECK_FALSE(y.grad_fn()->site().known());
    y.sum().backward();
    CHECK(std::isnan(x.grad().to_vector()[1]));
    CHECK(x.grad().to_vector()[0] == doctest::Approx(0.25));

    // Turned on only for the backward: the node is checked but its site is unknown.
    auto x2 = t64({-1.0});
    auto y2 = xg::sqrt(x2);
    DetectAnomalyGuard guard;
    std::string msg = error_of([&] { y2.sum().backward(); });
    CHECK(contains(msg,
                   "anomaly: SqrtBackward returned nan values in the gradient for input 0 "
                   "(its forward op was recorded while anomaly mode was off"));
}

TEST_CASE("anomaly: errors raised by a rule name the node's site; finite graphs are unchanged") {
    DetectAnomalyGuard guard;
    auto x = t64({0.5, -0.25, 2.0});
    const int line = __LINE__ + 1;
    auto loss = (tanh(x) * exp(x)).sum();
    loss.backward();
    std::string msg = error_of([&] { loss.backward(); });  // the graph was freed
    CHECK(contains(msg, "SumBackward: trying to backward through the graph a second time"));
    CHECK(ends_with(msg, at_line(line)));

    // gradcheck passes with the checks on: they only read the gradients.
    auto r = gradcheck([](const TensorList& in) { return (tanh(in[0]) * exp(in[0])).sum(); },
                       {t64({0.5, -0.25, 2.0})});
    CHECK(r.ok);
    auto r2 = gradcheck([](const TensorList& in) { return xg::sqrt(in[0]).sum(); },
                        {t64({0.5, 1.5, 2.0})});
    CHECK(r2.ok);
}

TEST_CASE("anomaly: nodes recorded by a backward rule under create_graph get the forward's site") {
    DetectAnomalyGuard guard;
    auto x = t64({0.5, 1.0});
    const int line = __LINE__ + 1;
    auto y = xg::exp(x).sum();
    auto g = grad({y}, {x}, {}, {}, /*create_graph=*/true)[0];
    REQUIRE(g.grad_fn());
    CHECK(g.grad_fn()->site().line == line);
    CHECK(ends_with(g.grad_fn()->site().file, "test_anomaly.cpp"));
}

TEST_CASE("anomaly: every public op that records a node takes the caller's Site last") {
    namespace fs = std::filesystem;
    // Ops that never record (0/1 results and indices) need no site.
    const std::set<std::string> no_grad = {"sign", "eq", "ne",     "lt",    "le",
                                           "gt",   "ge", "argmax", "argmin"};
    int checked = 0;
    for (const auto& e : fs::directory_iterator(fs::path(XGRAD_SOURCE_DIR) / "ops")) {
        if (e.path().extension() != ".hpp") continue;
        std::ifstream in(e.path());
        std::string text(std::istreambuf_iterator<char>(in), {});
        text = text.substr(0, text.find("namespace detail {"));  // the public part
        // Each declaration "Tensor name(...);" starting a line, up to its semicolon.
        for (std::size_t at = text.find("\nTensor "); at != std::string::npos;
             at = text.find("\nTensor ", at + 1)) {
            const std::string stmt = text.substr(at + 1, text.find(';', at) - at - 1);
            const std::string name = stmt.substr(7, stmt.find('(') - 7);
            if (no_grad.count(name) || name.rfind("operator", 0) == 0) continue;  // TensorAt
            ++checked;
            INFO(e.path().filename().string() << ": " << stmt);
            CHECK(std::regex_search(stmt, std::regex(R"(Site site = Site\(\)\)$)")));
        }
    }
    CHECK(checked > 50);
}
