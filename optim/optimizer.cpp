#include "optim/optimizer.hpp"

#include <cmath>
#include <set>
#include <sstream>
#include <typeinfo>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"
#include "optim/options.hpp"

namespace xg::optim {

// ---- options ----

std::vector<std::pair<std::string, double>> OptimizerOptions::values() const {
    std::vector<std::pair<std::string, double>> out;
    // fields() hands out pointers for writing too; here they are only read.
    for (const auto& f : const_cast<OptimizerOptions*>(this)->fields())
        out.emplace_back(f.key, f.value());
    return out;
}

std::vector<OptionField> SGDOptions::fields() {
    return {{"lr", &lr_},
            {"momentum", &momentum_},
            {"dampening", &dampening_},
            {"weight_decay", &weight_decay_},
            {"nesterov", nullptr, &nesterov_},
            {"maximize", nullptr, &maximize_}};
}

std::vector<OptionField> RMSpropOptions::fields() {
    return {{"lr", &lr_},
            {"alpha", &alpha_},
            {"eps", &eps_},
            {"weight_decay", &weight_decay_},
            {"momentum", &momentum_},
            {"centered", nullptr, &centered_},
            {"maximize", nullptr, &maximize_}};
}

ParamGroup::ParamGroup(const ParamGroup& other)
    : params(other.params), options_(other.options_ ? other.options_->clone() : nullptr) {}

ParamGroup& ParamGroup::operator=(const ParamGroup& other) {
    if (this != &other) *this = ParamGroup(other);
    return *this;
}

OptimizerOptions& ParamGroup::options() {
    XG_CHECK(options_, "ParamGroup: the group has no options yet (add it to an optimizer first)");
    return *options_;
}

const OptimizerOptions& ParamGroup::options() const {
    XG_CHECK(options_, "ParamGroup: the group has no options yet (add it to an optimizer first)");
    return *options_;
}

// ---- Optimizer ----

Optimizer::Optimizer(std::string type, std::vector<ParamGroup> groups,
                     std::unique_ptr<OptimizerOptions> defaults)
    : type_(std::move(type)), defaults_(std::move(defaults)), groups_(std::move(groups)) {}

void Optimizer::init() {
    validate(*defaults_);
    auto groups = std::move(groups_);
    groups_.clear();
    XG_CHECK(!groups.empty(), "{}: optimizer got an empty parameter list", type_);
    for (auto& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
    const char* t = type_.c_str();
    XG_CHECK(!group.params.empty(), "{}: optimizer got an empty parameter list", t);
    if (!group.has_options()) group.set_options(defaults_->clone());
    const OptimizerOptions& o = group.options();
    XG_CHECK(typeid(o) == typeid(*defaults_),
             "{}: parameter group options are of another type (options of another optimizer?)", t);
    validate(o);
    std::set<const TensorImpl*> seen;
    for (const auto& g : groups_)
        for (const auto& p : g.params) seen.insert(p.impl());
    for (std::size_t i = 0; i < group.params.size(); ++i) {
        const Tensor& p = group.params[i];
        XG_CHECK(p.defined(), "{}: parameter {} of the group is undefined", t, i);
        XG_CHECK(is_floating(p.dtype()), "{}: parameter {} has dtype {}, expected a floating type",
                 t, i, p.dtype());
        XG_CHECK(p.is_leaf(), "{}: can't optimize a non-leaf tensor (parameter {})", t, i);
        XG_CHECK(seen.insert(p.impl()).second,
                 "{}: parameter {} appears more than once in the parameter groups", t, i);
    }
    groups_.push_back(std::move(group));
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
    Tensor loss;
    if (closure) {
        EnableGradGuard grad_on;
        loss = closure();
    }
    NoGradGuard no_grad;
    check_step();
    for (auto& group : groups_) {
        for (auto& p : group.params) {
            Tensor g = p.grad();
            if (!g.defined()) continue;
            update(p, g, state_[p.impl()], group.options());
        }
    }
    return loss;
}

// Everything step() relies on, checked before the first parameter changes, so a refused step
// leaves every parameter and buffer as it was: the options (param_groups() lets them be changed
// by hand), and each gradient's and buffer's dtype and shape against its parameter's (a model
// moved to another dtype after its grads or buffers were made no longer matches).
void Optimizer::check_step() const {
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
        // set_options can hand a group another optimizer's options: the rules would misread them.
        XG_CHECK(typeid(groups_[gi].options()) == typeid(*defaults_),
                 "{}: step: parameter group {} has options of another type (options of another "
                 "optimizer?)",
                 type_, gi);
        validate(groups_[gi].options());
        for (std::size_t i = 0; i < groups_[gi].params.size(); ++i) {
            const Tensor& p = groups_[gi].params[i];
            Tensor g = p.grad();
            if (!g.defined()) continue;
            XG_CHECK(g.dtype() == p.dtype() && g.shape() == p.shape(),
                     "{}: step: parameter {} of group {} is {} {} but its grad is {} {}", type_, i,
                     gi, p.dtype(), p.shape(), g.dtype(), g.shape());
            auto it = state_.find(p.impl());
            if (it == state_.end()) continue;
            for (const auto& [name, buf] : it->second.buffers) {
                XG_CHECK(buf.dtype() == p.dtype() && buf.shape() == p.shape(),
                         "{}: step: parameter {} of group {} is {} {} but its state '{}' is {} {}",
                         type_, i, gi, p.dtype(), p.shape(), name, buf.dtype(), buf.shape());
            }
        }
    }
}

void Optimizer::zero_grad(bool set_to_none) {
    NoGradGuard no_grad;
    for (auto& group : groups_) {
        for (auto& p : group.params) {
            Tensor g = p.grad();
            if (!g.defined()) continue;
            if (set_to_none || g.requires_grad() || !g.is_leaf()) {
                p.zero_grad();  // a grad with history (create_graph) is dropped, not zeroed
            } else {
                g.zero_();
            }
        }
    }
}

const ParamState* Optimizer::state(const Tensor& param) const {
    auto it = state_.find(param.impl());
    return it == state_.end() ? nullptr : &it->second;
}

StateDict Optimizer::state_dict() const {
    StateDict d;
    d.strings["type"] = type_;
    std::size_t index = 0;
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
        const auto& group = groups_[gi];
        std::string ids;
        for (const auto& [key, v] : group.options().values())
            d.scalars[fmt::format("param_groups.{}.{}", gi, key)] = v;
        for (const auto& p : group.params) {
            ids += (ids.empty() ? "" : ",") + std::to_string(index);
            auto it = state_.find(p.impl());
            if (it != state_.end()) {
                d.scalars[fmt::format("state.{}.step", index)] = it->second.step;
                for (const auto& [name, buf] : it->second.buffers)
                    d.tensors[fmt::format("state.{}.{}", index, name)] = buf.detach().clone();
            }
            ++index;
        }
        d.strings[fmt::format("param_groups.{}.params", gi)] = ids;
    }
    return d;
}

