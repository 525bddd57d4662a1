#pragma once
// DataLoader: batches of a Dataset in a seeded (optionally shuffled) order, prepared ahead on a
// worker thread so loading overlaps the training step.
//
//   xg::data::DataLoaderOptions o;
//   o.batch_size = 64; o.shuffle = true;
//   xg::data::DataLoader loader(xg::data::FashionMNIST(xg::data::Split::train), o);
//   for (auto& batch : loader) { ... batch.images (64,1,28,28) float32, batch.labels (64) int64 }
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/options.hpp"
#include "core/random.hpp"
#include "data/dataset.hpp"
#include "data/sampler.hpp"
#include "data/transforms.hpp"

namespace xg::data {

struct Batch {
    Tensor images;  // float32 (N, C, H, W) (after the transform, if any)
    Tensor labels;  // int64 (N)
    std::size_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// DataLoaderOptions(64).shuffle(true), as libtorch's.
struct DataLoaderOptions {
    DataLoaderOptions(std::size_t batch_size = 1) : batch_size_(batch_size) {}  // NOLINT
    XG_ARG(std::size_t, batch_size);
    XG_ARG(bool, shuffle) = false;
    XG_ARG(bool, drop_last) = false;  // drop the last batch if it is smaller than batch_size
    // Batches prepared ahead by the worker thread; 0 loads on the caller's thread instead.
    // When the next batch is not claimed yet the caller makes it itself rather than wait.
    XG_ARG(std::size_t, prefetch) = 2;
    // Applied to each batch, with a generator seeded from (seed, epoch, batch index), so the
    // result does not depend on which thread made the batch. It may run on the worker and the
    // caller's thread at once: it must not change shared state (the library's transforms don't).
    XG_ARG(Transform, transform);
    // The loader's seed; if unset, one number is drawn from the generator given to the loader.
    XG_ARG(std::optional<std::uint64_t>, seed);
    // Which samples, in which order: this rank's shard of each epoch (data-parallel training).
    // It shuffles itself; shuffle must then be false, as in PyTorch.
    XG_ARG(std::optional<DistributedSampler>, sampler);
};

class DataLoader {
  public:
    DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {},
               Generator& gen = default_generator());
    template <class D, class = std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>>>
    DataLoader(D dataset, DataLoaderOptions options = {}, Generator& gen = default_generator())
        : DataLoader(std::make_shared<const std::decay_t<D>>(std::move(dataset)),
                     std::move(options), gen) {}
    ~DataLoader();
    DataLoader(DataLoader&&) noexcept;
    DataLoader& operator=(DataLoader&&) noexcept;

    std::size_t size() const;  // batches per epoch
    const Dataset& dataset() const { return *dataset_; }
    std::uint64_t seed() const { return seed_; }
    // The epoch the next begin() runs; each begin() then moves to the next one. Epoch e's
    // order depends only on the seed and e.
    std::uint64_t epoch() const { return next_epoch_; }
    void set_epoch(std::uint64_t e) { next_epoch_ = e; }
    std::vector<std::size_t> epoch_order(std::uint64_t e) const;  // sample indices of epoch e
    // The next begin() starts at batch b of its epoch, skipping the ones before it without
    // loading them (a run resumed mid-epoch); begin() then sets it back to 0. The batches are
    // the same as in an epoch run from its start (order and transforms depend on seed, epoch
    // and batch index only).
    void set_start_batch(std::size_t b) { start_batch_ = b; }
    std::size_t start_batch() const { return start_batch_; }

    struct Epoch;
    class Iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = Batch*;
        using reference = Batch&;

        Iterator() = default;
        Batch& operator*() { return current_; }
        Batch* operator->() { return &current_; }
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return epoch_ == o.epoch_; }
        bool operator!=(const Iterator& o) const { return epoch_ != o.epoch_; }

      private:
        friend class DataLoader;
        Epoch* epoch_ = nullptr;  // null at the end
        Batch current_;
    };

    // Starts the next epoch (ending one still running: its iterators become invalid) and
    // returns an iterator at its first batch. An error in loading is rethrown here or by ++.
    Iterator begin();
    Iterator end() { return Iterator(); }

  private:
    std::shared_ptr<const Dataset> dataset_;
    DataLoaderOptions options_;
    std::uint64_t seed_ = 0;
    std::uint64_t next_epoch_ = 0;
    std::size_t start_batch_ = 0;
    std::unique_ptr<Epoch> running_;
};

}  // namespace xg::data
