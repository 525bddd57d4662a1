// examples/train_seq_mnist (the row-by-row LSTM) end to end on a small slice of Fashion-MNIST and
// a narrow LSTM, so it runs in seconds: it trains, the loss falls, it writes the metrics and the
// chart, and a run stopped after one epoch and resumed ends bit for bit where a run never
// interrupted does.
#include <doctest/doctest.h>

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

const std::string seq_data_dir = [] {
    const char* env = std::getenv("XGRAD_FASHION_MNIST_DIR");
    return std::string(env ? env : "/usr/share/datasets/fashion-mnist");
}();

int run_train_seq_mnist(const std::string& out, const std::string& extra) {
    std::string cmd = std::string(XGRAD_BINARY_DIR) +
                      "/train_seq_mnist --epochs 2 --train-subset 600 --test-subset 200 "
                      "--threads 1 --batch-size 50 --hidden 32 --data-dir " +
                      seq_data_dir + " --out-dir " + out + " " + extra + " > " + out + ".log 2>&1";
    fs::create_directories(out);
    return std::system(cmd.c_str());
}

std::string read_text(const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("train_seq_mnist: learns, writes metrics and a chart, and resumes exactly") {
    REQUIRE_MESSAGE(fs::exists(seq_data_dir + "/train-images-idx3-ubyte.gz"),
                    "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist (make test "
                    "installs it) or set XGRAD_FASHION_MNIST_DIR");
    const fs::path root = fs::path(XGRAD_BINARY_DIR) / "xgrad_test_seq_mnist";
    fs::remove_all(root);
    const std::string straight = (root / "straight").string(),
                      resumed = (root / "resumed").string();

    REQUIRE_MESSAGE(run_train_seq_mnist(straight, "") == 0, read_text(straight + ".log"));
    const std::string log = read_text(straight + ".log");
    CHECK(log.find("test accuracy: ") != std::string::npos);
    auto m = train::MetricsLog::read_csv(straight + "/metrics.csv");
    REQUIRE(m.rows().size() == 2);
    CHECK(m.rows()[1].train_loss < m.rows()[0].train_loss);  // the loss falls
    CHECK(m.rows()[1].test_acc > 0.2);                       // chance is 0.1
    CHECK(read_text(straight + "/metrics.svg").find("</svg>") != std::string::npos);

    // Interrupted after epoch 1, then resumed: the same final state as the straight run.
    REQUIRE(run_train_seq_mnist(resumed, "--stop-after 1") == 0);
    CHECK(train::MetricsLog::read_csv(resumed + "/metrics.csv").rows().size() == 1);
    REQUIRE_MESSAGE(run_train_seq_mnist(resumed, "--resume") == 0, read_text(resumed + ".log"));
    CHECK(read_text(resumed + ".log").find("resumed from") != std::string::npos);
    auto a = load_safetensors(straight + "/checkpoint.safetensors");
    auto b = load_safetensors(resumed + "/checkpoint.safetensors");
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (auto ia = a.tensors.begin(), ib = b.tensors.begin(); ia != a.tensors.end(); ++ia, ++ib) {
        const std::string name = ia->first;
        CAPTURE(name);
        CHECK(ia->first == ib->first);
        CHECK(ia->second.to_vector() == ib->second.to_vector());
    }
    CHECK(a.metadata.at("rng.global") == b.metadata.at("rng.global"));
    CHECK(train::MetricsLog::read_csv(resumed + "/metrics.csv").rows()[1].test_acc ==
          m.rows()[1].test_acc);

    // A resume that changes the architecture is refused, naming both values.
    CHECK(run_train_seq_mnist(resumed, "--resume --layers 2") != 0);
    CHECK(read_text(resumed + ".log").find("--layers 2 conflicts with the checkpoint") !=
          std::string::npos);
    fs::remove_all(root);
}
