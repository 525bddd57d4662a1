// cs231n's recurrent layers (nn/cs231n_rnn.hpp): the course's sanity values for its fixed
// np.linspace inputs (RNN_Captioning and LSTM_Captioning notebooks), the captioning loss those
// layers compose to, the temporal softmax loss's normalization, float64 gradient checks, the
// i, f, o, g gate order against nn::LSTMCell's i, f, g, o, and the errors.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/cs231n_rnn.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::nn::cs231n;
using xg::testing::check_error_rows;

namespace {

// np.linspace(start, end, num=prod(shape)).reshape(shape), in float64.
Tensor lin(double start, double end, const Shape& shape) {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    std::vector<std::int64_t> dims(shape.begin(), shape.end());
    return linspace(start, end, std::int64_t(n), float64).reshape(dims);
}

Tensor f64(const std::vector<double>& v, const Shape& shape) {
    return tensor(v, shape, float64);
}

TensorList leaves(const TensorList& ts) {
    TensorList out;
    for (const Tensor& t : ts) out.push_back(t.detach().clone().requires_grad_());
    return out;
}

void check_grads(const TensorFn& fn, const TensorList& inputs) {
    auto r = gradcheck(fn, leaves(inputs));
    CHECK_MESSAGE(r, r.log);
    auto rr = gradgradcheck(fn, leaves(inputs));
    CHECK_MESSAGE(rr, rr.log);
}

// Sums the two outputs of an LSTM step, so one gradient check covers both.
Tensor both(const std::tuple<Tensor, Tensor>& hc) {
    return add(std::get<0>(hc), mul(std::get<1>(hc), 0.5));
}

}  // namespace

TEST_CASE("cs231n rnn_step_forward: the notebook's expected next_h") {
    const std::size_t N = 3, D = 10, H = 4;
    Tensor next_h =
        rnn_step_forward(lin(-0.4, 0.7, {N, D}), lin(-0.2, 0.5, {N, H}), lin(-0.1, 0.9, {D, H}),
                         lin(-0.3, 0.7, {H, H}), lin(-0.2, 0.4, {H}));
    Tensor expected =
        f64({-0.58172089, -0.50182032, -0.41232771, -0.31410098, 0.66854692, 0.79562378, 0.87755553,
             0.92795967, 0.97934501, 0.99144213, 0.99646691, 0.99854353},
            {N, H});
    CHECK(next_h.shape() == expected.shape());
    CHECK(rel_error(next_h, expected) < 1e-7);
}

TEST_CASE("cs231n rnn_forward: the notebook's expected h") {
    const std::size_t N = 2, T = 3, D = 4, H = 5;
    Tensor h = rnn_forward(lin(-0.1, 0.3, {N, T, D}), lin(-0.3, 0.1, {N, H}),
                           lin(-0.2, 0.4, {D, H}), lin(-0.4, 0.1, {H, H}), lin(-0.7, 0.1, {H}));
    Tensor expected =
        f64({-0.42070749, -0.27279261, -0.11074945, 0.05740409,  0.22236251,  -0.39525808,
             -0.22554661, -0.0409454,  0.14649412,  0.32397316,  -0.42305111, -0.24223728,
             -0.04287027, 0.15997045,  0.35014525,  -0.55857474, -0.39065825, -0.19198182,
             0.02378408,  0.23735671,  -0.27150199, -0.07088804, 0.13562939,  0.33099728,
             0.50158768,  -0.51014825, -0.30524429, -0.06755202, 0.17806392,  0.40333043},
            {N, T, H});
    CHECK(h.shape() == expected.shape());
    CHECK(rel_error(h, expected) < 1e-7);
}

