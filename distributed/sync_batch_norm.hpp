#pragma once
// SyncBatchNorm, as PyTorch's: batch normalization whose batch statistics (mean and variance
// per channel) are taken over the whole batch across every rank, so that N ranks with B/N
// samples each normalize as one process with B samples. Written with differentiable ops and
// distributed::all_reduce_autograd, so backward also sums the statistics' gradients across
// ranks. In eval mode, or with one process, it is BatchNorm. Inputs (N, C, ...); the same
// parameters, buffers and state dict as BatchNorm1d/2d, so checkpoints move between them.
#include "nn/norm.hpp"

namespace xg::distributed {

class SyncBatchNormImpl : public nn::BatchNormImplBase {
  public:
    explicit SyncBatchNormImpl(const nn::BatchNormOptions& o)
        : nn::BatchNormImplBase("SyncBatchNorm", o) {}
    Tensor forward(const Tensor& x) override;

  protected:
    void check_input(const Tensor& x) const override;  // (N, C, ...), at least 2-D
};
XG_MODULE(SyncBatchNorm);

// PyTorch's SyncBatchNorm.convert_sync_batchnorm: every BatchNorm1d and BatchNorm2d in the tree
// becomes a SyncBatchNorm with the same options, training mode, requires_grad and a copy of its
// parameters and buffers (build the optimizer after converting, as before wrapping in DDP).
// Returns the converted root (a new module when the root is a batch norm, else module itself,
// with its children replaced through Module::replace_module). A batch norm that a user's module
// calls through a member of its own cannot be swapped from outside (C++ has no setattr): that is
// an xg::Error naming it, and nothing is changed; build such a module with SyncBatchNorm.
nn::ModulePtr convert_sync_batchnorm(const nn::ModulePtr& module);
template <class Impl>
nn::ModulePtr convert_sync_batchnorm(const nn::ModuleHolder<Impl>& module) {
    return convert_sync_batchnorm(nn::ModulePtr(module.ptr()));
}

}  // namespace xg::distributed
