#include "data/transforms.hpp"

#include <algorithm>
#include <cmath>

#include "core/checked.hpp"
#include "core/error.hpp"

namespace xg::data {

namespace {

// Views a (C, H, W) or (N, C, H, W) floating tensor as N images; returns {n, c, h, w}.
std::array<std::size_t, 4> image_dims(const char* op, const Tensor& x) {
    XG_CHECK(x.defined(), "{}: images is an undefined tensor", op);
    XG_CHECK(is_floating(x.dtype()), "{}: images must be float32 or float64, got {}", op,
             x.dtype());
    const Shape& s = x.shape();
    XG_CHECK(s.size() == 3 || s.size() == 4,
             "{}: images must be (C, H, W) or (N, C, H, W), got shape {}", op, s);
    if (s.size() == 3) return {1, s[0], s[1], s[2]};
    return {s[0], s[1], s[2], s[3]};
}

template <class F>
Tensor dispatch_float(const Tensor& x, F&& f) {
    if (x.dtype() == float32) return Tensor(f(x.data<float>(), float{}));
    return Tensor(f(x.data<double>(), double{}));
}

}  // namespace

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
    XG_CHECK(!mean_.empty() && !std_.empty(), "Normalize: mean and std must not be empty");
    for (double s : std_)
        XG_CHECK(s != 0.0 && std::isfinite(s), "Normalize: std must be finite and nonzero, got {}",
                 s);
}

Tensor Normalize::operator()(const Tensor& images) const {
    auto [n, c, h, w] = image_dims("Normalize", images);
    XG_CHECK(mean_.size() == 1 || mean_.size() == c,
             "Normalize: mean has {} values, images have {} channels", mean_.size(), c);
    XG_CHECK(std_.size() == 1 || std_.size() == c,
             "Normalize: std has {} values, images have {} channels", std_.size(), c);
    // C++17 lambdas cannot capture structured bindings (clang refuses): init-captures copy them.
    auto run = [&, n = n, c = c, h = h, w = w](const auto& a, auto zero) {
        using T = decltype(zero);
        xg::array<T> out = xg::array<T>::from_shape(a.shape());
        const T* src = a.data();
        T* dst = out.data();
        const std::size_t plane = h * w;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t ch = 0; ch < c; ++ch) {
                // Same arithmetic as torchvision: (x - mean) / std in the tensor's dtype.
                const T m = static_cast<T>(mean_.size() == 1 ? mean_[0] : mean_[ch]);
                const T s = static_cast<T>(std_.size() == 1 ? std_[0] : std_[ch]);
                const std::size_t off = (i * c + ch) * plane;
                for (std::size_t k = 0; k < plane; ++k) dst[off + k] = (src[off + k] - m) / s;
            }
        return out;
    };
    return dispatch_float(images, run);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
    XG_CHECK(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got {}", p);
}

Tensor RandomHorizontalFlip::operator()(const Tensor& images, Generator& gen) const {
    auto [n, c, h, w] = image_dims("RandomHorizontalFlip", images);
    auto run = [&, n = n, c = c, h = h, w = w](const auto& a, auto zero) {
        using T = decltype(zero);
        xg::array<T> out = a;
        T* dst = out.data();
        for (std::size_t i = 0; i < n; ++i) {
            if (!(gen.uniform() < p_)) continue;
            for (std::size_t row = 0; row < c * h; ++row) {
                T* r = dst + (i * c * h + row) * w;
                std::reverse(r, r + w);
            }
        }
        return out;
    };
    return dispatch_float(images, run);
}

RandomCrop::RandomCrop(std::size_t height, std::size_t width, std::size_t padding)
    : height_(height), width_(width), padding_(padding) {
    XG_CHECK(height > 0 && width > 0, "RandomCrop: size must be positive, got {}x{}", height,
             width);
    // Below 2^60 the padded sizes and the signed offsets of the crop cannot overflow.
    constexpr std::size_t kMax = std::size_t(1) << 60;
    XG_CHECK(height < kMax && width < kMax && padding < kMax,
             "RandomCrop: size {}x{} and padding {} must each be below 2^60", height, width,
             padding);
}

Tensor RandomCrop::operator()(const Tensor& images, Generator& gen) const {
    auto [n, c, h, w] = image_dims("RandomCrop", images);
    const std::size_t hp = h + 2 * padding_, wp = w + 2 * padding_;
    XG_CHECK(height_ <= hp && width_ <= wp,
             "RandomCrop: crop {}x{} is larger than the padded image {}x{} ({}x{} with padding {})",
             height_, width_, hp, wp, h, w, padding_);
    Shape out_shape = images.shape();
    out_shape[out_shape.size() - 2] = height_;
    out_shape[out_shape.size() - 1] = width_;
    checked_numel("RandomCrop", out_shape, dtype_size(images.dtype()));
    auto run = [&, n = n, c = c, h = h, w = w](const auto& a, auto zero) {
        using T = decltype(zero);
        xg::array<T> out = xt::zeros<T>(out_shape);
        const T* src = a.data();
        T* dst = out.data();
        for (std::size_t i = 0; i < n; ++i) {
            // Offsets of the window in the padded image, in [0, hp - height] and [0, wp - width].
            auto top =
                static_cast<std::size_t>(gen.uniform() * static_cast<double>(hp - height_ + 1));
            auto left =
                static_cast<std::size_t>(gen.uniform() * static_cast<double>(wp - width_ + 1));
            for (std::size_t ch = 0; ch < c; ++ch)
                for (std::size_t y = 0; y < height_; ++y) {
                    // Source row in the unpadded image; rows in the padding stay zero.
                    std::ptrdiff_t sy = static_cast<std::ptrdiff_t>(top + y) -
                                        static_cast<std::ptrdiff_t>(padding_);
                    if (sy < 0 || sy >= static_cast<std::ptrdiff_t>(h)) continue;
                    std::ptrdiff_t sx0 =
                        static_cast<std::ptrdiff_t>(left) - static_cast<std::ptrdiff_t>(padding_);
                    std::ptrdiff_t x_begin = std::max<std::ptrdiff_t>(0, -sx0);
                    std::ptrdiff_t x_end = std::min<std::ptrdiff_t>(
                        static_cast<std::ptrdiff_t>(width_), static_cast<std::ptrdiff_t>(w) - sx0);
                    const T* srow = src + ((i * c + ch) * h + static_cast<std::size_t>(sy)) * w;
                    T* drow = dst + ((i * c + ch) * height_ + y) * width_;
                    for (std::ptrdiff_t x = x_begin; x < x_end; ++x) drow[x] = srow[sx0 + x];
                }
        }
        return out;
    };
    return dispatch_float(images, run);
}

Compose::Compose(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {
    for (std::size_t i = 0; i < transforms_.size(); ++i)
        XG_CHECK(static_cast<bool>(transforms_[i]), "Compose: transform {} is empty", i);
}

Tensor Compose::operator()(const Tensor& images, Generator& gen) const {
    Tensor x = images;
    for (const auto& t : transforms_) x = t(x, gen);
    return x;
}

}  // namespace xg::data
