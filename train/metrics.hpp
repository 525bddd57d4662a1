#pragma once
// Per-epoch training metrics: kept in memory, written as CSV and drawn as an SVG chart (loss and
// accuracy per epoch, train and test) that opens in any browser; no plotting tool needed.
#include <cstddef>
#include <string>
#include <vector>

namespace xg::train {

struct EpochMetrics {
    std::size_t epoch = 0;                 // 1-based
    double train_loss = 0, train_acc = 0;  // accuracies as fractions in [0, 1]
    double test_loss = 0, test_acc = 0;
    double lr = 0;
    double seconds = 0;  // wall time of the epoch (training and evaluation)
};

class MetricsLog {
  public:
    void add(const EpochMetrics& m) { rows_.push_back(m); }
    const std::vector<EpochMetrics>& rows() const { return rows_; }
    void clear() { rows_.clear(); }

    // "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds" and one row per epoch. Written
    // to a sibling temp file and renamed over path, so a reader never sees half a file.
    void write_csv(const std::string& path) const;
    std::string csv() const;
    // Parses what csv() writes (used on --resume); throws xg::Error naming the file and line.
    static MetricsLog read_csv(const std::string& path);
    static MetricsLog parse_csv(const std::string& text, const std::string& name = "<csv>");

    // Two panels side by side: loss (train, test) and accuracy in % (train, test) per epoch.
    void write_svg(const std::string& path, const std::string& title = "training") const;
    std::string svg(const std::string& title = "training") const;

  private:
    std::vector<EpochMetrics> rows_;
};

// Writes text to path atomically (sibling temp file, rename). Throws xg::Error on failure.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace xg::train
