#pragma once
// DataLoader: batches of a dataset in a seeded (optionally shuffled) order, prepared ahead on a
// worker thread so loading overlaps the training step. Over an image dataset (ByteImageDataset,
// FashionMNIST, Subset, ...) the batch is a Batch{images, labels}, each image copied straight
// into it; over any other dataset (data/example.hpp) it is the examples collated by
// transforms::Stack: an Example<> gives Example{data (N, ...), target (N, ...)}.
//
//   xg::data::DataLoader loader(xg::data::FashionMNIST(xg::data::Split::train),
//                               xg::data::DataLoaderOptions(64).shuffle(true));
//   for (auto& batch : loader) { ... batch.images (64,1,28,28) float32, batch.labels (64) int64 }
//   xg::data::DataLoader rows(xg::data::TensorDataset(x, y), xg::data::DataLoaderOptions(32));
//   for (auto& b : rows) { ... b[0] (32, ...) from x, b[1] (32, ...) from y }
#include <any>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
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
    // Applied to each batch's images (Batch::images, Example::data, a TensorDataset's first
    // tensor), with a generator seeded from (seed, epoch, batch index), so the
    // result does not depend on which thread made the batch. It may run on the worker and the
    // caller's thread at once: it must not change shared state (the library's transforms don't).
    XG_ARG(Transform, transform);
    // The loader's seed; if unset, one number is drawn from the generator given to the loader.
    XG_ARG(std::optional<std::uint64_t>, seed);
    // Which samples, in which order: this rank's shard of each epoch (data-parallel training).
    // It shuffles itself; shuffle must then be false, as in PyTorch.
    XG_ARG(std::optional<DistributedSampler>, sampler);
};

namespace samplers {
// make_data_loader<Sampler>(...)'s choice of order, as libtorch's: shuffled (the default) or
// in order. DataLoaderOptions::shuffle says the same to a DataLoader.
struct RandomSampler {};
struct SequentialSampler {};
}  // namespace samplers

namespace detail {

// What the loader's machinery needs of a dataset, type-erased: its size, and the batch of
// `count` sample indices (the transform's generator seeded with transform_seed).
struct BatchMaker {
    std::function<std::size_t()> size;
    std::function<std::any(const std::size_t* indices, std::size_t count,
                           std::uint64_t transform_seed)>
        make;
};

struct EpochRun;  // one pass over the data (loader.cpp)

// The worker, prefetch, sampler and seed machinery that every DataLoader<...> shares.
class LoaderCore {
  public:
    LoaderCore(BatchMaker maker, DataLoaderOptions options, Generator& gen);
    ~LoaderCore();
    LoaderCore(LoaderCore&&) noexcept;
    LoaderCore& operator=(LoaderCore&&) noexcept;

    std::size_t size() const;
    std::uint64_t seed() const { return seed_; }
    std::uint64_t epoch() const { return next_epoch_; }
    void set_epoch(std::uint64_t e) { next_epoch_ = e; }
    std::vector<std::size_t> epoch_order(std::uint64_t e) const;
    // The next start() begins at batch b of its epoch, skipping the ones before it without
    // loading them (a run resumed mid-epoch); start() then sets it back to 0. The batches are
    // the same as in an epoch run from its start (order and transforms depend on seed, epoch
    // and batch index only).
    void set_start_batch(std::size_t b) { start_batch_ = b; }
    std::size_t start_batch() const { return start_batch_; }
    // Starts the next epoch, ending one still running (it joins its worker).
    EpochRun* start();
    // The next batch of `run` into out; false at the end of the epoch. Rethrows a loading error.
    static bool next(EpochRun* run, std::any& out);

