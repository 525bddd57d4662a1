#pragma once
// Confusion matrix of a classifier: rows are true classes, columns predictions; per-class
// accuracy (recall) and a text table with class names, as printed at the end of training.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace xg::train {

class ConfusionMatrix {
  public:
    // names: one per class, or empty for "0", "1", ...
    explicit ConfusionMatrix(std::size_t num_classes, std::vector<std::string> names = {});
    // predictions and labels: int64 tensors of the same shape, values in [0, num_classes).
    void add(const Tensor& predictions, const Tensor& labels);
    void add(std::int64_t label, std::int64_t prediction);

    std::size_t num_classes() const { return n_; }
    std::size_t count(std::size_t label, std::size_t prediction) const {
        return counts_[label * n_ + prediction];
    }
    std::size_t total() const;
    double accuracy() const;                         // fraction correct
    std::vector<double> per_class_accuracy() const;  // per true class; NaN if it has no samples
    // The table (counts) and a per-class accuracy column.
    std::string to_string() const;

  private:
    std::size_t n_;
    std::vector<std::string> names_;
    std::vector<std::size_t> counts_;
};

}  // namespace xg::train
