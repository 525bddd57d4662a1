#include "data/loader.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <any>
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

namespace detail {
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
struct EpochRun {
    std::shared_ptr<const BatchMaker> maker;
    DataLoaderOptions options;
    std::uint64_t seed = 0, epoch = 0;
    std::vector<std::size_t> order;
    std::size_t num_batches = 0;

    using Item =
        std::variant<std::monostate, std::any, std::exception_ptr>;  // monostate: not ready
    std::mutex mutex;
    std::condition_variable worker_cv, consumer_cv;
    std::vector<Item> items;   // by batch index
    std::size_t claimed = 0;   // batches claimed so far (0 .. claimed-1)
    std::size_t consumed = 0;  // batches handed out
    bool stop = false;
    std::thread worker;

    ~EpochRun() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        worker_cv.notify_all();
        if (worker.joinable()) worker.join();
    }

    Item make_item(std::size_t b) const {
        try {
            const std::size_t bs = options.batch_size();
            const std::size_t start = b * bs;
            const std::size_t count = std::min(bs, order.size() - start);
            return maker->make(order.data() + start, count, derive_seed(seed, epoch, 1 + b));
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
    bool next(std::any& out) {
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

LoaderCore::LoaderCore(BatchMaker maker, DataLoaderOptions options, Generator& gen)
    : maker_(std::make_shared<const BatchMaker>(std::move(maker))), options_(std::move(options)) {
    XG_CHECK(options_.batch_size() > 0, "DataLoader: batch_size must be positive, got 0");
    XG_CHECK(!(options_.sampler() && options_.shuffle()),
             "DataLoader: sampler option is mutually exclusive with shuffle (the sampler "
             "shuffles)");
    seed_ = options_.seed() ? *options_.seed() : gen.next_u64();
}

LoaderCore::~LoaderCore() = default;
LoaderCore::LoaderCore(LoaderCore&&) noexcept = default;
LoaderCore& LoaderCore::operator=(LoaderCore&&) noexcept = default;

std::size_t LoaderCore::size() const {
    const std::size_t samples = maker_->size();
    const std::size_t n = options_.sampler() ? options_.sampler()->num_samples(samples) : samples;
    const std::size_t bs = options_.batch_size();
    return options_.drop_last() ? n / bs : (n + bs - 1) / bs;
}

std::vector<std::size_t> LoaderCore::epoch_order(std::uint64_t e) const {
    const std::size_t samples = maker_->size();
    if (options_.sampler()) return options_.sampler()->indices(samples, e);
    std::vector<std::size_t> order(samples);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options_.shuffle()) {
        // Fisher-Yates; next_u64() % (i + 1) is biased by under 2^-32 for any real dataset.
        Generator g(derive_seed(seed_, e, 0));
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[g.next_u64() % i]);
    }
    return order;
}

EpochRun* LoaderCore::start() {
    running_.reset();  // joins a worker still running
    const std::uint64_t e = next_epoch_++;
    auto epoch = std::make_unique<EpochRun>();
    epoch->maker = maker_;
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
    return running_.get();
}

bool LoaderCore::next(EpochRun* run, std::any& out) {
    return run->next(out);
}

BatchMaker image_batch_maker(std::shared_ptr<const ImageDataset> dataset, Transform transform) {
    auto make = [dataset, transform](const std::size_t* indices, std::size_t count,
                                     std::uint64_t seed) -> std::any {
        const Shape sample = dataset->image_shape();
        const std::size_t numel = shape_numel(sample);
        Shape shape(sample.size() + 1);
        shape[0] = count;
        std::copy(sample.begin(), sample.end(), shape.begin() + 1);
        xg::array<float> images = xg::array<float>::from_shape(shape);
        xg::array<std::int64_t> labels = xg::array<std::int64_t>::from_shape({count});
        for (std::size_t k = 0; k < count; ++k)
            labels.data()[k] = dataset->read(indices[k], images.data() + k * numel);
        Batch batch{Tensor(std::move(images)), Tensor(std::move(labels))};
        if (transform) {
            Generator gen(seed);
            Tensor out = transform(batch.images, gen);
            XG_CHECK(out.defined() && out.dim() == 4 && out.size(0) == count,
                     "DataLoader: the transform must return a (N, C, H, W) tensor with N = {}, "
                     "got {}",
                     count, out.defined() ? shape_str(out.shape()) : std::string("undefined"));
            batch.images = out;
        }
        return batch;
    };
    return {[dataset] { return dataset->size(); }, std::move(make)};
}

void transform_batch(Tensor* images, const Transform& transform, std::size_t count,
                     std::uint64_t seed) {
    XG_CHECK(images != nullptr,
             "DataLoader: options.transform needs a batch with images (Batch::images, "
             "Example::data of tensors or a TensorDataset's first tensor); transform the "
             "examples with Dataset::map instead");
    Generator gen(seed);
    Tensor out = transform(*images, gen);
    XG_CHECK(out.defined() && out.dim() > 0 && out.size(0) == count,
             "DataLoader: the transform must return a tensor of N = {} samples, got {}", count,
             out.defined() ? shape_str(out.shape()) : std::string("undefined"));
    *images = out;
}

}  // namespace detail

}  // namespace xg::data
