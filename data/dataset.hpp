#pragma once
// Datasets: TensorDataset (rows of any tensors), and the image datasets the DataLoader reads
// through a fast path (images written straight into the batch): ByteImageDataset and Subset.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/tensor.hpp"
#include "data/example.hpp"

namespace xg::data {

// Rows of tensors of any shapes and dtypes that share their first dimension (the samples), as
// PyTorch's TensorDataset(*tensors): get(i) is {t[i] for each tensor t}, copies without history.
// The tensors are shared, not copied.
class TensorDataset : public Dataset<TensorDataset, std::vector<Tensor>> {
  public:
    TensorDataset() = default;
    explicit TensorDataset(std::vector<Tensor> tensors);
    template <class... T, class = std::enable_if_t<(std::is_convertible_v<T, Tensor> && ...)>>
    TensorDataset(Tensor first, T... rest)  // NOLINT: TensorDataset(x, y)
        : TensorDataset(std::vector<Tensor>{std::move(first), Tensor(std::move(rest))...}) {}

    std::vector<Tensor> get(std::size_t index) override;
    std::optional<std::size_t> size() const override { return size_; }
    const std::vector<Tensor>& tensors() const { return tensors_; }

  private:
    std::vector<Tensor> tensors_;
    std::size_t size_ = 0;
};

// Samples (image float32 (C, H, W), label int64) that the DataLoader copies straight into its
// batch (no tensor per sample): the fast path of the image datasets. get(i) gives them as an
// Example<> (image, label as an int64 scalar tensor). Concurrent reads must be safe (the
// loader reads on its worker thread while the caller may read too).
class ImageDataset {
  public:
    using ExampleType = Example<>;
    virtual ~ImageDataset() = default;
    virtual std::size_t size() const = 0;
    virtual Shape image_shape() const = 0;  // (C, H, W)
    // Copies sample i's image (numel of image_shape() floats) to out and returns its label.
    // i < size() is the caller's duty (get() checks it).
    virtual std::int64_t read(std::size_t i, float* out) const = 0;

    Example<> get(std::size_t i) const;  // checked, as tensors
};

// Images kept as bytes (N, C, H, W) and read as float32 byte / 255.0f (exactly torchvision's
// ToTensor), labels int64 (N): a quarter of the memory of float images, and converting a batch
// costs less than touching four times the pages. Copies share the data.
class ByteImageDataset : public ImageDataset {
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
class Subset : public ImageDataset {
  public:
    Subset(std::shared_ptr<const ImageDataset> dataset, std::vector<std::size_t> indices);
    template <class D, class = std::enable_if_t<std::is_base_of_v<ImageDataset, std::decay_t<D>>>>
    Subset(D dataset, std::vector<std::size_t> indices)
        : Subset(std::make_shared<const std::decay_t<D>>(std::move(dataset)), std::move(indices)) {}

    // The first n samples (all of them if the dataset is smaller).
    template <class D, class = std::enable_if_t<std::is_base_of_v<ImageDataset, std::decay_t<D>>>>
    static Subset first(D dataset, std::size_t n) {
        return first(std::make_shared<const std::decay_t<D>>(std::move(dataset)), n);
    }
    static Subset first(std::shared_ptr<const ImageDataset> dataset, std::size_t n);

    std::size_t size() const override { return indices_.size(); }
    Shape image_shape() const override { return dataset_->image_shape(); }
    std::int64_t read(std::size_t i, float* out) const override;
    const std::vector<std::size_t>& indices() const { return indices_; }

  private:
    std::shared_ptr<const ImageDataset> dataset_;
    std::vector<std::size_t> indices_;
};

}  // namespace xg::data
