#pragma once
// DistributedSampler, as PyTorch's: the sample indices one rank of a data-parallel run reads in
// an epoch. Every rank shuffles the whole dataset with the same generator (seeded from seed and
// the epoch), then takes every num_replicas-th index starting at its rank, so the ranks' shards
// are disjoint and together cover the dataset. When the dataset does not divide evenly, the
// order is padded with its own first indices (drop_last = false: a few samples are seen twice)
// or cut (drop_last = true: a few are not seen), so that every rank gets the same count.
// No MPI here: pass the rank and world size (xg::distributed::rank() / world_size()).
//
//   o.sampler = xg::data::DistributedSampler(world_size, rank, /*shuffle=*/true, /*seed=*/0);
//   xg::data::DataLoader loader(dataset, o);  // loader.set_epoch(e) reshuffles as PyTorch's
#include <cstddef>
#include <cstdint>
#include <vector>

namespace xg::data {

class DistributedSampler {
  public:
    DistributedSampler(std::size_t num_replicas, std::size_t rank, bool shuffle = true,
                       std::uint64_t seed = 0, bool drop_last = false);
    // This rank's indices of epoch `epoch` over a dataset of `dataset_size` samples.
    std::vector<std::size_t> indices(std::size_t dataset_size, std::uint64_t epoch) const;
    // How many indices each rank gets.
    std::size_t num_samples(std::size_t dataset_size) const;
    std::size_t num_replicas() const { return num_replicas_; }
    std::size_t rank() const { return rank_; }

  private:
    std::size_t num_replicas_, rank_;
    bool shuffle_;
    std::uint64_t seed_;
    bool drop_last_;
};

}  // namespace xg::data
