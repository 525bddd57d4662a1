#pragma once
// A run report: one self-contained HTML page (inline SVG charts, inline PNG images, inline CSS
// and script; no network) that a training program writes beside metrics.csv.
//
//   train::Report report("train_cnn on Fashion-MNIST");
//   report.add_settings({{"lr", "0.002"}, {"epochs", "5"}})
//       .add_metrics(run.metrics)                 // loss, accuracy, learning rate per epoch
//       .add_confusion(confusion)                 // heat map and per-class accuracy
//       .add_image_grid("Most wrong test images", worst.images(names, mean, std));
//   report.write("runs/train_cnn/report.html");   // atomically
//
// The page's script checks that every section rendered (charts have a size, images decoded) and
// writes "report-ok" or "report-error: ..." into the element with id report-status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "train/chart.hpp"
#include "train/confusion.hpp"
#include "train/metrics.hpp"

namespace xg::train {

// 8-bit pixels, row-major height x width x channels (1 gray, 3 RGB), and a caption under it.
struct ReportImage {
    std::vector<std::uint8_t> pixels;
    std::size_t height = 0, width = 0, channels = 1;
    std::string caption;     // newlines become line breaks
    bool highlight = false;  // a red frame (e.g. a wrong prediction)
};

class Report {
  public:
    explicit Report(std::string title);

    using Rows = std::vector<std::pair<std::string, std::string>>;
    // A two-column table (name, value), e.g. the command line's settings or timings.
    Report& add_table(const std::string& heading, const Rows& rows);
    Report& add_settings(const Rows& rows) { return add_table("Run settings", rows); }
    // From a MetricsLog: loss and accuracy (train, test) per epoch, the learning rate at the end
    // of each epoch (unless lr_chart is false, e.g. when a per-step schedule is added with
    // add_curve), and a table of every epoch with its time (placed last on the page).
    Report& add_metrics(const MetricsLog& log, bool lr_chart = true);
    // A line chart: one y per x per series (e.g. the loss per step, a per-step lr schedule).
    Report& add_curve(const std::string& heading, const std::string& xlabel,
                      const std::string& ylabel, const std::vector<double>& xs,
                      const std::vector<ChartSeries>& series);
    // The confusion matrix as a heat map (rows true, columns predicted, shaded by the fraction
    // of the row) with the class names (one per class; empty: 0, 1, ...), beside the per-class
    // accuracy.
    Report& add_confusion(const ConfusionMatrix& confusion,
                          const std::vector<std::string>& names = {});
    Report& add_image_grid(const std::string& heading, const std::vector<ReportImage>& images);
    // Text shown as written (e.g. a language model's generated samples), one box each.
    Report& add_text_samples(const std::string& heading, const std::vector<std::string>& samples);
    // A paragraph of text.
    Report& add_note(const std::string& heading, const std::string& text);

    std::size_t num_sections() const { return sections_.size() + (epochs_.empty() ? 0 : 1); }
    std::string html() const;
    // Written to a sibling temp file and renamed over path. Throws xg::Error on failure.
    void write(const std::string& path) const;

  private:
    struct Section {
        std::string kind, heading, body;
    };
    Report& add(std::string kind, const std::string& heading, std::string body);
    std::string title_, epochs_;
    std::vector<Section> sections_;
};

// s with & < > " ' as HTML entities.
std::string html_escape(const std::string& s);

}  // namespace xg::train
