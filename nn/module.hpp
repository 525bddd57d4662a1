#pragma once
// nn::Module, the base of every layer, in the shape of torch::nn::Module: parameters, buffers and
// submodules registered by name, recursive traversal, train/eval, state_dict/load_state_dict,
// forward hooks and PyTorch-style printing. Modules live behind shared_ptr; the typed holders
// (nn::Linear = ModuleHolder<LinearImpl>, see XG_MODULE) play the role of libtorch's.
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/named_tensors.hpp"
#include "core/tensor.hpp"

namespace xg::nn {

// A module's state dict and named parameters: names to tensors in order (core/named_tensors).
using StateDict = NamedTensors;

class Module;
using ModulePtr = std::shared_ptr<Module>;

// What load_state_dict(dict, /*strict=*/false) skipped, as PyTorch's _IncompatibleKeys.
struct LoadStateDictResult {
    std::vector<std::string> missing_keys;     // the module's, absent from the dict: not loaded
    std::vector<std::string> unexpected_keys;  // the dict's, not in the module: ignored
};

class Module : public std::enable_shared_from_this<Module> {
  public:
    explicit Module(std::string type_name = "Module");
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // The class name printed by repr and summary ("Linear").
    const std::string& type_name() const { return type_name_; }

    // Registration. A parameter is made a leaf that requires grad (unless requires_grad is
    // false); a buffer never requires grad. Both return the registered handle: store it in a
    // member (the module and the member then share the tensor). An undefined tensor registers
    // nothing under that name (an absent bias), as in PyTorch.
    Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
    Tensor register_buffer(const std::string& name, Tensor t);
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
        add_child(name, m);
        return m;
    }
    template <class H, class = decltype(std::declval<H>().ptr())>
    H register_module(const std::string& name, H holder) {
        add_child(name, holder.ptr());
        return holder;
    }

    // Puts m in place of the direct child `name` (same name and position), as libtorch's
    // replace_module, and returns m. Containers (Sequential, ModuleList) then run m. A module
    // that calls the old child through a member of its own keeps calling the old one.
    ModulePtr replace_module(const std::string& name, ModulePtr m);

    // Traversal, depth first in registration order; names are dotted ("features.1.weight").
    std::vector<Tensor> parameters(bool recurse = true) const;
    NamedTensors named_parameters(bool recurse = true) const;
    std::vector<Tensor> buffers(bool recurse = true) const;
    NamedTensors named_buffers(bool recurse = true) const;
    std::vector<ModulePtr> children() const;
    const std::vector<std::pair<std::string, ModulePtr>>& named_children() const {
        return children_;
    }
    // This module first (name ""), then every descendant.
    std::vector<std::pair<std::string, ModulePtr>> named_modules() const;
    std::vector<ModulePtr> modules() const;

    // Training mode, set through the whole tree.
    virtual void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    void zero_grad();      // drops every parameter's .grad (set_to_none, the default)
    void to(Dtype dtype);  // casts floating parameters and buffers in place (handles stay)
    std::size_t num_parameters() const;  // elements in all parameters

    // Parameters and buffers by dotted name, detached (they share data with the module).
    StateDict state_dict() const;
    // Copies values into the module. Every name, shape and dtype is checked first; if anything
    // is wrong (with strict a missing or an unexpected key; a wrong shape or dtype always) it
    // throws xg::Error naming the key and changes nothing. Not strict, as PyTorch: the keys the
    // dict lacks keep their values, the dict's extra keys are ignored, and both are returned.
    LoadStateDictResult load_state_dict(const StateDict& dict, bool strict = true);

    // Printing like PyTorch's repr: "Linear(in_features=3, out_features=4, bias=True)", and a
    // module with children on several lines with "(name): child" entries.
    virtual std::string extra_repr() const { return ""; }
    std::string repr() const;

    // Forward hooks, run by Tensor -> Tensor modules (nn::UnaryModule::operator()). A pre-hook
    // may return a replacement input, a post-hook a replacement output (undefined = keep).
    using ForwardPreHook = std::function<Tensor(Module&, const Tensor& input)>;
    using ForwardHook = std::function<Tensor(Module&, const Tensor& input, const Tensor& output)>;
    std::size_t register_forward_pre_hook(ForwardPreHook hook);
    std::size_t register_forward_hook(ForwardHook hook);
    void remove_hook(std::size_t handle);

  protected:
    void add_child(const std::string& name, ModulePtr m);
    // Called by replace_module after child `index` (in registration order) became m: a container
    // that keeps its own list of children updates it here (and may refuse m by throwing).
    virtual void child_replaced(std::size_t /*index*/, const ModulePtr& /*m*/) {}
    Tensor run_pre_hooks(const Tensor& x);
    Tensor run_post_hooks(const Tensor& x, const Tensor& y);
    bool training_ = true;

