#include "nn/cs231n_rnn.hpp"

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "ops/elementwise.hpp"
#include "ops/gather.hpp"
#include "ops/layout.hpp"
#include "ops/loss.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg::nn::cs231n {

namespace {

// A defined floating tensor of rank `rank`, of the dtype of `like` (when given).
void check_float(const char* fn, const char* what, const Tensor& t, std::size_t rank,
                 const Tensor& like = Tensor()) {
    XG_CHECK(t.defined(), "{}: {} is undefined", fn, what);
    XG_CHECK(is_floating(t.dtype()), "{}: {} must be float32 or float64, got {}", fn, what,
             t.dtype());
    XG_CHECK(t.dim() == rank, "{}: {} must be {}-D, got {}-D {}", fn, what, rank, t.dim(),
             t.shape());
    XG_CHECK(!like.defined() || t.dtype() == like.dtype(), "{}: {} is {} but x is {}", fn, what,
             t.dtype(), like.dtype());
}

void check_size(const char* fn, const char* what, const Tensor& t, std::size_t dim,
                std::size_t want, const char* meaning) {
    XG_CHECK(t.size(std::int64_t(dim)) == want, "{}: {} {} has {} in dim {}, expected {} ({})", fn,
             what, t.shape(), t.size(std::int64_t(dim)), dim, want, meaning);
}

// Integer ids of shape `shape`, each in [0, bound); returned as int64.
Tensor check_ids(const char* fn, const char* what, const Tensor& t, const Shape& shape,
                 std::size_t bound) {
    XG_CHECK(t.defined(), "{}: {} is undefined", fn, what);
    XG_CHECK(is_integral(t.dtype()), "{}: {} must be int64 or int32, got {}", fn, what, t.dtype());
    XG_CHECK(t.shape() == shape, "{}: {} must have shape {}, got {}", fn, what, shape, t.shape());
    Tensor ids = t.to(int64);
    for (double v : ids.to_vector())
        XG_CHECK(v >= 0 && v < double(bound), "{}: {} holds {}, outside [0, {})", fn, what,
                 std::int64_t(v), bound);
    return ids;
}

// The weights of a step: Wx (D, G*H), Wh (H, G*H), b (G*H), for x with D features and a hidden
// state prev_h (N, H).
void check_step_weights(const char* fn, const Tensor& x, const Tensor& prev_h, const Tensor& Wx,
                        const Tensor& Wh, const Tensor& b, std::size_t gates) {
    check_float(fn, "prev_h", prev_h, 2, x);
    check_float(fn, "Wx", Wx, 2, x);
    check_float(fn, "Wh", Wh, 2, x);
    check_float(fn, "b", b, 1, x);
    const std::size_t H = prev_h.size(1);
    check_size(fn, "Wx", Wx, 0, x.size(-1), "the features of x");
    check_size(fn, "Wx", Wx, 1, gates * H, gates == 1 ? "H" : "4H");
    check_size(fn, "Wh", Wh, 0, H, "H");
    check_size(fn, "Wh", Wh, 1, gates * H, gates == 1 ? "H" : "4H");
    check_size(fn, "b", b, 0, gates * H, gates == 1 ? "H" : "4H");
    check_size(fn, "prev_h", prev_h, 0, x.size(0), "N");
}

// The steps from the input projection xw = x Wx of one step.
Tensor rnn_step(const Tensor& xw, const Tensor& prev_h, const Tensor& Wh, const Tensor& b) {
    return tanh(add(add(xw, matmul(prev_h, Wh)), b));
}

std::tuple<Tensor, Tensor> lstm_step(const Tensor& xw, const Tensor& prev_h, const Tensor& prev_c,
                                     const Tensor& Wh, const Tensor& b) {
    TensorList a = add(add(xw, matmul(prev_h, Wh)), b).chunk(4, 1);
    Tensor i = sigmoid(a[0]), f = sigmoid(a[1]), o = sigmoid(a[2]), g = tanh(a[3]);
    Tensor next_c = add(mul(f, prev_c), mul(i, g));
    return {mul(o, tanh(next_c)), next_c};
}

// x (N, T, D) times w (D, M) as one gemm: (N, T, M).
Tensor project(const Tensor& x, const Tensor& w) {
    const auto N = std::int64_t(x.size(0)), T = std::int64_t(x.size(1));
    return matmul(x.reshape({N * T, std::int64_t(x.size(2))}), w)
        .reshape({N, T, std::int64_t(w.size(1))});
}

Tensor sequence_forward(const char* fn, const Tensor& x, const Tensor& h0, const Tensor& Wx,
                        const Tensor& Wh, const Tensor& b, bool lstm) {
    check_float(fn, "x", x, 3);
    check_step_weights(fn, x, h0, Wx, Wh, b, lstm ? 4 : 1);
    XG_CHECK(x.size(0) > 0 && x.size(1) > 0, "{}: x {} has no batch entries or no time steps", fn,
             x.shape());
    TensorList xw = unbind(project(x, Wx), 1);
    Tensor h = h0, c = lstm ? zeros_like(h0) : Tensor();
    TensorList hs;
    for (const Tensor& xt : xw) {
        if (lstm) {
            std::tie(h, c) = lstm_step(xt, h, c, Wh, b);
        } else {
            h = rnn_step(xt, h, Wh, b);
        }
        hs.push_back(h);
    }
    return stack(hs, 1);
}

}  // namespace