void Optimizer::load_state_dict(const StateDict& dict) {
    const char* t = type_.c_str();
    auto type_it = dict.strings.find("type");
    XG_CHECK(type_it != dict.strings.end() && type_it->second == type_,
             "{}: load_state_dict: the state dict is of optimizer '{}'", t,
             type_it == dict.strings.end() ? std::string("(none)") : type_it->second);
    // Build the new options and state aside, then swap them in: a bad dict changes nothing.
    std::vector<std::unique_ptr<OptimizerOptions>> options;
    std::map<const TensorImpl*, ParamState> state;
    std::set<std::string> used_tensors, used_scalars;
    std::size_t index = 0;
    for (std::size_t gi = 0;; ++gi) {
        auto ids = dict.strings.find(fmt::format("param_groups.{}.params", gi));
        if (ids == dict.strings.end()) {
            XG_CHECK(gi == groups_.size(),
                     "{}: load_state_dict: the state dict has {} parameter groups, the optimizer "
                     "has {}",
                     t, gi, groups_.size());
            break;
        }
        XG_CHECK(gi < groups_.size(),
                 "{}: load_state_dict: the state dict has more parameter groups than the {} of "
                 "the optimizer",
                 t, groups_.size());
        const auto& group = groups_[gi];
        std::string expect_ids;
        for (std::size_t k = 0; k < group.params.size(); ++k)
            expect_ids += (k ? "," : "") + std::to_string(index + k);
        XG_CHECK(ids->second == expect_ids,
                 "{}: load_state_dict: parameter group {} holds parameters [{}], the optimizer's "
                 "holds [{}]",
                 t, gi, ids->second, expect_ids);
        std::unique_ptr<OptimizerOptions> o = group.options().clone();
        for (const OptionField& f : o->fields()) {
            auto name = fmt::format("param_groups.{}.{}", gi, f.key);
            auto it = dict.scalars.find(name);
            XG_CHECK(it != dict.scalars.end(), "{}: load_state_dict: missing '{}'", t, name);
            f.set(it->second);
            used_scalars.insert(name);
        }
        validate(*o);
        for (const auto& p : group.params) {
            ParamState st;
            bool any = false;
            auto step = dict.scalars.find(fmt::format("state.{}.step", index));
            if (step != dict.scalars.end()) {
                st.step = step->second;
                used_scalars.insert(step->first);
                any = true;
            }
            for (const auto& name : buffer_names(*o)) {
                auto key = fmt::format("state.{}.{}", index, name);
                auto it = dict.tensors.find(key);
                if (it == dict.tensors.end()) continue;
                const Tensor& b = it->second;
                XG_CHECK(b.defined() && b.shape() == p.shape() && b.dtype() == p.dtype(),
                         "{}: load_state_dict: '{}' has shape {} {}, parameter {} has {} {}", t,
                         key, b.defined() ? b.shape() : Shape{},
                         b.defined() ? b.dtype() : p.dtype(), index, p.shape(), p.dtype());
                st.buffers[name] = b.detach().clone();
                used_tensors.insert(key);
                any = true;
            }
            if (any) state[p.impl()] = std::move(st);
            ++index;
        }
        options.push_back(std::move(o));
    }
    for (const auto& [key, v] : dict.tensors)
        XG_CHECK(used_tensors.count(key), "{}: load_state_dict: unexpected entry '{}'", t, key);
    for (const auto& [key, v] : dict.scalars)
        XG_CHECK(used_scalars.count(key), "{}: load_state_dict: unexpected entry '{}'", t, key);
    for (std::size_t gi = 0; gi < groups_.size(); ++gi)
        groups_[gi].set_options(std::move(options[gi]));
    state_ = std::move(state);
}

