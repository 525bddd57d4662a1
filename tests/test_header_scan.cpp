// The header scan behind the registry test, the registry test itself on planted omissions, and
// the layer rules (every include goes down the ladder of tests/header_scan.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "test_paths.hpp"
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

TEST_CASE("layers: every include of the tree goes down the ladder (tests/header_scan.cpp)") {
    namespace fs = std::filesystem;
    const auto files = layered_files(XGRAD_SOURCE_DIR);
    std::size_t includes = 0;
    std::vector<std::string> problems;
    for (const auto& f : files) {
        std::ifstream in(fs::path(XGRAD_SOURCE_DIR) / f);
        const auto found = scan_includes(std::string(std::istreambuf_iterator<char>(in), {}));
        includes += found.size();
        for (auto& p : layer_violations(f, found)) problems.push_back(std::move(p));
    }
    // The walk saw the tree (every layer folder, and the umbrella).
    CHECK(files.size() > 150);
    CHECK(includes > 800);
    for (const char* f : {"xgrad.hpp", "core/tensor.hpp", "ops/conv.cpp", "check/gradcheck.cpp",
                          "nn/module.hpp", "optim/adam.cpp", "data/loader.hpp", "train/solver.cpp",
                          "distributed/ddp.hpp", "examples/train_cnn.cpp", "bench/bench_ops.cpp",
                          "tests/test_header_scan.cpp", "tests/mpi/test_distributed.cpp"})
        CHECK_MESSAGE(std::find(files.begin(), files.end(), f) != files.end(), f);
    for (const auto& p : problems) FAIL_CHECK(p);
}

TEST_CASE("layers: the checker reports a planted upward or sideways include") {
    const std::string text = R"(#pragma once
// #include "nn/commented_out.hpp"
/* #include "nn/block_comment.hpp"
#include "nn/still_in_the_comment.hpp" */
#include <vector>
#  include <core/tensor.hpp>
#include "ops/conv.hpp"  // trailing comment
#include "nn/module.hpp"
)";
    const auto includes = scan_includes(text);
    REQUIRE(includes.size() == 4);
    CHECK(includes[0].line == 5);
    CHECK(includes[1].path == "core/tensor.hpp");
    CHECK(includes[1].line == 6);
    CHECK(includes[3].path == "nn/module.hpp");
    CHECK(includes[3].line == 8);

    // Allowed as it stands in nn/ (own folder, layers below, third-party headers).
    CHECK(layer_violations("nn/layers.cpp", includes).empty());
    // Upward: core/ sees only core/ (and ops/conv.hpp is upward too).
    auto problems = layer_violations("core/tensor.hpp", includes);
    CHECK(problems.size() == 2);
    CHECK(mentions(problems,
                   "core/tensor.hpp:7: #include \"ops/conv.hpp\" reaches ops/, but "
                   "core/ may include only core/"));
    CHECK(mentions(problems, "core/tensor.hpp:8: #include \"nn/module.hpp\" reaches nn/"));
    // Sideways: optim/ and nn/ stand side by side on ops/.
    problems = layer_violations("optim/sgd.cpp", includes);
    CHECK(problems.size() == 1);
    CHECK(mentions(problems,
                   "optim/sgd.cpp:8: #include \"nn/module.hpp\" reaches nn/, but "
                   "optim/ may include only core/ ops/ optim/"));

    const auto one = [](const std::string& path) { return std::vector<Include>{{3, path}}; };
    const std::pair<const char*, const char*> planted[] = {
        {"examples/x.cpp", "tests/parity.hpp"},        // tests/ is on top of everything
        {"tests/test_x.cpp", "examples/helpers.hpp"},  // nothing includes examples/ ...
        {"train/solver.cpp", "bench/bench_util.hpp"},  // ... or bench/
        {"bench/x.cpp", "examples/helpers.hpp"},
        {"data/loader.cpp", "nn/module.hpp"},  // siblings
        {"nn/layers.cpp", "check/gradcheck.hpp"},
        {"check/gradcheck.cpp", "data/dataset.hpp"},
        {"ops/conv.cpp", "../train/solver.hpp"},  // relative to ops/
        {"train/solver.cpp", "distributed/ddp.hpp"},
        {"distributed/ddp.cpp", "xgrad.hpp"},  // only programs and tests include the umbrella
        {"xgrad.hpp", "tests/parity.hpp"},
    };
    for (const auto& [file_, inc_] : planted) {
        const std::string file = file_, inc = inc_;  // doctest's lambdas cannot capture bindings
        const auto found = layer_violations(file, one(inc));
        CHECK_MESSAGE(found.size() == 1, file << " including " << inc);
        CHECK_MESSAGE(mentions(found, file + ":3: #include \"" + inc + "\""), file);
    }
    const std::pair<const char*, const char*> allowed[] = {
        {"xgrad.hpp", "distributed/ddp.hpp"},
        {"examples/train_cnn.cpp", "distributed/ddp.hpp"},
        {"bench/x.cpp", "xgrad.hpp"},
        {"tests/consumer/main.cpp", "xgrad.hpp"},
        {"tests/test_x.cpp", "tests/parity.hpp"},
        {"train/solver.cpp", "data/loader.hpp"},
        {"nn/layers.cpp", "module.hpp"},
        {"core/tensor.cpp", "fmt/format.h"},
    };
    for (const auto& [file_, inc_] : allowed) {
        const std::string file = file_, inc = inc_;
        CHECK_MESSAGE(layer_violations(file, one(inc)).empty(), file << " including " << inc);
    }
    // A folder without a row is an error, not a pass.
    CHECK(mentions(layer_violations("scripts/x.cpp", one("core/tensor.hpp")),
                   "no layer rule for scripts/"));
}

TEST_CASE("layers: the tree walk reports a file planted with an upward include") {
    namespace fs = std::filesystem;
    const fs::path tmp = fs::temp_directory_path() / "xgrad_layer_scan_test";
    fs::remove_all(tmp);
    fs::create_directories(tmp / "core");
    fs::create_directories(tmp / "nn");
    fs::create_directories(tmp / "tests" / "mpi");
    std::ofstream(tmp / "xgrad.hpp")
        << "#include \"core/tensor.hpp\"\n#include \"nn/module.hpp\"\n";
    std::ofstream(tmp / "core" / "tensor.hpp") << "#pragma once\n#include <vector>\n";
    std::ofstream(tmp / "nn" / "module.hpp") << "#pragma once\n#include \"core/tensor.hpp\"\n";
    std::ofstream(tmp / "core" / "planted.cpp")
        << "#include \"core/tensor.hpp\"\n\n#include \"nn/module.hpp\"  // upward\n";
    std::ofstream(tmp / "tests" / "mpi" / "t.cpp") << "#include \"xgrad.hpp\"\n";
    std::ofstream(tmp / "nn" / "notes.txt") << "#include \"tests/x.hpp\"\n";  // not a source
    const auto files = layered_files(tmp.string());
    std::vector<std::string> problems;
    for (const auto& f : files) {
        std::ifstream in(tmp / f);
        for (auto& p : layer_violations(f, scan_includes({std::istreambuf_iterator<char>(in), {}})))
            problems.push_back(std::move(p));
    }
    fs::remove_all(tmp);
    CHECK(files == std::vector<std::string>{"core/planted.cpp", "core/tensor.hpp", "nn/module.hpp",
                                            "tests/mpi/t.cpp", "xgrad.hpp"});
    REQUIRE(problems.size() == 1);
    CHECK(mentions(problems, "core/planted.cpp:3: #include \"nn/module.hpp\" reaches nn/"));
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
