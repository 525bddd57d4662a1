#include "train/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace xg::train {

ProgressBar::ProgressBar(std::size_t total_batches, std::string label, std::FILE* out, int tty,
                         double plain_every_s)
    : total_(total_batches),
      label_(std::move(label)),
      out_(out),
      tty_(tty < 0 ? out && ::isatty(::fileno(out)) != 0 : tty != 0),
      plain_every_s_(plain_every_s),
      start_(Clock::now()),
      last_print_(start_) {}

double ProgressBar::elapsed_s() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string format_duration(double seconds) {
    auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string ProgressBar::status() const {
    double t = elapsed_s();
    double rate = t > 0 ? double(samples_) / t : 0.0;
    double eta = done_ > 0 ? t / double(done_) * double(total_ - std::min(done_, total_)) : 0.0;
    constexpr std::size_t width = 24;
    std::size_t fill = total_ ? std::min(width, done_ * width / total_) : width;
    std::string bar(fill, '=');
    if (fill < width) bar += '>' + std::string(width - fill - 1, ' ');
    return fmt::format("{} [{}] {}/{} {:.0f} samples/s loss {:.4f} {} {}", label_, bar, done_,
                       total_, rate, running_loss(), done_ >= total_ ? "time" : "ETA",
                       format_duration(done_ >= total_ ? t : eta));
}

void ProgressBar::resume(std::size_t batches, std::size_t samples, double loss_sum) {
    done_ = batches;
    samples_ = samples;
    loss_sum_ = loss_sum;
}

void ProgressBar::update(std::size_t samples, double loss) {
    ++done_;
    samples_ += samples;
    loss_sum_ += loss * double(samples);
    auto now = Clock::now();
    double since = std::chrono::duration<double>(now - last_print_).count();
    if (!out_) return;
    if (tty_) {
        if (since < 0.1 && done_ < total_) return;  // redraw at most 10 times a second
        fmt::print(out_, "\r{}\033[K", status());
    } else {
        if (since < plain_every_s_ || done_ >= total_) return;  // finish() prints the last line
        fmt::print(out_, "{}\n", status());
    }
    std::fflush(out_);
    last_print_ = now;
}

void ProgressBar::finish() {
    if (!out_) return;
    if (tty_) {
        fmt::print(out_, "\r{}\033[K\n", status());
    } else {
        fmt::print(out_, "{}\n", status());
    }
    std::fflush(out_);
}

}  // namespace xg::train
