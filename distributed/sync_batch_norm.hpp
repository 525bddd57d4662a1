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

}  // namespace xg::distributed
