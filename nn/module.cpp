#include "nn/module.hpp"

#include <algorithm>
#include <sstream>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"

namespace xg::nn {

// ---- helpers that write into tensors ----

namespace detail {

void convert_in_place(const Tensor& t, Dtype dtype) {
    if (t.dtype() == dtype) return;
    Tensor cast = t.detach().to(dtype);
    TensorImpl* impl = t.impl();
    impl->storage = cast.impl()->storage;  // new storage (version 0); every handle sees it
    impl->grad.reset();
}

}  // namespace detail

// ---- Module ----

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

void Module::check_new_name(const std::string& name, const char* what) const {
    XG_CHECK(!name.empty() && name.find('.') == std::string::npos,
             "{}: name '{}' must be non-empty and contain no '.'", what, name);
    auto taken = [&](const auto& v) {
        return std::any_of(v.begin(), v.end(), [&](const auto& p) { return p.first == name; });
    };
    XG_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_),
             "{}: {} already has an attribute named '{}'", what, type_name_, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
    check_new_name(name, "register_parameter");
    if (!t.defined()) return t;
    XG_CHECK(t.is_leaf(), "register_parameter: '{}' must be a leaf tensor (detach it first)", name);
    XG_CHECK(!requires_grad || is_floating(t.dtype()),
             "register_parameter: '{}' has dtype {}; a parameter that requires grad must be "
             "floating-point",
             name, t.dtype());
    t.requires_grad_(requires_grad);
    t.set_name(name);
    params_.emplace_back(name, t);
    return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
    check_new_name(name, "register_buffer");
    if (!t.defined()) return t;
    XG_CHECK(!t.requires_grad(), "register_buffer: buffer '{}' must not require grad", name);
    buffers_.emplace_back(name, t);
    return t;
}

void Module::add_child(const std::string& name, ModulePtr m) {
    check_new_name(name, "register_module");
    XG_CHECK(m != nullptr, "register_module: module '{}' is null", name);
    XG_CHECK(m.get() != this, "register_module: a module cannot be its own child ('{}')", name);
    children_.emplace_back(name, m);
    m->rename_parameters(name);
}

ModulePtr Module::replace_module(const std::string& name, ModulePtr m) {
    XG_CHECK(m != nullptr, "replace_module: module '{}' is null", name);
    XG_CHECK(m.get() != this, "replace_module: a module cannot be its own child ('{}')", name);
    for (std::size_t i = 0; i < children_.size(); ++i) {
        if (children_[i].first != name) continue;
        child_replaced(i, m);  // may refuse m: then nothing changed
        children_[i].second = m;
        m->rename_parameters(name);
        return m;
    }
    throw Error(fmt::format("replace_module: {} has no child '{}'", type_name_, name));
}

void Module::rename_parameters(const std::string& prefix) {
    for (auto& [n, t] : named_parameters()) {
        Tensor h = t;
        h.set_name(prefix + "." + n);
    }
}

void Module::collect(const std::string& prefix, bool params, bool recurse,
                     NamedTensors& out) const {
    for (const auto& [n, t] : params ? params_ : buffers_) out.insert(prefix + n, t);
    if (!recurse) return;
    for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, true, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
    NamedTensors d;
    collect("", true, recurse, d);
    return d;
}

NamedTensors Module::named_buffers(bool recurse) const {
    NamedTensors d;
    collect("", false, recurse, d);
    return d;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
    return named_parameters(recurse).values();
}

std::vector<Tensor> Module::buffers(bool recurse) const {
    return named_buffers(recurse).values();
}

std::vector<ModulePtr> Module::children() const {
    std::vector<ModulePtr> v;
    for (const auto& c : children_) v.push_back(c.second);
    return v;
}

std::vector<std::pair<std::string, ModulePtr>> Module::named_modules() const {
    std::vector<std::pair<std::string, ModulePtr>> out;
    // shared_from_this needs a shared owner; a module on the stack is listed with a non-owning
    // pointer.
    ModulePtr self = std::const_pointer_cast<Module>(weak_from_this().lock());
    if (!self) self = ModulePtr(const_cast<Module*>(this), [](Module*) {});
    out.emplace_back("", self);
    for (const auto& [n, c] : children_)
        for (auto& [cn, m] : c->named_modules()) out.emplace_back(cn.empty() ? n : n + "." + cn, m);
    return out;
}

std::vector<ModulePtr> Module::modules() const {
    std::vector<ModulePtr> v;
    for (auto& it : named_modules()) v.push_back(it.second);
    return v;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& c : children_) c.second->train(on);
}

void Module::zero_grad() {
    for (auto& t : parameters()) t.zero_grad();
}

