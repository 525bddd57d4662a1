#include "data/sampler.hpp"

#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"

namespace xg::data {

DistributedSampler::DistributedSampler(std::size_t num_replicas, std::size_t rank, bool shuffle,
                                       std::uint64_t seed, bool drop_last)
    : num_replicas_(num_replicas),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last) {
    XG_CHECK(num_replicas >= 1, "DistributedSampler: num_replicas must be at least 1, got {}",
             num_replicas);
    XG_CHECK(rank < num_replicas,
             "DistributedSampler: invalid rank {}, rank should be in the interval [0, {}]", rank,
             num_replicas - 1);
}

std::size_t DistributedSampler::num_samples(std::size_t n) const {
    const std::size_t r = num_replicas_;
    if (drop_last_) return n / r;  // PyTorch's ceil((n - r) / r) when n % r != 0, n / r else
    return (n + r - 1) / r;
}

std::vector<std::size_t> DistributedSampler::indices(std::size_t n, std::uint64_t epoch) const {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (shuffle_) {
        // The same permutation on every rank: seeded from (seed, epoch) only.
        Generator g(seed_ + epoch);
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[g.next_u64() % i]);
    }
    const std::size_t per_rank = num_samples(n), total = per_rank * num_replicas_;
    if (total > n && n > 0) {  // pad with the order's own beginning, repeated if need be
        for (std::size_t k = 0; order.size() < total; ++k) order.push_back(order[k % n]);
    }
    order.resize(total);
    std::vector<std::size_t> mine;
    mine.reserve(per_rank);
    for (std::size_t i = rank_; i < total; i += num_replicas_) mine.push_back(order[i]);
    return mine;
}

}  // namespace xg::data
