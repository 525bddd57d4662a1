// DataLoader: every sample exactly once per epoch, batch sizes, seeded orders, the worker
// thread (errors reach the consumer, early destruction joins), transforms on the worker.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>

#include "data/loader.hpp"
#include "tests/data_testing.hpp"

namespace xg::testing {
namespace {

using data::Batch;
using data::DataLoader;
using data::DataLoaderOptions;
using data::TensorDataset;

// n images of shape (1, 2, 2); image i holds the value i everywhere and has label i.
TensorDataset numbered(std::size_t n) {
    xt::xarray<float> images = xt::xarray<float>::from_shape({n, 1, 2, 2});
    xt::xarray<std::int64_t> labels = xt::xarray<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        labels(i) = static_cast<std::int64_t>(i);
        for (std::size_t k = 0; k < 4; ++k) images.data()[i * 4 + k] = static_cast<float>(i);
    }
    return TensorDataset(Tensor(images), Tensor(labels));
}

struct Epoch {
    std::vector<std::int64_t> labels;  // in the order served
    std::vector<std::size_t> batch_sizes;
};

// Runs one epoch, checking each batch's shapes and that images match their labels.
Epoch run_epoch(DataLoader& loader) {
    Epoch e;
    for (Batch& b : loader) {
        const std::size_t n = b.size();
        REQUIRE(b.images.shape() == Shape{n, 1, 2, 2});
        REQUIRE(b.images.dtype() == float32);
        REQUIRE(b.labels.dtype() == int64);
        for (std::size_t k = 0; k < n; ++k) {
            std::int64_t l = b.labels.data<std::int64_t>()(k);
            CHECK(b.images.data<float>()(k, 0, 1, 1) == static_cast<float>(l));
            e.labels.push_back(l);
        }
        e.batch_sizes.push_back(n);
    }
    return e;
}

std::vector<std::int64_t> iota_labels(std::size_t n) {
    std::vector<std::int64_t> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

TEST_CASE("DataLoader: without shuffle, batches in order; drop_last drops the short one") {
    for (std::size_t prefetch : {0, 1, 2}) {
        CAPTURE(prefetch);
        DataLoaderOptions o;
        o.batch_size(3);
        o.prefetch(prefetch);
        DataLoader loader(numbered(10), o);
        CHECK(loader.size() == 4);
        Epoch e = run_epoch(loader);
        CHECK(e.labels == iota_labels(10));
        CHECK(e.batch_sizes == std::vector<std::size_t>{3, 3, 3, 1});
        o.drop_last(true);
        DataLoader dropping(numbered(10), o);
        CHECK(dropping.size() == 3);
        e = run_epoch(dropping);
        CHECK(e.labels == iota_labels(9));
        CHECK(e.batch_sizes == std::vector<std::size_t>{3, 3, 3});
        // An exact multiple loses nothing with drop_last.
        o.batch_size(5);
        DataLoader exact(numbered(10), o);
        CHECK(run_epoch(exact).batch_sizes == std::vector<std::size_t>{5, 5});
    }
}

TEST_CASE("DataLoader: with shuffle, every sample exactly once per epoch, in a new order") {
    for (bool drop_last : {false, true}) {
        CAPTURE(drop_last);
        DataLoaderOptions o;
        o.batch_size(8);
        o.shuffle(true);
        o.drop_last(drop_last);
        o.seed(42);
        DataLoader loader(numbered(100), o);
        Epoch e0 = run_epoch(loader);
        Epoch e1 = run_epoch(loader);
        CHECK(e0.labels != e1.labels);
        for (Epoch* e : {&e0, &e1}) {
            CHECK(e->batch_sizes.size() == (drop_last ? 12u : 13u));
            CHECK(e->labels.size() == (drop_last ? 96u : 100u));
            std::vector<std::int64_t> sorted = e->labels;
            std::sort(sorted.begin(), sorted.end());
            CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // no repeats
            if (!drop_last) CHECK(sorted == iota_labels(100));
            CHECK(e->labels != iota_labels(e->labels.size()));  // not the identity
        }
        // The order is the documented epoch_order (cut by drop_last).
        auto order0 = loader.epoch_order(0);
        CHECK(std::equal(e0.labels.begin(), e0.labels.end(), order0.begin()));
        CHECK(loader.epoch() == 2);
    }
}

TEST_CASE("DataLoader: same seed, same orders; set_epoch replays an epoch") {
    DataLoaderOptions o;
    o.batch_size(4);
    o.shuffle(true);
    Generator g1(5), g2(5);
    DataLoader a(numbered(30), o, g1);
    DataLoader b(numbered(30), o, g2);
    CHECK(a.seed() == b.seed());
    Epoch a0 = run_epoch(a), a1 = run_epoch(a);
    Epoch b0 = run_epoch(b), b1 = run_epoch(b);
    CHECK(a0.labels == b0.labels);
    CHECK(a1.labels == b1.labels);
    a.set_epoch(0);
    CHECK(run_epoch(a).labels == a0.labels);
    // Another seed gives another order.
    Generator g3(6);
    DataLoader c(numbered(30), o, g3);
    CHECK(run_epoch(c).labels != a0.labels);
    // An explicit seed ignores the generator.
    o.seed(99);
    DataLoader d(numbered(30), o, g1), e(numbered(30), o, g3);
    CHECK(run_epoch(d).labels == run_epoch(e).labels);
}

TEST_CASE("DataLoader: the order does not depend on other draws from the generator") {
    DataLoaderOptions o;
    o.batch_size(4);
    o.shuffle(true);
    manual_seed(77);
    DataLoader a(numbered(30), o);  // one draw from the global generator
    Epoch a0 = run_epoch(a);
    manual_seed(77);
    DataLoader b(numbered(30), o);
    (void)randn({100});  // draws after the loader was made change nothing
    CHECK(run_epoch(b).labels == a0.labels);
}

TEST_CASE("DataLoader: set_start_batch resumes an epoch mid-way with the same batches") {
    DataLoaderOptions o;
    o.batch_size(4);
    o.shuffle(true);
    o.seed(7);
    o.transform(data::RandomHorizontalFlip(0.5));
    for (std::size_t prefetch : {2, 0}) {
        o.prefetch(prefetch);
        DataLoader loader(numbered(30), o);
        loader.set_epoch(1);
        std::vector<std::vector<double>> whole;
        for (Batch& b : loader) whole.push_back(b.images.to_vector());
        REQUIRE(whole.size() == 8);
        for (std::size_t start : {0, 3, 7, 8, 20}) {
            loader.set_epoch(1);
            loader.set_start_batch(start);
            std::vector<std::vector<double>> rest;
            for (Batch& b : loader) rest.push_back(b.images.to_vector());
            CHECK(loader.start_batch() == 0);  // one epoch only
            CHECK(rest == std::vector<std::vector<double>>(
                              whole.begin() + std::ptrdiff_t(std::min<std::size_t>(start, 8)),
                              whole.end()));
        }
    }
}

TEST_CASE("DataLoader: transforms run on the worker with the loader's seeded generator") {
    DataLoaderOptions o;
    o.batch_size(4);
    o.transform(data::Compose({data::RandomHorizontalFlip(0.5), data::RandomCrop(2, 1)}));
    o.seed(3);
    std::vector<double> threaded, inline_;
    for (std::size_t prefetch : {2, 0}) {
        o.prefetch(prefetch);
        DataLoader loader(data::Subset::first(numbered(10), 8), o);
        for (Batch& b : loader) {
            auto v = b.images.to_vector();
            (prefetch ? threaded : inline_)
                .insert((prefetch ? threaded : inline_).end(), v.begin(), v.end());
        }
    }
    CHECK(threaded.size() == 8 * 4);
    CHECK(threaded == inline_);
    // The crop with padding 1 put zeros in some images.
    CHECK(std::count(threaded.begin(), threaded.end(), 0.0) > 1);

    o.transform([](const Tensor& x, Generator&) { return x.reshape({-1}); });
    DataLoader bad(numbered(4), o);
    CHECK(error_of([&] { run_epoch(bad); }) ==
          "DataLoader: the transform must return a (N, C, H, W) tensor with N = 4, got [16]");
}

// Fails when asked for sample `bad`; counts reads.
class FailingDataset : public data::Dataset {
  public:
    FailingDataset(std::size_t n, std::size_t bad) : n_(n), bad_(bad) {}
    std::size_t size() const override { return n_; }
    Shape image_shape() const override { return {1, 1, 1}; }
    std::int64_t read(std::size_t i, float* out) const override {
        XG_CHECK(i != bad_, "FailingDataset: sample {} is unreadable", i);
        ++reads;
        *out = static_cast<float>(i);
        return static_cast<std::int64_t>(i);
    }
    mutable std::atomic<std::size_t> reads{0};

  private:
    std::size_t n_, bad_;
};

TEST_CASE("DataLoader: an error on the worker reaches the consumer, after the good batches") {
    for (std::size_t prefetch : {0, 2}) {
        CAPTURE(prefetch);
        DataLoaderOptions o;
        o.batch_size(2);
        o.prefetch(prefetch);
        auto ds = std::make_shared<FailingDataset>(10, 5);
        DataLoader loader(ds, o);
        std::vector<std::int64_t> seen;
        std::string msg = error_of([&] {
            for (Batch& b : loader)
                for (auto l : b.labels.data<std::int64_t>()) seen.push_back(l);
        });
        CHECK(msg == "FailingDataset: sample 5 is unreadable");
        CHECK(seen == std::vector<std::int64_t>{0, 1, 2, 3});
        // The loader is usable again: a new epoch starts from the beginning.
        auto it = loader.begin();
        REQUIRE(it != loader.end());
        CHECK(it->labels.to_vector() == std::vector<double>{0, 1});
    }
}

// Sleeps in read() so the worker is busy or blocked on a full queue when the loader dies.
class SlowDataset : public data::Dataset {
  public:
    std::size_t size() const override { return 1000; }
    Shape image_shape() const override { return {1, 1, 1}; }
    std::int64_t read(std::size_t i, float* out) const override {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        *out = 0.0f;
        return static_cast<std::int64_t>(i);
    }
};

TEST_CASE("DataLoader: leaving an epoch early or restarting joins the worker cleanly") {
    DataLoaderOptions o;
    o.batch_size(5);
    {
        DataLoader loader(SlowDataset(), o);
        std::size_t n = 0;
        for (Batch& b : loader) {
            (void)b;
            if (++n == 2) break;
        }
        CHECK(n == 2);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the queue fills up
    }                                                                // destroyed mid-epoch
    DataLoader loader(numbered(10), o);
    auto first = loader.begin();
    auto again = loader.begin();  // restarts: a second epoch from the first batch
    CHECK(again->labels.to_vector() == std::vector<double>{0, 1, 2, 3, 4});
    DataLoader moved = std::move(loader);  // the running epoch moves with it
    ++again;
    REQUIRE(again != moved.end());
    CHECK(again->labels.to_vector() == std::vector<double>{5, 6, 7, 8, 9});
    ++again;
    CHECK(again == moved.end());
}

TEST_CASE("DataLoader: argument checks and an empty dataset") {
    DataLoaderOptions o;
    o.batch_size(0);
    CHECK(error_of([&] { DataLoader(numbered(3), o); }) ==
          "DataLoader: batch_size must be positive, got 0");
    CHECK(error_of([] { DataLoader(std::shared_ptr<const data::Dataset>(), {}); }) ==
          "DataLoader: the dataset is null");
    o.batch_size(4);
    DataLoader empty(data::Subset::first(numbered(3), 0), o);
    CHECK(empty.size() == 0);
    CHECK(empty.begin() == empty.end());
    o.drop_last(true);
    DataLoader small(numbered(3), o);
    CHECK(small.size() == 0);
    CHECK(small.begin() == small.end());
}

}  // namespace
}  // namespace xg::testing