  private:
    std::shared_ptr<const BatchMaker> maker_;
    DataLoaderOptions options_;
    std::uint64_t seed_ = 0;
    std::uint64_t next_epoch_ = 0;
    std::size_t start_batch_ = 0;
    std::unique_ptr<EpochRun> running_;
};

// The image fast path: each image read straight into the batch, then the transform.
BatchMaker image_batch_maker(std::shared_ptr<const ImageDataset> dataset, Transform transform);

// Applies the loader's transform to the images of a collated batch (null: it has none).
void transform_batch(Tensor* images, const Transform& transform, std::size_t count,
                     std::uint64_t seed);

inline Tensor* batch_images(Batch& b) {
    return &b.images;
}
inline Tensor* batch_images(std::vector<Tensor>& b) {
    return b.empty() ? nullptr : &b[0];
}
template <class T>
Tensor* batch_images(Example<Tensor, T>& b) {
    return &b.data;
}
template <class B>
Tensor* batch_images(B&) {
    return nullptr;
}

template <class D>
std::size_t dataset_size(const D& d) {
    auto n = d.size();
    if constexpr (std::is_same_v<decltype(n), std::optional<std::size_t>>) {
        XG_CHECK(n.has_value(), "DataLoader: the dataset's size() is nullopt; the loader needs it");
        return *n;
    } else {
        return n;
    }
}

template <class D>
using example_of_t = std::decay_t<decltype(std::declval<D&>().get(std::size_t{}))>;

template <class D, class = void>
inline constexpr bool has_get_v = false;
template <class D>
inline constexpr bool has_get_v<D, std::void_t<example_of_t<D>>> = true;

// The batch a DataLoader over D yields: Batch for an image dataset, else Stack's collation.
template <class D, class = void>
struct loader_batch {};
template <class D>
struct loader_batch<D, std::enable_if_t<std::is_base_of_v<ImageDataset, D>>> {
    using type = Batch;
};
template <class D>
struct loader_batch<D, std::enable_if_t<!std::is_base_of_v<ImageDataset, D> && has_get_v<D>>> {
    using type = typename transforms::Stack<example_of_t<D>>::BatchType;
};

template <class B, class D>
BatchMaker batch_maker(std::shared_ptr<D> ds, const DataLoaderOptions& options) {
    XG_CHECK(ds != nullptr, "DataLoader: the dataset is null");
    using Raw = std::remove_cv_t<D>;
    if constexpr (std::is_same_v<B, Batch> && std::is_base_of_v<ImageDataset, Raw>) {
        return image_batch_maker(std::move(ds), options.transform());
    } else {
        using E = example_of_t<D>;
        static_assert(std::is_same_v<B, typename transforms::Stack<E>::BatchType>,
                      "DataLoader<B>: B must be the batch of the dataset's examples, "
                      "transforms::Stack<Example>::BatchType");
        Transform transform = options.transform();
        return {[ds] { return dataset_size(*ds); },
                [ds, transform](const std::size_t* indices, std::size_t count,
                                std::uint64_t seed) -> std::any {
                    std::vector<E> examples;
                    examples.reserve(count);
                    for (std::size_t k = 0; k < count; ++k) examples.push_back(ds->get(indices[k]));
                    B batch = transforms::Stack<E>()(std::move(examples));
                    if (transform) transform_batch(batch_images(batch), transform, count, seed);
                    return batch;
                }};
    }
}

}  // namespace detail

template <class D>
using loader_batch_t = typename detail::loader_batch<std::remove_cv_t<D>>::type;

// Over an image dataset BatchType is Batch; over any other, the collated batch of its examples
// (transforms::Stack<Example>::BatchType). The constructor deduces it:
// `DataLoader loader(dataset, options)`.
template <class BatchType = Batch>
class DataLoader {
  public:
    template <class D,
              class = std::enable_if_t<std::is_base_of_v<ImageDataset, D> || detail::has_get_v<D>>>
    DataLoader(D dataset, DataLoaderOptions options = {}, Generator& gen = default_generator())
        : DataLoader(std::make_shared<D>(std::move(dataset)), std::move(options), gen) {}
    template <class D>
    DataLoader(std::shared_ptr<D> dataset, DataLoaderOptions options = {},
               Generator& gen = default_generator())
        : core_(detail::batch_maker<BatchType>(std::move(dataset), options), options, gen) {}

