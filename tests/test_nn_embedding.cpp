// nn::Embedding (nn/embedding.hpp): PyTorch parity with padding_idx and max_norm
// (tests/parity/nn_modules_more.py), default init, the padding row's gradient, int32 ids,
// from_pretrained, max_norm's in-place renorm, a float64 gradient check and bad inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "tests/error_of.hpp"
#include "tests/module_parity.hpp"
#include "tests/nn_check.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {
Tensor ids64(const std::vector<std::int64_t>& v, const Shape& shape) {
    return tensor(v, shape);
}
}  // namespace

TEST_CASE("Embedding parity: padding_idx -2 and max_norm, in a Sequential, matches PyTorch") {
    check_module_parity(
        nn::Sequential({nn::Embedding(nn::EmbeddingOptions(7, 4).padding_idx(-2).max_norm(0.55)),
                        nn::Flatten(), nn::Linear(16, 5),
                        nn::GELU(nn::GELUOptions().approximate("tanh")), nn::LogSoftmax(1)}),
        "nn/nn_embedding_seq");
}

TEST_CASE("Embedding parity: max_norm with norm_type 1, then AvgPool1d counting the padding") {
    check_module_parity(
        nn::Sequential({nn::Embedding(nn::EmbeddingOptions(6, 4).max_norm(0.9).norm_type(1.0)),
                        nn::AvgPool1d(nn::AvgPool1dOptions(3).stride(1).padding(1)),
                        nn::Flatten()}),
        "nn/nn_embedding_l1");
}

TEST_CASE("Embedding: N(0, 1) init, the padding row zero, names and printing") {
    manual_seed(3);
    nn::Embedding e(nn::EmbeddingOptions(400, 50).padding_idx(-1));
    CHECK(e->options.padding_idx() == 399);
    CHECK(e->weight.shape() == Shape{400, 50});
    CHECK(e->named_parameters().keys() == std::vector<std::string>{"weight"});
    auto w = e->weight.to_vector();
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < 399 * 50; ++i) sum += w[i], sq += w[i] * w[i];
    const double n = 399 * 50, mean = sum / n;
    CHECK(std::abs(mean) < 0.03);
    CHECK(std::abs(std::sqrt(sq / n - mean * mean) - 1.0) < 0.03);
    for (std::size_t i = 399 * 50; i < w.size(); ++i) CHECK(w[i] == 0.0);
    CHECK(e->repr() == "Embedding(400, 50, padding_idx=399)");
    CHECK(fmt::format("{}", *e) == e->repr());
    std::ostringstream os;
    os << *nn::Embedding(nn::EmbeddingOptions(3, 2).max_norm(1.0).norm_type(1.0));
    CHECK(os.str() == "Embedding(3, 2, max_norm=1.0, norm_type=1.0)");
}

TEST_CASE("Embedding: int32 ids, any shape, the padding row gets no gradient") {
    nn::Embedding e(nn::EmbeddingOptions(5, 3).padding_idx(1));
    Tensor i64 = ids64({1, 4, 1, 0, 2, 4}, {2, 3});
    Tensor y = e(i64);
    CHECK(y.shape() == Shape{2, 3, 3});
    CHECK(e(i64.to(int32)).to_vector() == y.to_vector());
    y.sum().backward();
    auto g = e->weight.grad().to_vector();
    const std::vector<double> counts{1, 0, 1, 0, 2};  // row 1 is padding: no gradient
    for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 3; ++c) CHECK(g[r * 3 + c] == counts[r]);
    CHECK(e(ids64({3}, {})).shape() == Shape{3});  // a 0-d id gives one row
}

