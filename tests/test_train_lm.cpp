// The language models of nn/char_lm.hpp in process (a tiny GPT and LSTM learn a fixed
// batch; sampling is deterministic and stays in the vocabulary), and examples/train_lm end to
// end on a small scratch corpus: the loss falls, a run stopped after one epoch and resumed ends
// bit for bit where the uninterrupted run does, and --sample-only writes text of the requested
// length from the checkpoint's vocabulary.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/serialize.hpp"
#include "data/text.hpp"
#include "nn/char_lm.hpp"
#include "optim/adam.hpp"
#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "train/metrics.hpp"

using namespace xg;
namespace lm = xg::nn::lm;
namespace fs = std::filesystem;
using xg::testing::error_of;

namespace {

std::string corpus_text() {
    std::string s;
    const char* lines[] = {"the cat sat on the mat.\n", "a dog ate the log.\n",
                           "no man is an island.\n", "to be or not to be.\n"};
    for (int i = 0; i < 60; ++i) s += lines[(i * 7) % 4];
    return s;
}

std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

double train_steps(lm::LanguageModel& model, const data::TextBatch& b, int steps, double* first) {
    optim::AdamW opt(model.parameters(), 1e-2);
    double loss_value = 0;
    for (int i = 0; i < steps; ++i) {
        Tensor loss = lm::lm_loss(model.forward(b.context), b.target);
        loss_value = loss.item();
        if (i == 0) *first = loss_value;
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    return loss_value;
}

}  // namespace

TEST_CASE("lm models: a tiny GPT and LSTM fit a batch; sampling is seeded and in vocabulary") {
    auto corpus = data::TextFile::from_text(corpus_text());
    auto set = corpus.train(12);
    data::TextBatch b = set.get_batch({0, 5, 17, 40});
    for (std::string kind : {"gpt", "lstm"}) {
        CAPTURE(kind);
        manual_seed(3);
        lm::Config c;
        c.model = kind;
        c.vocab = std::int64_t(corpus.vocab().size());
        c.context = 12;
        c.layers = 1;
        c.width = 16;
        c.heads = 2;
        auto model = lm::make_model(c);
        Tensor logits = model->forward(b.context);
        CHECK(logits.shape() == Shape{4, 12, std::size_t(c.vocab)});
        double first = 0;
        const double last = train_steps(*model, b, 25, &first);
        CHECK(first == doctest::Approx(std::log(double(c.vocab))).epsilon(0.15));
        CHECK(last < 0.6 * first);

        Generator g1(7), g2(7);
        auto a = lm::sample(*model, corpus.vocab().encode("the"), 30, 0.8, 5, g1);
        auto a2 = lm::sample(*model, corpus.vocab().encode("the"), 30, 0.8, 5, g2);
        CHECK(a == a2);
        CHECK(a.size() == 33);
        CHECK(corpus.vocab().decode(a).substr(0, 3) == "the");  // every id decodes
    }
    lm::Config c;
    c.vocab = 10;
    c.context = 4;
    c.width = 6;
    c.heads = 4;
    CHECK(error_of([&] { lm::GPT m(c); }).find("divisible") != std::string::npos);
    c.heads = 2;
    lm::GPT m(c);
    CHECK(error_of([&] {
              m.forward(zeros({1, 5}, int64));
          }).find("context 4") != std::string::npos);
}

namespace {

int run_train_lm(const std::string& data, const std::string& out, const std::string& extra) {
    std::string cmd =
        std::string(XGRAD_BINARY_DIR) + "/train_lm --data " + data +
        " --epochs 2 --steps 12 --batch 8 --context 16 --layers 1 --width 16 "
        "--heads 2 --lr 1e-2 --val-windows 16 --threads 1 --sample-chars 20 --prompt 'the ' "
        "--out-dir " +
        out + " " + extra + " > " + out + ".log 2>&1";
    fs::create_directories(out);
    return std::system(cmd.c_str());
}

}  // namespace

TEST_CASE("end to end: train_lm learns, resumes exactly, and --sample-only writes text") {
    const fs::path root = fs::path(XGRAD_BINARY_DIR) / "xgrad_test_train_lm";
    fs::remove_all(root);
    fs::create_directories(root);
    const std::string data = (root / "corpus.txt").string();
    std::ofstream(data, std::ios::binary) << corpus_text();
    const auto vocab = data::CharVocab::from_text(corpus_text());
    const std::string straight = (root / "straight").string(),
                      resumed = (root / "resumed").string();

    for (std::string model : {"gpt", "lstm"}) {
        CAPTURE(model);
        fs::remove_all(straight);
        fs::remove_all(resumed);
        const std::string m = "--model " + model;
        REQUIRE_MESSAGE(run_train_lm(data, straight, m) == 0, slurp(straight + ".log"));
        const std::string log = slurp(straight + ".log");
        CHECK(log.find("validation loss: ") != std::string::npos);
        CHECK(log.find("--- sample") != std::string::npos);
        auto rows = train::MetricsLog::read_csv(straight + "/metrics.csv").rows();
        REQUIRE(rows.size() == 2);
        CHECK(rows[1].train_loss < rows[0].train_loss);
        CHECK(rows[1].test_loss < 0.9 * std::log(double(vocab.size())));  // uniform: log V
        CHECK(slurp(straight + "/metrics.svg").find("</svg>") != std::string::npos);

        REQUIRE(run_train_lm(data, resumed, m + " --stop-after 1") == 0);
        REQUIRE_MESSAGE(run_train_lm(data, resumed, m + " --resume") == 0, slurp(resumed + ".log"));
        CHECK(slurp(resumed + ".log").find("resumed from") != std::string::npos);
        auto a = load_safetensors(straight + "/checkpoint.safetensors");
        auto b = load_safetensors(resumed + "/checkpoint.safetensors");
        REQUIRE(a.tensors.size() == b.tensors.size());
        for (auto ia = a.tensors.begin(), ib = b.tensors.begin(); ia != a.tensors.end();
             ++ia, ++ib) {
            CAPTURE(ia->first);
            CHECK(ia->first == ib->first);
            CHECK(ia->second.to_vector() == ib->second.to_vector());
        }
        auto rows_b = train::MetricsLog::read_csv(resumed + "/metrics.csv").rows();
        REQUIRE(rows_b.size() == 2);
        CHECK(rows_b[1].test_loss == rows[1].test_loss);
        CHECK(vocab == data::CharVocab::parse(a.metadata.at("info.vocab")));
        // A resume with another architecture is refused, naming the flag.
        const std::string other = model == "gpt" ? "--model lstm" : "--model gpt";
        CHECK(run_train_lm(data, resumed, other + " --resume") != 0);
        CHECK(slurp(resumed + ".log").find(other + " conflicts") != std::string::npos);
    }

    // --sample-only: the last checkpoint (the lstm's), 50 characters after the prompt.
    const std::string out = (root / "sample.txt").string();
    const std::string cmd = std::string(XGRAD_BINARY_DIR) + "/train_lm --sample-only --out-dir " +
                            straight + " --prompt 'the ' --sample-chars 50 --seed 4 > " + out;
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string text = slurp(out);
    REQUIRE(text.size() == 4 + 50 + 1);  // and the final newline
    CHECK(text.substr(0, 4) == "the ");
    for (char ch : text.substr(0, 54)) CHECK(vocab.contains(ch));
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(slurp(out) == text);  // the same seed writes the same text
    // A prompt outside the vocabulary is an error naming the character.
    const std::string bad = std::string(XGRAD_BINARY_DIR) + "/train_lm --sample-only --out-dir " +
                            straight + " --prompt 'Q' > " + out + " 2>&1";
    CHECK(std::system(bad.c_str()) != 0);
    CHECK(slurp(out).find("'Q'") != std::string::npos);
    fs::remove_all(root);
}
