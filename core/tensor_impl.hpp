#pragma once
// What a Tensor handle points to (as libtorch's TensorImpl.h): the storage shared by aliases,
// a broadcast not yet written out, and the autograd state. Included by the code that works on
// the internals (core, the ops that alias, the optimizers' state keys), not by users.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/debug.hpp"
#include "core/tensor.hpp"

namespace xg {

// A broadcast not yet written out (a stride-0 view without strides in every kernel): `source`
// broadcasts to `shape`. The gradient of sum / mean / expand is one: kernels that broadcast
// anyway (the binary ops, relu's backward) and the elementwise unary ops read the source;
// anything else reads the elements, which writes the broadcast out once.
struct LazyBroadcast {
    std::shared_ptr<TensorImpl> source;  // no history; never written in place
    Shape shape;
    std::atomic<bool> pending{true};
    std::mutex mutex;  // held while the broadcast is written out
};

// The array behind one or more tensors (detach() and saved outputs share it). The version
// counts in-place writes so backward can tell a saved tensor was changed under it. While
// lazy->pending, `array` is an empty array of the dtype and lazy->shape the shape.
struct Storage {
    std::variant<xg::array<float>, xg::array<double>, xg::array<std::int64_t>,
                 xg::array<std::int32_t>, xg::array<bool>>
        array;  // the alternative's index is the Dtype
    std::uint64_t version = 0;
    detail::LiveStorageCounter live;  // xg::debug::live_storages()
    std::unique_ptr<LazyBroadcast> lazy;
};

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;
    std::shared_ptr<Node> grad_fn;  // null for leaves
    std::uint32_t output_nr = 0;
    std::weak_ptr<Node> grad_accumulator;  // leaves only; the graph owns it
    std::vector<TensorHook> hooks;         // leaves only; non-leaf hooks live on grad_fn
    std::vector<std::pair<std::size_t, PostAccumulateGradHook>> post_accumulate_hooks;
    bool retains_grad = false;
    std::string name;
};

}  // namespace xg
