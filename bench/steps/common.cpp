// The case list and the helpers both sides share.
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "bench/bench_steps.hpp"

namespace xg::bench {

namespace {
const ConvShape kConv[3] = {{16, 1, 28, 28, 6, 5, 0},     // LeNet's first conv
                            {50, 3, 32, 32, 32, 7, 3},    // the seed's ThreeLayerConvNet
                            {64, 32, 16, 16, 64, 3, 1}};  // a 3x3 layer in the middle of a CNN
const char* kConvTitle[3] = {"N16 1x28x28, 6 of 5x5", "N50 3x32x32, 32 of 7x7 pad 3",
                             "N64 32x16x16, 64 of 3x3 pad 1"};
}  // namespace

const std::vector<Case>& all_cases() {
    static const std::vector<Case> cases = [] {
        std::vector<Case> v = {
            {"lenet", "a. LeNet-5 train step, batch 64, SGD momentum", "ms"},
            {"convnet", "b. ThreeLayerConvNet train step, batch 50, Adam", "ms"},
            {"fcn", "c. FullyConnectedNet [100,100] BN + dropout, batch 200, Adam", "ms"},
            {"epoch", "d. main-job CNN, one Fashion-MNIST epoch with loading", "s"},
            {"lstm", "h. LSTM 2 layers, hidden 256, seq 64, batch 32, train step, Adam", "ms"},
            {"gpt", "h. GPT 4 layers, d 128, 4 heads, context 128, batch 32, train step", "ms"},
        };
        for (int i = 0; i < 3; ++i) {
            std::string id = "conv" + std::to_string(i + 1);
            v.push_back({id + "_fwd", std::string("e. conv2d fwd ") + kConvTitle[i], "ms",
                         kConv[i].flops()});
            v.push_back({id + "_fwdbwd", std::string("e. conv2d fwd+bwd ") + kConvTitle[i], "ms",
                         3 * kConv[i].flops()});
        }
        v.push_back({"sgemm", "e. sgemm 1024x1024x1024", "ms", 2.0 * 1024 * 1024 * 1024});
        v.push_back({"overhead", "f. 1000 elementwise ops on 16 floats, fwd+bwd", "ms"});
        v.push_back({"peak_rss", "g. peak resident memory above start, 200 LeNet steps", "MB"});
        v.push_back({"rss_growth", "g. resident memory after 1000 LeNet steps vs 100", "%"});
        return v;
    }();
    return cases;
}

const ConvShape& conv_shape(const std::string& name) {
    if (name.size() < 5 || name.compare(0, 4, "conv") != 0) throw std::invalid_argument(name);
    int i = name[4] - '1';
    if (i < 0 || i > 2) throw std::invalid_argument(name);
    return kConv[i];
}

double rss_mb() {
    std::ifstream f("/proc/self/statm");
    long pages = 0, resident = 0;
    f >> pages >> resident;
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // kB on Linux
}

}  // namespace xg::bench
