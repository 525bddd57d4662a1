#include "core/engine_graph.hpp"
#include "core/tensor_impl.hpp"

namespace xg::detail {

std::vector<Node*> count_dependencies(const std::vector<Edge>& roots, TaskMap& tasks) {
    std::vector<Node*> stack, seen;
    for (const auto& r : roots) {
        if (tasks.try_emplace(r.fn.get()).second) stack.push_back(r.fn.get());
    }
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        seen.push_back(n);
        for (const auto& e : n->next_edges()) {
            if (!e.fn) continue;
            auto [it, inserted] = tasks.try_emplace(e.fn.get());
            ++it->second.deps;
            if (inserted) stack.push_back(e.fn.get());
        }
    }
    return seen;
}

// Visits children before parents with an explicit stack.
void mark_needed(const std::vector<Edge>& roots, const std::vector<Edge>& captures,
                 TaskMap& tasks) {
    for (auto& kv : tasks) kv.second.needed = false;  // order-free: every entry gets the same
    std::unordered_map<Node*, bool> done;
    std::vector<std::pair<Node*, std::size_t>> stack;
    for (const auto& r : roots) {
        if (!done.count(r.fn.get())) stack.emplace_back(r.fn.get(), 0);
        while (!stack.empty()) {
            auto& [n, i] = stack.back();
            done[n] = true;
            if (i < n->next_edges().size()) {
                Node* child = n->next_edges()[i++].fn.get();
                if (child && !done.count(child)) stack.emplace_back(child, 0);
                continue;
            }
            bool need = false;
            for (const auto& c : captures) need = need || c.fn.get() == n;
            for (const auto& e : n->next_edges()) need = need || (e.fn && tasks[e.fn.get()].needed);
            tasks[n].needed = need;
            stack.pop_back();
        }
    }
}

// Wraps gradients computed by a once-differentiable rule so that differentiating them again
// throws instead of silently giving zero.
// Its edges lead to everything the true second derivative would reach (the op's inputs and the
// incoming gradients), so differentiating w.r.t. any of them hits the error.
Tensor delayed_error(const std::string& name, const Tensor& g, const std::vector<Edge>& edges) {
    std::vector<TensorMeta> meta(edges.size());
    auto node = std::make_shared<FunctionNode>("DelayedError", edges, std::move(meta));
    node->output_meta().push_back({g.shape(), g.dtype()});
    node->set_fn([name](const TensorList&) -> TensorList {
        throw Error(
            fmt::format("{} is once-differentiable: its backward computes on raw arrays "
                        "and cannot be differentiated again (create_graph)",
                        name));
    });
    Tensor out = g.detach();
    out.impl()->grad_fn = node;
    out.impl()->requires_grad = true;
    return out;
}

}  // namespace xg::detail
