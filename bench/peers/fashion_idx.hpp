#pragma once
// Fashion-MNIST for the peer programs, decoded by xgrad's IDX reader (data/mnist.hpp: Debian's
// dataset-fashion-mnist, or XGRAD_FASHION_MNIST_DIR) and normalized as the xgrad and libtorch
// sides of bench_steps do, (x / 255 - 0.2860) / 0.3530: one float per pixel, row-major.
#include <chrono>
#include <cstdint>
#include <vector>

#include "data/mnist.hpp"

namespace xg::bench {

struct FashionSplit {
    std::size_t n = 0;
    std::vector<float> pixels;  // n * 28 * 28
    std::vector<unsigned long> labels;
};

inline FashionSplit load_fashion(xg::data::Split split) {
    xg::data::FashionMNIST ds(split);
    FashionSplit s;
    s.n = ds.size();
    const auto& px = ds.pixels();
    s.pixels.resize(px.size());
    for (std::size_t i = 0; i < px.size(); ++i)
        s.pixels[i] = (float(px[i]) / 255.0f - 0.2860f) / 0.3530f;
    const auto& y = ds.labels().data<std::int64_t>();
    s.labels.assign(y.data(), y.data() + s.n);
    return s;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace xg::bench
