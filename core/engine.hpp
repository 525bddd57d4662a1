#pragma once
// Runs the tape backwards: dependency counting, iterative, deterministic order.
#include <functional>
#include <optional>

#include "core/node.hpp"

namespace xg {

// Accumulates d(sum_i <outputs[i], grad_outputs[i]>)/d(leaf) into every leaf's .grad.
// An empty grad_output is allowed for a one-element output (taken as 1). retain_graph defaults
// to create_graph, as in PyTorch. As there, backward with create_graph makes each leaf's .grad
// hold a graph that refers back to the leaf: a reference cycle that lives until the leaf's
// zero_grad() (or set_grad). xg::grad has no such cycle; prefer it for higher order.
void backward(const TensorList& outputs, const TensorList& grad_outputs = {},
              std::optional<bool> retain_graph = {}, bool create_graph = false);

// Returns d(sum_i <outputs[i], grad_outputs[i]>)/d(inputs[j]) without touching any .grad.
// An input the outputs do not depend on is an error unless allow_unused (then undefined).
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, std::optional<bool> retain_graph = {},
                bool create_graph = false, bool allow_unused = false);

// Runs `callback` once the backward (or grad) call now running has finished every node, on the
// thread that runs it, as PyTorch's queue_callback; callbacks run in the order queued and may
// queue more. Throws xg::Error when no backward is running on this thread.
void queue_callback(std::function<void()> callback);
bool in_backward();  // whether a backward (or grad) call is running on this thread

}  // namespace xg
