#pragma once
// The tape: a Node per recorded op, edges to the nodes of its inputs, and the saved tensors its
// backward rule needs. Ops build nodes with xg::record(); the engine (engine.hpp) runs them.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

// Where a gradient goes: input slot `input_nr` of node `fn` (null fn: nowhere).
struct Edge {
    std::shared_ptr<Node> fn;
    std::uint32_t input_nr = 0;
    bool valid() const { return fn != nullptr; }
};

struct TensorMeta {
    Shape shape;
    Dtype dtype = float32;
};

class Node {
  public:
    Node(std::string name, std::vector<Edge> next_edges, std::vector<TensorMeta> input_meta);
    virtual ~Node();  // tears long graphs down iteratively (see node.cpp)
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Gradients w.r.t. this node's outputs in, gradients w.r.t. its inputs out (one per edge).
    virtual TensorList apply(TensorList&& grad_outputs) = 0;
    // Frees saved data after a backward without retain_graph.
    virtual void release() {}
    virtual bool released() const { return false; }
    // Hooks on this node's output `nr` (tensor.register_hook on a non-leaf).
    virtual std::vector<TensorHook>* hooks(std::uint32_t nr);

    const std::string& name() const { return name_; }
    const std::vector<Edge>& next_edges() const { return next_edges_; }
    const std::vector<TensorMeta>& input_meta() const { return input_meta_; }
    std::vector<TensorMeta>& output_meta() { return output_meta_; }
    const std::vector<TensorMeta>& output_meta() const { return output_meta_; }
    std::uint64_t sequence_nr() const { return sequence_nr_; }
    bool once_differentiable() const { return once_differentiable_; }
    void set_once_differentiable() { once_differentiable_ = true; }
    // Where the forward op was called; recorded only in anomaly mode (core/anomaly.hpp).
    const Site& site() const { return site_; }
    void set_site(const Site& site) { site_ = site; }

  protected:
    std::string name_;
    std::vector<Edge> next_edges_;
    std::vector<TensorMeta> input_meta_;   // shape/dtype of each forward input
    std::vector<TensorMeta> output_meta_;  // shape/dtype of each forward output
    std::uint64_t sequence_nr_;
    bool once_differentiable_ = false;
    Site site_ = Site::unknown();
    std::vector<std::vector<TensorHook>> hooks_;
};

using BackwardFn = std::function<TensorList(const TensorList& grad_outputs)>;

// A node whose backward rule is a closure. The closure holds the saved tensors; release()
// destroys it, after which apply() throws the "backward twice" error.
class FunctionNode : public Node {
  public:
    using Node::Node;
    ~FunctionNode() override;
    void set_fn(BackwardFn fn) { fn_ = std::move(fn); }
    TensorList apply(TensorList&& grad_outputs) override;
    void release() override;
    bool released() const override { return released_; }

  private:
    BackwardFn fn_;
    bool released_ = false;
};

// Sink for a leaf: adds the incoming gradient into the leaf's .grad.
class AccumulateGrad : public Node {
  public:
    explicit AccumulateGrad(std::shared_ptr<TensorImpl> variable);
    TensorList apply(TensorList&& grad_outputs) override;
    std::vector<TensorHook>* hooks(std::uint32_t nr) override;
    const std::shared_ptr<TensorImpl>& variable() const { return variable_; }

  private:
    std::shared_ptr<TensorImpl> variable_;
};

// A tensor kept for backward. A leaf is kept by handle; a non-leaf keeps its data and only a
// weak link to its grad_fn, so saving an op's own output makes no reference cycle. unpack()
// rebuilds the tensor with its history (so rules compose under create_graph) and throws if the
// data was modified in place since it was saved.
class SavedTensor {
  public:
    SavedTensor() = default;
    SavedTensor(const Tensor& t);  // NOLINT: implicit so closures can capture Tensors directly
    Tensor unpack() const;
    bool defined() const { return data_.defined(); }

  private:
    Tensor data_;
    std::weak_ptr<Node> grad_fn_;
    std::uint32_t output_nr_ = 0;
    std::uint64_t version_ = 0;
    bool is_leaf_ = true;
};

// The edge a gradient for `t` should flow along: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);
// True when grad mode is on and any input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const TensorList& inputs);

// Records an op: if grad mode is on and some input requires grad, makes a FunctionNode named
// `name` with edges to the inputs, makes the outputs its outputs (requires_grad, grad_fn) and
// returns it so the caller can set its backward closure; otherwise returns null. In anomaly
// mode the node keeps the site of the outermost op call (detail::current_site()).
//   if (auto node = record("ExpBackward", {a}, {y}))
//       node->set_fn([y = SavedTensor(y)](const TensorList& g) { return TensorList{g[0] *
//       y.unpack()}; });
std::shared_ptr<FunctionNode> record(const char* name, const TensorList& inputs,
                                     const TensorList& outputs);

}  // namespace xg
