#pragma once
// Image transforms for training: they take a batch (N, C, H, W) or one image (C, H, W), float32
// or float64, and return a new tensor (data only: no autograd history). Random ones draw from
// the Generator they are given, per image, in order, so a seed fixes the result.
#include <cstddef>
#include <functional>
#include <vector>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace xg::data {

using Transform = std::function<Tensor(const Tensor& images, Generator& gen)>;

// (x - mean[c]) / std[c] per channel; mean and std hold 1 value (all channels) or C values.
class Normalize {
  public:
    Normalize(std::vector<double> mean, std::vector<double> std);
    Tensor operator()(const Tensor& images) const;
    Tensor operator()(const Tensor& images, Generator&) const { return (*this)(images); }

  private:
    std::vector<double> mean_, std_;
};

// Mirrors each image left-right with probability p (one uniform draw per image).
class RandomHorizontalFlip {
  public:
    explicit RandomHorizontalFlip(double p = 0.5);
    Tensor operator()(const Tensor& images, Generator& gen) const;

  private:
    double p_;
};

// Pads each image with `padding` zeros on every side, then cuts a height x width window at a
// random offset (top, then left, one draw each per image), as torchvision's RandomCrop.
class RandomCrop {
  public:
    RandomCrop(std::size_t size, std::size_t padding = 0) : RandomCrop(size, size, padding) {}
    RandomCrop(std::size_t height, std::size_t width, std::size_t padding);
    Tensor operator()(const Tensor& images, Generator& gen) const;

  private:
    std::size_t height_, width_, padding_;
};

// Applies transforms in order, sharing the generator.
class Compose {
  public:
    explicit Compose(std::vector<Transform> transforms);
    Tensor operator()(const Tensor& images, Generator& gen) const;

  private:
    std::vector<Transform> transforms_;
};

}  // namespace xg::data
