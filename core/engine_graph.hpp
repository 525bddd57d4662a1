#pragma once
// The engine's passes over a graph before it runs it (core/engine.cpp), and the node that guards
// a once-differentiable rule. Internal to core/.
#include <string>
#include <unordered_map>
#include <vector>

#include "core/node.hpp"

namespace xg::detail {

struct NodeTask {
    int deps = 0;
    TensorList buffer;  // gradients arriving for each of the node's outputs, summed
    bool needed = true;
    bool queued = false;
};

// The map is only looked up, never iterated, so its order cannot leak into results.
using TaskMap = std::unordered_map<Node*, NodeTask>;

// Counts, for each reachable node, the edges that point at it (iterative DFS); returns the
// nodes in visit order.
std::vector<Node*> count_dependencies(const std::vector<Edge>& roots, TaskMap& tasks);

// For xg::grad: a node is needed only if some captured node is reachable from it.
void mark_needed(const std::vector<Edge>& roots, const std::vector<Edge>& captures, TaskMap& tasks);

// Wraps a gradient computed by a once-differentiable rule (named name) in a DelayedError node
// with the given edges, so that differentiating it again throws instead of giving zero.
Tensor delayed_error(const std::string& name, const Tensor& g, const std::vector<Edge>& edges);

}  // namespace xg::detail