void Module::to(Dtype dtype) {
    XG_CHECK(is_floating(dtype), "Module::to: dtype must be float32 or float64, got {}", dtype);
    for (auto& t : parameters()) detail::convert_in_place(t, dtype);
    for (auto& t : buffers())
        if (is_floating(t.dtype())) detail::convert_in_place(t, dtype);  // num_batches stays int64
}

std::size_t Module::num_parameters() const {
    std::size_t n = 0;
    for (auto& t : parameters()) n += t.numel();
    return n;
}

StateDict Module::state_dict() const {
    StateDict d;
    // PyTorch's order: per module, its parameters then its buffers, then its children.
    for (const auto& [prefix, m] : named_modules()) {
        std::string p = prefix.empty() ? "" : prefix + ".";
        for (const auto& [n, t] : m->params_) d.insert(p + n, t.detach());
        for (const auto& [n, t] : m->buffers_) d.insert(p + n, t.detach());
    }
    return d;
}

namespace {
// What a dict entry loads as: PyTorch takes a one-element 1-d tensor for a 0-d one (older
// checkpoints saved num_batches_tracked with shape [1]).
Tensor as_loaded(const Tensor& src, const Tensor& own) {
    if (own.dim() == 0 && src.dim() == 1 && src.numel() == 1) return src.reshape({});
    return src;
}
}  // namespace

LoadStateDictResult Module::load_state_dict(const StateDict& dict, bool strict) {
    StateDict own = state_dict();
    LoadStateDictResult result;
    // Validate everything first: nothing is written unless all of it fits.
    for (const auto& [k, t] : own) {
        auto it = dict.find(k);
        if (it == dict.end()) {
            XG_CHECK(!strict, "load_state_dict: missing key '{}' in the state dict", k);
            result.missing_keys.push_back(k);
            continue;
        }
        XG_CHECK(it->second.defined(), "load_state_dict: key '{}' holds an undefined tensor", k);
        const Tensor src = as_loaded(it->second, t);
        XG_CHECK(src.shape() == t.shape(),
                 "load_state_dict: size mismatch for '{}': expected shape {}, got {}", k, t.shape(),
                 src.shape());
        XG_CHECK(src.dtype() == t.dtype(),
                 "load_state_dict: dtype mismatch for '{}': expected {}, got {}", k, t.dtype(),
                 src.dtype());
    }
    for (const auto& [k, t] : dict) {
        if (own.contains(k)) continue;
        XG_CHECK(!strict, "load_state_dict: unexpected key '{}' in the state dict", k);
        result.unexpected_keys.push_back(k);
    }
    NoGradGuard no_grad;
    for (const auto& [k, t] : own)
        if (dict.contains(k)) Tensor(t).copy_(as_loaded(dict.at(k), t));
    return result;
}

std::size_t Module::register_forward_pre_hook(ForwardPreHook hook) {
    pre_hooks_.emplace_back(next_hook_, std::move(hook));
    return next_hook_++;
}

std::size_t Module::register_forward_hook(ForwardHook hook) {
    post_hooks_.emplace_back(next_hook_, std::move(hook));
    return next_hook_++;
}

void Module::remove_hook(std::size_t handle) {
    auto drop = [&](auto& v) {
        v.erase(
            std::remove_if(v.begin(), v.end(), [&](const auto& p) { return p.first == handle; }),
            v.end());
    };
    drop(pre_hooks_);
    drop(post_hooks_);
}

Tensor Module::run_pre_hooks(const Tensor& x) {
    Tensor in = x;
    for (auto& [id, h] : pre_hooks_) {
        Tensor r = h(*this, in);
        if (r.defined()) in = r;
    }
    return in;
}

Tensor Module::run_post_hooks(const Tensor& x, const Tensor& y) {
    Tensor out = y;
    for (auto& [id, h] : post_hooks_) {
        Tensor r = h(*this, x, out);
        if (r.defined()) out = r;
    }
    return out;
}

std::string Module::repr() const {
    std::string head = type_name_ + "(" + extra_repr();
    if (children_.empty()) return head + ")";
    std::string s = head + (extra_repr().empty() ? "" : "") + "\n";
    for (const auto& [n, c] : children_) {
        std::string child = c->repr();
        std::string indented;
        for (char ch : child) {
            indented += ch;
            if (ch == '\n') indented += "  ";
        }
        s += "  (" + n + "): " + indented + "\n";
    }
    return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
    return os << m.repr();
}

Tensor UnaryModule::operator()(const Tensor& x, Site site) {
    xg::detail::SiteScope at(site);
    Tensor in = run_pre_hooks(x);
    return run_post_hooks(in, forward(in));
}

}  // namespace xg::nn
