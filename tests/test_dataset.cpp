// TensorDataset, Subset, the IDX-to-tensor loader and the MNIST / Fashion-MNIST classes
// (directory lookup, the error that says how to install, and the real files when present).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "data/mnist.hpp"
#include "ops/factories.hpp"
#include "tests/data_testing.hpp"

namespace xg::testing {
namespace {

using data::Split;
using data::Subset;
using data::TensorDataset;

// Sets an environment variable for one scope and restores it afterwards.
class EnvGuard {
  public:
    EnvGuard(const char* name, const std::string& value) : name_(name) {
        const char* old = std::getenv(name);
        if (old != nullptr) old_ = old;
        had_ = old != nullptr;
        ::setenv(name, value.c_str(), 1);
    }
    ~EnvGuard() {
        if (had_)
            ::setenv(name_, old_.c_str(), 1);
        else
            ::unsetenv(name_);
    }

  private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

// n images (2, 2, 3) whose bytes count up from 0 across the dataset, label i % 7.
data::ByteImageDataset small_dataset(std::size_t n) {
    std::vector<std::uint8_t> pixels(n * 12);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i);
    xt::xarray<std::int64_t> labels = xt::xarray<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) labels(i) = static_cast<std::int64_t>(i % 7);
    return data::ByteImageDataset(std::move(pixels), {n, 2, 2, 3}, Tensor(labels));
}

float px(int byte) {
    return static_cast<float>(byte) / 255.0f;
}

std::int64_t label_of(const data::Example<>& ex) {
    return ex.target.item<std::int64_t>();
}

TEST_CASE("load_idx_dataset: images (N, 1, H, W) as byte / 255, labels int64") {
    data::ByteImageDataset ds =
        data::load_idx_dataset(idx_fixture("images.idx3.gz"), idx_fixture("labels.idx1"));
    REQUIRE(ds.size() == 5);
    Tensor images = ds.images();
    CHECK(images.shape() == Shape{5, 1, 3, 4});
    CHECK(images.dtype() == float32);
    CHECK(ds.labels().dtype() == int64);
    CHECK(ds.image_shape() == Shape{1, 3, 4});
    const float* p = images.data<float>().data();
    for (std::size_t k = 0; k < 60; ++k)
        CHECK(p[k] == static_cast<float>(4 * k + 1) / 255.0f);  // pixel formula of make_idx.py
    CHECK(ds.labels().to_vector() == std::vector<double>{0, 3, 6, 9, 2});
    data::Example<> ex = ds.get(3);
    CHECK(label_of(ex) == 9);
    CHECK(ex.target.dtype() == int64);
    CHECK(ex.target.dim() == 0);
    CHECK(ex.data.shape() == Shape{1, 3, 4});
    CHECK(ex.data.data<float>()(0, 0, 0) == static_cast<float>(4 * 36 + 1) / 255.0f);
    CHECK(error_of([&] { ds.get(5); }) ==
          "Dataset::get: index 5 is out of range for a dataset of 5 samples");
    CHECK(error_of([] {
              data::load_idx_dataset(idx_fixture("images.idx3"), idx_fixture("label_range.idx1"));
          }) == "read_idx: " + idx_fixture("label_range.idx1") +
                    ": label 10 at index 2 is not below 10 classes");
}

TEST_CASE("ByteImageDataset: argument checks; copies share the bytes") {
    Tensor lab = zeros({2}, int64);
    CHECK(error_of([&] {
              data::ByteImageDataset(std::vector<std::uint8_t>(7), {2, 1, 2, 2}, lab);
          }) == "ByteImageDataset: 7 pixels do not fill shape [2, 1, 2, 2] (8 values)");
    CHECK(error_of([&] {
              data::ByteImageDataset(std::vector<std::uint8_t>(8), {2, 4}, lab);
          }) == "ByteImageDataset: shape must be (N, C, H, W), got [2, 4]");
    CHECK(error_of([&] {
              data::ByteImageDataset(std::vector<std::uint8_t>(8), {2, 1, 2, 2}, zeros({3}, int64));
          }) == "ByteImageDataset: labels must be int64 of shape [2], got int64 [3]");
    data::ByteImageDataset a(std::vector<std::uint8_t>{0, 51, 102, 255, 1, 2, 3, 4}, {2, 1, 2, 2},
                             tensor({4, 7}, int64));
    data::ByteImageDataset b = a;
    CHECK(&a.pixels() == &b.pixels());
    data::Example<> ex = b.get(0);
    CHECK(label_of(ex) == 4);
    CHECK(ex.data.to_vector() == std::vector<double>{0.0f, 51 / 255.0f, 102 / 255.0f, 1.0f});
    CHECK(data::ByteImageDataset().size() == 0);
}

TEST_CASE("TensorDataset: argument checks") {
    CHECK(error_of([] {
              TensorDataset(zeros({3, 4}), zeros({3}, int64), zeros({2, 5}, float64));
          }) ==
          "TensorDataset: the tensors hold 3, 3, 2 samples (first dimensions of shapes "
          "[3, 4], [3], [2, 5]); they must all be equal");
    CHECK(error_of([] {
              TensorDataset(zeros({3}), zeros({}));
          }).find("TensorDataset: tensor 1 is 0-D") == 0);
    CHECK(error_of([] { TensorDataset(zeros({3}), Tensor()); }) ==
          "TensorDataset: tensor 1 is undefined");
    CHECK(error_of([] { TensorDataset(std::vector<Tensor>{}); }) ==
          "TensorDataset: needs at least one tensor");
    TensorDataset two(zeros({2, 1}), zeros({2}));
    CHECK(error_of([&] { two.get(2); }) ==
          "TensorDataset::get: index 2 is out of range for a dataset of 2 samples");
}

TEST_CASE("Subset: chosen indices in order, first n, range checks") {
    data::ByteImageDataset ds = small_dataset(10);
    Subset s(ds, {7, 2, 2});
    CHECK(s.size() == 3);
    CHECK(label_of(s.get(0)) == 0);  // 7 % 7
    CHECK(label_of(s.get(1)) == 2);
    CHECK(s.get(0).data.data<float>()(0, 0, 0) == px(7 * 12));
    Subset f = Subset::first(ds, 4);
    CHECK(f.indices() == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(Subset::first(ds, 100).size() == 10);
    // Subsets nest.
    Subset ff = Subset::first(f, 2);
    CHECK(ff.get(1).data.data<float>()(1, 1, 2) == px(12 + 11));
    CHECK(error_of([&] {
              Subset(ds, {1, 10});
          }) == "Subset: index 10 (at position 1) is out of range for a dataset of 10 samples");
}

TEST_CASE("FashionMNIST / MNIST: a missing dataset says how to install it") {
    ScratchDir empty;
    std::string msg = error_of([&] { data::FashionMNIST(Split::train, empty.path().string()); });
    CHECK(msg.rfind("FashionMNIST: neither train-images-idx3-ubyte nor "
                    "train-images-idx3-ubyte.gz found in " +
                        empty.path().string(),
                    0) == 0);
    CHECK(msg.find("apt-get install dataset-fashion-mnist") != std::string::npos);
    CHECK(msg.find("XGRAD_FASHION_MNIST_DIR") != std::string::npos);
    msg = error_of([&] { data::MNIST(Split::test, empty.path().string()); });
    CHECK(msg.find("t10k-images-idx3-ubyte.gz found in " + empty.path().string()) !=
          std::string::npos);
    CHECK(msg.find("XGRAD_MNIST_DIR") != std::string::npos);
}

TEST_CASE("FashionMNIST / MNIST: the environment variable and the argument choose the directory") {
    // A directory holding the 3x4 fixtures under the datasets' names: found, then refused for
    // not being 28x28, which shows which directory was read.
    ScratchDir dir;
    for (const char* prefix : {"train", "t10k"}) {
        auto img = read_bytes(idx_fixture("images.idx3.gz"));
        auto lab = read_bytes(idx_fixture("labels.idx1"));
        dir.write(std::string(prefix) + "-images-idx3-ubyte.gz", img.data(), img.size());
        dir.write(std::string(prefix) + "-labels-idx1-ubyte", lab.data(), lab.size());
    }
    const std::string expect =
        "expected 28x28 images, " + dir.file("t10k-images-idx3-ubyte.gz") + " holds 3x4";
    {
        EnvGuard env("XGRAD_FASHION_MNIST_DIR", dir.path().string());
        CHECK(data::FashionMNIST::default_root() == dir.path().string());
        CHECK(error_of([] { data::FashionMNIST{Split::test}; }) == "FashionMNIST: " + expect);
        ScratchDir empty;  // the argument wins over the variable
        CHECK(error_of([&] {
                  data::FashionMNIST(Split::test, empty.path().string());
              }).find("found in " + empty.path().string()) != std::string::npos);
    }
    {
        EnvGuard env("XGRAD_MNIST_DIR", dir.path().string());
        CHECK(error_of([] { data::MNIST{Split::test}; }) == "MNIST: " + expect);
    }
}

// More bad inputs: swapped IDX files, a root that does not exist, indices past the end of a
// ByteImageDataset and of a Subset made from a shared dataset.
TEST_CASE("datasets: swapped files, a missing root, indices past the end") {
    ScratchDir dir;
    auto file = [&dir](const std::string& name, const std::vector<char>& b) {
        return dir.write(name, b.data(), b.size());
    };
    const std::string images = file("images.idx3", idx_bytes(8, {2, 3, 4}, 24));
    const std::string labels = file("labels.idx1", idx_bytes(8, {2}, 2));
    auto two = [] {
        return data::ByteImageDataset(std::vector<std::uint8_t>(8), {2, 1, 2, 2},
                                      tensor({0, 1}, int64));
    };
    check_error_rows({
        {"load_idx_dataset: images and labels swapped",
         [=] { data::load_idx_dataset(labels, images); },
         {"read_idx"}},
        {"FashionMNIST: a root that does not exist",
         [&dir] { data::FashionMNIST(Split::train, dir.file("nowhere")); },
         {"nowhere"}},
        {"ByteImageDataset::get: index past the end",
         [=] { two().get(2); },
         {"Dataset::get: index 2 is out of range for a dataset of 2 samples"}},
        {"Subset of a shared dataset: index past the end",
         [=] {
             data::Subset(std::make_shared<data::ByteImageDataset>(two()), {0, 5});
         },
         {"Subset:"}},
    });
}

TEST_CASE("FashionMNIST: class names") {
    const auto& c = data::FashionMNIST::classes();
    REQUIRE(c.size() == 10);
    CHECK(c[0] == "T-shirt/top");
    CHECK(c[9] == "Ankle boot");
}

// The installed dataset (Debian's dataset-fashion-mnist). Expected values were read from the
// files with Python's gzip module. Without the package this case checks the install hint.
TEST_CASE("FashionMNIST: the installed test split (skipped with a message when absent)") {
    const std::string root = "/usr/share/datasets/fashion-mnist";
    if (!std::filesystem::exists(root + "/t10k-images-idx3-ubyte.gz")) {
        MESSAGE("SKIPPED: dataset-fashion-mnist is not installed in "
                << root << "; checking only the install hint");
        CHECK(error_of([&] {
                  data::FashionMNIST(Split::test, root);
              }).find("apt-get install dataset-fashion-mnist") != std::string::npos);
        return;
    }
    data::FashionMNIST ds(Split::test, root);
    CHECK(ds.root() == root);
    REQUIRE(ds.size() == 10000);
    CHECK(ds.image_shape() == Shape{1, 28, 28});
    CHECK(ds.labels().shape() == Shape{10000});
    const auto& labels = ds.labels().data<std::int64_t>();
    std::vector<double> first(labels.begin(), labels.begin() + 10);
    CHECK(first == std::vector<double>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    std::vector<int> count(10, 0);
    for (auto l : labels) {
        REQUIRE((l >= 0 && l < 10));
        ++count[static_cast<std::size_t>(l)];
    }
    CHECK(count == std::vector<int>(10, 1000));
    Tensor images = ds.images();
    CHECK(images.shape() == Shape{10000, 1, 28, 28});
    const auto& px = images.data<float>();
    CHECK(*std::min_element(px.begin(), px.end()) == 0.0f);
    CHECK(*std::max_element(px.begin(), px.end()) == 1.0f);
    double sum0 = 0;
    for (std::size_t k = 0; k < 784; ++k) sum0 += px.data()[k];
    CHECK(sum0 * 255.0 == doctest::Approx(33456).epsilon(1e-6));
}

// ---- Datasets of anything, as libtorch's torch::data ----

// A user's dataset written as in libtorch (torch:: -> xg::): x and x^2 as float32 (1).
class Squares : public xg::data::Dataset<Squares> {
  public:
    explicit Squares(size_t n) : n_(n) {}
    xg::data::Example<> get(size_t index) override {
        double x = static_cast<double>(index);
        return {xg::full({1}, x), xg::full({1}, x * x)};
    }
    std::optional<size_t> size() const override { return n_; }

  private:
    size_t n_;
};

// A user's own example type: a token sequence, its length and its text.
struct Sentence {
    Tensor tokens;  // int64 (4), zero-padded
    std::int64_t length = 0;
    std::string text;
};

class Sentences : public xg::data::Dataset<Sentences, Sentence> {
  public:
    Sentence get(size_t index) override {
        std::vector<std::int64_t> t(4, 0);
        for (size_t k = 0; k <= index; ++k) t[k] = static_cast<std::int64_t>(k + 1);
        return {tensor(t), static_cast<std::int64_t>(index + 1), std::string(index + 1, 'a')};
    }
    std::optional<size_t> size() const override { return 3; }
};

// Examples whose target is a number of type T: the batch's target is a tensor (N).
template <class T>
class Numbers : public xg::data::Dataset<Numbers<T>, xg::data::Example<Tensor, T>> {
  public:
    xg::data::Example<Tensor, T> get(size_t index) override {
        return {full({2, 3}, double(index)), static_cast<T>(index)};
    }
    std::optional<size_t> size() const override { return 5; }
};

TEST_CASE("Dataset<Self>: a user's dataset subclass, get and size as in libtorch") {
    Squares ds(6);
    CHECK(ds.size() == std::optional<size_t>(6));
    data::Example<> ex = ds.get(3);
    CHECK(ex.data.to_vector() == std::vector<double>{3});
    CHECK(ex.target.to_vector() == std::vector<double>{9});
    // Through a reference to the base, as the loader's users hold it.
    data::Dataset<Squares>& base = ds;
    CHECK(base.get(2).target.to_vector() == std::vector<double>{4});

    Sentences sentences;
    Sentence s = sentences.get(1);
    CHECK(s.tokens.to_vector() == std::vector<double>{1, 2, 0, 0});
    CHECK(s.length == 2);
    CHECK(s.text == "aa");
}

TEST_CASE("Stack: tensors stacked, numbers as a tensor (N), other fields as a vector") {
    using data::Example;
    using data::transforms::Stack;
    Squares sq(4);
    std::vector<Example<>> ex{sq.get(1), sq.get(2), sq.get(3)};
    Example<> batch = Stack<>()(ex);
    CHECK(batch.data.shape() == Shape{3, 1});
    CHECK(batch.data.dtype() == float32);
    CHECK(batch.target.to_vector() == std::vector<double>{1, 4, 9});

    Numbers<std::int64_t> ints;
    Example<Tensor, Tensor> b = Stack<Example<Tensor, std::int64_t>>()({ints.get(4), ints.get(1)});
    CHECK(b.data.shape() == Shape{2, 2, 3});
    CHECK(b.data.data<float>()(1, 1, 2) == 1.0f);
    CHECK(b.target.dtype() == int64);
    CHECK(b.target.to_vector() == std::vector<double>{4, 1});
    Numbers<double> doubles;
    CHECK(Stack<Example<Tensor, double>>()({doubles.get(0)}).target.dtype() == float64);
    Numbers<float> floats;
    CHECK(Stack<Example<Tensor, float>>()({floats.get(0)}).target.dtype() == float32);
    Numbers<int> plain_ints;  // any integer type gives int64 labels, as cross_entropy wants
    CHECK(Stack<Example<Tensor, int>>()({plain_ints.get(3)}).target.dtype() == int64);
    Numbers<bool> flags;
    CHECK(Stack<Example<Tensor, bool>>()({flags.get(0), flags.get(2)}).target.to_vector() ==
          std::vector<double>{0, 1});

    // Fields that are neither tensors nor numbers stay a vector; an example type of its own
    // is batched as the vector of its examples (libtorch's batch without Stack).
    using Texts = Example<Tensor, std::string>;
    static_assert(
        std::is_same_v<Stack<Texts>::BatchType, Example<Tensor, std::vector<std::string>>>);
    static_assert(std::is_same_v<Stack<Sentence>::BatchType, std::vector<Sentence>>);
    auto texts = Stack<Texts>()({Texts(zeros({2}), "x"), Texts(ones({2}), "yz")});
    CHECK(texts.target == std::vector<std::string>{"x", "yz"});
    CHECK(texts.data.to_vector() == std::vector<double>{0, 0, 1, 1});

    CHECK(error_of([] {
              Stack<>()({Example<>(zeros({2}), zeros({})), Example<>(zeros({3}), zeros({}))});
          }) ==
          "Stack: data of example 1 is float32 [3] but example 0's is float32 [2]; "
          "stacking needs one shape and dtype (pad sequences to one length, or collate "
          "them yourself)");
    CHECK(
        error_of([] {
            Stack<>()({Example<>(zeros({2}), zeros({}, int64)), Example<>(zeros({2}), zeros({}))});
        }).find("Stack: target of example 1 is float32 [] but example 0's is int64 []") == 0);
    CHECK(error_of([] { Stack<>()({Example<>(zeros({2}), Tensor())}); }) ==
          "Stack: target of example 0 is undefined");
    CHECK(error_of([] { Stack<>()({}); }) == "Stack: no examples to stack");
}

TEST_CASE("TensorDataset: three tensors of different dtypes and shapes, rows and stacking") {
    Tensor x = arange(0, 30).reshape({5, 2, 3});                       // float32
    Tensor y = tensor(std::vector<std::int64_t>{10, 11, 12, 13, 14});  // int64
    Tensor z = arange(0, 20, 1, float64).reshape({5, 4});              // float64
    TensorDataset ds(x, y, z);
    CHECK(ds.size() == std::optional<size_t>(5));
    CHECK(ds.tensors().size() == 3);
    std::vector<Tensor> row = ds.get(2);
    REQUIRE(row.size() == 3);
    CHECK(row[0].shape() == Shape{2, 3});
    CHECK(row[0].dtype() == float32);
    CHECK(row[0].to_vector() == std::vector<double>{12, 13, 14, 15, 16, 17});
    CHECK(row[1].shape() == Shape{});
    CHECK(row[1].dtype() == int64);
    CHECK(row[1].item<std::int64_t>() == 12);
    CHECK(row[2].dtype() == float64);
    CHECK(row[2].to_vector() == std::vector<double>{8, 9, 10, 11});
    // A row is a copy: writing it leaves the dataset alone.
    row[0].mutable_data<float>()(0, 0) = -1;
    CHECK(ds.get(2)[0].to_vector()[0] == 12);

    std::vector<Tensor> batch =
        data::transforms::Stack<std::vector<Tensor>>()({ds.get(4), ds.get(0)});
    REQUIRE(batch.size() == 3);
    CHECK(batch[0].shape() == Shape{2, 2, 3});
    CHECK(batch[1].shape() == Shape{2});
    CHECK(batch[1].dtype() == int64);
    CHECK(batch[1].to_vector() == std::vector<double>{14, 10});
    CHECK(batch[2].shape() == Shape{2, 4});
    CHECK(batch[2].dtype() == float64);
    // The vector form, and one tensor alone.
    CHECK(TensorDataset(std::vector<Tensor>{x, y}).get(0).size() == 2);
    CHECK(TensorDataset(y).get(4)[0].item<std::int64_t>() == 14);
}

TEST_CASE("Dataset::map: transforms::Lambda on each example; map(Stack<>()) as in libtorch") {
    using data::Example;
    auto plus_one = Squares(5).map(data::transforms::Lambda<Example<>>([](Example<> e) {
        e.target = e.target.add(1.0);
        return e;
    }));
    CHECK(plus_one.size() == std::optional<size_t>(5));
    CHECK(plus_one.get(3).target.to_vector() == std::vector<double>{10});
    // A Lambda may change the example type; maps chain.
    auto as_number =
        std::move(plus_one).map(data::transforms::Lambda<Example<>, Example<Tensor, double>>(
            [](Example<> e) { return Example<Tensor, double>(e.data, e.target.item<float>()); }));
    static_assert(std::is_same_v<decltype(as_number)::ExampleType, Example<Tensor, double>>);
    CHECK(as_number.get(2).target == 5.0);
    // libtorch's dataset.map(Stack<>()) is the dataset itself: the loader stacks by default.
    Squares sq(3);
    auto same = sq.map(data::transforms::Stack<>());
    static_assert(std::is_same_v<decltype(same), Squares>);
    CHECK(same.get(2).target.to_vector() == std::vector<double>{4});
}

}  // namespace
}  // namespace xg::testing
