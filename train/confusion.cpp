#include "train/confusion.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace xg::train {

ConfusionMatrix::ConfusionMatrix(std::size_t num_classes, std::vector<std::string> names)
    : n_(num_classes), names_(std::move(names)), counts_(num_classes * num_classes, 0) {
    XG_CHECK(n_ > 0, "ConfusionMatrix: num_classes must be positive");
    XG_CHECK(names_.empty() || names_.size() == n_,
             "ConfusionMatrix: {} class names for {} classes", names_.size(), n_);
    if (names_.empty()) {
        for (std::size_t i = 0; i < n_; ++i) names_.push_back(std::to_string(i));
    }
}

void ConfusionMatrix::add(std::int64_t label, std::int64_t prediction) {
    auto n = static_cast<std::int64_t>(n_);
    XG_CHECK(label >= 0 && label < n && prediction >= 0 && prediction < n,
             "ConfusionMatrix: label {} / prediction {} outside [0, {})", label, prediction, n);
    counts_[static_cast<std::size_t>(label) * n_ + static_cast<std::size_t>(prediction)] += 1;
}

void ConfusionMatrix::add(const Tensor& predictions, const Tensor& labels) {
    XG_CHECK(predictions.defined() && labels.defined(), "ConfusionMatrix: undefined tensor");
    XG_CHECK(predictions.dtype() == int64 && labels.dtype() == int64,
             "ConfusionMatrix: predictions and labels must be int64, got {} and {}",
             predictions.dtype(), labels.dtype());
    XG_CHECK(predictions.shape() == labels.shape(),
             "ConfusionMatrix: predictions {} and labels {} differ in shape", predictions.shape(),
             labels.shape());
    const std::int64_t* p = predictions.data<std::int64_t>().data();
    const std::int64_t* l = labels.data<std::int64_t>().data();
    // Validate all first so that a bad batch leaves the counts unchanged.
    auto n = static_cast<std::int64_t>(n_);
    for (std::size_t i = 0; i < labels.numel(); ++i) {
        XG_CHECK(l[i] >= 0 && l[i] < n && p[i] >= 0 && p[i] < n,
                 "ConfusionMatrix: label {} / prediction {} at {} outside [0, {})", l[i], p[i], i,
                 n);
    }
    for (std::size_t i = 0; i < labels.numel(); ++i) add(l[i], p[i]);
}

std::size_t ConfusionMatrix::total() const {
    std::size_t t = 0;
    for (auto c : counts_) t += c;
    return t;
}

double ConfusionMatrix::accuracy() const {
    std::size_t right = 0;
    for (std::size_t i = 0; i < n_; ++i) right += count(i, i);
    std::size_t t = total();
    return t ? double(right) / double(t) : 0.0;
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
    std::vector<double> acc(n_);
    for (std::size_t i = 0; i < n_; ++i) {
        std::size_t row = 0;
        for (std::size_t j = 0; j < n_; ++j) row += count(i, j);
        acc[i] = row ? double(count(i, i)) / double(row) : NAN;
    }
    return acc;
}

std::string ConfusionMatrix::to_string() const {
    std::size_t name_w = 11;  // "true \ pred"
    for (std::size_t i = 0; i < n_; ++i)
        name_w = std::max(name_w, fmt::format("{} {}", i, names_[i]).size());
    std::size_t cell_w = 5;
    for (auto c : counts_) cell_w = std::max(cell_w, std::to_string(c).size() + 1);
    std::string o = fmt::format("{:>{}} |", "true \\ pred", name_w);
    for (std::size_t j = 0; j < n_; ++j) o += fmt::format("{:>{}}", j, cell_w);
    o += " | accuracy\n";
    o += std::string(name_w + 2 + cell_w * n_, '-') + "-+---------\n";
    auto acc = per_class_accuracy();
    for (std::size_t i = 0; i < n_; ++i) {
        o += fmt::format("{:>{}} |", fmt::format("{} {}", i, names_[i]), name_w);
        for (std::size_t j = 0; j < n_; ++j) o += fmt::format("{:>{}}", count(i, j), cell_w);
        o += std::isnan(acc[i]) ? std::string(" |       -\n")
                                : fmt::format(" | {:6.2f}%\n", 100 * acc[i]);
    }
    return o;
}

}  // namespace xg::train
