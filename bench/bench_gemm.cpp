// The gemm backend study: single-precision gemm at the shapes conv2d's im2col produces for the
// benchmark models, through OpenBLAS (cblas), BLIS (typed API, loaded privately so its cblas
// symbols do not replace OpenBLAS's) and oneDNN's dnnl_sgemm, at 1 and 2 threads.
//   ./build/bench/bench_gemm [reps]
// Each cell: median GFLOP/s of `reps` calls after warm-up. Backends that are not installed
// print "-". Run it on a quiet machine; OPENBLAS_CORETYPE is reported as found.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"

extern "C" {
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);
}

namespace {

struct Shape {
    const char* what;
    bool ta, tb;
    long m, n, k;
};

// Per-sample and batch-folded gemms of conv2d at the bench_conv shapes: forward W(F x CK) x
// cols(CK x L); weight grad dY(F x L) x cols^T; input grad W^T x dY (into the column buffer).
const std::vector<Shape> kShapes = {
    {"LeNet conv1 fwd, 1 sample", false, false, 6, 784, 25},
    {"LeNet conv1 fwd, 16 samples folded", false, false, 6, 12544, 25},
    {"LeNet conv2 fwd, 1 sample", false, false, 16, 100, 150},
    {"LeNet conv2 fwd, 64 samples folded", false, false, 16, 6400, 150},
    {"cs231n 7x7 fwd, 1 sample", false, false, 32, 1024, 147},
    {"cs231n 7x7 fwd, 50 samples folded", false, false, 32, 51200, 147},
    {"cs231n 7x7 dW, 1 sample", false, true, 32, 147, 1024},
    {"cs231n 7x7 dW if the columns were transposed", false, false, 32, 147, 1024},
    {"cs231n 7x7 dX cols, 1 sample", true, false, 147, 1024, 32},
    {"3x3 64 fwd, 1 sample", false, false, 64, 256, 288},
    {"3x3 64 fwd, 64 samples folded", false, false, 64, 16384, 288},
    {"3x3 64 dW, 1 sample", false, true, 64, 288, 256},
    {"3x3 64 dW if the columns were transposed", false, false, 64, 288, 256},
    {"3x3 64 dX cols, 1 sample", true, false, 288, 256, 64},
    {"square 1024", false, false, 1024, 1024, 1024},
};

using DnnlSgemm = int (*)(char, char, long, long, long, float, const float*, long, const float*,
                          long, float, float*, long);
using BliSgemm = void (*)(int, int, long, long, long, const float*, const float*, long, long,
                          const float*, long, long, const float*, float*, long, long);
using SetThreads = void (*)(long);

struct Backends {
    DnnlSgemm dnnl = nullptr;
    BliSgemm blis = nullptr;
    SetThreads blis_threads = nullptr;
    void (*omp_threads)(int) = nullptr;
    void (*blas_threads)(int) = nullptr;  // OpenBLAS's, when the BLAS is OpenBLAS
};

Backends load() {
    Backends b;
    if (void* h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL))
        b.dnnl = reinterpret_cast<DnnlSgemm>(dlsym(h, "dnnl_sgemm"));
    if (void* h = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL)) {
        b.blis = reinterpret_cast<BliSgemm>(dlsym(h, "bli_sgemm"));
        b.blis_threads = reinterpret_cast<SetThreads>(dlsym(h, "bli_thread_set_num_threads"));
    }
    b.blas_threads =
        reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (void* h = dlopen("libgomp.so.1", RTLD_NOW | RTLD_GLOBAL))
        b.omp_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "omp_set_num_threads"));
    return b;
}

double gflops(const Shape& s, double ms) {
    return 2.0 * double(s.m * s.n * s.k) / (ms * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 21;
    Backends be = load();
    const char* core = std::getenv("OPENBLAS_CORETYPE");
    std::printf("OPENBLAS_CORETYPE=%s; GFLOP/s, median of %d calls\n\n", core ? core : "(unset)",
                reps);
    std::printf("| gemm (M x N x K) | threads | OpenBLAS | BLIS | dnnl_sgemm |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    for (const auto& s : kShapes) {
        std::vector<float> a(std::size_t(s.m * s.k), 0.5f), b(std::size_t(s.k * s.n), 0.25f),
            c(std::size_t(s.m * s.n));
        const long lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n, ldc = s.n;
        for (int threads : {1, 2}) {
            if (be.blas_threads) be.blas_threads(threads);
            if (be.blis_threads) be.blis_threads(threads);
            if (be.omp_threads) be.omp_threads(threads);
            double ob = xg::bench::median_ms(
                [&] {
                    cblas_sgemm(101, s.ta ? 112 : 111, s.tb ? 112 : 111, int(s.m), int(s.n),
                                int(s.k), 1.0f, a.data(), int(lda), b.data(), int(ldb), 0.0f,
                                c.data(), int(ldc));
                },
                reps);
            std::string bl = "-", dn = "-";
            char buf[32];
            if (be.blis) {
                const float one = 1.0f, zero = 0.0f;
                // Strides instead of transpose flags: row-major op(A) is (rs, cs) = (lda, 1),
                // or (1, lda) when transposed.
                double ms = xg::bench::median_ms(
                    [&] {
                        be.blis(0, 0, s.m, s.n, s.k, &one, a.data(), s.ta ? 1 : lda, s.ta ? lda : 1,
                                b.data(), s.tb ? 1 : ldb, s.tb ? ldb : 1, &zero, c.data(), ldc, 1);
                    },
                    reps);
                std::snprintf(buf, sizeof buf, "%.1f", gflops(s, ms));
                bl = buf;
            }
            if (be.dnnl) {
                double ms = xg::bench::median_ms(
                    [&] {
                        be.dnnl(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, 1.0f, a.data(),
                                lda, b.data(), ldb, 0.0f, c.data(), ldc);
                    },
                    reps);
                std::snprintf(buf, sizeof buf, "%.1f", gflops(s, ms));
                dn = buf;
            }
            std::printf("| %s (%ldx%ldx%ld%s%s) | %d | %.1f | %s | %s |\n", s.what, s.m, s.n, s.k,
                        s.ta ? ", A^T" : "", s.tb ? ", B^T" : "", threads, gflops(s, ob),
                        bl.c_str(), dn.c_str());
            std::fflush(stdout);
        }
    }
    return 0;
}
