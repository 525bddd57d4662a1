#include "data/dataset.hpp"

#include <array>
#include <cstring>

namespace xg::data {

Example Dataset::get(std::size_t i) const {
    XG_CHECK(i < size(), "Dataset::get: index {} is out of range for a dataset of {} samples", i,
             size());
    xg::array<float> image = xg::array<float>::from_shape(image_shape());
    Example ex;
    ex.label = read(i, image.data());
    ex.image = Tensor(std::move(image));
    return ex;
}

TensorDataset::TensorDataset(Tensor images, Tensor labels)
    : images_(std::move(images)), labels_(std::move(labels)) {
    XG_CHECK(images_.defined() && labels_.defined(),
             "TensorDataset: images and labels must be defined tensors");
    XG_CHECK(images_.dtype() == float32, "TensorDataset: images must be float32, got {}",
             images_.dtype());
    XG_CHECK(images_.dim() == 4, "TensorDataset: images must be 4-D (N, C, H, W), got shape {}",
             images_.shape());
    XG_CHECK(labels_.dtype() == int64, "TensorDataset: labels must be int64, got {}",
             labels_.dtype());
    XG_CHECK(labels_.dim() == 1, "TensorDataset: labels must be 1-D (N), got shape {}",
             labels_.shape());
    XG_CHECK(images_.size(0) == labels_.size(0),
             "TensorDataset: {} images but {} labels (shapes {} and {})", images_.size(0),
             labels_.size(0), images_.shape(), labels_.shape());
    size_ = images_.size(0);
    sample_numel_ = images_.size(1) * images_.size(2) * images_.size(3);
}

Shape TensorDataset::image_shape() const {
    const auto& s = images_.shape();
    return Shape{s[1], s[2], s[3]};
}

std::int64_t TensorDataset::read(std::size_t i, float* out) const {
    const float* src = images_.data<float>().data() + i * sample_numel_;
    std::memcpy(out, src, sample_numel_ * sizeof(float));
    return labels_.data<std::int64_t>().data()[i];
}

namespace {
// byte / 255.0f for every byte, computed once.
const float* byte_scale() {
    static const auto table = [] {
        std::array<float, 256> t{};
        for (int b = 0; b < 256; ++b)
            t[static_cast<std::size_t>(b)] = static_cast<float>(b) / 255.0f;
        return t;
    }();
    return table.data();
}
}  // namespace

ByteImageDataset::ByteImageDataset(std::vector<std::uint8_t> pixels, Shape shape, Tensor labels)
    : shape_(std::move(shape)), labels_(std::move(labels)) {
    XG_CHECK(shape_.size() == 4, "ByteImageDataset: shape must be (N, C, H, W), got {}", shape_);
    XG_CHECK(pixels.size() == shape_numel(shape_),
             "ByteImageDataset: {} pixels do not fill shape {} ({} values)", pixels.size(), shape_,
             shape_numel(shape_));
    XG_CHECK(labels_.defined() && labels_.dtype() == int64 && labels_.dim() == 1 &&
                 labels_.size(0) == shape_[0],
             "ByteImageDataset: labels must be int64 of shape [{}], got {}", shape_[0],
             labels_.defined() ? fmt::format("{} {}", labels_.dtype(), labels_.shape())
                               : std::string("undefined"));
    pixels_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(pixels));
    sample_numel_ = shape_[1] * shape_[2] * shape_[3];
}

Shape ByteImageDataset::image_shape() const {
    XG_CHECK(!shape_.empty(), "ByteImageDataset: the dataset is empty (default-constructed)");
    return Shape{shape_[1], shape_[2], shape_[3]};
}

std::int64_t ByteImageDataset::read(std::size_t i, float* out) const {
    const float* scale = byte_scale();
    const std::uint8_t* src = pixels_->data() + i * sample_numel_;
    for (std::size_t k = 0; k < sample_numel_; ++k) out[k] = scale[src[k]];
    return labels_.data<std::int64_t>().data()[i];
}

Tensor ByteImageDataset::images() const {
    if (shape_.empty()) return zeros({0, 1, 1, 1});
    xg::array<float> a = xg::array<float>::from_shape(shape_);
    const float* scale = byte_scale();
    const std::uint8_t* src = pixels_->data();
    float* dst = a.data();
    for (std::size_t k = 0, n = a.size(); k < n; ++k) dst[k] = scale[src[k]];
    return Tensor(std::move(a));
}

const std::vector<std::uint8_t>& ByteImageDataset::pixels() const {
    static const std::vector<std::uint8_t> none;
    return pixels_ ? *pixels_ : none;
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<std::size_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
    XG_CHECK(dataset_ != nullptr, "Subset: the dataset is null");
    const std::size_t n = dataset_->size();
    for (std::size_t k = 0; k < indices_.size(); ++k)
        XG_CHECK(indices_[k] < n,
                 "Subset: index {} (at position {}) is out of range for a "
                 "dataset of {} samples",
                 indices_[k], k, n);
}

Subset Subset::first(std::shared_ptr<const Dataset> dataset, std::size_t n) {
    XG_CHECK(dataset != nullptr, "Subset::first: the dataset is null");
    std::vector<std::size_t> idx(std::min(n, dataset->size()));
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    return Subset(std::move(dataset), std::move(idx));
}

std::int64_t Subset::read(std::size_t i, float* out) const {
    return dataset_->read(indices_[i], out);
}

}  // namespace xg::data
