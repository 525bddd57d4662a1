#include "nn/sequential.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/grad_mode.hpp"

namespace xg::nn {

SequentialImpl::SequentialImpl(std::initializer_list<AnyModule> modules) : SequentialImpl() {
    for (const auto& m : modules) push_back(m);
}

void SequentialImpl::push_back(const AnyModule& m) {
    push_back(std::to_string(size()), m);
}

void SequentialImpl::push_back(const std::string& name, const AnyModule& m) {
    XG_CHECK(m.ptr != nullptr, "Sequential: module '{}' is null", name);
    auto* u = dynamic_cast<UnaryModule*>(m.ptr.get());
    XG_CHECK(u != nullptr, "Sequential: module '{}' ({}) does not map a Tensor to a Tensor", name,
             m.ptr->type_name());
    add_child(name, m.ptr);
    steps_.push_back(u);
}

void SequentialImpl::child_replaced(std::size_t index, const ModulePtr& m) {
    auto* u = dynamic_cast<UnaryModule*>(m.get());
    XG_CHECK(u != nullptr, "Sequential: module {} ({}) does not map a Tensor to a Tensor", index,
             m->type_name());
    steps_[index] = u;
}

ModulePtr SequentialImpl::operator[](std::size_t i) const {
    XG_CHECK(i < size(), "Sequential: index {} is out of range for {} modules", i, size());
    return named_children()[i].second;
}

Tensor SequentialImpl::forward(const Tensor& x) {
    Tensor y = x;
    for (auto* m : steps_) y = (*m)(y);
    return y;
}

std::string summary(UnaryModule& model, const Shape& input_shape, Dtype dtype) {
    struct Row {
        std::string name, repr, shape;
        std::size_t params;
    };
    std::vector<Row> rows;
    std::vector<std::pair<Module*, std::size_t>> hooks;
    for (auto& [name, m] : model.named_modules()) {
        if (!m->children().empty()) continue;
        std::size_t n = 0;
        for (auto& p : m->parameters(false)) n += p.numel();
        rows.push_back({name.empty() ? "(model)" : name, m->repr(), "-", n});
        std::size_t row = rows.size() - 1;
        hooks.emplace_back(m.get(), m->register_forward_hook(
                                        [&rows, row](Module&, const Tensor&, const Tensor& y) {
                                            rows[row].shape = shape_str(y.shape());
                                            return Tensor();
                                        }));
    }
    const bool was_training = model.is_training();
    model.eval();
    std::string error;
    try {
        NoGradGuard no_grad;
        model(zeros(input_shape, dtype));
    } catch (const std::exception& e) {
        error = e.what();
    }
    model.train(was_training);
    for (auto& [m, h] : hooks) m->remove_hook(h);
    XG_CHECK(error.empty(), "summary: the forward pass on input shape {} failed: {}", input_shape,
             error);
    std::size_t w = 5;
    for (auto& r : rows) w = std::max(w, r.name.size() + 2 + r.repr.size());
    std::string s = fmt::format("{:<{}}  {:<18} {:>10}\n", "Layer", w, "Output shape", "Params");
    s += std::string(w + 30, '=') + "\n";
    const std::size_t total = model.num_parameters();
    for (auto& r : rows) {
        s += fmt::format("{:<{}}  {:<18} {:>10}\n", r.name + ": " + r.repr, w, r.shape, r.params);
    }
    s += std::string(w + 30, '=') + "\n";
    std::size_t trainable = 0;
    for (auto& p : model.parameters())
        if (p.requires_grad()) trainable += p.numel();
    s += fmt::format("Input shape: {}\nTotal params: {}\nTrainable params: {}\n",
                     shape_str(input_shape), total, trainable);
    return s;
}

}  // namespace xg::nn
