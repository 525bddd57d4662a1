// DataLoader: every sample exactly once per epoch, batch sizes, seeded orders, the worker
// thread (errors reach the consumer, early destruction joins), transforms on the worker.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <optional>
#include <string>
#include <thread>

#include "data/loader.hpp"
#include "ops/factories.hpp"
#include "ops/shape.hpp"
#include "tests/data_testing.hpp"

// A user's example type with its own collation, declared as a user would: a Stack
// specialization (x stacked, weights summed).
struct Weighted {
    xg::Tensor x;
    double weight = 1;
};

namespace xg::data::transforms {
template <>
struct Stack<Weighted> {
    using BatchType = Weighted;
    Weighted operator()(std::vector<Weighted> examples) const {
        std::vector<Tensor> xs;
        double total = 0;
        for (Weighted& e : examples) {
            xs.push_back(e.x);
            total += e.weight;
        }
        return {xg::stack(xs), total};
    }
};
}  // namespace xg::data::transforms

namespace xg::testing {
namespace {

using data::Batch;
using data::DataLoader;
using data::DataLoaderOptions;

// n images of shape (1, 2, 2); image i holds the byte i everywhere (read as i / 255) and has
// label i.
data::ByteImageDataset numbered(std::size_t n) {
    std::vector<std::uint8_t> pixels(n * 4);
    xt::xarray<std::int64_t> labels = xt::xarray<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        labels(i) = static_cast<std::int64_t>(i);
        for (std::size_t k = 0; k < 4; ++k) pixels[i * 4 + k] = static_cast<std::uint8_t>(i);
    }
    return data::ByteImageDataset(std::move(pixels), {n, 1, 2, 2}, Tensor(labels));
}

struct Epoch {
    std::vector<std::int64_t> labels;  // in the order served
    std::vector<std::size_t> batch_sizes;
};

// Runs one epoch, checking each batch's shapes and that images match their labels.
Epoch run_epoch(DataLoader<>& loader) {
    Epoch e;
    for (Batch& b : loader) {
        const std::size_t n = b.size();
        REQUIRE(b.images.shape() == Shape{n, 1, 2, 2});
        REQUIRE(b.images.dtype() == float32);
        REQUIRE(b.labels.dtype() == int64);
        for (std::size_t k = 0; k < n; ++k) {
            std::int64_t l = b.labels.data<std::int64_t>()(k);
            CHECK(b.images.data<float>()(k, 0, 1, 1) == static_cast<float>(l) / 255.0f);
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
class FailingDataset : public data::ImageDataset {
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
class SlowDataset : public data::ImageDataset {
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
    CHECK(error_of([] { DataLoader(std::shared_ptr<const data::ImageDataset>(), {}); }) ==
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

// ---- The loader over datasets of anything ----

// A user's dataset (libtorch's form): example i is data (2) = {i, -i} float32, target int64 i.
class Pairs : public xg::data::Dataset<Pairs> {
  public:
    explicit Pairs(size_t n) : n_(n) {}
    xg::data::Example<> get(size_t index) override {
        double i = static_cast<double>(index);
        return {tensor(std::vector<float>{float(i), float(-i)}), full({}, i, int64)};
    }
    std::optional<size_t> size() const override { return n_; }

  private:
    size_t n_;
};

std::vector<std::int64_t> targets_of(DataLoader<data::Example<>>& loader) {
    std::vector<std::int64_t> t;
    for (data::Example<>& b : loader) {
        const std::size_t n = b.target.size(0);
        REQUIRE(b.data.shape() == Shape{n, 2});
        REQUIRE(b.target.shape() == Shape{n});
        REQUIRE(b.target.dtype() == int64);
        for (std::size_t k = 0; k < n; ++k) {
            const auto i = b.target.data<std::int64_t>()(k);
            CHECK(b.data.data<float>()(k, 1) == -static_cast<float>(i));
            t.push_back(i);
        }
    }
    return t;
}

TEST_CASE("DataLoader over a user's dataset: stacked batches, seeded, same on every thread") {
    DataLoaderOptions o(4);
    DataLoader in_order(Pairs(10), o);
    static_assert(std::is_same_v<decltype(in_order), DataLoader<data::Example<>>>);
    CHECK(in_order.size() == 3);
    CHECK(targets_of(in_order) == iota_labels(10));

    o.shuffle(true).seed(11);
    std::vector<std::vector<std::int64_t>> runs;
    for (std::size_t prefetch : {0, 2}) {
        o.prefetch(prefetch);
        DataLoader loader(std::make_shared<Pairs>(10), o);
        runs.push_back(targets_of(loader));
        runs.push_back(targets_of(loader));  // the next epoch
    }
    CHECK(runs[0] == runs[2]);  // same seed: same order, whichever thread made the batches
    CHECK(runs[1] == runs[3]);
    CHECK(runs[0] != runs[1]);  // a new order each epoch
    std::vector<std::int64_t> sorted = runs[0];
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == iota_labels(10));
    DataLoader other(Pairs(10), DataLoaderOptions(4).shuffle(true).seed(12));
    CHECK(targets_of(other) != runs[0]);

    // libtorch's form: make_data_loader shuffles unless told SequentialSampler.
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        Pairs(5).map(data::transforms::Stack<>()), 2);
    std::vector<std::int64_t> seen;
    for (auto& batch : *loader)
        for (double v : batch.target.to_vector()) seen.push_back(std::int64_t(v));
    CHECK(seen == iota_labels(5));
    auto shuffled = data::make_data_loader(Pairs(50), DataLoaderOptions(50).seed(1));
    CHECK(targets_of(*shuffled) != iota_labels(50));
}

TEST_CASE("DataLoader: a TensorDataset of three dtypes, a transform on the examples") {
    Tensor x = arange(0, 24).reshape({6, 1, 2, 2});
    Tensor y = tensor(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
    Tensor w = arange(0, 6, 1, float64);
    DataLoader loader(data::TensorDataset(x, y, w), DataLoaderOptions(4));
    std::vector<Shape> shapes;
    for (std::vector<Tensor>& b : loader) {
        REQUIRE(b.size() == 3);
        CHECK(b[0].dtype() == float32);
        CHECK(b[1].dtype() == int64);
        CHECK(b[2].dtype() == float64);
        for (const Tensor& t : b) shapes.push_back(t.shape());
    }
    CHECK(shapes == std::vector<Shape>{{4, 1, 2, 2}, {4}, {4}, {2, 1, 2, 2}, {2}, {2}});

    // The image transforms apply to the first tensor (the images), seeded per batch.
    auto o = DataLoaderOptions(3).seed(5).transform(
        data::Compose({data::RandomHorizontalFlip(), data::Normalize({1.0}, {2.0})}));
    std::vector<std::vector<double>> images;
    for (std::size_t prefetch : {0, 2}) {
        DataLoader flipped(data::TensorDataset(x, y), DataLoaderOptions(o).prefetch(prefetch));
        std::vector<double> all;
        for (auto& b : flipped) {
            auto v = b[0].to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        images.push_back(all);
    }
    CHECK(images[0] == images[1]);
    std::vector<double> sorted = images[0], want;
    for (int v = 0; v < 24; ++v) want.push_back((v - 1.0) / 2.0);
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == want);

    // An example transform (libtorch's transforms::Lambda), applied before stacking.
    using data::Example;
    auto doubled = Pairs(4).map(data::transforms::Lambda<Example<>>(
        [](Example<> e) { return Example<>(e.data.mul(2.0), e.target); }));
    DataLoader mapped(std::move(doubled), DataLoaderOptions(4));
    auto it = mapped.begin();
    REQUIRE(it != mapped.end());
    CHECK(it->data.to_vector() == std::vector<double>{0, 0, 2, -2, 4, -4, 6, -6});
}

// Examples of the wrong shapes, or without a known size.
class Ragged : public xg::data::Dataset<Ragged> {
  public:
    xg::data::Example<> get(size_t index) override {
        return {zeros({index == 4 ? 3u : 2u}), zeros({})};
    }
    std::optional<size_t> size() const override { return size_; }
    std::optional<size_t> size_ = 6;
};

struct Tagged {
    Tensor x;
    std::string tag;
};
class TaggedSet : public xg::data::Dataset<TaggedSet, Tagged> {
  public:
    Tagged get(size_t index) override { return {full({1}, double(index)), std::to_string(index)}; }
    std::optional<size_t> size() const override { return 5; }
};

class WeightedSet : public xg::data::Dataset<WeightedSet, Weighted> {
  public:
    Weighted get(size_t index) override { return {full({3}, double(index)), 0.5 * index}; }
    std::optional<size_t> size() const override { return 4; }
};

TEST_CASE("DataLoader over datasets of anything: own example types and bad inputs") {
    // Collated by the user's Stack specialization.
    DataLoader weighted(WeightedSet(), DataLoaderOptions(2));
    static_assert(std::is_same_v<decltype(weighted), DataLoader<Weighted>>);
    std::vector<double> weights;
    for (Weighted& b : weighted) {
        CHECK(b.x.shape() == Shape{2, 3});
        weights.push_back(b.weight);
    }
    CHECK(weights == std::vector<double>{0.5, 2.5});

    // An example type of the user's own: the batch is the vector of its examples.
    DataLoader tagged(TaggedSet(), DataLoaderOptions(2));
    static_assert(std::is_same_v<decltype(tagged), DataLoader<std::vector<Tagged>>>);
    std::string tags;
    for (std::vector<Tagged>& b : tagged)
        for (Tagged& t : b) tags += t.tag;
    CHECK(tags == "01234");

    for (std::size_t prefetch : {0, 2}) {
        CAPTURE(prefetch);
        DataLoader ragged(Ragged(), DataLoaderOptions(3).prefetch(prefetch));
        std::size_t batches = 0;
        std::string msg = error_of([&] {
            for (auto& b : ragged) {
                CHECK(b.data.shape() == Shape{3, 2});
                ++batches;
            }
        });
        CHECK(batches == 1);
        CHECK(msg ==
              "Stack: data of example 1 is float32 [3] but example 0's is float32 [2]; "
              "stacking needs one shape and dtype (pad sequences to one length, or "
              "collate them yourself)");
    }
    Ragged unsized;
    unsized.size_ = std::nullopt;
    CHECK(error_of([&] { DataLoader(unsized, DataLoaderOptions(2)).size(); }) ==
          "DataLoader: the dataset's size() is nullopt; the loader needs it");
    CHECK(error_of([] { DataLoader(std::shared_ptr<Pairs>(), {}); }) ==
          "DataLoader: the dataset is null");
    CHECK(error_of([] {
              DataLoader l(TaggedSet(), DataLoaderOptions(2).transform(data::Normalize({0}, {1})));
              l.begin();
          }).find("DataLoader: options.transform needs a batch with images") == 0);
    CHECK(error_of([] {
              auto o = DataLoaderOptions(2).transform(
                  [](const Tensor& t, Generator&) { return t.reshape({-1}); });
              DataLoader l(data::TensorDataset(zeros({4, 3})), o);
              l.begin();
          }) == "DataLoader: the transform must return a tensor of N = 2 samples, got [6]");
}

}  // namespace
}  // namespace xg::testing