    std::size_t size() const { return core_.size(); }  // batches per epoch
    std::uint64_t seed() const { return core_.seed(); }
    // The epoch the next begin() runs; each begin() then moves to the next one. Epoch e's
    // order depends only on the seed and e.
    std::uint64_t epoch() const { return core_.epoch(); }
    void set_epoch(std::uint64_t e) { core_.set_epoch(e); }
    // Sample indices of epoch e.
    std::vector<std::size_t> epoch_order(std::uint64_t e) const { return core_.epoch_order(e); }
    // The next begin() starts at batch b of its epoch (a run resumed mid-epoch; see LoaderCore).
    void set_start_batch(std::size_t b) { core_.set_start_batch(b); }
    std::size_t start_batch() const { return core_.start_batch(); }

    class Iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = BatchType;
        using difference_type = std::ptrdiff_t;
        using pointer = BatchType*;
        using reference = BatchType&;

        Iterator() = default;
        BatchType& operator*() { return current_; }
        BatchType* operator->() { return &current_; }
        Iterator& operator++() {
            if (run_ != nullptr) {
                detail::EpochRun* r = run_;
                run_ = nullptr;  // at the end if next() throws or finds no batch
                std::any item;
                if (detail::LoaderCore::next(r, item)) {
                    current_ = std::move(*std::any_cast<BatchType>(&item));
                    run_ = r;
                }
            }
            return *this;
        }
        bool operator==(const Iterator& o) const { return run_ == o.run_; }
        bool operator!=(const Iterator& o) const { return run_ != o.run_; }

      private:
        friend class DataLoader;
        detail::EpochRun* run_ = nullptr;  // null at the end
        BatchType current_;
    };

    // Starts the next epoch (ending one still running: its iterators become invalid) and
    // returns an iterator at its first batch. An error in loading is rethrown here or by ++.
    Iterator begin() {
        Iterator it;
        it.run_ = core_.start();
        ++it;
        return it;
    }
    Iterator end() { return Iterator(); }

  private:
    detail::LoaderCore core_;
};

template <class D>
DataLoader(D) -> DataLoader<loader_batch_t<D>>;
template <class D>
DataLoader(D, DataLoaderOptions) -> DataLoader<loader_batch_t<D>>;
template <class D>
DataLoader(D, DataLoaderOptions, Generator&) -> DataLoader<loader_batch_t<D>>;
template <class D>
DataLoader(std::shared_ptr<D>) -> DataLoader<loader_batch_t<D>>;
template <class D>
DataLoader(std::shared_ptr<D>, DataLoaderOptions) -> DataLoader<loader_batch_t<D>>;
template <class D>
DataLoader(std::shared_ptr<D>, DataLoaderOptions, Generator&) -> DataLoader<loader_batch_t<D>>;

// libtorch's torch::data::make_data_loader: shuffled unless Sampler is SequentialSampler.
//   auto loader = xg::data::make_data_loader(std::move(dataset), 64);
//   for (auto& batch : *loader) { ... }
template <class Sampler = samplers::RandomSampler, class D>
std::unique_ptr<DataLoader<loader_batch_t<D>>> make_data_loader(
    D dataset, DataLoaderOptions options = {}, Generator& gen = default_generator()) {
    static_assert(std::is_same_v<Sampler, samplers::RandomSampler> ||
                      std::is_same_v<Sampler, samplers::SequentialSampler>,
                  "make_data_loader: Sampler is samplers::RandomSampler or SequentialSampler");
    if (!options.sampler()) options.shuffle(std::is_same_v<Sampler, samplers::RandomSampler>);
    return std::make_unique<DataLoader<loader_batch_t<D>>>(std::move(dataset), std::move(options),
                                                           gen);
}

}  // namespace xg::data
