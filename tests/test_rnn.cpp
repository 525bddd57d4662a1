// The recurrent modules of nn/rnn.hpp and nn/rnn_cell.hpp: PyTorch state dicts loaded and run
// against PyTorch's outputs and gradients (tests/parity/rnn_modules.py, float64, to 1e-9),
// float64 gradchecks through small LSTM and GRU stacks, default init, dropout between layers,
// and the bad inputs each module must refuse by name.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ops/recurrent.hpp"
#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "tests/fused_check.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {

using Outputs = std::vector<std::pair<std::string, Tensor>>;  // fixture part -> xgrad result
using Run = std::function<Outputs(const Tensor& x, const Tensor& h0, const Tensor& c0)>;

bool has_fixture(const std::string& name, const std::string& part) {
    return std::ifstream(std::string(XGRAD_FIXTURE_DIR) + "/" + name + "." + part + ".npy").good();
}

std::vector<std::string> fixture_keys(const std::string& name) {
    std::ifstream f(std::string(XGRAD_FIXTURE_DIR) + "/" + name + ".keys.txt");
    REQUIRE_MESSAGE(f.good(), name);
    std::vector<std::string> keys;
    for (std::string line; std::getline(f, line);)
        if (!line.empty()) keys.push_back(line);
    return keys;
}

void close(const Tensor& got, const Tensor& want, const std::string& what, double tol = 1e-9) {
    REQUIRE_MESSAGE(got.defined(), what);
    REQUIRE_MESSAGE(got.shape() == want.shape(),
                    what << ": " << shape_str(got.shape()) << " vs " << shape_str(want.shape()));
    auto a = got.to_vector(), b = want.to_vector();
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    CHECK_MESSAGE(worst <= tol, what << ": max abs diff " << worst);
}

Tensor optional_leaf(const std::string& name, const std::string& part) {
    if (!has_fixture(name, part)) return Tensor();
    Tensor t = load_fixture(name, part);
    t.requires_grad_(true);
    return t;
}

// Loads PyTorch's state dict into m (in float64), runs it on PyTorch's input and initial states
// and compares every output, then the gradients of sum(out * gout) + ... w.r.t. the input, the
// initial states and every parameter.
void check_module(nn::Module& m, const std::string& fixture, const Run& run) {
    const std::string name = "nn/" + fixture;
    CAPTURE(name);
    m.to(float64);
    const auto keys = fixture_keys(name);
    CHECK(m.state_dict().keys() == keys);
    nn::StateDict sd;
    for (const auto& k : keys) sd.insert(k, load_fixture(name, "sd." + k));
    m.load_state_dict(sd);
    Tensor x = load_fixture(name, "in");
    x.requires_grad_(true);
    Tensor h0 = optional_leaf(name, "h0"), c0 = optional_leaf(name, "c0");
    Tensor loss;
    for (const auto& [part, got] : run(x, h0, c0)) {
        close(got, load_fixture(name, part), name + " " + part);
        Tensor term = (got * load_fixture(name, "g" + part)).sum();
        loss = loss.defined() ? loss + term : term;
    }
    m.zero_grad();
    loss.backward();
    close(x.grad(), load_fixture(name, "grad_in"), name + " grad input");
    if (h0.defined()) close(h0.grad(), load_fixture(name, "grad_h0"), name + " grad h0");
    if (c0.defined()) close(c0.grad(), load_fixture(name, "grad_c0"), name + " grad c0");
    for (const auto& [k, p] : m.named_parameters())
        close(p.grad(), load_fixture(name, "grad." + k), name + " grad " + k);
}

// Runs for the two shapes of module result.
template <class M>
Run run_hidden(M m) {  // RNN, GRU: (output, h_n)
    return [m](const Tensor& x, const Tensor& h0, const Tensor&) {
        auto [out, hn] = m->forward(x, h0);
        return Outputs{{"out", out}, {"hn", hn}};
    };
}

