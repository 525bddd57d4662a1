#include "core/engine.hpp"

#include <queue>
#include <unordered_map>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"

// The engine sums gradients with ops::add and reduces broadcast gradients with ops::sum_to, so
// that under create_graph those steps are recorded too. They are the only ops core/ calls.

namespace xg {

namespace {

struct NodeTask {
    int deps = 0;
    TensorList buffer;  // gradients arriving for each of the node's outputs, summed
    bool needed = true;
    bool queued = false;
};

// Highest sequence number first: a node runs after every node created later (its consumers),
// and the order never depends on addresses.
struct LaterFirst {
    bool operator()(const Node* a, const Node* b) const {
        return a->sequence_nr() < b->sequence_nr();
    }
};

// The map is only looked up, never iterated, so its order cannot leak into results.
using TaskMap = std::unordered_map<Node*, NodeTask>;

void accumulate(TensorList& buffer, std::uint32_t slot, const Tensor& g) {
    if (buffer.size() <= slot) buffer.resize(slot + 1);
    buffer[slot] = buffer[slot].defined() ? add(buffer[slot], g) : g;
}

// Counts, for each reachable node, the edges that point at it (iterative DFS).
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

// For xg::grad: a node is needed only if some captured node is reachable from it. Visits
// children before parents with an explicit stack.
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

TensorList call_node(Node* n, TensorList&& buffer) {
    try {
        return n->apply(std::move(buffer));
    } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.rfind(n->name(), 0) == 0) throw;
        throw Error(fmt::format("{}: {}", n->name(), msg));
    }
}

void validate_outputs(Node* n, TensorList& grads) {
    const auto& edges = n->next_edges();
    XG_CHECK(grads.size() == edges.size(),
             "{}: backward returned {} gradients, expected {} (one per input)", n->name(),
             grads.size(), edges.size());
    for (std::size_t i = 0; i < grads.size(); ++i) {
        if (!edges[i].fn || !grads[i].defined()) continue;
        const TensorMeta& m = n->input_meta()[i];
        XG_CHECK(grads[i].dtype() == m.dtype, "{}: gradient for input {} has dtype {}, expected {}",
                 n->name(), i, grads[i].dtype(), m.dtype);
        if (grads[i].shape() == m.shape) continue;
        XG_CHECK(detail::is_broadcastable_to(m.shape, grads[i].shape()),
                 "{}: gradient for input {} has shape {}, expected {}", n->name(), i,
                 grads[i].shape(), m.shape);
        grads[i] = sum_to(grads[i], m.shape);
    }
}

