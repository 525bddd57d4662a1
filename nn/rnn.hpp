#pragma once
// The multi-layer recurrent modules of torch.nn: RNN, LSTM and GRU, with PyTorch 1.13's options,
// parameter names (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, and the
// `_reverse` direction) and shapes, so a PyTorch state_dict loads and gives the same outputs.
// input [T, N, I] ([N, T, I] with batch_first, or unbatched [T, I]); h0 (and c0) [L*D, N, H],
// zeros when absent; output [T, N, D*H] ([N, T, D*H] with batch_first); h_n (c_n) [L*D, N, H].
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"
#include "nn/rnn_cell.hpp"

namespace xg::nn {

struct RNNOptions {
    RNNOptions(std::int64_t input_size, std::int64_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    XG_ARG(std::int64_t, input_size);
    XG_ARG(std::int64_t, hidden_size);
    XG_ARG(std::int64_t, num_layers) = 1;
    XG_ARG(RNNNonlinearity, nonlinearity) = RNNNonlinearity::tanh;
    XG_ARG(bool, bias) = true;
    XG_ARG(bool, batch_first) = false;
    XG_ARG(double, dropout) = 0.0;  // on every layer's output but the last, in training
    XG_ARG(bool, bidirectional) = false;
};

struct LSTMOptions {
    LSTMOptions(std::int64_t input_size, std::int64_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    XG_ARG(std::int64_t, input_size);
    XG_ARG(std::int64_t, hidden_size);
    XG_ARG(std::int64_t, num_layers) = 1;
    XG_ARG(bool, bias) = true;
    XG_ARG(bool, batch_first) = false;
    XG_ARG(double, dropout) = 0.0;
    XG_ARG(bool, bidirectional) = false;
};
using GRUOptions = LSTMOptions;

// The shared machinery: parameters per layer and direction, checks, the time loop. The input
// projection of all time steps is one gemm per layer and direction; each step is one gemm for
// all gates of the hidden projection. Written in differentiable ops (twice differentiable).
class RNNBase : public Module {
  public:
    enum class Mode { rnn_tanh, rnn_relu, lstm, gru };
    RNNBase(const char* name, Mode mode, const LSTMOptions& options);
    void reset_parameters(Generator& gen = default_generator());
    std::string extra_repr() const override;
    // Dropout masks come from this generator when set, else from the global one.
    void set_generator(std::shared_ptr<Generator> gen) { generator = std::move(gen); }
    // Per layer and direction (index layer * D + direction): weight_ih, weight_hh, bias_ih,
    // bias_hh (the biases undefined without bias).
    std::vector<std::vector<Tensor>> all_weights;
    std::shared_ptr<Generator> generator;

  protected:
    // output, h_n, c_n (c_n only for LSTM); c0 is ignored unless LSTM.
    std::tuple<Tensor, Tensor, Tensor> run(const Tensor& input, const Tensor& h0, const Tensor& c0);
    Mode mode_;
    LSTMOptions base_;
    std::string extra_;
};

class RNNImpl : public RNNBase {
  public:
    RNNImpl(std::int64_t input_size, std::int64_t hidden_size)
        : RNNImpl(RNNOptions(input_size, hidden_size)) {}
    explicit RNNImpl(const RNNOptions& options);
    // (output, h_n).
    std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx = Tensor());
    RNNOptions options;
};
XG_MODULE(RNN);

class LSTMImpl : public RNNBase {
  public:
    LSTMImpl(std::int64_t input_size, std::int64_t hidden_size)
        : LSTMImpl(LSTMOptions(input_size, hidden_size)) {}
    explicit LSTMImpl(const LSTMOptions& options);
    // (output, (h_n, c_n)); hx = (h0, c0), undefined tensors mean zeros.
    std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(
        const Tensor& input, const std::tuple<Tensor, Tensor>& hx = {});
    LSTMOptions options;
};
XG_MODULE(LSTM);

class GRUImpl : public RNNBase {
  public:
    GRUImpl(std::int64_t input_size, std::int64_t hidden_size)
        : GRUImpl(GRUOptions(input_size, hidden_size)) {}
    explicit GRUImpl(const GRUOptions& options);
    // (output, h_n).
    std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& hx = Tensor());
    GRUOptions options;
};
XG_MODULE(GRU);

}  // namespace xg::nn
