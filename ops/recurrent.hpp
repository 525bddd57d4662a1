#pragma once
// The fused pointwise part of an LSTM step, for nn::LSTM and nn::LSTMCell (nn/rnn_cell.cpp).
// One node instead of the dozen a step composed of ops records, and one pass over memory each
// way; under create_graph the backward is written in ops, so it stays twice differentiable.
#include <tuple>

#include "core/tensor.hpp"

namespace xg::detail {

// gates [N, 4H]: the pre-activations in PyTorch's order i, f, g, o; c [N, H]. Returns (h', c')
// with c' = sigmoid(f) * c + sigmoid(i) * tanh(g) and h' = sigmoid(o) * tanh(c'). Both floating,
// of one dtype (the caller checks shapes).
std::tuple<Tensor, Tensor> lstm_cell(const Tensor& gates, const Tensor& c);

}  // namespace xg::detail
