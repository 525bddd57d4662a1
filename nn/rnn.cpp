#include "nn/rnn.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/checked.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "ops/dropout.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/matmul.hpp"
#include "ops/shape.hpp"

namespace xg::nn {

namespace {

std::int64_t gates_of(RNNBase::Mode mode) {
    switch (mode) {
        case RNNBase::Mode::lstm:
            return 4;
        case RNNBase::Mode::gru:
            return 3;
        default:
            return 1;
    }
}

LSTMOptions common_options(const RNNOptions& o) {
    return LSTMOptions(o.input_size(), o.hidden_size())
        .num_layers(o.num_layers())
        .bias(o.bias())
        .batch_first(o.batch_first())
        .dropout(o.dropout())
        .bidirectional(o.bidirectional());
}

}  // namespace

RNNBase::RNNBase(const char* name, Mode mode, const LSTMOptions& o)
    : Module(name), mode_(mode), base_(o) {
    XG_CHECK(o.input_size() > 0, "{}: input_size must be positive, got {}", name, o.input_size());
    XG_CHECK(o.hidden_size() > 0, "{}: hidden_size must be positive, got {}", name,
             o.hidden_size());
    XG_CHECK(o.num_layers() > 0, "{}: num_layers must be positive, got {}", name, o.num_layers());
    XG_CHECK(o.dropout() >= 0.0 && o.dropout() <= 1.0,
             "{}: dropout must be a probability in [0, 1], got {}", name, o.dropout());
    const std::int64_t dirs = o.bidirectional() ? 2 : 1;
    const auto hidden = std::size_t(o.hidden_size());
    // Refuses sizes whose products overflow before any of them is computed.
    checked_numel(name, {std::size_t(gates_of(mode)), hidden, std::size_t(o.input_size())},
                  sizeof(float));
    checked_numel(name, {std::size_t(gates_of(mode)), hidden, hidden}, sizeof(float));
    const auto rows = std::size_t(gates_of(mode)) * hidden;
    for (std::int64_t l = 0; l < o.num_layers(); ++l) {
        const auto in = std::size_t(l == 0 ? o.input_size() : dirs * o.hidden_size());
        checked_numel(name, {rows, in}, sizeof(float));
        for (std::int64_t d = 0; d < dirs; ++d) {
            const std::string sfx = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
            std::vector<Tensor> w(4);
            w[0] = register_parameter("weight_ih" + sfx, zeros({rows, in}));
            w[1] = register_parameter("weight_hh" + sfx, zeros({rows, hidden}));
            if (o.bias()) {
                w[2] = register_parameter("bias_ih" + sfx, zeros({rows}));
                w[3] = register_parameter("bias_hh" + sfx, zeros({rows}));
            }
            all_weights.push_back(std::move(w));
        }
    }
    // torch.nn.RNNBase.extra_repr.
    extra_ = fmt::format("{}, {}", o.input_size(), o.hidden_size());
    if (o.num_layers() != 1) extra_ += fmt::format(", num_layers={}", o.num_layers());
    if (!o.bias()) extra_ += ", bias=False";
    if (o.batch_first()) extra_ += ", batch_first=True";
    if (o.dropout() != 0.0) extra_ += ", dropout=" + detail::py_float(o.dropout());
    if (o.bidirectional()) extra_ += ", bidirectional=True";
    reset_parameters();
}

void RNNBase::reset_parameters(Generator& gen) {
    const double bound = 1.0 / std::sqrt(double(base_.hidden_size()));
    for (const Tensor& p : parameters()) init::uniform_(p, -bound, bound, gen);
}

std::string RNNBase::extra_repr() const {
    return extra_;
}

std::tuple<Tensor, Tensor, Tensor> RNNBase::run(const Tensor& input, const Tensor& h0,
                                                const Tensor& c0) {
    const std::string& name = type_name();
    XG_CHECK(input.defined(), "{}: input is undefined", name);
    XG_CHECK(input.dim() == 2 || input.dim() == 3,
             "{}: expected input to be 2-D (unbatched) or 3-D, got {}-D {}", name, input.dim(),
             input.shape());
    XG_CHECK(std::int64_t(input.size(-1)) == base_.input_size(),
             "{}: input has {} features (shape {}), expected input_size {}", name, input.size(-1),
             input.shape(), base_.input_size());
    XG_CHECK(input.dtype() == all_weights[0][0].dtype(),
             "{}: input is {} but the parameters are {}", name, input.dtype(),
             all_weights[0][0].dtype());
    const bool batched = input.dim() == 3;
    // Time-major [T, N, I] inside.
    Tensor x = !batched ? input.unsqueeze(1) : base_.batch_first() ? input.transpose(0, 1) : input;
    const std::int64_t T = x.size(0), N = x.size(1);
    XG_CHECK(T > 0 && N > 0, "{}: input {} has no time steps or no batch entries", name,
             input.shape());
    const std::int64_t L = base_.num_layers(), D = base_.bidirectional() ? 2 : 1;
    const std::int64_t H = base_.hidden_size(), G = gates_of(mode_);
    const Shape want = batched ? Shape{std::size_t(L * D), std::size_t(N), std::size_t(H)}
                               : Shape{std::size_t(L * D), std::size_t(H)};
    auto state = [&](const Tensor& s, const char* what) {
        if (!s.defined())
            return zeros({std::size_t(L * D), std::size_t(N), std::size_t(H)}, input.dtype());
        XG_CHECK(s.shape() == want, "{}: expected {} of shape {}, got {}", name, what, want,
                 s.shape());
        XG_CHECK(s.dtype() == input.dtype(), "{}: {} is {} but the input is {}", name, what,
                 s.dtype(), input.dtype());
        return batched ? s : s.unsqueeze(1);
    };
    const bool lstm = mode_ == Mode::lstm;
    TensorList hs = unbind(state(h0, "h0"), 0);
    TensorList cs = lstm ? unbind(state(c0, "c0"), 0) : TensorList();
    TensorList hn, cn;
    Tensor layer_in = x;
    for (std::int64_t l = 0; l < L; ++l) {
        TensorList dirs;
        for (std::int64_t d = 0; d < D; ++d) {
            const auto& w = all_weights[std::size_t(l * D + d)];
            const auto in = std::int64_t(layer_in.size(2));
            // All time steps' input projections in one gemm.
            TensorList xp =
                unbind(linear(layer_in.reshape({T * N, in}), w[0], w[2]).reshape({T, N, G * H}), 0);
            Tensor h = hs[std::size_t(l * D + d)];
            Tensor c = lstm ? cs[std::size_t(l * D + d)] : Tensor();
            TensorList outs(static_cast<std::size_t>(T));
            for (std::int64_t s = 0; s < T; ++s) {
                const auto t = std::size_t(d == 0 ? s : T - 1 - s);
                if (lstm) {
                    std::tie(h, c) = detail::lstm_step(xp[t], h, c, w[1], w[3]);
                } else if (mode_ == Mode::gru) {
                    h = detail::gru_step(xp[t], h, w[1], w[3]);
                } else {
                    h = detail::rnn_step(xp[t], h, w[1], w[3], mode_ == Mode::rnn_relu);
                }
                outs[t] = h;
            }
            hn.push_back(h);
            if (lstm) cn.push_back(c);
            dirs.push_back(stack(outs, 0));
        }
        layer_in = D == 1 ? dirs[0] : cat(dirs, 2);
        const double p = base_.dropout();
        if (l + 1 < L && p > 0.0 && is_training()) {
            // ops' dropout refuses p == 1; PyTorch then zeroes everything.
            layer_in =
                p >= 1.0 ? layer_in * 0.0
                         : dropout(layer_in, p, true, generator ? *generator : default_generator());
        }
    }
    Tensor out = !batched              ? layer_in.squeeze(1)
                 : base_.batch_first() ? layer_in.transpose(0, 1)
                                       : layer_in;
    Tensor h_n = stack(hn, 0), c_n = lstm ? stack(cn, 0) : Tensor();
    if (!batched) {
        h_n = h_n.squeeze(1);
        if (lstm) c_n = c_n.squeeze(1);
    }
    return {out, h_n, c_n};
}

RNNImpl::RNNImpl(const RNNOptions& o)
    : RNNBase("RNN", o.nonlinearity() == RNNNonlinearity::relu ? Mode::rnn_relu : Mode::rnn_tanh,
              common_options(o)),
      options(o) {}

std::tuple<Tensor, Tensor> RNNImpl::forward(const Tensor& input, const Tensor& hx) {
    auto [out, h_n, c_n] = run(input, hx, Tensor());
    return {out, h_n};
}

LSTMImpl::LSTMImpl(const LSTMOptions& o) : RNNBase("LSTM", Mode::lstm, o), options(o) {}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTMImpl::forward(
    const Tensor& input, const std::tuple<Tensor, Tensor>& hx) {
    auto [out, h_n, c_n] = run(input, std::get<0>(hx), std::get<1>(hx));
    return {out, {h_n, c_n}};
}

GRUImpl::GRUImpl(const GRUOptions& o) : RNNBase("GRU", Mode::gru, o), options(o) {}

std::tuple<Tensor, Tensor> GRUImpl::forward(const Tensor& input, const Tensor& hx) {
    auto [out, h_n, c_n] = run(input, hx, Tensor());
    return {out, h_n};
}

}  // namespace xg::nn
