// The header scan behind the registry test, and the registry test itself on planted omissions.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "tests/header_scan.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {
bool mentions(const std::vector<std::string>& problems, const std::string& fragment) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(fragment) != std::string::npos; });
}
}  // namespace

TEST_CASE("header scan: free functions of namespace xg only") {
    const std::string text = R"(#pragma once
#include "core/tensor.hpp"
namespace xg {
// Tensor commented_out(const Tensor& a);
/* Tensor block_comment(const Tensor& a); */
using Pair2 = std::pair<int, int>;
struct Options {
    Pair2 stride{1, 1};
    Tensor member(const Tensor& a) const;
};
enum class Mode { a, b };
Tensor plain(const Tensor& a);
Tensor with_defaults(const Tensor& a, const Options& o = {},
                     std::vector<int> v = {1, 2});
Tensor operator+(const Tensor& a, const Tensor& b);
inline Tensor defined_here(const Tensor& a) { if (a.defined()) { return a; } return a; }
template <class T> T templated(T x);
namespace detail {
Tensor hidden(const Tensor& a);
}  // namespace detail
Tensor after_detail(const Tensor& a);
}  // namespace xg
namespace xg::detail {
Tensor also_hidden(const Tensor& a);
}
namespace other {
Tensor elsewhere(const Tensor& a);
}
)";
    CHECK(scan_declarations(text) ==
          std::set<std::string>{"plain", "with_defaults", "defined_here", "after_detail"});
}

TEST_CASE("header scan: the real headers give the known ops, and no helper") {
    auto ops = declared_ops(XGRAD_SOURCE_DIR);
    for (const char* op : {"add", "sub", "tanh", "sum_to", "matmul", "pad", "conv2d", "max_pool2d",
                           "batch_norm", "dropout", "cross_entropy", "to", "clone"})
        CHECK_MESSAGE(ops.count(op) == 1, op);
    for (const char* helper : {"gemm", "reshape_raw", "conv2d_naive", "exp_f", "operator", "rsub"})
        CHECK_MESSAGE(ops.count(helper) == 0, helper);
}

TEST_CASE("registry test: fails on a planted op without a row, and on a row without an op") {
    auto ops = declared_ops(XGRAD_SOURCE_DIR);
    REQUIRE(registry_problems(ops).empty());

    // A header that declares one more op, in a copy of the source tree's ops/.
    namespace fs = std::filesystem;
    const fs::path tmp = fs::temp_directory_path() / "xgrad_header_scan_test";
    fs::remove_all(tmp);
    fs::create_directories(tmp / "ops");
    fs::create_directories(tmp / "core");
    fs::copy(fs::path(XGRAD_SOURCE_DIR) / "ops", tmp / "ops");
    fs::copy(fs::path(XGRAD_SOURCE_DIR) / "core" / "tensor.hpp", tmp / "core" / "tensor.hpp");
    std::ofstream(tmp / "ops" / "planted.hpp")
        << "#pragma once\nnamespace xg {\n// Forgotten in the registry.\n"
           "Tensor planted_op(const Tensor& a, double alpha = 1.0);\n}  // namespace xg\n";
    auto planted = declared_ops(tmp.string());
    fs::remove_all(tmp);
    CHECK(planted.size() == ops.size() + 1);
    auto problems = registry_problems(planted);
    CHECK(problems.size() == 1);
    CHECK(mentions(problems, "op 'planted_op' is declared but has no registry row"));

    // A row whose op is no longer declared.
    ops.erase("leaky_relu");
    problems = registry_problems(ops);
    CHECK(problems.size() == 1);
    CHECK(mentions(problems, "registry row 'leaky_relu' names no op declared"));
}

TEST_CASE("layers: core/ includes no ops/ or check/ header, ops/ no check/ header") {
    namespace fs = std::filesystem;
    const std::pair<const char*, std::vector<std::string>> rules[] = {
        {"core", {"#include \"ops/", "#include \"check/"}}, {"ops", {"#include \"check/"}}};
    for (const auto& [dir_, banned] : rules) {
        const auto& dir = dir_;  // doctest macros make lambdas: C++17 cannot capture a binding
        for (const auto& e : fs::directory_iterator(fs::path(XGRAD_SOURCE_DIR) / dir)) {
            std::ifstream in(e.path());
            const std::string text(std::istreambuf_iterator<char>(in), {});
            for (const auto& b : banned) {
                CHECK_MESSAGE(text.find(b) == std::string::npos,
                              e.path().filename().string() << " in " << dir << "/ has " << b);
            }
        }
    }
}

TEST_CASE("layers: xgrad.hpp includes every ops/ header that declares an op") {
    namespace fs = std::filesystem;
    auto read = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string umbrella = read(fs::path(XGRAD_SOURCE_DIR) / "xgrad.hpp");
    for (const auto& e : fs::directory_iterator(fs::path(XGRAD_SOURCE_DIR) / "ops")) {
        if (e.path().extension() != ".hpp" || scan_declarations(read(e.path())).empty()) continue;
        const std::string inc = "#include \"ops/" + e.path().filename().string() + "\"";
        CHECK_MESSAGE(umbrella.find(inc) != std::string::npos, "xgrad.hpp lacks " << inc);
    }
}

}  // namespace xg::testing
