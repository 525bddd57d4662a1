#pragma once
// Datasets of (image, label) samples held in memory, and subsets of them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/tensor.hpp"

namespace xg::data {

// One sample: image float32 (C, H, W), label int64 scalar.
struct Example {
    Tensor image;
    std::int64_t label = 0;
};

// What a DataLoader reads. Implementations must allow concurrent reads (the loader reads on
// its worker thread while the caller may read too).
class Dataset {
  public:
    virtual ~Dataset() = default;
    virtual std::size_t size() const = 0;
    virtual Shape image_shape() const = 0;  // (C, H, W)
    // Copies sample i's image (numel of image_shape() floats) to out and returns its label.
    // i < size() is the caller's duty (get() checks it).
    virtual std::int64_t read(std::size_t i, float* out) const = 0;

    Example get(std::size_t i) const;  // checked, as tensors
};

// Images (N, C, H, W) float32 and labels (N) int64 as tensors (shared, not copied).
class TensorDataset : public Dataset {
  public:
    TensorDataset() = default;
    TensorDataset(Tensor images, Tensor labels);

    std::size_t size() const override { return size_; }
    Shape image_shape() const override;
    std::int64_t read(std::size_t i, float* out) const override;

    const Tensor& images() const { return images_; }
    const Tensor& labels() const { return labels_; }

  private:
    Tensor images_, labels_;
    std::size_t size_ = 0;
    std::size_t sample_numel_ = 0;
};

// Images kept as bytes (N, C, H, W) and read as float32 byte / 255.0f (exactly torchvision's
// ToTensor), labels int64 (N): a quarter of the memory of float images, and converting a batch
// costs less than touching four times the pages. Copies share the data.
class ByteImageDataset : public Dataset {
  public:
    ByteImageDataset() = default;
    ByteImageDataset(std::vector<std::uint8_t> pixels, Shape shape, Tensor labels);

    std::size_t size() const override { return shape_.empty() ? 0 : shape_[0]; }
    Shape image_shape() const override;
    std::int64_t read(std::size_t i, float* out) const override;

    Tensor images() const;  // float32 (N, C, H, W) in [0, 1], converted on each call
    const Tensor& labels() const { return labels_; }
    const std::vector<std::uint8_t>& pixels() const;

  private:
    std::shared_ptr<const std::vector<std::uint8_t>> pixels_;
    Shape shape_;
    Tensor labels_;
    std::size_t sample_numel_ = 0;
};

// The samples of another dataset at the given indices (which may repeat), in that order.
class Subset : public Dataset {
  public:
    Subset(std::shared_ptr<const Dataset> dataset, std::vector<std::size_t> indices);
    template <class D, class = std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>>>
    Subset(D dataset, std::vector<std::size_t> indices)
        : Subset(std::make_shared<const std::decay_t<D>>(std::move(dataset)), std::move(indices)) {}

    // The first n samples (all of them if the dataset is smaller).
    template <class D, class = std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>>>
    static Subset first(D dataset, std::size_t n) {
        return first(std::make_shared<const std::decay_t<D>>(std::move(dataset)), n);
    }
    static Subset first(std::shared_ptr<const Dataset> dataset, std::size_t n);

    std::size_t size() const override { return indices_.size(); }
    Shape image_shape() const override { return dataset_->image_shape(); }
    std::int64_t read(std::size_t i, float* out) const override;
    const std::vector<std::size_t>& indices() const { return indices_; }

  private:
    std::shared_ptr<const Dataset> dataset_;
    std::vector<std::size_t> indices_;
};

}  // namespace xg::data
