#include "nn/rnn_cell.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/checked.hpp"
#include "nn/init.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/matmul.hpp"
#include "ops/recurrent.hpp"
#include "ops/shape.hpp"

namespace xg::nn {

// ---- the steps ----

namespace detail {

Tensor rnn_step(const Tensor& xp, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh,
                bool relu) {
    Tensor pre = xp + linear(h, w_hh, b_hh);
    return relu ? xg::relu(pre) : xg::tanh(pre);
}

std::tuple<Tensor, Tensor> lstm_step(const Tensor& xp, const Tensor& h, const Tensor& c,
                                     const Tensor& w_hh, const Tensor& b_hh) {
    // The gates i, f, g, o; then one fused node for the pointwise rest (ops/recurrent.hpp).
    return xg::detail::lstm_cell(xp + linear(h, w_hh, b_hh), c);
}

Tensor gru_step(const Tensor& xp, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh) {
    TensorList x = chunk(xp, 3, 1);  // r, z, n
    TensorList hh = chunk(linear(h, w_hh, b_hh), 3, 1);
    Tensor r = sigmoid(x[0] + hh[0]);
    Tensor z = sigmoid(x[1] + hh[1]);
    Tensor n = xg::tanh(x[2] + r * hh[2]);  // b_hn stays inside the product with r
    return n + z * (h - n);                 // (1 - z) * n + z * h
}

}  // namespace detail

// ---- RNNCellBase ----

RNNCellBase::RNNCellBase(const char* name, std::int64_t input_size, std::int64_t hidden_size,
                         bool bias, std::int64_t gates)
    : Module(name), input_size_(input_size), hidden_size_(hidden_size) {
    XG_CHECK(input_size > 0, "{}: input_size must be positive, got {}", name, input_size);
    XG_CHECK(hidden_size > 0, "{}: hidden_size must be positive, got {}", name, hidden_size);
    const auto hidden = std::size_t(hidden_size);
    checked_numel(name, {std::size_t(gates), hidden, std::size_t(input_size)}, sizeof(float));
    checked_numel(name, {std::size_t(gates), hidden, hidden}, sizeof(float));
    const auto rows = std::size_t(gates) * hidden;
    weight_ih = register_parameter("weight_ih", zeros({rows, std::size_t(input_size)}));
    weight_hh = register_parameter("weight_hh", zeros({rows, std::size_t(hidden_size)}));
    if (bias) {
        bias_ih = register_parameter("bias_ih", zeros({rows}));
        bias_hh = register_parameter("bias_hh", zeros({rows}));
    }
    extra_ = fmt::format("{}, {}", input_size, hidden_size);
    if (!bias) extra_ += ", bias=False";
    reset_parameters();
}

void RNNCellBase::reset_parameters(Generator& gen) {
    const double bound = 1.0 / std::sqrt(double(hidden_size_));
    for (const Tensor& p : parameters()) init::uniform_(p, -bound, bound, gen);
}

std::string RNNCellBase::extra_repr() const {
    return extra_;
}

Tensor RNNCellBase::batched_input(const Tensor& x) const {
    const std::string& name = type_name();
    XG_CHECK(x.defined(), "{}: input is undefined", name);
    XG_CHECK(x.dim() == 1 || x.dim() == 2, "{}: expected input to be 1-D or 2-D, got {}-D {}", name,
             x.dim(), x.shape());
    XG_CHECK(std::int64_t(x.size(-1)) == input_size_,
             "{}: input has {} features (shape {}), expected input_size {}", name, x.size(-1),
             x.shape(), input_size_);
    XG_CHECK(x.dim() == 1 || x.size(0) > 0, "{}: input {} has no batch entries", name, x.shape());
    XG_CHECK(x.dtype() == weight_ih.dtype(), "{}: input is {} but the parameters are {}", name,
             x.dtype(), weight_ih.dtype());
    return x.dim() == 1 ? x.unsqueeze(0) : x;
}

Tensor RNNCellBase::batched_state(const Tensor& x, const Tensor& state, const char* what) const {
    Shape want = x.dim() == 1 ? Shape{std::size_t(hidden_size_)}
                              : Shape{x.size(0), std::size_t(hidden_size_)};
    if (!state.defined()) return zeros({want.size() == 1 ? 1 : want[0], want.back()}, x.dtype());
    XG_CHECK(state.shape() == want, "{}: expected {} of shape {}, got {}", type_name(), what, want,
             state.shape());
    XG_CHECK(state.dtype() == x.dtype(), "{}: {} is {} but the input is {}", type_name(), what,
             state.dtype(), x.dtype());
    return x.dim() == 1 ? state.unsqueeze(0) : state;
}

// ---- the cells ----

namespace {

const char* nonlinearity_name(RNNNonlinearity n) {
    return n == RNNNonlinearity::relu ? "relu" : "tanh";
}

// The result of a batched step, back to the caller's rank.
Tensor unbatch(const Tensor& x, const Tensor& y) {
    return x.dim() == 1 ? y.squeeze(0) : y;
}

}  // namespace

RNNCellImpl::RNNCellImpl(const RNNCellOptions& o)
    : RNNCellBase("RNNCell", o.input_size(), o.hidden_size(), o.bias(), 1), options(o) {
    if (o.nonlinearity() != RNNNonlinearity::tanh)
        extra_ += fmt::format(", nonlinearity={}", nonlinearity_name(o.nonlinearity()));
}

Tensor RNNCellImpl::forward(const Tensor& input, const Tensor& hx) {
    Tensor x = batched_input(input);
    Tensor h = batched_state(input, hx, "hx");
    Tensor y = detail::rnn_step(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh,
                                options.nonlinearity() == RNNNonlinearity::relu);
    return unbatch(input, y);
}

LSTMCellImpl::LSTMCellImpl(const LSTMCellOptions& o)
    : RNNCellBase("LSTMCell", o.input_size(), o.hidden_size(), o.bias(), 4), options(o) {}

std::tuple<Tensor, Tensor> LSTMCellImpl::forward(const Tensor& input,
                                                 const std::tuple<Tensor, Tensor>& hx) {
    Tensor x = batched_input(input);
    Tensor h = batched_state(input, std::get<0>(hx), "h");
    Tensor c = batched_state(input, std::get<1>(hx), "c");
    auto [h2, c2] = detail::lstm_step(linear(x, weight_ih, bias_ih), h, c, weight_hh, bias_hh);
    return {unbatch(input, h2), unbatch(input, c2)};
}

GRUCellImpl::GRUCellImpl(const GRUCellOptions& o)
    : RNNCellBase("GRUCell", o.input_size(), o.hidden_size(), o.bias(), 3), options(o) {}

Tensor GRUCellImpl::forward(const Tensor& input, const Tensor& hx) {
    Tensor x = batched_input(input);
    Tensor h = batched_state(input, hx, "hx");
    return unbatch(input, detail::gru_step(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh));
}

}  // namespace xg::nn
