// Walks the op registry: every op declared in ops/*.hpp has a row with samples, error inputs and
// parity fixtures (or a reason for none); every sample passes a float64 gradcheck (and
// gradgradcheck), every error input throws an xg::Error naming the op, every fixture matches.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "test_paths.hpp"
#include "tests/header_scan.hpp"
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

std::vector<std::string> registry_problems(const std::set<std::string>& ops) {
    std::vector<std::string> out;
    for (const auto& op : ops) {
        const OpInfo* info = find(op);
        if (!info) {
            out.push_back("op '" + op + "' is declared but has no registry row in tests/");
            continue;
        }
        manual_seed(0);
        if (info->differentiable && info->samples().size() < info->min_samples)
            out.push_back("op '" + op + "' needs at least " + std::to_string(info->min_samples) +
                          " samples");
        if (info->errors().empty()) out.push_back("op '" + op + "' has no error inputs");
        Parity p;
        try {
            if (info->parity) p = info->parity();
        } catch (const std::exception& e) {
            p.none_because = e.what();  // reported by the parity test
        }
        if (p.cases.empty() && p.none_because.empty())
            out.push_back("op '" + op + "' has no PyTorch parity case and gives no reason");
    }
    std::set<std::string> seen;
    for (const auto& info : registry()) {
        if (!ops.count(info.name))
            out.push_back("registry row '" + info.name + "' names no op declared in ops/*.hpp");
        if (!seen.insert(info.name).second)
            out.push_back("op '" + info.name + "' has more than one registry row");
    }
    return out;
}

TEST_CASE("registry: every declared op has a row, and every row a declared op") {
    const std::set<std::string> ops = declared_ops(XGRAD_SOURCE_DIR);
    REQUIRE(ops.size() > 50);  // the scan found the headers
    for (const auto& problem : registry_problems(ops)) FAIL_CHECK(problem);
}

// The names in backticks of the "**Ops:**" paragraphs of docs/ops_*.md.
std::set<std::string> documented_ops() {
    std::set<std::string> names;
    for (const auto& e :
         std::filesystem::directory_iterator(std::string(XGRAD_SOURCE_DIR) + "/docs")) {
        if (e.path().filename().string().rfind("ops_", 0) != 0) continue;
        std::ifstream in(e.path());
        const std::string text(std::istreambuf_iterator<char>(in), {});
        for (std::size_t at = text.find("**Ops:**"); at != std::string::npos;
             at = text.find("**Ops:**", at + 1)) {
            const std::string para = text.substr(at, text.find("\n\n", at) - at);
            for (std::size_t i = para.find('`'); i != std::string::npos;) {
                std::size_t j = para.find('`', i + 1);
                if (j == std::string::npos) break;
                names.insert(para.substr(i + 1, j - i - 1));
                i = para.find('`', j + 1);
            }
        }
    }
    return names;
}

TEST_CASE("registry: every declared op is listed in the **Ops:** list of a docs/ops_*.md") {
    const auto docs = documented_ops();
    for (const auto& op : declared_ops(XGRAD_SOURCE_DIR)) {
        CHECK_MESSAGE(docs.count(op) == 1, "op '" << op << "' is not listed in docs/ops_*.md");
    }
}

TEST_CASE("registry: gradcheck every sample in float64") {
    for (const auto& info : registry()) {
        manual_seed(0);
        for (const auto& s : info.samples()) {
            CAPTURE(info.name);
            CAPTURE(s.desc);
            if (!info.differentiable) {
                Tensor out = s.fn(s.inputs);
                CHECK_FALSE(out.requires_grad());
                continue;
            }
            auto r = gradcheck(s.fn, s.inputs, s.opt);
            CHECK_MESSAGE(r.ok, info.name << " [" << s.desc << "]: " << r.log);
            if (s.gradgrad) {
                auto rr = gradgradcheck(s.fn, s.inputs, s.opt);
                CHECK_MESSAGE(rr.ok, info.name << " [" << s.desc << "] second order: " << rr.log);
            }
        }
    }
}

// Op fixtures sit directly in tests/fixtures; fixtures of other areas (checkpoints, IDX files,
// optimizers, modules) live in subfolders of their own and are not checked here.
TEST_CASE("registry: every fixture in tests/fixtures belongs to some op's row") {
    std::set<std::string> used;
    for (const auto& info : registry()) {
        if (!info.parity) continue;
        for (const auto& c : info.parity().cases) used.insert(c.fixture);
    }
    for (const auto& e : std::filesystem::directory_iterator(XGRAD_FIXTURE_DIR)) {
        if (!e.is_regular_file()) continue;
        const std::string f = e.path().filename().string();
        const std::string name = f.substr(0, f.find('.'));
        CHECK_MESSAGE(
            used.count(name) == 1,
            "fixture " << f << " is not named by any registry row (stale, or a row lost it)");
    }
}

TEST_CASE("registry: parity with PyTorch of every op's fixtures") {
    for (const auto& info : registry()) {
        CAPTURE(info.name);
        Parity p;
        try {
            if (info.parity) p = info.parity();  // loads fixtures (weights, running stats)
        } catch (const std::exception& e) {
            FAIL_CHECK(info.name << ": building its parity cases threw: " << e.what());
        }
        for (const auto& c : p.cases) {
            CAPTURE(c.fixture);
            // A throwing case (e.g. a wrong output shape reaching grad) must not hide the others.
            try {
                ParityResult r = check_parity(c.fixture, c.n_inputs, c.fn);
                CHECK_MESSAGE(r.ok, r.log);
                std::string also = c.also ? c.also() : "";
                CHECK_MESSAGE(also.empty(), also);
            } catch (const std::exception& e) {
                FAIL_CHECK(c.fixture << " threw: " << e.what());
            }
        }
    }
}

TEST_CASE("parity: load_fixture throws xg::Error for a missing fixture") {
    CHECK_THROWS_AS(load_fixture("core_no_such_case", "in0"), xg::Error);
    CHECK_THROWS_WITH(load_fixture("core_no_such_case", "out"),
                      doctest::Contains("load_fixture: missing fixture"));
}

TEST_CASE("registry: error inputs throw xg::Error naming the op") {
    std::size_t inputs = 0;
    for (const auto& info : registry()) {
        for (const auto& e : info.errors()) {
            ++inputs;
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
            for (const auto& frag : e.also)
                CHECK_MESSAGE(msg.find(frag) != std::string::npos,
                              "message lacks '" << frag << "': " << msg);
        }
    }
    // Error inputs that lower the allocation limit (tests/oom_testing.hpp) put it back.
    CHECK(max_alloc_bytes() == (std::size_t(1) << 40));
    CHECK(inputs >= 150);  // the bad inputs of every op live here (tests/op_registry.hpp)
    MESSAGE("registry: ", inputs, " error inputs over ", registry().size(), " ops");
}

}  // namespace xg::testing
