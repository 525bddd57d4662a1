// conv2d forward and forward+backward, xgrad beside libtorch (when built with it), float32, at the
// three shapes of the CNN issue, with the machine's plain sgemm rate for scale.
//   cmake -S . -B build-bench -DXGRAD_BUILD_BENCH=ON
//   cmake --build build-bench --target bench_conv
//   ./build-bench/bench/bench_conv [runs per median] [rounds]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.hpp"
#include "xgrad.hpp"

#ifdef XGRAD_WITH_TORCH
#include <torch/torch.h>
#endif

extern "C" int openblas_get_num_threads();

namespace {

struct ConvShape {
    const char* name;
    std::size_t n, c, h, w, f, k, pad;
};

// 2 * N * F * OH * OW * C * kh * kw: the multiply-adds of the forward gemm.
double conv_flops(const ConvShape& s) {
    std::size_t oh = s.h + 2 * s.pad - s.k + 1, ow = s.w + 2 * s.pad - s.k + 1;
    return 2.0 * double(s.n * s.f * oh * ow * s.c * s.k * s.k);
}

double sgemm_gflops(std::size_t m, int reps) {
    std::vector<float> a(m * m, 1.0f), b(m * m, 0.5f), c(m * m);
    double ms = xg::bench::median_ms(
        [&] {
            xg::detail::gemm(false, false, m, m, m, 1.0f, a.data(), m, b.data(), m, 0.0f, c.data(),
                             m);
        },
        reps, 2);
    return 2.0 * double(m * m * m) / (ms * 1e6);
}

struct Timing {
    double fwd_ms = 0, fwdbwd_ms = 0;
};

Timing time_xgrad(const ConvShape& s, int reps) {
    using namespace xg;
    manual_seed(0);
    Tensor x = randn({s.n, s.c, s.h, s.w}), w = randn({s.f, s.c, s.k, s.k}), b = randn({s.f});
    auto pad = static_cast<std::int64_t>(s.pad);
    auto o = Conv2dFuncOptions().padding(pad);
    Timing t;
    t.fwd_ms = bench::median_ms(
        [&] {
            NoGradGuard ng;
            conv2d(x, w, b, o);
        },
        reps);
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    Tensor gy = randn(conv2d(x.detach(), w.detach(), b.detach(), o).shape());
    t.fwdbwd_ms = bench::median_ms(
        [&] {
            Tensor y = conv2d(x, w, b, o);
            backward({y}, {gy});
            x.zero_grad(), w.zero_grad(), b.zero_grad();
        },
        reps);
    return t;
}

#ifdef XGRAD_WITH_TORCH
Timing time_torch(const ConvShape& s, int reps) {
    torch::manual_seed(0);
    auto x = torch::randn({long(s.n), long(s.c), long(s.h), long(s.w)});
    auto w = torch::randn({long(s.f), long(s.c), long(s.k), long(s.k)});
    auto b = torch::randn({long(s.f)});
    auto pad = long(s.pad);
    Timing t;
    t.fwd_ms = xg::bench::median_ms(
        [&] {
            torch::NoGradGuard ng;
            torch::conv2d(x, w, b, 1, pad);
        },
        reps);
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_();
    torch::Tensor gy;
    {
        torch::NoGradGuard ng;
        gy = torch::randn(torch::conv2d(x, w, b, 1, pad).sizes());
    }
    t.fwdbwd_ms = xg::bench::median_ms(
        [&] {
            auto y = torch::conv2d(x, w, b, 1, pad);
            y.backward(gy);
            x.mutable_grad().reset(), w.mutable_grad().reset(), b.mutable_grad().reset();
        },
        reps);
    return t;
}
#endif

void row(const char* shape, const char* pass, double flops, double xms, double tms) {
    std::printf("| %-29s | %-7s | %8.3f | %7.1f |", shape, pass, xms, flops / (xms * 1e6));
    if (tms > 0) {
        std::printf(" %8.3f | %7.1f | %5.2f |\n", tms, flops / (tms * 1e6), xms / tms);
    } else {
        std::printf("        - |       - |     - |\n");
    }
}

// Median of per-round medians.
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// OpenBLAS's pthreads and libtorch's OpenMP threads both spin for a while after a parallel
// region; on a small machine they slow each other down. Let them go idle between libraries.
void settle() {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

int main(int argc, char** argv) {
    int reps = argc > 1 ? std::atoi(argv[1]) : 11;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    // Keep freed memory in the process. On the VM this was written on, first-touch page faults
    // are so costly that whether malloc had returned a buffer to the OS changed either
    // library's timings by up to 3x, depending on the allocation history of the process.
    bool keep_heap = !std::getenv("XGRAD_BENCH_DEFAULT_MALLOC");
    if (keep_heap) {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
    const std::vector<ConvShape> shapes = {
        {"N16 1x28x28, 6 of 5x5", 16, 1, 28, 28, 6, 5, 0},
        {"N50 3x32x32, 32 of 7x7 pad 3", 50, 3, 32, 32, 32, 7, 3},
        {"N64 32x16x16, 64 of 3x3 pad 1", 64, 32, 16, 16, 64, 3, 1},
    };
    std::printf("threads: OpenBLAS %d", openblas_get_num_threads());
#ifdef XGRAD_WITH_TORCH
    torch::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
    std::printf(", libtorch %d", torch::get_num_threads());
#endif
    std::printf("; float32; median over %d rounds of the median of %d runs; malloc %s\n", rounds,
                reps, keep_heap ? "keeps freed memory" : "default");
    std::vector<double> sg;
    for (int r = 0; r < rounds; ++r) sg.push_back(sgemm_gflops(1024, reps));
    std::printf("plain sgemm 1024x1024x1024 via detail::gemm: %.1f GFLOP/s\n\n", median(sg));
    std::printf("| %-29s | %-7s | %8s | %7s | %8s | %7s | %5s |\n", "shape", "pass", "xgrad ms",
                "GFLOP/s", "torch ms", "GFLOP/s", "ratio");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(31, '-').c_str(),
                std::string(9, '-').c_str(), std::string(10, '-').c_str(),
                std::string(9, '-').c_str(), std::string(10, '-').c_str(),
                std::string(9, '-').c_str(), std::string(7, '-').c_str());
    for (const auto& s : shapes) {
        std::vector<double> xf, xb, tf, tb;
        for (int r = 0; r < rounds; ++r) {
            Timing a = time_xgrad(s, reps);
            xf.push_back(a.fwd_ms), xb.push_back(a.fwdbwd_ms);
            settle();
#ifdef XGRAD_WITH_TORCH
            Timing b = time_torch(s, reps);
            tf.push_back(b.fwd_ms), tb.push_back(b.fwdbwd_ms);
            settle();
#endif
        }
        double fl = conv_flops(s);
        row(s.name, "fwd", fl, median(xf), tf.empty() ? 0.0 : median(tf));
        // Backward computes dx and dw, each a gemm as large as the forward one.
        row(s.name, "fwd+bwd", 3 * fl, median(xb), tb.empty() ? 0.0 : median(tb));
    }
    std::printf(
        "\nratio = xgrad time / libtorch time (below 1: xgrad faster); fwd+bwd counts 3x "
        "the forward FLOPs (dx, dw)\n");
    return 0;
}
