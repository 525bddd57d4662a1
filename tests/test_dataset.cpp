// TensorDataset, Subset, the IDX-to-tensor loader and the MNIST / Fashion-MNIST classes
// (directory lookup, the error that says how to install, and the real files when present).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "data/mnist.hpp"
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

TensorDataset small_dataset(std::size_t n) {
    xt::xarray<float> images = xt::xarray<float>::from_shape({n, 2, 2, 3});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<float>(i);
    xt::xarray<std::int64_t> labels = xt::xarray<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) labels(i) = static_cast<std::int64_t>(i % 7);
    return TensorDataset(Tensor(images), Tensor(labels));
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
    data::Example ex = ds.get(3);
    CHECK(ex.label == 9);
    CHECK(ex.image.shape() == Shape{1, 3, 4});
    CHECK(ex.image.data<float>()(0, 0, 0) == static_cast<float>(4 * 36 + 1) / 255.0f);
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
    data::Example ex = b.get(0);
    CHECK(ex.label == 4);
    CHECK(ex.image.to_vector() == std::vector<double>{0.0f, 51 / 255.0f, 102 / 255.0f, 1.0f});
    CHECK(data::ByteImageDataset().size() == 0);
}

TEST_CASE("TensorDataset: argument checks") {
    Tensor img = zeros({3, 1, 2, 2});
    Tensor lab = zeros({3}, int64);
    CHECK(error_of([&] { TensorDataset(img.to(float64), lab); }) ==
          "TensorDataset: images must be float32, got float64");
    CHECK(error_of([&] {
              TensorDataset(zeros({3, 4}), lab);
          }) == "TensorDataset: images must be 4-D (N, C, H, W), got shape [3, 4]");
    CHECK(error_of([&] { TensorDataset(img, zeros({3})); }) ==
          "TensorDataset: labels must be int64, got float32");
    CHECK(error_of([&] { TensorDataset(img, zeros({2}, int64)); }) ==
          "TensorDataset: 3 images but 2 labels (shapes [3, 1, 2, 2] and [2])");
    CHECK(error_of([&] { TensorDataset(img, Tensor()); }).find("must be defined") !=
          std::string::npos);
}

TEST_CASE("Subset: chosen indices in order, first n, range checks") {
    TensorDataset ds = small_dataset(10);
    Subset s(ds, {7, 2, 2});
    CHECK(s.size() == 3);
    CHECK(s.get(0).label == 0);  // 7 % 7
    CHECK(s.get(1).label == 2);
    CHECK(s.get(0).image.data<float>()(0, 0, 0) == 7 * 12);
    Subset f = Subset::first(ds, 4);
    CHECK(f.indices() == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(Subset::first(ds, 100).size() == 10);
    // Subsets nest.
    Subset ff = Subset::first(f, 2);
    CHECK(ff.get(1).image.data<float>()(1, 1, 2) == 12 + 11);
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
// TensorDataset and of a Subset made from a shared dataset.
TEST_CASE("datasets: swapped files, a missing root, indices past the end") {
    ScratchDir dir;
    auto file = [&dir](const std::string& name, const std::vector<char>& b) {
        return dir.write(name, b.data(), b.size());
    };
    const std::string images = file("images.idx3", idx_bytes(8, {2, 3, 4}, 24));
    const std::string labels = file("labels.idx1", idx_bytes(8, {2}, 2));
    auto two = [] { return TensorDataset(zeros({2, 1, 2, 2}), tensor({0, 1}, int64)); };
    check_error_rows({
        {"load_idx_dataset: images and labels swapped",
         [=] { data::load_idx_dataset(labels, images); },
         {"read_idx"}},
        {"FashionMNIST: a root that does not exist",
         [&dir] { data::FashionMNIST(Split::train, dir.file("nowhere")); },
         {"nowhere"}},
        {"TensorDataset::get: index past the end",
         [=] { two().get(2); },
         {"Dataset::get: index 2 is out of range for a dataset of 2 samples"}},
        {"Subset of a shared dataset: index past the end",
         [=] {
             data::Subset(std::make_shared<TensorDataset>(two()), {0, 5});
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

}  // namespace
}  // namespace xg::testing
