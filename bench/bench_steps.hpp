#pragma once
// The cases of bench_steps: each is timed by an xgrad child (bench/steps/xgrad_cases.cpp) and a
// libtorch child (bench/steps/torch_cases.cpp) doing the same work.
#include <string>
#include <vector>

namespace xg::bench {

struct Case {
    std::string name;   // command-line name
    std::string title;  // table row
    std::string unit;   // of the value a child returns: ms, s, MB, %
    double flops = 0;   // per timed call, for the GFLOP/s columns (0: none)
    bool in_default = true;
};

const std::vector<Case>& all_cases();
bool torch_available();
// Each returns the case's value (a median time, or a memory figure); negative on failure.
double run_xgrad(const Case& c, int reps, int threads);
double run_torch(const Case& c, int reps, int threads);

// Conv shapes of bench_conv, shared by both sides.
struct ConvShape {
    long n, c, h, w, f, k, pad;
    double flops() const {
        long oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
        return 2.0 * double(n * f * oh * ow * c * k * k);
    }
};
const ConvShape& conv_shape(const std::string& case_name);  // conv1_*, conv2_*, conv3_*

// One LeNet-5 Fashion-MNIST epoch (SGD lr 0.05 momentum 0.9, batch 64, shuffled) and the test
// pass after it: the peers table of `bench_steps --peers`. False when the side is not built.
struct EpochFigures {
    double train_s = 0, test_s = 0, accuracy = 0;  // accuracy in %
};
bool lenet_epoch_xgrad(int threads, EpochFigures& out);
bool lenet_epoch_torch(int threads, EpochFigures& out);

// Resident set now and at its peak, in MB (from /proc/self/statm and getrusage).
double rss_mb();
double peak_rss_mb();

}  // namespace xg::bench