  private:
    void check_new_name(const std::string& name, const char* what) const;
    void collect(const std::string& prefix, bool params, bool recurse, NamedTensors& out) const;
    void rename_parameters(const std::string& prefix);
    std::string type_name_;
    std::vector<std::pair<std::string, Tensor>> params_;
    std::vector<std::pair<std::string, Tensor>> buffers_;
    std::vector<std::pair<std::string, ModulePtr>> children_;
    std::vector<std::pair<std::size_t, ForwardPreHook>> pre_hooks_;
    std::vector<std::pair<std::size_t, ForwardHook>> post_hooks_;
    std::size_t next_hook_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

// A module mapping one tensor to one tensor: what Sequential chains and hooks wrap.
class UnaryModule : public Module {
  public:
    using Module::Module;
    virtual Tensor forward(const Tensor& x) = 0;
    // Pre-hooks, forward, post-hooks. In anomaly mode the ops inside report the caller's site.
    Tensor operator()(const Tensor& x, Site site = Site());
};

// A typed shared handle like libtorch's ModuleHolder: nn::Linear fc(3, 4); fc->weight; fc(x).
template <class Impl>
class ModuleHolder {
  public:
    template <class... Args, class = std::enable_if_t<std::is_constructible_v<Impl, Args&&...>>>
    explicit ModuleHolder(Args&&... args)
        : impl_(std::make_shared<Impl>(std::forward<Args>(args)...)) {}
    // nn::AdaptiveAvgPool2d({3, 2}): a braced list, which the constructor above cannot take,
    // builds the module's Options when the module names one.
    template <class I = Impl>
    explicit ModuleHolder(const typename I::Options& options)
        : impl_(std::make_shared<Impl>(options)) {}
    ModuleHolder(std::shared_ptr<Impl> p) : impl_(std::move(p)) {}  // NOLINT
    Impl* operator->() const { return impl_.get(); }
    Impl& operator*() const { return *impl_; }
    const std::shared_ptr<Impl>& ptr() const { return impl_; }
    operator std::shared_ptr<Impl>() const { return impl_; }  // NOLINT
    // fc(x), loss(x, y), attention(q, k, v): the module's operator() (which runs its hooks and
    // takes the caller's site for anomaly mode) when it has one for these arguments, else its
    // forward, as libtorch's holder calls forward.
    template <class A>
    auto operator()(A&& a, Site site = Site()) const {
        if constexpr (std::is_invocable_v<Impl&, A&&, Site>) {
            return (*impl_)(std::forward<A>(a), site);
        } else {
            return call(std::forward<A>(a));
        }
    }
    template <class A, class B>
    auto operator()(A&& a, B&& b, Site site = Site()) const {
        if constexpr (std::is_invocable_v<Impl&, A&&, B&&, Site>) {
            return (*impl_)(std::forward<A>(a), std::forward<B>(b), site);
        } else {
            return call(std::forward<A>(a), std::forward<B>(b));
        }
    }
    template <class... Args, class = std::enable_if_t<(sizeof...(Args) > 2)>>
    auto operator()(Args&&... args) const {
        return call(std::forward<Args>(args)...);
    }

  private:
    template <class... Args>
    auto call(Args&&... args) const {
        if constexpr (std::is_invocable_v<Impl&, Args&&...>) {
            return (*impl_)(std::forward<Args>(args)...);
        } else {
            return impl_->forward(std::forward<Args>(args)...);
        }
    }
    std::shared_ptr<Impl> impl_;
};

// Makes a holder `Name` for `NameImpl`, as TORCH_MODULE.
#define XG_MODULE(Name)                                         \
    class Name : public ::xg::nn::ModuleHolder<Name##Impl> {    \
      public:                                                   \
        using ::xg::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    }

namespace detail {
// Replaces t's data with a cast copy in place, so every handle to t sees the new dtype.
void convert_in_place(const Tensor& t, Dtype dtype);
}  // namespace detail

}  // namespace xg::nn

// fmt::print("{}", *net) for every module type (Sequential, a user's), as its repr.
template <class M>
struct fmt::formatter<M, char, std::enable_if_t<std::is_base_of_v<xg::nn::Module, M>>>
    : fmt::formatter<fmt::string_view> {
    template <class Ctx>
    auto format(const xg::nn::Module& m, Ctx& ctx) const {
        return fmt::formatter<fmt::string_view>::format(m.repr(), ctx);
    }
};
