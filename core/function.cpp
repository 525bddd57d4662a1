#include "core/function.hpp"

namespace xg {

TensorList AutogradContext::get_saved_variables() const {
    TensorList out;
    out.reserve(saved_.size());
    for (const auto& s : saved_) out.push_back(s.unpack());
    return out;
}

void AutogradContext::finish(std::vector<bool> needs_input_grad) {
    needs_input_grad_ = std::move(needs_input_grad);
    for (const auto& t : to_save_) saved_.emplace_back(t);
    to_save_.clear();  // the handles would keep the outputs' nodes alive: a cycle
}

namespace detail {
void make_outputs_distinct(const TensorList& inputs, TensorList& outputs) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        bool clash = false;
        for (const auto& in : inputs) clash = clash || outputs[i].is_same(in);
        for (std::size_t j = 0; j < i; ++j) clash = clash || outputs[i].is_same(outputs[j]);
        if (clash) outputs[i] = outputs[i].detach();
    }
}
}  // namespace detail

}  // namespace xg
