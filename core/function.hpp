#pragma once
// User-defined ops with their own forward and backward, like torch::autograd::Function:
//
//   struct Cube : xg::Function<Cube> {
//       static constexpr const char* name = "CubeBackward";   // optional
//       static xg::Tensor forward(xg::AutogradContext* ctx, const xg::Tensor& x) {
//           ctx->save_for_backward({x});
//           return x * x * x;
//       }
//       static xg::TensorList backward(xg::AutogradContext* ctx, const xg::TensorList& g) {
//           auto x = ctx->get_saved_variables()[0];
//           return {g[0] * 3.0 * x * x};
//       }
//   };
//   auto y = Cube::apply(x);
//
// In anomaly mode (core/anomaly.hpp) the node keeps the file:line of the apply call.
//
// forward runs with grad mode off. backward returns one gradient per Tensor argument of forward,
// in order (an undefined Tensor for "no gradient"); other arguments get none. If backward is
// written with xgrad ops it is itself differentiable under create_graph; one that computes on raw
// arrays should call ctx->mark_once_differentiable().
#include <any>
#include <map>
#include <string>
#include <type_traits>

#include "core/anomaly.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"

namespace xg {

class AutogradContext {
  public:
    void save_for_backward(TensorList to_save) { to_save_ = std::move(to_save); }
    TensorList get_saved_variables() const;
    bool needs_input_grad(std::size_t i) const {
        return i < needs_input_grad_.size() && needs_input_grad_[i];
    }
    void mark_once_differentiable() { once_differentiable_ = true; }
    std::map<std::string, std::any> saved_data;

    // Called by Function::apply after the outputs are attached to the node.
    void finish(std::vector<bool> needs_input_grad);
    bool is_once_differentiable() const { return once_differentiable_; }

  private:
    TensorList to_save_;
    std::vector<SavedTensor> saved_;
    std::vector<bool> needs_input_grad_;
    bool once_differentiable_ = false;
};

namespace detail {
template <class T, class = void>
struct has_name : std::false_type {};
template <class T>
struct has_name<T, std::void_t<decltype(T::name)>> : std::true_type {};

inline void collect_tensors(TensorList&) {}
template <class A, class... Rest>
void collect_tensors(TensorList& out, const A& a, const Rest&... rest) {
    if constexpr (std::is_same_v<std::decay_t<A>, Tensor>) out.push_back(a);
    collect_tensors(out, rest...);
}
inline TensorList as_list(const Tensor& t) {
    return {t};
}
inline TensorList as_list(const TensorList& t) {
    return t;
}
// An output that is an input (or another output) gets its own handle, so recording it does
// not rewrite the input's history.
void make_outputs_distinct(const TensorList& inputs, TensorList& outputs);
}  // namespace detail

template <class T>
struct Function {
    // apply(args...) with up to six arguments records the caller's file:line for anomaly mode
    // (a parameter pack cannot be followed by a defaulted Site); apply_at takes any number.
    template <class A>
    static auto apply(A&& a, Site site = Site()) {
        return apply_at(site, std::forward<A>(a));
    }
    template <class A, class B>
    static auto apply(A&& a, B&& b, Site site = Site()) {
        return apply_at(site, std::forward<A>(a), std::forward<B>(b));
    }
    template <class A, class B, class C>
    static auto apply(A&& a, B&& b, C&& c, Site site = Site()) {
        return apply_at(site, std::forward<A>(a), std::forward<B>(b), std::forward<C>(c));
    }
    template <class A, class B, class C, class D>
    static auto apply(A&& a, B&& b, C&& c, D&& d, Site site = Site()) {
        return apply_at(site, std::forward<A>(a), std::forward<B>(b), std::forward<C>(c),
                        std::forward<D>(d));
    }
    template <class A, class B, class C, class D, class E>
    static auto apply(A&& a, B&& b, C&& c, D&& d, E&& e, Site site = Site()) {
        return apply_at(site, std::forward<A>(a), std::forward<B>(b), std::forward<C>(c),
                        std::forward<D>(d), std::forward<E>(e));
    }
    template <class A, class B, class C, class D, class E, class F>
    static auto apply(A&& a, B&& b, C&& c, D&& d, E&& e, F&& f, Site site = Site()) {
        return apply_at(site, std::forward<A>(a), std::forward<B>(b), std::forward<C>(c),
                        std::forward<D>(d), std::forward<E>(e), std::forward<F>(f));
    }

    template <class... Args>
    static auto apply_at(Site site, Args&&... args) {
        detail::SiteScope at(site);
        auto ctx = std::make_shared<AutogradContext>();
        TensorList inputs;
        detail::collect_tensors(inputs, args...);
        auto out = [&] {
            NoGradGuard no_grad;
            return T::forward(ctx.get(), std::forward<Args>(args)...);
        }();
        TensorList outs = detail::as_list(out);
        detail::make_outputs_distinct(inputs, outs);
        const char* name = "CustomFunctionBackward";
        if constexpr (detail::has_name<T>::value) name = T::name;
        if (auto node = record(name, inputs, outs)) {
            std::vector<bool> needs;
            for (const auto& t : inputs) needs.push_back(t.requires_grad());
            ctx->finish(std::move(needs));
            if (ctx->is_once_differentiable()) node->set_once_differentiable();
            node->set_fn([ctx](const TensorList& g) { return T::backward(ctx.get(), g); });
        }
        if constexpr (std::is_same_v<decltype(out), Tensor>) {
            return outs[0];
        } else {
            return outs;
        }
    }
};

}  // namespace xg
