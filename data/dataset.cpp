#include "data/dataset.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "core/dispatch.hpp"

namespace xg::data {

Example<> ImageDataset::get(std::size_t i) const {
    XG_CHECK(i < size(), "Dataset::get: index {} is out of range for a dataset of {} samples", i,
             size());
    xg::array<float> image = xg::array<float>::from_shape(image_shape());
    xg::array<std::int64_t> label = xg::array<std::int64_t>::from_shape({});
    label() = read(i, image.data());
    return {Tensor(std::move(image)), Tensor(std::move(label))};
}

TensorDataset::TensorDataset(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
    XG_CHECK(!tensors_.empty(), "TensorDataset: needs at least one tensor");
    std::string shapes, sizes;
    for (std::size_t k = 0; k < tensors_.size(); ++k) {
        XG_CHECK(tensors_[k].defined(), "TensorDataset: tensor {} is undefined", k);
        XG_CHECK(tensors_[k].dim() > 0,
                 "TensorDataset: tensor {} is 0-D; each tensor needs a first dimension of samples",
                 k);
        shapes += (k ? ", " : "") + shape_str(tensors_[k].shape());
        sizes += (k ? ", " : "") + std::to_string(tensors_[k].size(0));
    }
    size_ = tensors_[0].size(0);
    for (const Tensor& t : tensors_)
        XG_CHECK(t.size(0) == size_,
                 "TensorDataset: the tensors hold {} samples (first dimensions of shapes {}); "
                 "they must all be equal",
                 sizes, shapes);
}

std::vector<Tensor> TensorDataset::get(std::size_t index) {
    XG_CHECK(index < size_,
             "TensorDataset::get: index {} is out of range for a dataset of {} samples", index,
             size_);
    std::vector<Tensor> row;
    row.reserve(tensors_.size());
    for (const Tensor& t : tensors_) {
        Shape shape(t.shape().begin() + 1, t.shape().end());
        const std::size_t numel = shape_numel(shape);
        row.push_back(xg::detail::dispatch_all(t.dtype(), [&](auto zero) {
            using T = decltype(zero);
            xg::array<T> out = xg::array<T>::from_shape(shape);
            std::copy_n(t.data<T>().data() + index * numel, numel, out.data());
            return Tensor(std::move(out));
        }));
    }
    return row;
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

Subset::Subset(std::shared_ptr<const ImageDataset> dataset, std::vector<std::size_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
    XG_CHECK(dataset_ != nullptr, "Subset: the dataset is null");
    const std::size_t n = dataset_->size();
    for (std::size_t k = 0; k < indices_.size(); ++k)
        XG_CHECK(indices_[k] < n,
                 "Subset: index {} (at position {}) is out of range for a "
                 "dataset of {} samples",
                 indices_[k], k, n);
}

Subset Subset::first(std::shared_ptr<const ImageDataset> dataset, std::size_t n) {
    XG_CHECK(dataset != nullptr, "Subset::first: the dataset is null");
    std::vector<std::size_t> idx(std::min(n, dataset->size()));
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    return Subset(std::move(dataset), std::move(idx));
}

std::int64_t Subset::read(std::size_t i, float* out) const {
    return dataset_->read(indices_[i], out);
}

}  // namespace xg::data
