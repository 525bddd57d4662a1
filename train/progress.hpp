#pragma once
// A per-epoch progress display for training loops: batches done, samples/s, running loss, ETA.
// On a terminal it redraws one line in place; otherwise (a log file, CI) it prints one plain
// line every `plain_every_s` seconds, so logs stay readable.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace xg::train {

class ProgressBar {
  public:
    // total_batches: batches in the epoch; label: e.g. "epoch 2/5". out defaults to stdout;
    // tty: whether to redraw in place (default: isatty of out). A null out counts and prints
    // nothing (the ranks other than 0 of a data-parallel run).
    ProgressBar(std::size_t total_batches, std::string label, std::FILE* out = stdout, int tty = -1,
                double plain_every_s = 5.0);
    // One batch done with `samples` samples and its mean loss.
    void update(std::size_t samples, double loss);
    // Continues an epoch resumed mid-way: `batches` done with `samples` samples whose losses
    // summed (each batch's mean loss times its samples) to loss_sum.
    void resume(std::size_t batches, std::size_t samples, double loss_sum);
    std::size_t samples() const { return samples_; }
    double loss_sum() const { return loss_sum_; }
    // Ends the epoch's line (a final redraw on a terminal; nothing more otherwise).
    void finish();

    double running_loss() const { return samples_ ? loss_sum_ / double(samples_) : 0.0; }
    std::size_t batches() const { return done_; }
    double elapsed_s() const;
    // The current status text, e.g. "epoch 1/2 [=====>    ] 120/938 2450 samples/s loss 0.6123
    // ETA 0:33".
    std::string status() const;

  private:
    using Clock = std::chrono::steady_clock;
    std::size_t total_, done_ = 0, samples_ = 0;
    double loss_sum_ = 0.0;
    std::string label_;
    std::FILE* out_;
    bool tty_;
    double plain_every_s_;
    Clock::time_point start_, last_print_;
};

// "1:05" / "1:02:03" for a duration in seconds.
std::string format_duration(double seconds);

}  // namespace xg::train
