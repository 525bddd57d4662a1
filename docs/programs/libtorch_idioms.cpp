// A libtorch user's everyday idioms, written as they would be in libtorch (torch:: becomes xg::):
// indexing and writing through masks, a masked accuracy count, top-k predictions, and a causal
// attention score through einsum. docs/ops_index.md explains the rules; the suite builds and runs
// this file (ctest: docs_libtorch_idioms), so every line here compiles and holds.
#include <cmath>
#include <cstdio>
#include <tuple>

#include "xgrad.hpp"

using namespace xg::indexing;

#define EXPECT(cond)                                                      \
    do {                                                                  \
        if (!(cond)) {                                                    \
            std::fprintf(stderr, "libtorch_idioms: failed: %s\n", #cond); \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main() {
    xg::manual_seed(0);

    // Indexing reads and writes.
    auto x = xg::arange(12, xg::kFloat).reshape({3, 4});
    auto row = x.index({1});                                // x[1]
    auto col = x.index({Slice(), -1});                      // x[:, -1]
    auto evens = x.index({Slice(), Slice(None, None, 2)});  // x[:, ::2]
    EXPECT(row.shape() == xg::Shape{4});
    EXPECT(col.to_vector() == (std::vector<double>{3, 7, 11}));
    EXPECT(evens.shape() == (xg::Shape{3, 2}));
    x.index_put_({x > 8}, 0);            // x[x > 8] = 0
    x.index_put_({0, Slice(0, 2)}, -1);  // x[0, 0:2] = -1
    EXPECT(x.index({2}).to_vector() == (std::vector<double>{8, 0, 0, 0}));
    EXPECT(x.index({0, 0}).item<float>() == -1.0f);
    auto picked = x.index({xg::tensor({2, 0}, xg::kLong)});  // x[[2, 0]]
    EXPECT(picked.shape() == (xg::Shape{2, 4}));

    // A masked accuracy count: predictions against labels, ignoring padding (label -1).
    auto logits = xg::randn({6, 5});
    auto labels = xg::tensor({1, 4, -1, 0, 2, -1}, xg::kLong);
    auto pred = logits.argmax(1);
    auto valid = labels != -1;
    auto correct = ((pred == labels) & valid).sum().item<std::int64_t>();
    auto counted = valid.sum().item<std::int64_t>();
    EXPECT(counted == 4);
    EXPECT(correct >= 0 && correct <= counted);
    double accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(counted);

    // Top-k predictions with their probabilities.
    auto probs = xg::softmax(logits, 1);
    auto [top_p, top_i] = probs.topk(3, 1);
    EXPECT(top_i.dtype() == xg::kLong && top_i.shape() == (xg::Shape{6, 3}));
    EXPECT((top_p.index({Slice(), 0}) >= top_p.index({Slice(), 1})).all().item<bool>());
    EXPECT((top_i.index({Slice(), 0}) == pred).all().item<bool>());

    // A causal attention score: [batch, heads, T, d] queries and keys, one einsum.
    const std::int64_t B = 2, H = 2, T = 4, D = 8;
    auto q = xg::randn({B, H, T, D}).requires_grad_();
    auto k = xg::randn({B, H, T, D}).requires_grad_();
    auto scores = xg::einsum("bhqd,bhkd->bhqk", {q, k}) / std::sqrt(static_cast<double>(D));
    auto causal = xg::ones({T, T}, xg::kBool).triu(1);  // true above the diagonal
    auto att = xg::softmax(scores.masked_fill(causal, -INFINITY), -1);
    EXPECT(att.shape() == (xg::Shape{B, H, T, T}));
    EXPECT(att.index({0, 0, 0, 1}).item<float>() == 0.0f);  // the first query sees itself only
    att.index({Ellipsis, 0}).sum().backward();
    EXPECT(q.grad().defined() && k.grad().defined());

    std::printf("libtorch idioms: ok (masked accuracy %.1f%% over %lld labels)\n", accuracy,
                static_cast<long long>(counted));
    return 0;
}