void execute(const std::vector<Edge>& roots, const TensorList& root_grads, bool keep_graph,
             bool create_graph, const std::vector<Edge>& captures, TensorList* captured) {
    AutoGradMode mode(create_graph);
    TaskMap tasks;
    count_dependencies(roots, tasks);
    const bool capturing = captured != nullptr;
    if (capturing) mark_needed(roots, captures, tasks);

    std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
    for (std::size_t i = 0; i < roots.size(); ++i) {
        NodeTask& t = tasks[roots[i].fn.get()];
        accumulate(t.buffer, roots[i].input_nr, root_grads[i]);
    }
    for (const auto& r : roots) {
        NodeTask& t = tasks[r.fn.get()];
        if (t.deps == 0 && !t.queued) ready.push(r.fn.get()), t.queued = true;
    }

    while (!ready.empty()) {
        Node* n = ready.top();
        ready.pop();
        NodeTask& task = tasks[n];
        TensorList buffer = std::move(task.buffer);
        buffer.resize(std::max<std::size_t>(n->output_meta().size(), buffer.size()));
        for (std::uint32_t k = 0; k < buffer.size(); ++k) {
            if (!buffer[k].defined()) continue;
            for (auto& hook : *n->hooks(k)) {
                Tensor r = hook(buffer[k]);
                if (!r.defined()) continue;
                XG_CHECK(r.shape() == buffer[k].shape() && r.dtype() == buffer[k].dtype(),
                         "register_hook: a hook returned a gradient of shape {} {} for a tensor "
                         "of shape {} {} (a hook may replace the gradient, not change its shape "
                         "or dtype)",
                         r.shape(), r.dtype(), buffer[k].shape(), buffer[k].dtype());
                buffer[k] = r;
            }
        }
        for (std::size_t c = 0; c < captures.size(); ++c) {
            if (captures[c].fn.get() == n) (*captured)[c] = buffer[captures[c].input_nr];
        }
        bool run = task.needed && !(capturing && dynamic_cast<AccumulateGrad*>(n));
        bool any = false;
        for (const auto& g : buffer) any = any || g.defined();
        TensorList grads;
        if (run && any) {
            for (std::size_t k = 0; k < buffer.size(); ++k) {
                if (buffer[k].defined() || k >= n->output_meta().size()) continue;
                const auto& m = n->output_meta()[k];
                buffer[k] = zeros(m.shape, m.dtype);
            }
            std::vector<Edge> error_edges;
            if (create_graph && n->once_differentiable()) {
                error_edges = n->next_edges();
                for (const auto& g : buffer) {
                    if (g.requires_grad()) error_edges.push_back(gradient_edge(g));
                }
            }
            grads = call_node(n, std::move(buffer));
            if (!keep_graph) n->release();
            validate_outputs(n, grads);
            for (auto& g : grads) {
                if (g.defined() && !error_edges.empty())
                    g = delayed_error(n->name(), g, error_edges);
            }
        }
        const auto& edges = n->next_edges();
        for (std::size_t i = 0; i < edges.size(); ++i) {
            if (!edges[i].fn) continue;
            NodeTask& child = tasks[edges[i].fn.get()];
            if (i < grads.size() && grads[i].defined())
                accumulate(child.buffer, edges[i].input_nr, grads[i]);
            if (--child.deps == 0) ready.push(edges[i].fn.get()), child.queued = true;
        }
    }
}

// Roots and their seed gradients, checked.
void make_roots(const char* op, const TensorList& outputs, const TensorList& grad_outputs,
                std::vector<Edge>& roots, TensorList& seeds) {
    XG_CHECK(!outputs.empty(), "{}: no output tensors given", op);
    XG_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
             "{}: got {} outputs but {} gradients", op, outputs.size(), grad_outputs.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& out = outputs[i];
        detail::check_defined(op, out, "output");
        XG_CHECK(out.requires_grad(),
                 "{}: output {} does not require grad and has no grad_fn (was it computed under "
                 "NoGradGuard, or from tensors without requires_grad?)",
                 op, i);
        Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
        if (!g.defined()) {
            XG_CHECK(out.numel() == 1,
                     "{}: grad can be implicitly created only for one-element outputs; output {} "
                     "has shape {} (pass a gradient)",
                     op, i, out.shape());
            g = ones_like(out);
        } else {
            XG_CHECK(g.shape() == out.shape() && g.dtype() == out.dtype(),
                     "{}: gradient {} is {} {}, but output {} is {} {}", op, i, g.shape(),
                     g.dtype(), i, out.shape(), out.dtype());
        }
        roots.push_back(gradient_edge(out));
        seeds.push_back(g);
    }
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs,
              std::optional<bool> retain_graph, bool create_graph) {
    std::vector<Edge> roots;
    TensorList seeds;
    make_roots("backward", outputs, grad_outputs, roots, seeds);
    execute(roots, seeds, retain_graph.value_or(create_graph), create_graph, {}, nullptr);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                std::optional<bool> retain_graph, bool create_graph, bool allow_unused) {
    std::vector<Edge> roots;
    TensorList seeds;
    make_roots("grad", outputs, grad_outputs, roots, seeds);
    std::vector<Edge> captures;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        detail::check_defined("grad", inputs[i], "input");
        XG_CHECK(inputs[i].requires_grad(), "grad: input {} does not require grad", i);
        captures.push_back(gradient_edge(inputs[i]));
    }
    TensorList result(inputs.size());
    execute(roots, seeds, retain_graph.value_or(create_graph), create_graph, captures, &result);
    for (std::size_t i = 0; i < result.size(); ++i) {
        XG_CHECK(result[i].defined() || allow_unused,
                 "grad: input {} (shape {}) was not used to compute the outputs; pass "
                 "allow_unused=true to get an undefined gradient instead",
                 i, inputs[i].shape());
    }
    return result;
}

}  // namespace xg