Run run_lstm(nn::LSTM m) {
    return [m](const Tensor& x, const Tensor& h0, const Tensor& c0) {
        auto [out, hc] = m->forward(x, {h0, c0});
        return Outputs{{"out", out}, {"hn", std::get<0>(hc)}, {"cn", std::get<1>(hc)}};
    };
}

template <class M>
Run run_cell(M m) {  // RNNCell, GRUCell: h'
    return [m](const Tensor& x, const Tensor& h0, const Tensor&) {
        return Outputs{{"hn", m->forward(x, h0)}};
    };
}

Tensor rand_like_shape(const Shape& s, std::uint64_t seed) {
    Generator gen(seed);
    Tensor t = zeros(s, float64);
    nn::init::uniform_(t, -1.0, 1.0, gen);
    return t;
}

}  // namespace

TEST_CASE("rnn cells match PyTorch") {
    nn::RNNCell tanh_cell(3, 4);
    check_module(*tanh_cell, "rnn_cell_tanh", run_cell(tanh_cell));
    nn::RNNCell relu_cell(nn::RNNCellOptions(3, 4).nonlinearity(nn::RNNNonlinearity::relu));
    check_module(*relu_cell, "rnn_cell_relu_unbatched", run_cell(relu_cell));
    nn::LSTMCell lstm_cell(3, 4);
    check_module(*lstm_cell, "lstm_cell",
                 [lstm_cell](const Tensor& x, const Tensor& h, const Tensor& c) {
                     auto [h2, c2] = lstm_cell->forward(x, {h, c});
                     return Outputs{{"hn", h2}, {"cn", c2}};
                 });
    nn::GRUCell gru_cell(3, 4);
    check_module(*gru_cell, "gru_cell", run_cell(gru_cell));
    nn::GRUCell gru_nobias(nn::GRUCellOptions(3, 4).bias(false));
    check_module(*gru_nobias, "gru_cell_nobias", run_cell(gru_nobias));
}

TEST_CASE("RNN, LSTM and GRU match PyTorch") {
    nn::RNN rnn(nn::RNNOptions(3, 4)
                    .num_layers(2)
                    .nonlinearity(nn::RNNNonlinearity::relu)
                    .bidirectional(true));
    check_module(*rnn, "rnn_relu_2l_bidir", run_hidden(rnn));
    nn::RNN rnn1(3, 4);
    check_module(*rnn1, "rnn_tanh_unbatched", run_hidden(rnn1));
    nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2).bidirectional(true).batch_first(true));
    check_module(*lstm, "lstm_2l_bidir_bf", run_lstm(lstm));
    nn::LSTM lstm_nobias(nn::LSTMOptions(3, 4).bias(false));
    check_module(*lstm_nobias, "lstm_nobias_unbatched", run_lstm(lstm_nobias));
    nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2).bidirectional(true).batch_first(true));
    check_module(*gru, "gru_2l_bidir_bf", run_hidden(gru));
    nn::GRU gru3(nn::GRUOptions(2, 3).num_layers(3));
    check_module(*gru3, "gru_3l", run_hidden(gru3));
}

