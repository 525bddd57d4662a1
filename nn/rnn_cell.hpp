#pragma once
// The recurrent cells of torch.nn: RNNCell (tanh or relu), LSTMCell and GRUCell, with PyTorch's
// parameter names and layouts (weight_ih [G*H, I], weight_hh [G*H, H], bias_ih, bias_hh [G*H];
// LSTM gates i, f, g, o and GRU gates r, z, n stacked in that order), so a PyTorch state_dict
// loads unchanged. One step: x [N, I] or unbatched [I], state [N, H] or [H], zeros when absent.
#include <cstdint>
#include <string>
#include <tuple>

#include "core/options.hpp"
#include "core/random.hpp"
#include "nn/module.hpp"

namespace xg::nn {

enum class RNNNonlinearity { tanh, relu };

struct RNNCellOptions {
    RNNCellOptions(std::int64_t input_size, std::int64_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    XG_ARG(std::int64_t, input_size);
    XG_ARG(std::int64_t, hidden_size);
    XG_ARG(bool, bias) = true;
    XG_ARG(RNNNonlinearity, nonlinearity) = RNNNonlinearity::tanh;
};

struct LSTMCellOptions {
    LSTMCellOptions(std::int64_t input_size, std::int64_t hidden_size)
        : input_size_(input_size), hidden_size_(hidden_size) {}
    XG_ARG(std::int64_t, input_size);
    XG_ARG(std::int64_t, hidden_size);
    XG_ARG(bool, bias) = true;
};
using GRUCellOptions = LSTMCellOptions;

// The parameters shared by the three cells; every one is initialized U(-1/sqrt(H), 1/sqrt(H)).
class RNNCellBase : public Module {
  public:
    RNNCellBase(const char* name, std::int64_t input_size, std::int64_t hidden_size, bool bias,
                std::int64_t gates);
    void reset_parameters(Generator& gen = default_generator());
    std::string extra_repr() const override;
    Tensor weight_ih, weight_hh, bias_ih, bias_hh;

  protected:
    // Checks x (1-D or 2-D, input_size features) and a state (undefined, or x's batch shape with
    // hidden_size features: `what` names it); returns x as [N, I] and the state as [N, H].
    Tensor batched_input(const Tensor& x) const;
    Tensor batched_state(const Tensor& x, const Tensor& state, const char* what) const;
    std::int64_t input_size_, hidden_size_;
    std::string extra_ = "";
};

// h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), or relu.
class RNNCellImpl : public RNNCellBase {
  public:
    RNNCellImpl(std::int64_t input_size, std::int64_t hidden_size)
        : RNNCellImpl(RNNCellOptions(input_size, hidden_size)) {}
    explicit RNNCellImpl(const RNNCellOptions& options);
    Tensor forward(const Tensor& input, const Tensor& hx = Tensor());
    RNNCellOptions options;
};
XG_MODULE(RNNCell);

// Returns (h', c'): c' = f * c + i * g, h' = o * tanh(c').
class LSTMCellImpl : public RNNCellBase {
  public:
    LSTMCellImpl(std::int64_t input_size, std::int64_t hidden_size)
        : LSTMCellImpl(LSTMCellOptions(input_size, hidden_size)) {}
    explicit LSTMCellImpl(const LSTMCellOptions& options);
    // hx = (h, c); undefined tensors mean zeros.
    std::tuple<Tensor, Tensor> forward(const Tensor& input,
                                       const std::tuple<Tensor, Tensor>& hx = {});
    LSTMCellOptions options;
};
XG_MODULE(LSTMCell);

// n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h.
class GRUCellImpl : public RNNCellBase {
  public:
    GRUCellImpl(std::int64_t input_size, std::int64_t hidden_size)
        : GRUCellImpl(GRUCellOptions(input_size, hidden_size)) {}
    explicit GRUCellImpl(const GRUCellOptions& options);
    Tensor forward(const Tensor& input, const Tensor& hx = Tensor());
    GRUCellOptions options;
};
XG_MODULE(GRUCell);

namespace detail {
// One step from the input projection xp = x W_ih^T + b_ih [N, G*H] and the state [N, H]; the
// hidden projection is one linear for all gates. Written in differentiable ops.
Tensor rnn_step(const Tensor& xp, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh,
                bool relu);
std::tuple<Tensor, Tensor> lstm_step(const Tensor& xp, const Tensor& h, const Tensor& c,
                                     const Tensor& w_hh, const Tensor& b_hh);
Tensor gru_step(const Tensor& xp, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh);
}  // namespace detail

}  // namespace xg::nn