TEST_CASE("cs231n lstm_step_forward: the notebook's expected next_h and next_c") {
    const std::size_t N = 3, D = 4, H = 5;
    Tensor next_h, next_c;
    std::tie(next_h, next_c) = lstm_step_forward(
        lin(-0.4, 1.2, {N, D}), lin(-0.3, 0.7, {N, H}), lin(-0.4, 0.9, {N, H}),
        lin(-2.1, 1.3, {D, 4 * H}), lin(-0.7, 2.2, {H, 4 * H}), lin(0.3, 0.7, {4 * H}));
    Tensor expected_h = f64({0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904, 0.49223563,
                             0.55611431, 0.61507696, 0.66844003, 0.7159181, 0.56735664, 0.66310127,
                             0.74419266, 0.80889665, 0.858299},
                            {N, H});
    Tensor expected_c = f64({0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407, 0.66382255,
                             0.76674007, 0.87195994, 0.97902709, 1.08751345, 0.74192008, 0.90592151,
                             1.07717006, 1.25120233, 1.42395676},
                            {N, H});
    CHECK(rel_error(next_h, expected_h) < 1e-7);
    CHECK(rel_error(next_c, expected_c) < 1e-7);
}

TEST_CASE("cs231n lstm_forward: the notebook's expected h") {
    const std::size_t N = 2, D = 5, H = 4, T = 3;
    Tensor h =
        lstm_forward(lin(-0.4, 0.6, {N, T, D}), lin(-0.4, 0.8, {N, H}), lin(-0.2, 0.9, {D, 4 * H}),
                     lin(-0.3, 0.6, {H, 4 * H}), lin(0.2, 0.7, {4 * H}));
    Tensor expected = f64({0.01764008, 0.01823233, 0.01882671, 0.0194232,  0.11287491, 0.12146228,
                           0.13018446, 0.13902939, 0.31358768, 0.33338627, 0.35304453, 0.37250975,
                           0.45767879, 0.4761092,  0.4936887,  0.51041945, 0.6704845,  0.69350089,
                           0.71486014, 0.7346449,  0.81733511, 0.83677871, 0.85403753, 0.86935314},
                          {N, T, H});
    CHECK(h.shape() == expected.shape());
    CHECK(rel_error(h, expected) < 1e-7);
}

TEST_CASE("cs231n word_embedding_forward: the notebook's expected out") {
    const std::size_t V = 5, D = 3;
    Tensor x = tensor(std::vector<std::int64_t>{0, 3, 1, 2, 2, 1, 0, 3}, {2, 4});
    Tensor out = word_embedding_forward(x, lin(0, 1, {V, D}));
    Tensor expected = f64({0.0,        0.07142857, 0.14285714, 0.64285714, 0.71428571, 0.78571429,
                           0.21428571, 0.28571429, 0.35714286, 0.42857143, 0.5,        0.57142857,
                           0.42857143, 0.5,        0.57142857, 0.21428571, 0.28571429, 0.35714286,
                           0.0,        0.07142857, 0.14285714, 0.64285714, 0.71428571, 0.78571429},
                          {2, 4, D});
    CHECK(out.shape() == expected.shape());
    CHECK(rel_error(out, expected) < 1e-7);
    // int32 ids give the same rows.
    CHECK(rel_error(word_embedding_forward(x.to(int32), lin(0, 1, {V, D})), expected) < 1e-7);
}

