#include "distributed/sync_batch_norm.hpp"

#include "core/grad_mode.hpp"
#include "distributed/distributed.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg::distributed {

void SyncBatchNormImpl::check_input(const Tensor& x) const {
    XG_CHECK(x.dim() >= 2, "SyncBatchNorm: expected an (N, C, ...) input, got shape {}", x.shape());
}

Tensor SyncBatchNormImpl::forward(const Tensor& x) {
    const bool use_batch = is_training() || !options.track_running_stats();
    if (!use_batch || world_size() == 1) return BatchNormImplBase::forward(x);
    check_input(x);
    const auto channels = static_cast<std::size_t>(options.num_features());
    XG_CHECK(x.shape()[1] == channels,
             "SyncBatchNorm: expected {} channels (dim 1), input has {} (shape {})", channels,
             x.shape()[1], x.shape());
    Dims dims{0};
    std::vector<std::int64_t> per_channel(x.dim(), 1);
    per_channel[1] = static_cast<std::int64_t>(channels);
    for (std::size_t d = 2; d < x.dim(); ++d) dims.push_back(static_cast<std::int64_t>(d));
    const double local_count = static_cast<double>(x.numel() / channels);

    // Two passes, each one all-reduce: the sums (and the element count) for the mean, then the
    // squared deviations for the variance (more accurate than E[x^2] - mean^2).
    Tensor sums = all_reduce_autograd(cat({sum(x, dims), full({1}, local_count, x.dtype())}, 0));
    const double count =
        slice(sums, 0, static_cast<std::int64_t>(channels), static_cast<std::int64_t>(channels) + 1)
            .item();
    XG_CHECK(count > 1 || !is_training(),
             "SyncBatchNorm: expected more than 1 value per channel in training, got {} over "
             "all ranks (input shape {} on rank {})",
             count, x.shape(), rank());
    Tensor mean = div(slice(sums, 0, 0, static_cast<std::int64_t>(channels)), count);
    Tensor centered = sub(x, reshape(mean, per_channel));
    Tensor var = div(all_reduce_autograd(sum(mul(centered, centered), dims)), count);
    Tensor y = mul(centered, reshape(pow(add(var, options.eps()), -0.5), per_channel));
    if (weight.defined()) y = add(mul(y, reshape(weight, per_channel)), reshape(bias, per_channel));

    if (is_training() && options.track_running_stats()) {
        NoGradGuard no_grad;
        const std::int64_t n = num_batches_tracked.item<std::int64_t>() + 1;
        const double m = options.momentum() ? *options.momentum() : 1.0 / double(n);
        Tensor unbiased = mul(var.detach(), count / (count - 1));
        running_mean.mul_(1.0 - m).add_(mul(mean.detach(), m).to(running_mean.dtype()));
        running_var.mul_(1.0 - m).add_(mul(unbiased, m).to(running_var.dtype()));
        num_batches_tracked.fill_(static_cast<double>(n));
    }
    return y;
}

}  // namespace xg::distributed
