#include "core/engine.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#include "core/anomaly.hpp"
#include "core/dispatch.hpp"
#include "core/engine_graph.hpp"
#include "core/engine_ops.hpp"
#include "core/grad_mode.hpp"

// One backward call: count dependencies, then run nodes in a deterministic order, each step
// below a named function (docs/ARCHITECTURE.md walks through them).

namespace xg {

namespace {

using detail::NodeTask;

// Highest sequence number first: a node runs after every node created later (its consumers),
// and the order never depends on addresses.
struct LaterFirst {
    bool operator()(const Node* a, const Node* b) const {
        return a->sequence_nr() < b->sequence_nr();
    }
};

// The state of one backward call.
struct GraphTask {
    detail::TaskMap tasks;
    std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
    bool keep_graph;
    bool create_graph;
    const std::vector<Edge>& captures;  // xg::grad's inputs
    TensorList* captured;               // their gradients; null under backward()
};

void accumulate(TensorList& buffer, std::uint32_t slot, const Tensor& g) {
    if (buffer.size() <= slot) buffer.resize(slot + 1);
    buffer[slot] = buffer[slot].defined() ? detail::grad_sum(buffer[slot], g) : g;
}

// Anomaly mode: " (its forward op was called at file:line)", or why there is no site.
std::string site_note(const Node* n) {
    const Site& s = n->site();
    if (s.known()) return fmt::format(" (its forward op was called at {}:{})", s.file, s.line);
    return " (its forward op was recorded while anomaly mode was off, so its site is unknown)";
}

// Step 6: the rule itself; an error it raises is prefixed with the node's name (and, in anomaly
// mode, followed by the forward op's site). Nodes the rule records under create_graph get the
// node's site.
TensorList call_node(Node* n, TensorList&& buffer) {
    const bool anomaly = is_anomaly_enabled();
    try {
        detail::SiteScope at(n->site(), /*force=*/anomaly);
        return n->apply(std::move(buffer));
    } catch (const Error& e) {
        std::string msg = e.what();
        const bool named = msg.rfind(n->name(), 0) == 0;
        if (!anomaly && named) throw;
        if (!named) msg = fmt::format("{}: {}", n->name(), msg);
        if (anomaly && msg.find("its forward op was") == std::string::npos) msg += site_note(n);
        throw Error(msg);
    }
}

template <class T>
const char* first_non_finite(const Tensor& g) {
    for (T v : g.data<T>()) {
        if (std::isnan(v)) return "nan";
        if (std::isinf(v)) return "inf";
    }
    return nullptr;
}

// Anomaly mode: the first gradient holding NaN or inf stops the backward pass, naming the node,
// the input and the forward op's call site (PyTorch: "Function 'DivBackward0' returned nan values
// in its 1th output").
void check_finite(const Node* n, const TensorList& grads) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
        const Tensor& g = grads[i];
        if (!g.defined()) continue;
        const char* bad = nullptr;
        if (g.dtype() == float32) bad = first_non_finite<float>(g);
        if (g.dtype() == float64) bad = first_non_finite<double>(g);
        if (bad) {
            throw Error(fmt::format("anomaly: {} returned {} values in the gradient for input {}{}",
                                    n->name(), bad, i, site_note(n)));
        }
    }
}

// Step 8: one gradient per input, of the input's dtype and shape; a gradient of a broadcast shape
// is summed down to the input's.
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
        grads[i] = detail::grad_reduce_to(grads[i], m.shape);
    }
}

// Step 1: the seed gradients go into the roots' buffers; a root nothing points at is ready.
void seed_roots(GraphTask& gt, const std::vector<Edge>& roots, const TensorList& seeds) {
    for (std::size_t i = 0; i < roots.size(); ++i)
        accumulate(gt.tasks[roots[i].fn.get()].buffer, roots[i].input_nr, seeds[i]);
    for (const auto& r : roots) {
        NodeTask& t = gt.tasks[r.fn.get()];
        if (t.deps == 0 && !t.queued) gt.ready.push(r.fn.get()), t.queued = true;
    }
}

// Step 2: hooks on the node's outputs may replace a gradient, not change its shape or dtype.
void run_hooks(Node* n, TensorList& buffer) {
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
}

// Step 3 (xg::grad): the gradient arriving at a requested input is that input's result.
void capture(GraphTask& gt, Node* n, const TensorList& buffer) {
    if (!gt.captured) return;
    for (std::size_t c = 0; c < gt.captures.size(); ++c) {
        if (gt.captures[c].fn.get() == n) (*gt.captured)[c] = buffer[gt.captures[c].input_nr];
    }
}