TEST_CASE("cs231n temporal_softmax_loss: sums the masked steps and divides by N") {
    // The notebook's check_loss: near-uniform scores give ln(V) per counted step, so about 2.3
    // for (100, 1, 10, p=1), 23 for (100, 10, 10, p=1) and 2.3 for (5000, 10, 10, p=0.1).
    Generator gen(231);
    auto check_loss = [&](std::size_t N, std::size_t T, std::size_t V, double p) {
        Tensor x = mul(randn({N, T, V}, gen, float64), 0.001);
        Tensor y = randint(std::int64_t(V), {N, T}, gen);
        Tensor mask = le(rand({N, T}, gen, float64), p);
        const double counted = mask.to(float64).sum().item();
        const double loss = temporal_softmax_loss(x, y, mask).item();
        // Each step's loss is ln(V) up to the 1e-3 spread of the scores.
        CHECK(std::abs(loss - std::log(double(V)) * counted / double(N)) <
              0.01 * counted / double(N));
        return loss;
    };
    CHECK(std::abs(check_loss(100, 1, 10, 1.0) - 2.3) < 0.05);
    CHECK(std::abs(check_loss(100, 10, 10, 1.0) - 23.0) < 0.5);
    CHECK(std::abs(check_loss(5000, 10, 10, 0.1) - 2.3) < 0.15);

    // By hand: N = 2, T = 2, V = 2, one step masked out; the sum is divided by N = 2, not by 3.
    Tensor x = f64({0, 0, 1, 0, 0, 2, 3, 3}, {2, 2, 2});
    Tensor y = tensor(std::vector<std::int64_t>{0, 0, 1, 1}, {2, 2});
    Tensor mask = tensor(std::vector<std::int64_t>{1, 1, 1, 0}, {2, 2}).to(bool_);
    const double l1 = std::log(2.0), l2 = std::log(1 + std::exp(-1.0)),
                 l3 = std::log(1 + std::exp(-2.0));
    CHECK(temporal_softmax_loss(x, y, mask).item() == doctest::Approx((l1 + l2 + l3) / 2));
    // All masked out: zero.
    CHECK(temporal_softmax_loss(x, y, le(mask.to(float64), -1.0)).item() == 0.0);
}

TEST_CASE("cs231n layers composed: the CaptioningRNN notebooks' expected losses") {
    // CaptioningRNN.loss with every parameter np.linspace(-1.4, 1.3, size).reshape(shape):
    // h0 = features W_proj + b_proj, the RNN or LSTM over the embedded captions[:, :-1], the
    // temporal affine to the vocabulary, and the softmax loss against captions[:, 1:] where
    // they are not <NULL> (id 0).
    const std::size_t N = 10, D = 20, W = 30, H = 40, V = 3, T = 13;
    std::vector<std::int64_t> ids(N * T);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int64_t(i % V);
    Tensor captions = tensor(ids, {N, T});
    Tensor in = captions.narrow(1, 0, T - 1), out = captions.narrow(1, 1, T - 1);
    Tensor mask = ne(out, Scalar(0));
    for (bool lstm : {false, true}) {
        CAPTURE(lstm);
        const std::size_t G = lstm ? 4 : 1;
        auto p = [](const Shape& s) { return lin(-1.4, 1.3, s); };
        Tensor features = lstm ? lin(-0.5, 1.7, {N, D}) : lin(-1.5, 0.3, {N, D});
        Tensor h0 = add(matmul(features, p({D, H})), p({H}));
        Tensor x = word_embedding_forward(in, p({V, W}));
        Tensor h = lstm ? lstm_forward(x, h0, p({W, G * H}), p({H, G * H}), p({G * H}))
                        : rnn_forward(x, h0, p({W, G * H}), p({H, G * H}), p({G * H}));
        Tensor scores = temporal_affine_forward(h, p({H, V}), p({V}));
        const double loss = temporal_softmax_loss(scores, out, mask).item();
        const double expected = lstm ? 9.82445935443 : 9.83235591003;
        CHECK(std::abs(loss - expected) < 1e-10);
    }
}

