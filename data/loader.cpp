#include "data/loader.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <numeric>
#include <system_error>
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

// Independent seeds for (loader seed, epoch, stream): stream 0 orders the epoch, stream 1 + b
// runs the transform of batch b, so any thread can make any batch with the same result.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
    return splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ stream);
}

}  // namespace

// One pass over the data. Batches are claimed in order, by the worker (at most `prefetch`
// ahead of the consumer) or by the consumer itself when the next batch is not claimed yet, so
// the consumer never waits for a worker that the OS has not scheduled.
struct DataLoader::Epoch {
    std::shared_ptr<const Dataset> dataset;
    DataLoaderOptions options;
    std::uint64_t seed = 0, epoch = 0;
    std::vector<std::size_t> order;
    std::size_t num_batches = 0;

    using Item = std::variant<std::monostate, Batch, std::exception_ptr>;  // monostate: not ready
    std::mutex mutex;
    std::condition_variable worker_cv, consumer_cv;
    std::vector<Item> items;   // by batch index
    std::size_t claimed = 0;   // batches claimed so far (0 .. claimed-1)
    std::size_t consumed = 0;  // batches handed out
    bool stop = false;
    std::thread worker;

    ~Epoch() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        worker_cv.notify_all();
        if (worker.joinable()) worker.join();
    }

    Batch make_batch(std::size_t b) const {
        const std::size_t bs = options.batch_size();
        const std::size_t start = b * bs;
        const std::size_t count = std::min(bs, order.size() - start);
        const Shape sample = dataset->image_shape();
        const std::size_t numel = shape_numel(sample);
        Shape shape(sample.size() + 1);
        shape[0] = count;
        std::copy(sample.begin(), sample.end(), shape.begin() + 1);
        xg::array<float> images = xg::array<float>::from_shape(shape);
        xg::array<std::int64_t> labels = xg::array<std::int64_t>::from_shape({count});
        for (std::size_t k = 0; k < count; ++k)
            labels.data()[k] = dataset->read(order[start + k], images.data() + k * numel);
        Batch batch{Tensor(std::move(images)), Tensor(std::move(labels))};
        if (options.transform()) {
            Generator gen(derive_seed(seed, epoch, 1 + b));
            Tensor out = options.transform()(batch.images, gen);
            XG_CHECK(out.defined() && out.dim() == 4 && out.size(0) == count,
                     "DataLoader: the transform must return a (N, C, H, W) tensor with N = {}, "
                     "got {}",
                     count, out.defined() ? shape_str(out.shape()) : std::string("undefined"));
            batch.images = out;
        }
        return batch;
    }

    Item make_item(std::size_t b) const {
        try {
            return make_batch(b);
        } catch (...) {
            return std::current_exception();
        }
    }

    void run_worker() {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            worker_cv.wait(lock, [&] {
                return stop || claimed == num_batches || claimed < consumed + options.prefetch();
            });
            if (stop || claimed == num_batches) return;
            const std::size_t b = claimed++;
            lock.unlock();
            Item item = make_item(b);
            const bool failed = item.index() == 2;
            lock.lock();
            items[b] = std::move(item);
            consumer_cv.notify_one();
            if (failed) return;  // the epoch ends at the error
        }
    }

    // The next batch into out; false at the end of the epoch. Rethrows a loading error.
    bool next(Batch& out) {
        if (consumed == num_batches) return false;
        const std::size_t b = consumed;
        std::unique_lock<std::mutex> lock(mutex);
        Item item;
        if (claimed == b) {
            ++claimed;  // nobody is making it: make it here rather than wait
            lock.unlock();
            item = make_item(b);
            lock.lock();
        } else {
            consumer_cv.wait(lock, [&] { return items[b].index() != 0; });
            item = std::move(items[b]);
            items[b] = std::monostate{};
        }
        consumed = b + 1;
        if (item.index() == 2) {
            consumed = num_batches;  // the epoch ends with the error
            stop = true;
        }
        lock.unlock();
        worker_cv.notify_one();
        if (item.index() == 2) std::rethrow_exception(std::get<2>(item));
        out = std::move(std::get<1>(item));
        return true;
    }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options,
                       Generator& gen)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
    XG_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
    XG_CHECK(options_.batch_size() > 0, "DataLoader: batch_size must be positive, got 0");
    XG_CHECK(!(options_.sampler() && options_.shuffle()),
             "DataLoader: sampler option is mutually exclusive with shuffle (the sampler "
             "shuffles)");
    seed_ = options_.seed() ? *options_.seed() : gen.next_u64();
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

std::size_t DataLoader::size() const {
    const std::size_t n =
        options_.sampler() ? options_.sampler()->num_samples(dataset_->size()) : dataset_->size();
    const std::size_t bs = options_.batch_size();
    return options_.drop_last() ? n / bs : (n + bs - 1) / bs;
}

std::vector<std::size_t> DataLoader::epoch_order(std::uint64_t e) const {
    if (options_.sampler()) return options_.sampler()->indices(dataset_->size(), e);
    std::vector<std::size_t> order(dataset_->size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options_.shuffle()) {
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
    epoch->seed = seed_;
    epoch->epoch = e;
    epoch->order = epoch_order(e);
    epoch->num_batches = size();
    epoch->items.resize(epoch->num_batches);
    epoch->claimed = epoch->consumed = std::min(start_batch_, epoch->num_batches);
    start_batch_ = 0;
    if (options_.prefetch() > 0 && epoch->num_batches > 0) {
        try {
            epoch->worker = std::thread([p = epoch.get()] { p->run_worker(); });
        } catch (const std::system_error& e) {  // no memory for its stack, or too many threads
            rlimit stack{};  // a new thread's stack is RLIMIT_STACK's size (glibc's default)
            getrlimit(RLIMIT_STACK, &stack);
            throw Error(fmt::format(
                "DataLoader: cannot start the prefetch thread ({}): out of memory for its stack "
                "of {} bytes, or at the thread limit; with DataLoaderOptions::prefetch(0) batches "
                "are made on the caller's thread",
                e.what(), stack.rlim_cur));
        } catch (const std::bad_alloc&) {
            throw Error("DataLoader: out of memory starting the prefetch thread");
        }
    }
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