Tensor rnn_step_forward(const Tensor& x, const Tensor& prev_h, const Tensor& Wx, const Tensor& Wh,
                        const Tensor& b) {
    const char* fn = "rnn_step_forward";
    check_float(fn, "x", x, 2);
    check_step_weights(fn, x, prev_h, Wx, Wh, b, 1);
    return rnn_step(matmul(x, Wx), prev_h, Wh, b);
}

Tensor rnn_forward(const Tensor& x, const Tensor& h0, const Tensor& Wx, const Tensor& Wh,
                   const Tensor& b) {
    return sequence_forward("rnn_forward", x, h0, Wx, Wh, b, false);
}

std::tuple<Tensor, Tensor> lstm_step_forward(const Tensor& x, const Tensor& prev_h,
                                             const Tensor& prev_c, const Tensor& Wx,
                                             const Tensor& Wh, const Tensor& b) {
    const char* fn = "lstm_step_forward";
    check_float(fn, "x", x, 2);
    check_step_weights(fn, x, prev_h, Wx, Wh, b, 4);
    check_float(fn, "prev_c", prev_c, 2, x);
    XG_CHECK(prev_c.shape() == prev_h.shape(), "{}: prev_c {} must have prev_h's shape {}", fn,
             prev_c.shape(), prev_h.shape());
    return lstm_step(matmul(x, Wx), prev_h, prev_c, Wh, b);
}

Tensor lstm_forward(const Tensor& x, const Tensor& h0, const Tensor& Wx, const Tensor& Wh,
                    const Tensor& b) {
    return sequence_forward("lstm_forward", x, h0, Wx, Wh, b, true);
}

Tensor word_embedding_forward(const Tensor& x, const Tensor& W) {
    const char* fn = "word_embedding_forward";
    check_float(fn, "W", W, 2);
    XG_CHECK(x.defined() && x.dim() == 2, "{}: x must be 2-D (N, T), got {}", fn,
             x.defined() ? x.shape() : Shape{});
    return embedding(W, check_ids(fn, "x", x, x.shape(), W.size(0)));
}

Tensor temporal_affine_forward(const Tensor& x, const Tensor& w, const Tensor& b) {
    const char* fn = "temporal_affine_forward";
    check_float(fn, "x", x, 3);
    check_float(fn, "w", w, 2, x);
    check_float(fn, "b", b, 1, x);
    check_size(fn, "w", w, 0, x.size(2), "the features of x");
    check_size(fn, "b", b, 0, w.size(1), "M, the outputs of w");
    return add(project(x, w), b);
}

Tensor temporal_softmax_loss(const Tensor& x, const Tensor& y, const Tensor& mask) {
    const char* fn = "temporal_softmax_loss";
    check_float(fn, "x", x, 3);
    XG_CHECK(x.size(0) > 0 && x.size(2) > 0,
             "{}: x {} has no batch entries (the loss divides by N) or no classes", fn, x.shape());
    const Shape nt{x.size(0), x.size(1)};
    Tensor ids = check_ids(fn, "y", y, nt, x.size(2));
    XG_CHECK(mask.defined() && mask.dtype() == bool_, "{}: mask must be bool, got {}", fn,
             mask.defined() ? dtype_name(mask.dtype()) : "an undefined tensor");
    XG_CHECK(mask.shape() == nt, "{}: mask must have shape {} (N, T), got {}", fn, nt,
             mask.shape());
    const auto N = std::int64_t(x.size(0)), T = std::int64_t(x.size(1));
    const auto V = std::int64_t(x.size(2));
    Tensor logp = log_softmax(x.reshape({N * T, V}), 1);
    Tensor picked = gather(logp, 1, ids.reshape({N * T, 1})).reshape({N * T});
    Tensor kept = mul(picked, mask.reshape({N * T}).to(x.dtype()));
    return div(neg(sum(kept)), double(N));
}

}  // namespace xg::nn::cs231n