TEST_CASE("cs231n layers: float64 gradient checks (first and second order)") {
    Generator gen(7);
    auto r = [&](const Shape& s) { return randn(s, gen, float64); };
    const std::size_t N = 2, T = 3, D = 4, H = 3, M = 5;
    check_grads([](const TensorList& a) { return rnn_step_forward(a[0], a[1], a[2], a[3], a[4]); },
                {r({N, D}), r({N, H}), r({D, H}), r({H, H}), r({H})});
    check_grads([](const TensorList& a) { return rnn_forward(a[0], a[1], a[2], a[3], a[4]); },
                {r({N, T, D}), r({N, H}), r({D, H}), r({H, H}), r({H})});
    check_grads(
        [](const TensorList& a) {
            return both(lstm_step_forward(a[0], a[1], a[2], a[3], a[4], a[5]));
        },
        {r({N, D}), r({N, H}), r({N, H}), r({D, 4 * H}), r({H, 4 * H}), r({4 * H})});
    check_grads([](const TensorList& a) { return lstm_forward(a[0], a[1], a[2], a[3], a[4]); },
                {r({N, T, D}), r({N, H}), r({D, 4 * H}), r({H, 4 * H}), r({4 * H})});
    // Repeated ids: their rows' gradients accumulate.
    Tensor ids = tensor(std::vector<std::int64_t>{0, 2, 2, 1, 0, 2}, {N, T});
    check_grads([&](const TensorList& a) { return word_embedding_forward(ids, a[0]); },
                {r({4, D})});
    check_grads([](const TensorList& a) { return temporal_affine_forward(a[0], a[1], a[2]); },
                {r({N, T, D}), r({D, M}), r({M})});
    Tensor y = tensor(std::vector<std::int64_t>{4, 0, 2, 1, 3, 3}, {N, T});
    Tensor mask = tensor(std::vector<std::int64_t>{1, 0, 1, 1, 1, 0}, {N, T}).to(bool_);
    check_grads([&](const TensorList& a) { return temporal_softmax_loss(a[0], y, mask); },
                {r({N, T, M})});
    // A masked-out step gets no gradient.
    Tensor x = r({N, T, M}).requires_grad_();
    temporal_softmax_loss(x, y, mask).backward();
    for (double g : x.grad().narrow(0, 0, 1).narrow(1, 1, 1).to_vector()) CHECK(g == 0.0);
}

TEST_CASE("cs231n lstm gate order i, f, o, g: nn::LSTMCell (i, f, g, o) with the blocks moved") {
    Generator gen(3);
    const std::size_t N = 2, D = 3, H = 4;
    Tensor x = randn({N, D}, gen, float64), h = randn({N, H}, gen, float64),
           c = randn({N, H}, gen, float64);
    Tensor Wx = randn({D, 4 * H}, gen, float64), Wh = randn({H, 4 * H}, gen, float64),
           b = randn({4 * H}, gen, float64);
    Tensor next_h, next_c;
    std::tie(next_h, next_c) = lstm_step_forward(x, h, c, Wx, Wh, b);
    // cs231n's columns i, f, o, g become PyTorch's rows i, f, g, o.
    auto torch_order = [](const Tensor& w, std::int64_t dim) {
        TensorList q = w.chunk(4, dim);
        return cat({q[0], q[1], q[3], q[2]}, dim);
    };
    nn::LSTMCell cell{std::int64_t(D), std::int64_t(H)};
    cell->to(float64);
    {
        NoGradGuard no_grad;
        cell->weight_ih.copy_(torch_order(Wx, 1).transpose(0, 1));
        cell->weight_hh.copy_(torch_order(Wh, 1).transpose(0, 1));
        cell->bias_ih.copy_(torch_order(b, 0));
        cell->bias_hh.zero_();
    }
    Tensor th, tc;
    std::tie(th, tc) = cell(x, std::make_tuple(h, c));
    CHECK(rel_error(th, next_h) < 1e-12);
    CHECK(rel_error(tc, next_c) < 1e-12);
    // In the course's order without the move, the cell disagrees.
    {
        NoGradGuard no_grad;
        cell->weight_ih.copy_(Wx.transpose(0, 1));
        cell->weight_hh.copy_(Wh.transpose(0, 1));
        cell->bias_ih.copy_(b);
    }
    CHECK(rel_error(std::get<0>(cell(x, std::make_tuple(h, c))), next_h) > 1e-3);
}

