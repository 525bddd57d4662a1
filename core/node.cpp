#include "core/node.hpp"

#include "core/anomaly.hpp"
#include "core/debug.hpp"
#include "core/engine_ops.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"

namespace xg {

namespace {
thread_local std::uint64_t next_sequence_nr = 0;
constexpr std::uint64_t kAccumulateBit = std::uint64_t{1} << 63;  // sinks run as early as possible

// Deleting a node can release its inputs' nodes, and so on down a 100,000-op chain. Instead of
// recursing, every node destructor parks what it owns here and the outermost one drains it.
thread_local bool tearing_down = false;
thread_local std::vector<std::shared_ptr<void>> to_delete;

void drain_deletions() {
    if (tearing_down) return;
    tearing_down = true;
    while (!to_delete.empty()) {
        std::shared_ptr<void> p = std::move(to_delete.back());
        to_delete.pop_back();
        p.reset();  // may park more
    }
    tearing_down = false;
}
}  // namespace

Node::Node(std::string name, std::vector<Edge> next_edges, std::vector<TensorMeta> input_meta)
    : name_(std::move(name)),
      next_edges_(std::move(next_edges)),
      input_meta_(std::move(input_meta)),
      sequence_nr_(next_sequence_nr++) {
    detail::live_node_count.fetch_add(1, std::memory_order_relaxed);
}

Node::~Node() {
    detail::live_node_count.fetch_sub(1, std::memory_order_relaxed);
    for (auto& e : next_edges_) {
        if (e.fn) to_delete.push_back(std::move(e.fn));
    }
    drain_deletions();
}

std::vector<TensorHook>* Node::hooks(std::uint32_t nr) {
    if (hooks_.size() <= nr) hooks_.resize(nr + 1);
    return &hooks_[nr];
}

FunctionNode::~FunctionNode() {
    // The closure owns saved tensors, which own their nodes: park it too.
    if (fn_) to_delete.push_back(std::make_shared<BackwardFn>(std::move(fn_)));
    fn_ = nullptr;
}

TensorList FunctionNode::apply(TensorList&& grad_outputs) {
    XG_CHECK(!released_,
             "{}: trying to backward through the graph a second time (its saved tensors were "
             "freed after the first backward); pass retain_graph=true to the first backward",
             name_);
    return fn_(grad_outputs);
}

void FunctionNode::release() {
    released_ = true;
    if (fn_) to_delete.push_back(std::make_shared<BackwardFn>(std::move(fn_)));
    fn_ = nullptr;
    drain_deletions();
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> variable)
    : Node("AccumulateGrad", {}, {}), variable_(std::move(variable)) {
    sequence_nr_ |= kAccumulateBit;
    Tensor t(variable_);
    input_meta_.push_back({t.shape(), t.dtype()});
    output_meta_ = input_meta_;
}

std::vector<TensorHook>* AccumulateGrad::hooks(std::uint32_t) {
    return &variable_->hooks;
}

TensorList AccumulateGrad::apply(TensorList&& grad_outputs) {
    Tensor g = std::move(grad_outputs[0]);
    if (!g.defined()) return {};
    if (!GradMode::is_enabled()) {
        // Keep .grad free of history and never aliased with a tensor someone else holds.
        bool shared = g.impl_ptr().use_count() > 1 || g.impl()->storage.use_count() > 1;
        g = shared ? g.detach().clone() : g.detach();
    }
    if (!variable_->grad) {
        variable_->grad = g.impl_ptr();
    } else if (!GradMode::is_enabled() && variable_->grad.use_count() == 1 &&
               variable_->grad->storage.use_count() == 1 && !variable_->grad->requires_grad) {
        // Nobody else sees this .grad (as PyTorch's AccumulateGrad checks): sum in place.
        Tensor(variable_->grad).add_(g);
    } else {
        variable_->grad = detail::grad_sum(Tensor(variable_->grad), g).impl_ptr();
    }
    if (!variable_->post_accumulate_hooks.empty()) {
        Tensor leaf(variable_);
        auto hooks = variable_->post_accumulate_hooks;  // a hook may remove hooks
        for (auto& h : hooks) h.second(leaf);
    }
    return {};
}

SavedTensor::SavedTensor(const Tensor& t) {
    if (!t.defined()) return;
    version_ = t.version();
    is_leaf_ = t.is_leaf();
    if (is_leaf_) {
        data_ = t;
    } else {
        data_ = t.detach();
        grad_fn_ = t.grad_fn();
        output_nr_ = t.output_nr();
    }
}

Tensor SavedTensor::unpack() const {
    if (!data_.defined()) return Tensor();
    XG_CHECK(data_.version() == version_,
             "a tensor saved for backward was modified in place (it is at version {}; expected "
             "version {}): use an out-of-place op, or clone() before modifying",
             data_.version(), version_);
    if (is_leaf_) return data_;
    auto fn = grad_fn_.lock();
    XG_CHECK(fn != nullptr, "a tensor saved for backward lost its history (its graph was freed)");
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = data_.impl()->storage;
    impl->requires_grad = true;
    impl->grad_fn = std::move(fn);
    impl->output_nr = output_nr_;
    return Tensor(impl);
}

Edge gradient_edge(const Tensor& t) {
    TensorImpl* impl = t.impl();
    if (impl->grad_fn) return Edge{impl->grad_fn, impl->output_nr};
    if (!impl->requires_grad) return Edge{};
    auto acc = impl->grad_accumulator.lock();
    if (!acc) {
        acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
        impl->grad_accumulator = acc;
    }
    return Edge{acc, 0};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor* t : inputs) {
        if (t->requires_grad()) return true;
    }
    return false;
}

bool any_requires_grad(const TensorList& inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor& t : inputs) {
        if (t.requires_grad()) return true;
    }
    return false;
}

std::shared_ptr<FunctionNode> record(const char* name, const TensorList& inputs,
                                     const TensorList& outputs) {
    if (!any_requires_grad(inputs)) return nullptr;
    std::vector<Edge> edges;
    std::vector<TensorMeta> meta;
    edges.reserve(inputs.size());
    meta.reserve(inputs.size());
    for (const Tensor& t : inputs) {
        edges.push_back(t.requires_grad() ? gradient_edge(t) : Edge{});
        meta.push_back(t.defined() ? TensorMeta{t.shape(), t.dtype()} : TensorMeta{});
    }
    auto node = std::make_shared<FunctionNode>(name, std::move(edges), std::move(meta));
    if (is_anomaly_enabled()) node->set_site(detail::current_site());
    for (std::uint32_t i = 0; i < outputs.size(); ++i) {
        TensorImpl* o = outputs[i].impl();
        XG_CHECK(is_floating(outputs[i].dtype()), "{}: an output of dtype {} cannot require grad",
                 name, outputs[i].dtype());
        node->output_meta().push_back({outputs[i].shape(), outputs[i].dtype()});
        o->grad_fn = node;
        o->output_nr = i;
        o->requires_grad = true;
    }
    return node;
}

}  // namespace xg
