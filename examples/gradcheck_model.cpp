// Gradient-check your own model: build a small nn::Sequential, cast it to float64, and compare
// the tape's gradients of the loss, w.r.t. the input and every parameter, with central
// differences (xg::gradcheck). Exit code 1 if any check fails.
//
//   ./gradcheck_model [--eval] [--batch 3] [--seed 0]
#include <CLI/CLI.hpp>
#include <xgrad.hpp>

using namespace xg;

namespace {

// gradcheck checks functions of its inputs. A module's loss is a function of its parameters
// too; this wrapper makes it a function of one parameter's values: forward copies them into
// the parameter and runs the model, backward returns the gradient the tape computed for the
// parameter (times the upstream gradient: the loss is a scalar).
struct LossOfParameter : Function<LossOfParameter> {
    static Tensor forward(AutogradContext* ctx, const Tensor& values, const Tensor* param,
                          const std::function<Tensor()>* loss) {
        param->detach().copy_(values);
        EnableGradGuard grad_on;  // Function::forward runs without grad mode
        Tensor l = (*loss)();
        if (values.requires_grad()) ctx->saved_data["grad"] = grad({l}, {*param})[0].detach();
        return l.detach();
    }
    static TensorList backward(AutogradContext* ctx, const TensorList& g) {
        return {g[0] * std::any_cast<Tensor>(ctx->saved_data["grad"])};
    }
};

std::string shape_str(const Tensor& t) {
    return fmt::format("({})", fmt::join(t.shape(), ", "));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Gradient-check a small conv net (conv, batchnorm, relu, pool, linear) in float64"};
    bool eval_mode = false;
    std::int64_t batch = 3;
    std::uint64_t seed = 0;
    app.add_flag("--eval", eval_mode, "check batchnorm in eval mode (running statistics)");
    app.add_option("--batch", batch, "batch size")->check(CLI::Range(2, 64))->capture_default_str();
    app.add_option("--seed", seed, "random seed")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    manual_seed(seed);

    // 1. The model, cast to float64 (central differences need the precision).
    nn::Sequential model({nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(1)), nn::BatchNorm2d(3),
                          nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(),
                          nn::Linear(3 * 2 * 2, 4)});
    model->to(float64);
    if (eval_mode) {
        // Give the running statistics values other than their initial 0 and 1 first.
        NoGradGuard no_grad;
        model(randn({8, 2, 4, 4}, float64));
        model->eval();
    }
    fmt::print("{}\n", model->repr());

    // 2. A fixed batch and a loss. In train mode batchnorm uses the batch's statistics, so the
    // loss is a deterministic function of the input and the parameters.
    Tensor x = randn({std::size_t(batch), 2, 4, 4}, float64);
    xt::xarray<std::int64_t> labels = xt::arange<std::int64_t>(batch) % 4;
    Tensor y(labels);
    std::function<Tensor(const Tensor&)> loss_of_input = [&](const Tensor& in) {
        return cross_entropy(model(in), y);
    };
    std::function<Tensor()> loss = [&] { return loss_of_input(x); };

    bool all_ok = true;
    auto report = [&](const std::string& what, const Tensor& t, const GradcheckResult& r) {
        fmt::print("{:<14} {:<14} {}\n", what, shape_str(t), r.ok ? "ok" : "FAILED");
        if (!r.ok) fmt::print("{}\n", r.log);
        all_ok = all_ok && r.ok;
    };

    // 3. d loss / d input: the input is an ordinary argument of the function.
    Tensor xin = x.clone().requires_grad_();
    report("input", x,
           gradcheck([&](const TensorList& in) { return loss_of_input(in[0]); }, {xin}));

    // 4. d loss / d parameter, one parameter at a time, through the wrapper. gradcheck does
    // not change its inputs; the wrapper writes into the parameter, so restore it afterwards.
    for (const auto& [name, p] : model->named_parameters()) {
        Tensor saved = p.detach().clone();
        Tensor values = saved.clone().requires_grad_();
        auto r = gradcheck(
            [&, p = p](const TensorList& in) { return LossOfParameter::apply(in[0], &p, &loss); },
            {values});
        p.detach().copy_(saved);
        report(name, p, r);
    }
    fmt::print("{}\n", all_ok ? "all gradients match" : "gradient check FAILED");
    return all_ok ? 0 : 1;
}