TEST_CASE("cs231n layers: bad inputs throw errors naming the function and the values") {
    Tensor x2 = zeros({3, 4}, float64), x3 = zeros({3, 2, 4}, float64);
    Tensor h = zeros({3, 5}, float64), Wx = zeros({4, 5}, float64), Wh = zeros({5, 5}, float64),
           b = zeros({5}, float64);
    Tensor Wx4 = zeros({4, 20}, float64), Wh4 = zeros({5, 20}, float64), b4 = zeros({20}, float64);
    Tensor y = zeros({3, 2}, int64), mask = ones({3, 2}, bool_), scores = zeros({3, 2, 6}, float64);
    check_error_rows({
        {"rnn_step_forward: Wx rows != D",
         [&] { rnn_step_forward(x2, h, Wh, Wh, b); },
         {"rnn_step_forward", "Wx", "expected 4"}},
        {"rnn_step_forward: float32 weight",
         [&] { rnn_step_forward(x2, h, Wx.to(float32), Wh, b); },
         {"rnn_step_forward", "Wx is float32 but x is float64"}},
        {"rnn_step_forward: integer x",
         [&] { rnn_step_forward(x2.to(int64), h, Wx, Wh, b); },
         {"rnn_step_forward", "x must be float32 or float64", "int64"}},
        {"rnn_forward: 2-D x",
         [&] { rnn_forward(x2, h, Wx, Wh, b); },
         {"rnn_forward", "x must be 3-D", "[3, 4]"}},
        {"rnn_forward: h0 batch",
         [&] {
             rnn_forward(x3, zeros({2, 5}, float64), Wx, Wh, b);
         },
         {"rnn_forward", "prev_h", "expected 3 (N)"}},
        {"rnn_forward: no steps",
         [&] {
             rnn_forward(zeros({3, 0, 4}, float64), h, Wx, Wh, b);
         },
         {"rnn_forward", "no time steps"}},
        {"lstm_step_forward: Wx of H columns",
         [&] { lstm_step_forward(x2, h, h, Wx, Wh4, b4); },
         {"lstm_step_forward", "Wx", "expected 20 (4H)"}},
        {"lstm_step_forward: prev_c shape",
         [&] {
             lstm_step_forward(x2, h, zeros({3, 4}, float64), Wx4, Wh4, b4);
         },
         {"lstm_step_forward", "prev_c", "[3, 4]", "[3, 5]"}},
        {"lstm_forward: b size",
         [&] { lstm_forward(x3, h, Wx4, Wh4, b); },
         {"lstm_forward", "b", "expected 20 (4H)"}},
        {"word_embedding_forward: id out of range",
         [&] {
             word_embedding_forward(tensor(std::vector<std::int64_t>{0, 7}, {1, 2}), Wx);
         },
         {"word_embedding_forward", "holds 7", "[0, 4)"}},
        {"word_embedding_forward: float ids",
         [&] {
             word_embedding_forward(zeros({1, 2}), Wx);
         },
         {"word_embedding_forward", "int64 or int32", "float32"}},
        {"word_embedding_forward: 1-D ids",
         [&] { word_embedding_forward(zeros({2}, int64), Wx); },
         {"word_embedding_forward", "2-D"}},
        {"temporal_affine_forward: w rows",
         [&] { temporal_affine_forward(x3, Wh, b); },
         {"temporal_affine_forward", "w", "expected 4"}},
        {"temporal_affine_forward: b size",
         [&] { temporal_affine_forward(x3, Wx, zeros({4}, float64)); },
         {"temporal_affine_forward", "b", "expected 5"}},
        {"temporal_softmax_loss: float mask",
         [&] { temporal_softmax_loss(scores, y, mask.to(float64)); },
         {"temporal_softmax_loss", "mask must be bool", "float64"}},
        {"temporal_softmax_loss: mask shape",
         [&] {
             temporal_softmax_loss(scores, y, ones({2, 3}, bool_));
         },
         {"temporal_softmax_loss", "mask must have shape [3, 2]", "[2, 3]"}},
        {"temporal_softmax_loss: y shape",
         [&] { temporal_softmax_loss(scores, zeros({3}, int64), mask); },
         {"temporal_softmax_loss", "y must have shape [3, 2]"}},
        {"temporal_softmax_loss: target out of range",
         [&] { temporal_softmax_loss(scores, add(y, Scalar(6)), mask); },
         {"temporal_softmax_loss", "holds 6", "[0, 6)"}},
        {"temporal_softmax_loss: 2-D scores",
         [&] {
             temporal_softmax_loss(zeros({3, 6}, float64), y, mask);
         },
         {"temporal_softmax_loss", "x must be 3-D"}},
    });
}
