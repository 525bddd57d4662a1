#include "train/worst_examples.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace xg::train {

namespace {
// True when a should leave the top k before b: lower loss, or equal loss and seen later.
bool goes_first(const WorstExamples::Example& a, const WorstExamples::Example& b) {
    return a.loss < b.loss || (a.loss == b.loss && a.index > b.index);
}
// std heap functions keep the "largest" on top; with this order that is the first to go.
bool heap_less(const WorstExamples::Example& a, const WorstExamples::Example& b) {
    return goes_first(b, a);
}
}  // namespace

WorstExamples::WorstExamples(std::size_t k) : k_(k) {
    XG_CHECK(k > 0, "WorstExamples: k must be positive");
}

void WorstExamples::add(const Tensor& images, const Tensor& logits, const Tensor& labels) {
    XG_CHECK(images.defined() && logits.defined() && labels.defined(),
             "WorstExamples::add: undefined tensor");
    XG_CHECK(
        images.dim() == 3 || (images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3)),
        "WorstExamples::add: images must be (N, C, H, W) with C 1 or 3, or (N, H, W), got {}",
        images.shape());
    XG_CHECK(logits.dim() == 2 && labels.dim() == 1 && logits.size(0) == images.size(0) &&
                 labels.size(0) == images.size(0) && logits.size(1) > 0,
             "WorstExamples::add: images {}, logits {} and labels {} do not match (expected "
             "(N, ...), (N, K) and (N))",
             images.shape(), logits.shape(), labels.shape());
    XG_CHECK(labels.dtype() == int64, "WorstExamples::add: labels must be int64, got {}",
             labels.dtype());
    XG_CHECK(is_floating(images.dtype()) && is_floating(logits.dtype()),
             "WorstExamples::add: images and logits must be floating, got {} and {}",
             images.dtype(), logits.dtype());
    const std::size_t c = images.dim() == 4 ? images.size(1) : 1;
    const std::size_t h = images.size(-2), w = images.size(-1);
    XG_CHECK(seen_ == 0 || (c == channels_ && h == height_ && w == width_),
             "WorstExamples::add: images of {}x{}x{} after ones of {}x{}x{}", c, h, w, channels_,
             height_, width_);
    const std::size_t n = labels.size(0), classes = logits.size(1);
    const std::vector<double> z = logits.to_vector();
    const std::int64_t* y = labels.data<std::int64_t>().data();
    for (std::size_t i = 0; i < n; ++i)
        XG_CHECK(y[i] >= 0 && std::size_t(y[i]) < classes,
                 "WorstExamples::add: label {} at {} outside [0, {})", y[i], i, classes);
    channels_ = c, height_ = h, width_ = w;
    const Tensor pix = images.dtype() == float32 ? images : images.detach().to(float32);
    const float* px = pix.data<float>().data();
    const std::size_t size = c * h * w;
    for (std::size_t i = 0; i < n; ++i, ++seen_) {
        const double* row = z.data() + i * classes;
        std::size_t best = 0;
        for (std::size_t j = 1; j < classes; ++j)
            if (row[j] > row[best]) best = j;
        double sum = 0;
        for (std::size_t j = 0; j < classes; ++j) sum += std::exp(row[j] - row[best]);
        Example e;
        e.loss = std::log(sum) + row[best] - row[y[i]];
        e.index = seen_;
        if (heap_.size() == k_ && !goes_first(heap_.front(), e)) continue;
        e.p_label = std::exp(row[y[i]] - row[best]) / sum;
        e.p_predicted = 1 / sum;
        e.label = y[i];
        e.prediction = std::int64_t(best);
        e.pixels.assign(px + i * size, px + (i + 1) * size);
        if (heap_.size() == k_) {
            std::pop_heap(heap_.begin(), heap_.end(), heap_less);
            heap_.back() = std::move(e);
        } else {
            heap_.push_back(std::move(e));
        }
        std::push_heap(heap_.begin(), heap_.end(), heap_less);
    }
}

std::vector<WorstExamples::Example> WorstExamples::examples() const {
    std::vector<Example> v = heap_;
    std::sort(v.begin(), v.end(),
              [](const Example& a, const Example& b) { return goes_first(b, a); });
    return v;
}

std::vector<ReportImage> WorstExamples::images(const std::vector<std::string>& names, double mean,
                                               double std) const {
    auto name = [&](std::int64_t i) {
        return std::size_t(i) < names.size() ? names[std::size_t(i)] : std::to_string(i);
    };
    std::vector<ReportImage> out;
    for (const Example& e : examples()) {
        ReportImage im;
        im.height = height_, im.width = width_, im.channels = channels_;
        im.pixels.resize(e.pixels.size());
        // C x H x W -> H x W x C
        for (std::size_t ch = 0; ch < channels_; ++ch)
            for (std::size_t p = 0; p < height_ * width_; ++p) {
                double v = (double(e.pixels[ch * height_ * width_ + p]) * std + mean) * 255;
                v = std::isfinite(v) ? std::min(255.0, std::max(0.0, std::round(v))) : 0;
                im.pixels[p * channels_ + ch] = std::uint8_t(v);
            }
        im.caption = fmt::format("true: {}\npredicted: {} ({:.0f}%)", name(e.label),
                                 name(e.prediction), 100 * e.p_predicted);
        im.highlight = e.label != e.prediction;
        out.push_back(std::move(im));
    }
    return out;
}

}  // namespace xg::train