TEST_CASE("RNN modules: names, shapes, repr and default init as PyTorch") {
    nn::LSTM lstm(nn::LSTMOptions(3, 5).num_layers(2).bidirectional(true).batch_first(true));
    const std::vector<std::string> keys = {
        "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",         "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1",         "weight_hh_l1",         "bias_ih_l1",         "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
    CHECK(lstm->state_dict().keys() == keys);
    CHECK(lstm->all_weights[2][0].shape() == Shape{20, 10});  // layer 1 takes D * H inputs
    CHECK(lstm->repr() == "LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True)");
    CHECK(nn::GRU(nn::GRUOptions(2, 3).dropout(0.5).bias(false))->repr() ==
          "GRU(2, 3, bias=False, dropout=0.5)");
    CHECK(nn::RNNCell(nn::RNNCellOptions(2, 3).nonlinearity(nn::RNNNonlinearity::relu))->repr() ==
          "RNNCell(2, 3, nonlinearity=relu)");
    CHECK(nn::RNN(nn::RNNOptions(2, 3).nonlinearity(nn::RNNNonlinearity::relu))->repr() ==
          "RNN(2, 3)");  // PyTorch does not print the nonlinearity of RNN
    CHECK(nn::RNN(nn::RNNOptions(2, 3).dropout(1.0))->repr() == "RNN(2, 3, dropout=1.0)");
    CHECK(nn::GRUCell(2, 3)->weight_hh.shape() == Shape{9, 3});
    const double bound = 1.0 / std::sqrt(5.0);
    for (const auto& kp : lstm->named_parameters()) {  // no structured binding: CAPTURE
        const std::string& k = kp.first;
        const Tensor& p = kp.second;
        CAPTURE(k);
        double lo = 1.0, hi = -1.0;
        for (double v : p.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
        CHECK(lo >= -bound);
        CHECK(hi <= bound);
        CHECK(hi - lo > bound);  // spread over the range, not constant
    }
    // float32 by default; outputs and final states shaped as PyTorch's, h_n not batch-first.
    auto [out, hc] = lstm(rand_like_shape({2, 7, 3}, 1).to(float32));
    CHECK(out.dtype() == float32);
    CHECK(out.shape() == Shape{2, 7, 10});
    CHECK(std::get<0>(hc).shape() == Shape{4, 2, 5});
    CHECK(std::get<1>(hc).shape() == Shape{4, 2, 5});
    nn::GRU gru(3, 4);
    auto [o1, h1] = gru(rand_like_shape({6, 3}, 2).to(float32));
    CHECK(o1.shape() == Shape{6, 4});
    CHECK(h1.shape() == Shape{1, 4});
    auto [hc1, cc1] = nn::LSTMCell(3, 4)(rand_like_shape({3}, 3).to(float32));
    CHECK(hc1.shape() == Shape{4});
    CHECK(cc1.shape() == Shape{4});
}

TEST_CASE("LSTM and GRU gradcheck and gradgradcheck in float64") {
    nn::LSTM lstm(nn::LSTMOptions(2, 3).num_layers(2).bidirectional(true));
    lstm->to(float64);
    TensorList in = {rand_like_shape({3, 2, 2}, 10), rand_like_shape({4, 2, 3}, 11),
                     rand_like_shape({4, 2, 3}, 12)};
    for (auto& t : in) t.requires_grad_(true);
    auto lstm_fn = [lstm](const TensorList& v) {
        auto [out, hc] = lstm->forward(v[0], {v[1], v[2]});
        return cat({out.flatten(), std::get<0>(hc).flatten(), std::get<1>(hc).flatten()});
    };
    auto r = gradcheck(lstm_fn, in);
    CHECK_MESSAGE(r.ok, r.log);
    nn::GRU gru(nn::GRUOptions(2, 3).num_layers(2).batch_first(true).bidirectional(true));
    gru->to(float64);
    TensorList gin = {rand_like_shape({2, 3, 2}, 13), rand_like_shape({4, 2, 3}, 14)};
    for (auto& t : gin) t.requires_grad_(true);
    auto gru_fn = [gru](const TensorList& v) {
        auto [out, hn] = gru->forward(v[0], v[1]);
        return cat({out.flatten(), hn.flatten()});
    };
    r = gradcheck(gru_fn, gin);
    CHECK_MESSAGE(r.ok, r.log);

    // Second derivatives on one-layer stacks (backward written in differentiable ops).
    nn::LSTM small(2, 2);
    small->to(float64);
    TensorList sin = {rand_like_shape({2, 1, 2}, 15), rand_like_shape({1, 1, 2}, 16),
                      rand_like_shape({1, 1, 2}, 17)};
    for (auto& t : sin) t.requires_grad_(true);
    r = gradgradcheck(
        [small](const TensorList& v) {
            auto [out, hc] = small->forward(v[0], {v[1], v[2]});
            return cat({out.flatten(), std::get<1>(hc).flatten()});
        },
        sin);
    CHECK_MESSAGE(r.ok, r.log);
    nn::GRU small_gru(2, 2);
    small_gru->to(float64);
    TensorList sg = {rand_like_shape({2, 1, 2}, 18), rand_like_shape({1, 1, 2}, 19)};
    for (auto& t : sg) t.requires_grad_(true);
    r = gradgradcheck(
        [small_gru](const TensorList& v) { return std::get<0>(small_gru->forward(v[0], v[1])); },
        sg);
    CHECK_MESSAGE(r.ok, r.log);
}

TEST_CASE("lstm_cell: the fused step equals the step composed of ops, and checks twice") {
    auto composed = [](const TensorList& v) {
        TensorList g = chunk(v[0], 4, 1);
        Tensor c2 = sigmoid(g[1]) * v[1] + sigmoid(g[0]) * tanh(g[2]);
        return cat({(sigmoid(g[3]) * tanh(c2)).flatten(), c2.flatten()});
    };
    auto fused = [](const TensorList& v) {
        auto [h2, c2] = xg::detail::lstm_cell(v[0], v[1]);
        return cat({h2.flatten(), c2.flatten()});
    };
    for (auto [n, h] : {std::pair<std::size_t, std::size_t>{1, 1}, {3, 4}, {5, 7}}) {
        TensorList in = {rand_like_shape({n, 4 * h}, 30 + n) * 3.0,
                         rand_like_shape({n, h}, 40 + n) * 2.0};
        for (auto& t : in) t.requires_grad_(true);
        testing::check_fused_vs_composed(fused, composed, in, 1e-12);
        auto r = gradcheck(fused, in);
        CHECK_MESSAGE(r.ok, r.log);
        r = gradgradcheck(fused, in);
        CHECK_MESSAGE(r.ok, r.log);
        TensorList in32 = {in[0].detach().to(float32).requires_grad_(),
                           in[1].detach().to(float32).requires_grad_()};
        testing::check_fused_vs_composed(fused, composed, in32, 1e-5);
    }
}

TEST_CASE("RNN dropout: between layers, in training only") {
    auto make = [](double p, std::int64_t layers = 2) {
        manual_seed(5);
        nn::GRU g(nn::GRUOptions(3, 4).num_layers(layers).dropout(p));
        g->to(float64);
        return g;
    };
    nn::GRU plain = make(0.0), dropped = make(0.5), all = make(1.0);
    dropped->set_generator(std::make_shared<Generator>(7));
    Tensor x = rand_like_shape({4, 2, 3}, 20), x2 = rand_like_shape({4, 2, 3}, 21);
    auto out = [](nn::GRU& g, const Tensor& in) { return std::get<0>(g(in)); };
    Tensor ref = out(plain, x);
    Tensor train1 = out(dropped, x);
    CHECK(max(abs(train1 - ref)).item() > 1e-6);
    dropped->set_generator(std::make_shared<Generator>(7));
    close(out(dropped, x), train1, "same dropout stream");
    dropped->eval();
    close(out(dropped, x), ref, "eval: no dropout");
    // p = 1 zeroes layer 0's output, so the input no longer matters (PyTorch allows p = 1).
    close(out(all, x), out(all, x2), "p = 1");
    // The last layer's output is never dropped: one layer with dropout equals no dropout.
    nn::GRU one = make(0.0, 1), one_dropped = make(0.7, 1);
    close(out(one_dropped, x), out(one, x), "one layer");
}

TEST_CASE("RNN modules refuse bad arguments by name") {
    nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2));
    nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2));
    nn::RNN rnn(3, 4);
    nn::LSTMCell lstm_cell(3, 4);
    nn::GRUCell gru_cell(3, 4);
    nn::RNNCell rnn_cell(3, 4);
    auto f32 = [](const Shape& s) { return zeros(s, float32); };
    check_error_rows({
        {"LSTM 4-D input",
         [&] {
             lstm(f32({1, 2, 3, 3}));
         },
         {"LSTM:", "4-D", "[1, 2, 3, 3]"}},
        {"GRU 1-D input", [&] { gru(f32({3})); }, {"GRU:", "1-D"}},
        {"LSTM feature size",
         [&] {
             lstm(f32({5, 2, 6}));
         },
         {"LSTM:", "6 features", "input_size 3"}},
        {"RNN feature size",
         [&] {
             rnn(f32({5, 2}));
         },
         {"RNN:", "2 features", "input_size 3"}},
        {"GRU h0 shape",
         [&] {
             gru(f32({5, 2, 3}), f32({2, 2, 5}));
         },
         {"GRU:", "h0", "[2, 2, 4]", "[2, 2, 5]"}},
        {"LSTM c0 shape",
         [&] {
             lstm->forward(f32({5, 2, 3}), {f32({2, 2, 4}), f32({1, 2, 4})});
         },
         {"LSTM:", "c0", "[2, 2, 4]", "[1, 2, 4]"}},
        {"RNN unbatched h0 3-D",
         [&] {
             rnn(f32({5, 3}), f32({1, 1, 4}));
         },
         {"RNN:", "h0", "[1, 4]", "[1, 1, 4]"}},
        {"LSTM dtype",
         [&] {
             lstm(zeros({5, 2, 3}, float64));
         },
         {"LSTM:", "float64", "float32"}},
        {"LSTM h0 of another dtype",
         [&] {
             lstm->forward(f32({5, 2, 3}), {zeros({2, 2, 4}, float64), f32({2, 2, 4})});
         },
         {"LSTM:", "h0 is float64 but the input is float32"}},
        {"GRU h0 of an integer dtype",
         [&] {
             gru(f32({5, 2, 3}), zeros({2, 2, 4}, int64));
         },
         {"GRU:", "h0 is int64 but the input is float32"}},
        {"RNNCell hx of another dtype",
         [&] {
             rnn_cell(f32({2, 3}), zeros({2, 4}, float64));
         },
         {"RNNCell:", "hx is float64 but the input is float32"}},
        {"LSTM no steps",
         [&] {
             lstm(f32({0, 2, 3}));
         },
         {"LSTM:", "no time steps"}},
        {"RNN dropout > 1",
         [] { nn::RNN(nn::RNNOptions(3, 4).dropout(1.5)); },
         {"RNN:", "dropout", "1.5"}},
        {"GRU dropout < 0",
         [] { nn::GRU(nn::GRUOptions(3, 4).dropout(-0.1)); },
         {"GRU:", "dropout", "-0.1"}},
        {"LSTM hidden_size 0", [] { nn::LSTM(3, 0); }, {"LSTM:", "hidden_size", "0"}},
        {"GRU num_layers 0",
         [] { nn::GRU(nn::GRUOptions(3, 2).num_layers(0)); },
         {"GRU:", "num_layers", "0"}},
        {"LSTM hidden_size overflowing", [] { nn::LSTM(3, std::int64_t(1) << 62); }, {"LSTM"}},
        {"GRUCell hidden_size overflowing",
         [] { nn::GRUCell(3, std::int64_t(1) << 62); },
         {"GRUCell"}},
        {"RNNCell hidden_size 0", [] { nn::RNNCell(3, 0); }, {"RNNCell:", "hidden_size", "0"}},
        {"LSTMCell feature size",
         [&] {
             lstm_cell(f32({2, 5}));
         },
         {"LSTMCell:", "5 features", "input_size 3"}},
        {"GRUCell 3-D input",
         [&] {
             gru_cell(f32({1, 2, 3}));
         },
         {"GRUCell:", "3-D"}},
        {"RNNCell hx shape",
         [&] {
             rnn_cell(f32({2, 3}), f32({3, 4}));
         },
         {"RNNCell:", "hx", "[2, 4]", "[3, 4]"}},
        {"GRUCell dtype",
         [&] {
             gru_cell(zeros({2, 3}, float64));
         },
         {"GRUCell:", "float64", "float32"}},
        {"RNNCell empty batch",
         [&] {
             rnn_cell(f32({0, 3}));
         },
         {"RNNCell:", "no batch entries"}},
        {"LSTMCell c shape",
         [&] {
             lstm_cell->forward(f32({3}), {f32({4}), f32({1, 4})});
         },
         {"LSTMCell:", "c of shape", "[4]", "[1, 4]"}},
    });
}
