// Independent graphs on several threads at once: each thread builds and backpropagates its own
// small MLP and CNN with its own xg::Generator, and the results must equal, bit for bit, the same
// computations done one after another. Grad mode is per thread: a NoGradGuard held by one thread
// must not stop another from recording. The ThreadSanitizer job runs this file (see
// docs/RELIABILITY.md); in the normal suite it checks the results.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "xgrad.hpp"

using namespace xg;

namespace {

// Everything a run produces: losses, outputs and every gradient, flattened.
using Trace = std::vector<std::vector<double>>;

Tensor labels(Generator& gen, std::size_t n, std::uint64_t classes) {
    xt::xarray<std::int64_t> y = xt::zeros<std::int64_t>({n});
    for (auto& v : y) v = static_cast<std::int64_t>(gen.next_u64() % classes);
    return Tensor(std::move(y));
}

// A two-layer MLP with dropout, trained for a few SGD steps; fc is a module built by the caller
// (module constructors draw from the global generator) and re-initialized here from gen.
Trace run_mlp(std::uint64_t seed, nn::Linear fc) {
    Generator gen(seed);
    fc->reset_parameters(gen);
    Tensor w2 = (randn({8, 5}, gen) * 0.3).requires_grad_();
    optim::SGD opt({fc->weight, fc->bias, w2}, optim::SGDOptions(0.1).momentum(0.9));
    Trace trace;
    for (int step = 0; step < 3; ++step) {
        Tensor x = randn({6, 12}, gen);
        Tensor y = labels(gen, 6, 5);
        Tensor h = dropout(relu(fc(x)), 0.25, true, gen);
        Tensor loss = cross_entropy(matmul(h, w2), y);
        opt.zero_grad();
        loss.backward();
        trace.push_back(loss.to_vector());
        trace.push_back(fc->weight.grad().to_vector());
        trace.push_back(w2.grad().to_vector());
        opt.step();
    }
    trace.push_back(fc->weight.to_vector());
    return trace;
}

// conv -> tanh -> max pool -> linear, float64, with a second derivative (create_graph).
Trace run_cnn(std::uint64_t seed) {
    Generator gen(seed);
    Tensor x = randn({2, 2, 6, 6}, gen, float64).requires_grad_();
    Tensor w = (randn({3, 2, 3, 3}, gen, float64) * 0.4).requires_grad_();
    Tensor b = randn({3}, gen, float64).requires_grad_();
    Tensor v = (randn({12, 4}, gen, float64) * 0.2).requires_grad_();
    Tensor h = tanh(conv2d(x, w, b, Conv2dFuncOptions().padding(1)));
    h = max_pool2d(h, MaxPool2dFuncOptions(3)).flatten(1);
    Tensor loss = cross_entropy(matmul(h, v), labels(gen, 2, 4));
    Tensor gx = grad({loss}, {x}, {}, true, true)[0];
    Tensor penalty = (gx * gx).sum();
    penalty.backward();
    return {loss.to_vector(), gx.to_vector(), w.grad().to_vector(), b.grad().to_vector(),
            v.grad().to_vector()};
}

// The same graph twice, the second time under a NoGradGuard held by this thread only.
Trace run_no_grad(std::uint64_t seed) {
    Generator gen(seed);
    Tensor w = randn({4, 4}, gen).requires_grad_();
    Tensor x = randn({3, 4}, gen);
    Tensor with_grad = tanh(matmul(x, w)).sum();
    Trace trace{with_grad.to_vector(), {with_grad.requires_grad() ? 1.0 : 0.0}};
    {
        NoGradGuard guard;
        for (int i = 0; i < 50; ++i) {  // hold the guard while the other threads record
            Tensor y = tanh(matmul(x, w)).sum();
            if (i == 0) trace.push_back({y.requires_grad() ? 1.0 : 0.0, y.item()});
        }
    }
    trace.push_back({GradMode::is_enabled() ? 1.0 : 0.0});
    return trace;
}

Trace run_task(int task, nn::Linear fc) {
    switch (task % 3) {
        case 0:
            return run_mlp(100 + task, std::move(fc));
        case 1:
            return run_cnn(200 + task);
        default:
            return run_no_grad(300 + task);
    }
}

}  // namespace

TEST_CASE("threads: independent graphs on 4 threads match the serial results exactly") {
    const int n_tasks = 8;
    // Modules are constructed here, on one thread: their constructors draw from the global
    // generator, which is not thread-safe (docs/RELIABILITY.md).
    std::vector<nn::Linear> serial_fc, thread_fc;
    for (int i = 0; i < n_tasks; ++i) {
        serial_fc.emplace_back(12, 8);
        thread_fc.emplace_back(12, 8);
    }
    std::vector<Trace> serial(n_tasks), threaded(n_tasks);
    for (int i = 0; i < n_tasks; ++i) serial[i] = run_task(i, serial_fc[i]);

    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i; (i = next.fetch_add(1)) < n_tasks;) threaded[i] = run_task(i, thread_fc[i]);
        });
    }
    for (auto& th : threads) th.join();

    for (int i = 0; i < n_tasks; ++i) {
        CAPTURE(i);
        REQUIRE(!serial[i].empty());
        CHECK(threaded[i] == serial[i]);
    }
    // The no-grad task recorded outside its guard and not inside it, whatever the others did.
    CHECK(serial[2][1] == std::vector<double>{1.0});
    CHECK(serial[2][2][0] == 0.0);
    CHECK(serial[2][3] == std::vector<double>{1.0});
}

TEST_CASE("threads: a NoGradGuard on one thread leaves the others recording") {
    std::atomic<bool> guard_held{false}, other_done{false};
    bool other_recorded = false, main_recording_in_guard = true;
    std::thread guarded([&] {
        NoGradGuard guard;
        guard_held = true;
        while (!other_done) std::this_thread::yield();
    });
    std::thread other([&] {
        while (!guard_held) std::this_thread::yield();
        Tensor w = ones({2}).requires_grad_();
        other_recorded = (w * 2.0).requires_grad() && GradMode::is_enabled();
        other_done = true;
    });
    guarded.join();
    other.join();
    {
        NoGradGuard guard;
        std::thread inner([&] { main_recording_in_guard = GradMode::is_enabled(); });
        inner.join();
    }
    CHECK(other_recorded);
    CHECK(main_recording_in_guard);  // a new thread starts with grad mode on
}

// A broadcast not written out (the gradient of a sum) read by several threads at once: one of
// them writes it out, under the storage's lock, and every thread sees the whole result.
TEST_CASE("threads: 4 threads read one unwritten broadcast at once") {
    for (int round = 0; round < 20; ++round) {
        Tensor e = expand(tensor({1.0, 2.0, 3.0}, float64).reshape({3, 1}), {3, 1000});
        REQUIRE_FALSE(e.is_materialized());
        std::vector<double> sums(4, 0.0);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&e, &sums, t] {
                for (double v : e.to_vector()) sums[t] += v;
            });
        }
        for (auto& th : threads) th.join();
        for (double s : sums) CHECK(s == 6000.0);
    }
}