// ---- gradient clipping ----

namespace {
std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
    std::vector<Tensor> gs;
    for (const auto& p : params) {
        XG_CHECK(p.defined(), "clip_grad: undefined parameter");
        if (p.grad().defined()) gs.push_back(p.grad());
    }
    return gs;
}
}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
    XG_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type must be positive, got {}", norm_type);
    XG_CHECK(!std::isnan(max_norm), "clip_grad_norm_: max_norm is NaN");
    NoGradGuard no_grad;
    std::vector<Tensor> gs = grads_of(params);
    if (gs.empty()) return 0.0;
    // Per-tensor norms, then the norm of the norms (as PyTorch), accumulated in double.
    double total = 0.0;
    for (const auto& g : gs) {
        double n = 0.0;
        for (double v : g.to_vector()) {
            if (std::isinf(norm_type)) {
                n = std::max(n, std::abs(v));
                if (std::isnan(v)) n = v;
            } else if (norm_type == 2.0) {  // pow per element cost 4% of an LSTM step
                n += v * v;
            } else if (norm_type == 1.0) {
                n += std::abs(v);
            } else {
                n += std::pow(std::abs(v), norm_type);
            }
        }
        if (std::isinf(norm_type)) {
            total = std::isnan(n) ? n : std::max(total, n);
        } else {
            total += std::pow(std::pow(n, 1.0 / norm_type), norm_type);
        }
    }
    if (!std::isinf(norm_type)) total = std::pow(total, 1.0 / norm_type);
    XG_CHECK(!error_if_nonfinite || std::isfinite(total),
             "clip_grad_norm_: the total norm of order {} of the gradients is non-finite ({})",
             norm_type, total);
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        for (auto& g : gs) g.mul_(coef);
    return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
    XG_CHECK(!std::isnan(clip_value), "clip_grad_value_: clip_value is NaN");
    NoGradGuard no_grad;
    const double c = std::abs(clip_value);
    for (auto& g : grads_of(params)) g.clamp_(-c, c);
}

}  // namespace xg::optim