// A node runs if it leads to a requested input, is not a leaf's accumulator under xg::grad
// (which never touches .grad), and some gradient reached it.
bool should_run(const GraphTask& gt, Node* n, const TensorList& buffer) {
    if (!gt.tasks.at(n).needed || (gt.captured && dynamic_cast<AccumulateGrad*>(n))) return false;
    return std::any_of(buffer.begin(), buffer.end(), [](const Tensor& g) { return g.defined(); });
}

// Step 4: outputs no gradient reached get zeros, so a rule never sees an undefined gradient.
void fill_missing(Node* n, TensorList& buffer) {
    for (std::size_t k = 0; k < buffer.size() && k < n->output_meta().size(); ++k) {
        if (buffer[k].defined()) continue;
        const auto& m = n->output_meta()[k];
        buffer[k] = zeros(m.shape, m.dtype);
    }
}

// Step 5 (create_graph): what a once-differentiable node's results must stay connected to.
std::vector<Edge> once_differentiable_edges(const GraphTask& gt, Node* n,
                                            const TensorList& buffer) {
    if (!gt.create_graph || !n->once_differentiable()) return {};
    std::vector<Edge> edges = n->next_edges();
    for (const auto& g : buffer) {
        if (g.requires_grad()) edges.push_back(gradient_edge(g));
    }
    return edges;
}

// Steps 4-8: run the rule, release its saved data (step 7, unless retain_graph), check its
// results and wrap those of a once-differentiable rule under create_graph.
TensorList run_node(const GraphTask& gt, Node* n, TensorList&& buffer) {
    fill_missing(n, buffer);
    std::vector<Edge> error_edges = once_differentiable_edges(gt, n, buffer);
    TensorList grads = call_node(n, std::move(buffer));
    if (!gt.keep_graph) n->release();
    validate_outputs(n, grads);
    if (is_anomaly_enabled()) check_finite(n, grads);
    for (auto& g : grads) {
        if (g.defined() && !error_edges.empty())
            g = detail::delayed_error(n->name(), g, error_edges);
    }
    return grads;
}

// Step 9: each gradient goes to its edge's node; a node all of whose consumers have delivered
// is ready.
void deliver(GraphTask& gt, Node* n, const TensorList& grads) {
    const auto& edges = n->next_edges();
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (!edges[i].fn) continue;
        NodeTask& child = gt.tasks[edges[i].fn.get()];
        if (i < grads.size() && grads[i].defined())
            accumulate(child.buffer, edges[i].input_nr, grads[i]);
        if (--child.deps == 0) gt.ready.push(edges[i].fn.get()), child.queued = true;
    }
}

// The callbacks queued during the backward running on this thread (null when none runs).
thread_local std::vector<std::function<void()>>* current_callbacks = nullptr;

void execute(const std::vector<Edge>& roots, const TensorList& seeds, bool keep_graph,
             bool create_graph, const std::vector<Edge>& captures, TensorList* captured) {
    AutoGradMode mode(create_graph);  // the rules record a new graph only under create_graph
    std::vector<std::function<void()>> callbacks;
    struct Scope {  // a backward inside a hook or callback gets its own list
        std::vector<std::function<void()>>* saved;
        explicit Scope(std::vector<std::function<void()>>* mine) : saved(current_callbacks) {
            current_callbacks = mine;
        }
        ~Scope() { current_callbacks = saved; }
    } scope(&callbacks);
    GraphTask gt{{}, {}, keep_graph, create_graph, captures, captured};
    detail::count_dependencies(roots, gt.tasks);
    if (captured) detail::mark_needed(roots, captures, gt.tasks);
    seed_roots(gt, roots, seeds);
    while (!gt.ready.empty()) {
        Node* n = gt.ready.top();
        gt.ready.pop();
        TensorList buffer = std::move(gt.tasks[n].buffer);
        buffer.resize(std::max(n->output_meta().size(), buffer.size()));
        run_hooks(n, buffer);
        capture(gt, n, buffer);
        TensorList grads;
        if (should_run(gt, n, buffer)) grads = run_node(gt, n, std::move(buffer));
        deliver(gt, n, grads);
    }
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
        auto cb = std::move(callbacks[i]);  // cb may queue more: callbacks may reallocate
        cb();
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

void queue_callback(std::function<void()> callback) {
    XG_CHECK(current_callbacks != nullptr,
             "queue_callback: no backward is running on this thread (call it from a hook)");
    current_callbacks->push_back(std::move(callback));
}

bool in_backward() {
    return current_callbacks != nullptr;
}

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
