#include "distributed/sync_batch_norm.hpp"

#include "core/grad_mode.hpp"
#include "distributed/distributed.hpp"
#include "nn/containers.hpp"
#include "nn/sequential.hpp"
#include "ops/elementwise.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg::distributed {

namespace {

// A BatchNorm1d/2d that is not already synchronized.
nn::BatchNormImplBase* plain_batch_norm(const nn::ModulePtr& m) {
    if (dynamic_cast<SyncBatchNormImpl*>(m.get())) return nullptr;
    return dynamic_cast<nn::BatchNormImplBase*>(m.get());
}

// Containers run their children from their own lists, which replace_module updates.
bool is_container(const nn::Module& m) {
    return dynamic_cast<const nn::SequentialImpl*>(&m) ||
           dynamic_cast<const nn::ModuleListImpl*>(&m) ||
           dynamic_cast<const nn::ModuleDictImpl*>(&m);
}

nn::ModulePtr synced_copy(nn::BatchNormImplBase& bn) {
    auto out = std::make_shared<SyncBatchNormImpl>(bn.options);
    out->load_state_dict(bn.state_dict());
    if (bn.weight.defined()) out->weight.requires_grad_(bn.weight.requires_grad());
    if (bn.bias.defined()) out->bias.requires_grad_(bn.bias.requires_grad());
    out->train(bn.is_training());
    return out;
}

// Every batch norm below m that would be replaced, with its dotted path; refuses one whose
// parent is not a container before anything changes.
void collect(const nn::ModulePtr& m, const std::string& path,
             std::vector<std::pair<nn::Module*, std::string>>& out) {
    for (const auto& [name, child] : m->named_children()) {
        const std::string where = path.empty() ? name : path + "." + name;
        if (plain_batch_norm(child)) {
            XG_CHECK(is_container(*m),
                     "convert_sync_batchnorm: '{}' ({}) is a child of a {}, which calls it "
                     "through a member of its own, so it cannot be replaced from outside; build "
                     "that module with SyncBatchNorm instead",
                     where, child->type_name(), m->type_name());
            out.emplace_back(m.get(), name);
        } else {
            collect(child, where, out);
        }
    }
}

}  // namespace

nn::ModulePtr convert_sync_batchnorm(const nn::ModulePtr& module) {
    XG_CHECK(module != nullptr, "convert_sync_batchnorm: the module is null");
    if (auto* bn = plain_batch_norm(module)) return synced_copy(*bn);
    std::vector<std::pair<nn::Module*, std::string>> targets;
    collect(module, "", targets);
    for (const auto& target : targets) {
        nn::Module* parent = target.first;
        nn::ModulePtr old;
        for (const auto& child : parent->named_children())
            if (child.first == target.second) old = child.second;
        parent->replace_module(target.second, synced_copy(*plain_batch_norm(old)));
    }
    return module;
}

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
