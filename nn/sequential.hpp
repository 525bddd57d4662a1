#pragma once
// nn::Sequential: an ordered list of Tensor -> Tensor modules named "0", "1", ...; forward
// chains them. And nn::summary, a per-layer table for a given input shape.
#include <initializer_list>
#include <memory>
#include <string>

#include "nn/module.hpp"

namespace xg::nn {

// Anything Sequential can hold: a holder (nn::Linear) or a shared_ptr to a module.
struct AnyModule {
    template <class H, class = decltype(std::declval<const H&>().ptr())>
    AnyModule(const H& holder) : ptr(holder.ptr()) {}  // NOLINT
    template <class M>
    AnyModule(std::shared_ptr<M> m) : ptr(std::move(m)) {}  // NOLINT
    ModulePtr ptr;
};

class SequentialImpl : public UnaryModule {
  public:
    SequentialImpl() : UnaryModule("Sequential") {}
    SequentialImpl(std::initializer_list<AnyModule> modules);
    // Throws if m does not map a Tensor to a Tensor (a loss module, say).
    void push_back(const AnyModule& m);
    void push_back(const std::string& name, const AnyModule& m);
    std::size_t size() const { return named_children().size(); }
    ModulePtr operator[](std::size_t i) const;  // throws when out of range
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto p = std::dynamic_pointer_cast<M>((*this)[i]);
        XG_CHECK(p != nullptr, "Sequential: module {} is a {}, not the requested type", i,
                 (*this)[i]->type_name());
        return p;
    }
    Tensor forward(const Tensor& x) override;

  protected:
    void child_replaced(std::size_t index, const ModulePtr& m) override;

  private:
    std::vector<UnaryModule*> steps_;
};

// The holder: nn::Sequential net({nn::Linear(3, 4), nn::ReLU()}); net(x); net->push_back(...).
class Sequential : public ModuleHolder<SequentialImpl> {
  public:
    using ModuleHolder<SequentialImpl>::ModuleHolder;
    Sequential() : ModuleHolder<SequentialImpl>(std::make_shared<SequentialImpl>()) {}
    Sequential(std::initializer_list<AnyModule> modules)
        : ModuleHolder<SequentialImpl>(std::make_shared<SequentialImpl>(modules)) {}
};

// A table like torchinfo's: one row per leaf module (name, repr, output shape for an input of
// input_shape, parameter count) and the totals. Runs one forward on zeros in eval mode without
// recording, then restores the training mode.
std::string summary(UnaryModule& model, const Shape& input_shape, Dtype dtype = float32);
template <class Impl>
std::string summary(const ModuleHolder<Impl>& model, const Shape& input_shape,
                    Dtype dtype = float32) {
    return summary(*model, input_shape, dtype);
}

}  // namespace xg::nn