TEST_CASE("Embedding::from_pretrained shares the table; freeze decides requires_grad") {
    Tensor table = arange(0.0, 12.0, 1.0, float64).reshape({4, 3});
    auto frozen = nn::Embedding::from_pretrained(table);
    CHECK_FALSE(frozen->weight.requires_grad());
    CHECK(frozen->repr() == "Embedding(4, 3)");
    CHECK(frozen(ids64({2}, {1})).to_vector() == std::vector<double>{6, 7, 8});
    auto tuned = nn::Embedding::from_pretrained(table, false, 0);
    CHECK(tuned->weight.requires_grad());
    CHECK(tuned->weight.to_vector()[1] == 1.0);  // the padding row is kept as given
    tuned(ids64({0, 3}, {2})).sum().backward();
    auto g = tuned->weight.grad().to_vector();
    CHECK(g[0] == 0.0);
    CHECK(g[9] == 1.0);
    {
        NoGradGuard no_grad;
        Tensor(table).mul_(2.0);  // the module sees the caller's data
    }
    CHECK(frozen(ids64({1}, {1})).to_vector() == std::vector<double>{6, 8, 10});
    auto o = nn::Embedding::from_pretrained(
        table, nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(-1).norm_type(1.0));
    CHECK(o->weight.requires_grad());
    CHECK(o->repr() == "Embedding(4, 3, padding_idx=3, norm_type=1.0)");
}

TEST_CASE("Embedding max_norm: only the looked-up rows over the norm are scaled, in place") {
    Tensor table = tensor(std::vector<double>{3, 4, 0.3, 0.4, 6, 8}).reshape({3, 2});
    auto e = nn::Embedding::from_pretrained(table, false, std::nullopt, 1.0);
    const auto v0 = e->weight.version();
    Tensor y = e(ids64({0, 1, 0}, {3}));
    CHECK(e->weight.version() > v0);
    auto w = e->weight.to_vector();
    CHECK(w[0] == doctest::Approx(3 / (5 + 1e-7)).epsilon(1e-12));
    CHECK(w[1] == doctest::Approx(4 / (5 + 1e-7)).epsilon(1e-12));
    CHECK(w[2] == 0.3);  // under the norm
    CHECK(w[4] == 6.0);  // not looked up
    CHECK(y.to_vector()[0] == w[0]);
    y.sum().backward();  // the renorm is not on the tape
    CHECK(e->weight.grad().to_vector()[0] == 2.0);
}

TEST_CASE("gradcheck: Embedding with padding_idx in a small model, float64") {
    manual_seed(21);
    nn::Embedding e(nn::EmbeddingOptions(6, 3).padding_idx(2));
    nn::Linear fc(3, 2);
    e->to(float64);
    fc->to(float64);
    Tensor x = ids64({0, 3, 5, 5, 1, 4}, {2, 3});  // not the padding row: it gets no gradient
    Tensor gout = randn({2, 3, 2}, float64);
    check_model_gradients(*e, [&] { return mul(tanh(fc(e(x))), gout).sum(); });
}

TEST_CASE("Embedding: bad inputs name the module and the values") {
    nn::Embedding e(5, 2);
    check_error_rows({
        {"id too large",
         [&] {
             e(ids64({0, 5}, {2}));
         },
         {"Embedding:", "id 5", "num_embeddings 5"}},
        {"negative id", [&] { e(ids64({-1}, {1})); }, {"Embedding:", "id -1", "num_embeddings 5"}},
        {"float ids", [&] { e(zeros({2})); }, {"Embedding:", "ids", "float32"}},
        {"padding_idx",
         [] { nn::Embedding(nn::EmbeddingOptions(5, 2).padding_idx(5)); },
         {"Embedding:", "padding_idx 5", "num_embeddings 5"}},
        {"negative padding_idx",
         [] { nn::Embedding(nn::EmbeddingOptions(5, 2).padding_idx(-6)); },
         {"Embedding:", "padding_idx -6"}},
        {"negative size", [] { nn::Embedding(-1, 2); }, {"Embedding:", "-1"}},
        {"max_norm",
         [] { nn::Embedding(nn::EmbeddingOptions(5, 2).max_norm(-1.0)); },
         {"Embedding:", "max_norm", "-1"}},
        {"pretrained 1-D",
         [] { nn::Embedding::from_pretrained(zeros({4})); },
         {"Embedding::from_pretrained:", "[4]"}},
        {"pretrained int64",
         [] {
             nn::Embedding::from_pretrained(zeros({2, 2}).to(int64));
         },
         {"Embedding:", "int64"}},
    });
}
