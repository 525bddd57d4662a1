// The main job's program end to end, on 1,000 real Fashion-MNIST images (Debian's
// dataset-fashion-mnist, which `make test` installs): the loss falls and accuracy beats chance by
// a wide margin; the metrics CSV and SVG are written; and a run stopped after one epoch and
// resumed with --resume ends with the same weights, bit for bit, as a run never interrupted.
#include <doctest/doctest.h>

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_paths.hpp"
#include "train/metrics.hpp"
#include "xgrad.hpp"

using namespace xg;
namespace fs = std::filesystem;

namespace {

const std::string data_dir = [] {
    const char* env = std::getenv("XGRAD_FASHION_MNIST_DIR");
    return std::string(env ? env : "/usr/share/datasets/fashion-mnist");
}();

int run_train_cnn(const std::string& out, const std::string& extra) {
    std::string cmd = std::string(XGRAD_BINARY_DIR) +
                      "/train_cnn --epochs 2 --train-subset 1000 --test-subset 500 --threads 1 "
                      "--batch-size 50 --data-dir " +
                      data_dir + " --out-dir " + out + " " + extra + " > " + out + ".log 2>&1";
    fs::create_directories(out);
    return std::system(cmd.c_str());
}

std::string slurp(const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("end to end: train_cnn learns, writes metrics and a chart, and resumes exactly") {
    REQUIRE_MESSAGE(fs::exists(data_dir + "/train-images-idx3-ubyte.gz"),
                    "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist (make test "
                    "installs it) or set XGRAD_FASHION_MNIST_DIR");
    // In the build folder: suites of two builds (Release and ASan, say) may run at once, and a
    // shared folder in /tmp had one run delete the other's files.
    const fs::path root = fs::path(XGRAD_BINARY_DIR) / "xgrad_test_e2e";
    fs::remove_all(root);
    const std::string straight = (root / "straight").string(),
                      resumed = (root / "resumed").string();

    REQUIRE_MESSAGE(run_train_cnn(straight, "") == 0, slurp(straight + ".log"));
    std::string log = slurp(straight + ".log");
    CHECK(log.find("test accuracy: ") != std::string::npos);
    CHECK(log.find("confusion matrix") != std::string::npos);
    auto m = train::MetricsLog::read_csv(straight + "/metrics.csv");
    REQUIRE(m.rows().size() == 2);
    CHECK(m.rows()[1].train_loss < m.rows()[0].train_loss);  // the loss falls
    CHECK(m.rows()[1].test_acc > 0.5);                       // chance is 0.1
    std::string svg = slurp(straight + "/metrics.svg");
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("</svg>") != std::string::npos);

    // Interrupted after epoch 1, then resumed: same final state as the straight run.
    REQUIRE(run_train_cnn(resumed, "--stop-after 1") == 0);
    CHECK(train::MetricsLog::read_csv(resumed + "/metrics.csv").rows().size() == 1);
    REQUIRE_MESSAGE(run_train_cnn(resumed, "--resume") == 0, slurp(resumed + ".log"));
    CHECK(slurp(resumed + ".log").find("resumed from") != std::string::npos);
    auto a = load_safetensors(straight + "/checkpoint.safetensors");
    auto b = load_safetensors(resumed + "/checkpoint.safetensors");
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (auto ia = a.tensors.begin(), ib = b.tensors.begin(); ia != a.tensors.end(); ++ia, ++ib) {
        CAPTURE(ia->first);
        CHECK(ia->first == ib->first);
        CHECK(ia->second.to_vector() == ib->second.to_vector());
    }
    CHECK(a.metadata.at("rng.global") == b.metadata.at("rng.global"));
    auto mb = train::MetricsLog::read_csv(resumed + "/metrics.csv");
    REQUIRE(mb.rows().size() == 2);
    CHECK(mb.rows()[1].test_acc == m.rows()[1].test_acc);
    fs::remove_all(root);
}

TEST_CASE("end to end: a diverging run stops at its first non-finite loss, exits 1, keeps no NaN") {
    REQUIRE(fs::exists(data_dir + "/train-images-idx3-ubyte.gz"));
    const fs::path root = fs::path(XGRAD_BINARY_DIR) / "xgrad_test_e2e_diverge";
    fs::remove_all(root);
    // SGD at lr 1e6 on LeNet (no batch norm to rein it in) blows up within a few steps.
    const std::string diverge = "--model lenet --optimizer sgd --lr 1e6 --scheduler none";
    const std::string stop = (root / "stop").string(), skip = (root / "skip").string();
    CHECK(run_train_cnn(stop, diverge) != 0);
    std::string log = slurp(stop + ".log");
    CHECK_MESSAGE(log.find("training diverged") != std::string::npos, log);
    CHECK(log.find("at epoch 1, step ") != std::string::npos);
    CHECK(log.find("test accuracy") == std::string::npos);
    CHECK(!fs::exists(stop + "/checkpoint.safetensors"));  // no finite epoch to keep
    // skip: the steps with a NaN loss are skipped and counted; whatever is saved is finite
    // (Checkpoint::save refuses NaN and inf, tests/test_checkpoint.cpp).
    const int rc = run_train_cnn(skip, diverge + " --on-nonfinite skip");
    log = slurp(skip + ".log");
    CHECK_MESSAGE(
        log.find("steps with a non-finite loss (--on-nonfinite skip)") != std::string::npos, log);
    CHECK(log.find("training diverged") == std::string::npos);
    if (fs::exists(skip + "/checkpoint.safetensors")) {
        CHECK(rc == 0);
        // Not a structured binding: clang's C++17 lambdas (doctest's macros) cannot capture one.
        for (const auto& item : load_safetensors(skip + "/checkpoint.safetensors").tensors) {
            const std::string name = item.first;
            for (double v : item.second.to_vector()) CHECK_MESSAGE(std::isfinite(v), name);
        }
    } else {
        CHECK(log.find("holds non-finite values") != std::string::npos);
    }
}

TEST_CASE("end to end: --resume refuses a flag that disagrees with the checkpoint, naming both") {
    REQUIRE(fs::exists(data_dir + "/train-images-idx3-ubyte.gz"));
    const fs::path root = fs::path(XGRAD_BINARY_DIR) / "xgrad_test_e2e_conflict";
    fs::remove_all(root);
    const std::string out = (root / "run").string();
    REQUIRE(run_train_cnn(out, "--stop-after 1") == 0);  // epoch 1 of 2 on disk
    CHECK(run_train_cnn(out, "--resume --lr 10000") != 0);
    std::string log = slurp(out + ".log");
    CHECK_MESSAGE(log.find("--lr 10000 conflicts with the checkpoint") != std::string::npos, log);
    CHECK(log.find("trained with --lr 0.002") != std::string::npos);
    CHECK(run_train_cnn(out, "--resume --model lenet") != 0);
    CHECK(slurp(out + ".log").find("--model lenet conflicts") != std::string::npos);
    // The flags of the saved run (the helper repeats --batch-size 50) resume as before.
    REQUIRE(run_train_cnn(out, "--resume") == 0);
    CHECK(slurp(out + ".log").find("resumed from") != std::string::npos);
}
