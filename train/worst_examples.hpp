#pragma once
// The k examples a classifier got most wrong (highest cross-entropy loss), kept while a test pass
// runs: per batch a loss per sample from the logits, and a copy of an image only when it enters
// the top k, so the pass does not slow down.
//
//   train::WorstExamples worst(24);
//   for (auto& batch : test_loader) { ...; worst.add(batch.images, logits, batch.labels); }
//   report.add_image_grid("most wrong", worst.images(class_names, mean, std));
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "train/report.hpp"

namespace xg::train {

class WorstExamples {
  public:
    explicit WorstExamples(std::size_t k);

    // images (N, C, H, W) with C 1 or 3, or (N, H, W), floating; logits (N, K) floating; labels
    // (N) int64 in [0, K). Throws xg::Error naming the shapes on a mismatch (nothing kept then).
    void add(const Tensor& images, const Tensor& logits, const Tensor& labels);

    struct Example {
        double loss = 0;     // -log p(label)
        double p_label = 0;  // softmax probability of the true class
        double p_predicted = 0;
        std::int64_t label = 0, prediction = 0;
        std::size_t index = 0;      // position in the stream of samples seen
        std::vector<float> pixels;  // C x H x W
    };
    // Highest loss first (ties: the earlier sample first).
    std::vector<Example> examples() const;
    std::size_t seen() const { return seen_; }

    // The examples as images, each pixel (x * std + mean) * 255 clamped to [0, 255] (undoing a
    // Normalize(mean, std) of images in [0, 1]), captioned with the true and predicted class
    // (names[i], or the index when names is empty); wrong predictions are highlighted.
    std::vector<ReportImage> images(const std::vector<std::string>& names = {}, double mean = 0,
                                    double std = 1) const;

  private:
    std::size_t k_, seen_ = 0, channels_ = 0, height_ = 0, width_ = 0;
    std::vector<Example> heap_;  // min-heap by (loss, -index): the top is the first to go
};

}  // namespace xg::train
