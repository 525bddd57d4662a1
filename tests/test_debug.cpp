// Leak counters (core/debug.hpp) and bounded memory over a training run. docs/RELIABILITY.md,
// "Memory", explains the one reference cycle (backward with create_graph) and the way out.
#include <doctest/doctest.h>

#include <unistd.h>
#include <fstream>

#include "xgrad.hpp"

using namespace xg;

namespace {

struct Live {
    std::int64_t nodes = debug::live_nodes();
    std::int64_t storages = debug::live_storages();
};

// Resident set size in bytes, from /proc/self/statm (Linux).
std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size_pages = 0, resident_pages = 0;
    statm >> size_pages >> resident_pages;
    return resident_pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

Tensor loss_of(const Tensor& x, const Tensor& w) {
    return (tanh(matmul(x, w)) * exp(x.sum({1}, true) * 0.1)).sum();
}

}  // namespace

TEST_CASE("debug: nodes and storages return to their start after a backward") {
    Generator gen(3);
    auto w = randn({3, 4}, gen, float64).requires_grad_();
    auto x = randn({5, 3}, gen, float64);
    const Live start;
    {
        Tensor loss = loss_of(x, w);
        CHECK(debug::live_nodes() > start.nodes);  // the counters see the graph
        CHECK(debug::live_storages() > start.storages);
        loss.backward();
    }
    CHECK(debug::live_nodes() == start.nodes);
    CHECK(debug::live_storages() == start.storages + 1);  // w.grad
    w.zero_grad();
    CHECK(debug::live_storages() == start.storages);

    // xg::grad with create_graph: the gradient holds a graph, freed with it (no cycle).
    {
        Tensor g = grad({loss_of(x, w)}, {w}, {}, {}, /*create_graph=*/true)[0];
        CHECK(g.requires_grad());
        CHECK(debug::live_nodes() > start.nodes);
        Tensor gg = grad({g.sum()}, {w})[0];  // second order, not retained
        CHECK(gg.defined());
    }
    CHECK(debug::live_nodes() == start.nodes);
    CHECK(debug::live_storages() == start.storages);
}

TEST_CASE("debug: backward with create_graph makes a cycle through .grad; zero_grad breaks it") {
    Generator gen(4);
    auto w = randn({3, 4}, gen, float64).requires_grad_();
    auto x = randn({5, 3}, gen, float64);
    const Live start;
    loss_of(x, w).backward({}, {}, /*create_graph=*/true);
    // w.grad's graph ends in w's AccumulateGrad, which holds w: it outlives the forward tensors.
    CHECK(w.grad().requires_grad());
    CHECK(debug::live_nodes() > start.nodes);
    w.zero_grad();  // the way out (or set_grad(Tensor()), optimizer/module zero_grad())
    CHECK(debug::live_nodes() == start.nodes);
    CHECK(debug::live_storages() == start.storages);

    // The same through an optimizer's zero_grad (set_to_none or not: a grad with history is
    // dropped, never zeroed in place).
    optim::SGD opt({w}, optim::SGDOptions(0.1));
    loss_of(x, w).backward({}, {}, true);
    CHECK(debug::live_nodes() > start.nodes);
    opt.zero_grad(/*set_to_none=*/false);
    CHECK(debug::live_nodes() == start.nodes);
    CHECK(debug::live_storages() == start.storages);
}

TEST_CASE("debug: 1,000 small training steps: counters steady, resident memory within 1%") {
    manual_seed(11);
    nn::Sequential net({nn::Linear(32, 64), nn::ReLU(), nn::Linear(64, 10)});
    optim::SGD opt(net->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    Generator gen(12);
    auto step = [&] {
        Tensor x = randn({16, 32}, gen);
        xt::xarray<std::int64_t> y = xt::xarray<std::int64_t>::from_shape({16});
        for (auto& v : y) v = static_cast<std::int64_t>(gen.next_u64() % 10);
        opt.zero_grad();
        Tensor loss = cross_entropy(net(x), Tensor(y));
        loss.backward();
        opt.step();
    };
    for (int i = 0; i < 100; ++i) step();  // warm-up: optimizer state, allocator pools
    const Live after_100;
    const std::size_t rss_100 = resident_bytes();
    for (int i = 0; i < 900; ++i) step();
    const std::size_t rss_1000 = resident_bytes();
    MESSAGE("resident memory after 100 steps: " << rss_100 << " bytes, after 1000: " << rss_1000);
    CHECK(debug::live_nodes() == after_100.nodes);
    CHECK(debug::live_storages() == after_100.storages);
    REQUIRE(rss_100 > 0);
#if defined(__SANITIZE_ADDRESS__)
#define XG_DEBUG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XG_DEBUG_ASAN 1
#endif
#endif
#if !defined(XG_DEBUG_ASAN)
    // Not under ASan: its quarantine holds freed memory back (up to 256 MB) by design.
    CHECK(static_cast<double>(rss_1000) <= 1.01 * static_cast<double>(rss_100));
#endif
}
