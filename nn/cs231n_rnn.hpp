#pragma once
// The recurrent layers of cs231n's assignment 3 (rnn_layers.py) as differentiable functions:
// the forward passes only, since the tape gives every backward. The course's layouts and names:
// weights are (in, out) as in numpy (`x.mm(Wx)`, not PyTorch's (out, in)), sequences are
// batch-major (N, T, D), and the LSTM splits its activations as i, f, o, g (PyTorch's nn::LSTM
// uses i, f, g, o). Bad shapes or dtypes throw xg::Error naming the function.
#include <tuple>

#include "core/tensor.hpp"

namespace xg::nn::cs231n {

// next_h = tanh(x Wx + prev_h Wh + b). x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H).
Tensor rnn_step_forward(const Tensor& x, const Tensor& prev_h, const Tensor& Wx, const Tensor& Wh,
                        const Tensor& b);

// The vanilla RNN over a whole sequence: x (N, T, D), h0 (N, H) -> h (N, T, H), the hidden
// state of every step. The input projection of all steps is one gemm.
Tensor rnn_forward(const Tensor& x, const Tensor& h0, const Tensor& Wx, const Tensor& Wh,
                   const Tensor& b);

// One LSTM step: a = x Wx + prev_h Wh + b split in four H-wide blocks i, f, o, g;
// next_c = sigmoid(f) * prev_c + sigmoid(i) * tanh(g), next_h = sigmoid(o) * tanh(next_c).
// x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H) -> (next_h, next_c).
std::tuple<Tensor, Tensor> lstm_step_forward(const Tensor& x, const Tensor& prev_h,
                                             const Tensor& prev_c, const Tensor& Wx,
                                             const Tensor& Wh, const Tensor& b);

// The LSTM over a whole sequence, the cell state starting at zero as in the course:
// x (N, T, D), h0 (N, H) -> h (N, T, H).
Tensor lstm_forward(const Tensor& x, const Tensor& h0, const Tensor& Wx, const Tensor& Wh,
                    const Tensor& b);

// The word vectors of integer word ids: x (N, T) int64 or int32 in [0, V), W (V, D) ->
// (N, T, D). The gradient of W adds the upstream rows into the rows picked.
Tensor word_embedding_forward(const Tensor& x, const Tensor& W);

// An affine layer at every step: x (N, T, D), w (D, M), b (M) -> (N, T, M).
Tensor temporal_affine_forward(const Tensor& x, const Tensor& w, const Tensor& b);

// Softmax loss at every step where mask is true, summed and divided by N (the course's
// normalization: not by the number of masked positions). x (N, T, V) scores, y (N, T) int64
// or int32 targets in [0, V) (masked-out positions too), mask (N, T) bool -> a scalar.
Tensor temporal_softmax_loss(const Tensor& x, const Tensor& y, const Tensor& mask);

}  // namespace xg::nn::cs231n
