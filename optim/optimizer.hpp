#pragma once
// Optimizers see tensors, not modules: parameter groups of leaf tensors, each group with its own
// options (lr, weight_decay and the rule's hyperparameters), per-parameter state, step(),
// zero_grad() and a flat state dict. The update rules follow PyTorch 1.13's single-tensor
// implementations (torch/optim/*.py) and run under NoGradGuard with the in-place ops.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace xg::optim {

// A flat, serializable snapshot (optimizer or scheduler). Names, as in PyTorch's state_dict
// with parameters numbered in group order (group 0's params first):
//   strings["type"]                     "SGD", "Adam", ... (checked on load)
//   strings["param_groups.<g>.params"]  "0,1,2": the parameter indices of group g
//   scalars["param_groups.<g>.<key>"]   every option of group g: lr, weight_decay, momentum,
//                                       beta1, beta2, eps, ...; booleans are 0 or 1
//   scalars["state.<i>.step"]           how many updates parameter i has had (absent: none)
//   tensors["state.<i>.<name>"]         parameter i's buffers: momentum_buffer, exp_avg,
//                                       exp_avg_sq, max_exp_avg_sq, square_avg, grad_avg
// A checkpoint writer can store `tensors` as named tensors and `scalars` + `strings` as JSON.
// Doubles hold every integer count below 2^53 exactly.
struct StateDict {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, double> scalars;
    std::map<std::string, std::string> strings;
};

// The hyperparameters of one group, by name. The optimizers' option classes (SGDOptions, ...)
// derive from it and add libtorch-style chained setters; all of them store their values here,
// so a group's options copy, compare and serialize the same way for every optimizer.
class OptimizerOptions {
  public:
    double lr() const { return get("lr"); }
    double get(const std::string& key) const;        // throws xg::Error for an unknown key
    void set(const std::string& key, double value);  // only keys the options already have
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    const std::map<std::string, double>& values() const { return values_; }

  protected:
    std::map<std::string, double> values_;
};

// A group of parameters with their options. Without options a group takes the optimizer's
// defaults (the options it was constructed with).
struct ParamGroup {
    ParamGroup(std::vector<Tensor> params) : params(std::move(params)) {}  // NOLINT: implicit
    ParamGroup(std::vector<Tensor> params, OptimizerOptions options)
        : params(std::move(params)), options(std::move(options)), has_options(true) {}
    std::vector<Tensor> params;
    OptimizerOptions options;
    bool has_options = false;
};

// One parameter's state: named buffers (same shape and dtype as the parameter) and counters.
struct ParamState {
    std::map<std::string, Tensor> buffers;
    double step = 0;
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every parameter that has a .grad. With a closure (which zeroes the grads,
    // computes the loss and calls backward), calls it first with grad mode on and returns its
    // loss, as PyTorch's step(closure).
    Tensor step(const std::function<Tensor()>& closure = nullptr);
    // set_to_none drops every .grad (PyTorch 2's default); otherwise zeroes them in place.
    void zero_grad(bool set_to_none = true);
    void add_param_group(ParamGroup group);

    const std::vector<ParamGroup>& param_groups() const { return groups_; }
    std::vector<ParamGroup>& param_groups() { return groups_; }  // e.g. to change lr by hand
    const OptimizerOptions& defaults() const { return defaults_; }
    const std::string& type() const { return type_; }
    // The state of one parameter (empty until its first step).
    const ParamState* state(const Tensor& param) const;

    StateDict state_dict() const;
    // Restores state and group options saved from an optimizer of the same type over
    // parameters of the same shapes, in the same groups. Checks everything before changing
    // anything; the buffers are copied, not shared.
    void load_state_dict(const StateDict& dict);

  protected:
    Optimizer(std::string type, std::vector<ParamGroup> groups, OptimizerOptions defaults);
    // Throws xg::Error (message starting with the optimizer's type) for invalid options.
    virtual void validate(const OptimizerOptions& o) const = 0;
    // Updates one parameter from its gradient (grad mode is off).
    virtual void update(Tensor& param, const Tensor& grad, ParamState& state,
                        const OptimizerOptions& o) = 0;
    // The buffers a parameter's state may hold, for load_state_dict's checks.
    virtual std::vector<std::string> buffer_names(const OptimizerOptions& o) const = 0;
    // Call from the derived constructor: validates the defaults and the groups.
    void init();
    // step()'s checks of options, grads and buffers, made before anything is updated.
    void check_step() const;

  private:
    std::string type_;
    OptimizerOptions defaults_;
    std::vector<ParamGroup> groups_;
    std::map<const TensorImpl*, ParamState> state_;
};

// Gradient clipping over the .grad of every parameter that has one (PyTorch's
// torch.nn.utils.clip_grad_norm_ / clip_grad_value_). Returns the total norm of the gradients
// (as if concatenated) before clipping; norm_type may be +inf. Grads are scaled by
// max_norm / (total + 1e-6) when that factor is below 1.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace xg::optim
