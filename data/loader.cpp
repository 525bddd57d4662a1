#include "data/loader.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <variant>

#include "core/error.hpp"

namespace xg::data {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Independent seeds for (loader seed, epoch, stream): stream 0 orders, stream 1 transforms.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
    return splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ stream);
}

}  // namespace

// One pass over the data: the order, the worker and the queue between them.
struct DataLoader::Epoch {
    std::shared_ptr<const Dataset> dataset;
    DataLoaderOptions options;
    std::vector<std::size_t> order;
    std::size_t num_batches = 0;
    Generator transform_gen;

    using Item = std::variant<Batch, std::exception_ptr>;
    std::mutex mutex;
    std::condition_variable not_full, not_empty;
    std::deque<Item> queue;
    bool stop = false;
    std::size_t made = 0;      // batches made (caller's thread when prefetch is 0)
    std::size_t consumed = 0;  // batches handed out
    std::thread worker;

    ~Epoch() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        not_full.notify_all();
        if (worker.joinable()) worker.join();
    }

    Batch make_batch(std::size_t b) {
        const std::size_t bs = options.batch_size;
        const std::size_t start = b * bs;
        const std::size_t count = std::min(bs, order.size() - start);
        const Shape sample = dataset->image_shape();
        const std::size_t numel = shape_numel(sample);
        Shape shape(sample.size() + 1);
        shape[0] = count;
        std::copy(sample.begin(), sample.end(), shape.begin() + 1);
        xt::xarray<float> images = xt::xarray<float>::from_shape(shape);
        xt::xarray<std::int64_t> labels = xt::xarray<std::int64_t>::from_shape({count});
        for (std::size_t k = 0; k < count; ++k)
            labels.data()[k] = dataset->read(order[start + k], images.data() + k * numel);
        Batch batch{Tensor(std::move(images)), Tensor(std::move(labels))};
        if (options.transform) {
            Tensor out = options.transform(batch.images, transform_gen);
            XG_CHECK(out.defined() && out.dim() == 4 && out.size(0) == count,
                     "DataLoader: the transform must return a (N, C, H, W) tensor with N = {}, "
                     "got {}",
                     count, out.defined() ? shape_str(out.shape()) : std::string("undefined"));
            batch.images = out;
        }
        return batch;
    }

    void run_worker() {
        for (std::size_t b = 0; b < num_batches; ++b) {
            Item item;
            try {
                item = make_batch(b);
            } catch (...) {
                item = std::current_exception();
            }
            const bool failed = item.index() == 1;
            std::unique_lock<std::mutex> lock(mutex);
            not_full.wait(lock, [&] { return stop || queue.size() < options.prefetch; });
            if (stop) return;
            queue.push_back(std::move(item));
            lock.unlock();
            not_empty.notify_one();
            if (failed) return;
        }
    }

    // The next batch into out; false at the end of the epoch. Rethrows a loading error.
    bool next(Batch& out) {
        if (consumed == num_batches) return false;
        Item item;
        if (options.prefetch == 0) {
            try {
                item = make_batch(made++);
            } catch (...) {
                item = std::current_exception();
            }
        } else {
            std::unique_lock<std::mutex> lock(mutex);
            not_empty.wait(lock, [&] { return !queue.empty(); });
            item = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            not_full.notify_one();
        }
        if (item.index() == 1) {
            consumed = num_batches;  // the epoch ends with the error
            std::rethrow_exception(std::get<1>(item));
        }
        ++consumed;
        out = std::move(std::get<0>(item));
        return true;
    }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options,
                       Generator& gen)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
    XG_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
    XG_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got 0");
    seed_ = options_.seed ? *options_.seed : gen.next_u64();
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

std::size_t DataLoader::size() const {
    const std::size_t n = dataset_->size(), bs = options_.batch_size;
    return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

std::vector<std::size_t> DataLoader::epoch_order(std::uint64_t e) const {
    std::vector<std::size_t> order(dataset_->size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options_.shuffle) {
        // Fisher-Yates; next_u64() % (i + 1) is biased by under 2^-32 for any real dataset.
        Generator g(derive_seed(seed_, e, 0));
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[g.next_u64() % i]);
    }
    return order;
}

DataLoader::Iterator DataLoader::begin() {
    running_.reset();  // joins a worker still running
    const std::uint64_t e = next_epoch_++;
    auto epoch = std::make_unique<Epoch>();
    epoch->dataset = dataset_;
    epoch->options = options_;
    epoch->order = epoch_order(e);
    epoch->num_batches = size();
    epoch->transform_gen.manual_seed(derive_seed(seed_, e, 1));
    if (options_.prefetch > 0 && epoch->num_batches > 0)
        epoch->worker = std::thread([p = epoch.get()] { p->run_worker(); });
    running_ = std::move(epoch);

    Iterator it;
    it.epoch_ = running_.get();
    ++it;
    return it;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
    if (epoch_ != nullptr) {
        Epoch* e = epoch_;
        epoch_ = nullptr;  // at the end if next() throws or finds no batch
        if (e->next(current_)) epoch_ = e;
    }
    return *this;
}

}  // namespace xg::data
