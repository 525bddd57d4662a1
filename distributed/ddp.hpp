#pragma once
// DistributedDataParallel, as PyTorch's: each rank runs the same model on its own shard of the
// batch, and backward leaves on every rank the gradient averaged over the ranks.
//
//   auto net = xg::nn::small_cnn(32);
//   xg::distributed::DistributedDataParallel ddp(net.ptr());  // rank 0's weights everywhere
//   xg::optim::Adam opt(net->parameters(), ...);              // optimizers work unchanged
//   loss = cross_entropy(ddp(x), y); loss.backward(); opt.step();
//
// The parameters' gradients are packed in buckets of about bucket_cap_mb, from the last
// parameter to the first (the order backward produces them). A post-accumulate hook on each
// parameter copies its gradient into its bucket; a full bucket starts a non-blocking all-reduce
// at once (buckets start in index order on every rank), so communication overlaps the rest of
// backward. At the end of backward (a queued callback) the remaining buckets start, all are
// awaited (bounded by distributed::timeout()) and each .grad becomes the average. A parameter
// no gradient reached in this backward counts as zero (its .grad is set to the average of the
// others'), so every rank takes the same optimizer step.
#include <cstddef>
#include <memory>
#include <vector>

#include "core/options.hpp"
#include "nn/module.hpp"

namespace xg::distributed {

struct DDPOptions {
    XG_ARG(double, bucket_cap_mb) = 25.0;  // PyTorch's default
    // rank 0's buffers (batch norm statistics) before each forward
    XG_ARG(bool, broadcast_buffers) = true;
};

class DistributedDataParallel {
  public:
    // Broadcasts the module's parameters and buffers from rank 0 (every rank must construct it
    // with the same architecture: names, dtypes and shapes are checked) and installs the hooks.
    explicit DistributedDataParallel(nn::ModulePtr module, DDPOptions options = {});
    ~DistributedDataParallel();
    DistributedDataParallel(const DistributedDataParallel&) = delete;
    DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

    // The wrapped module's forward (it must be a Tensor -> Tensor module), after broadcasting
    // its buffers from rank 0 when broadcast_buffers is set. Calling the module directly also
    // works; then buffers are not synchronized.
    Tensor operator()(const Tensor& x);
    Tensor forward(const Tensor& x) { return (*this)(x); }
    const nn::ModulePtr& module() const { return module_; }

    // While a guard lives, backward accumulates gradients locally without communicating (for
    // gradient accumulation); the first backward after it averages the accumulated gradients.
    class NoSyncGuard {
      public:
        explicit NoSyncGuard(DistributedDataParallel& ddp);
        ~NoSyncGuard();
        NoSyncGuard(const NoSyncGuard&) = delete;
        NoSyncGuard& operator=(const NoSyncGuard&) = delete;

      private:
        DistributedDataParallel& ddp_;
        bool previous_;
    };
    NoSyncGuard no_sync() { return NoSyncGuard(*this); }

    // Bucket layout: parameter indices (into module()->parameters()) per bucket.
    std::vector<std::vector<std::size_t>> buckets() const;
    // Seconds the last synchronized backward spent waiting for its all-reduces (after its
    // last gradient was ready), and the bytes it all-reduced.
    double last_wait_seconds() const;
    std::size_t last_bytes() const;

    struct State;

  private:
    nn::ModulePtr module_;
    std::shared_ptr<State> state_;
    bool broadcast_buffers_ = true;
};

}  // namespace xg::distributed
