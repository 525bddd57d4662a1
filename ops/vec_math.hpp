#pragma once
// Branch-free float exp, tanh and sigmoid that GCC can vectorize inside a loop (glibc's expf and
// tanhf are scalar calls: 60% of a tanh-heavy chain). Vectorizing needs -fno-trapping-math on the
// including file (CMakeLists.txt). Accuracy is a few ulp of glibc's, with the
// same results for inf, NaN, overflow and the subnormal range; tests/test_vec_math.cpp sweeps
// them. double keeps glibc: float64 is for gradcheck, where the last bit matters more than speed.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// On a hot loop's function: an AVX2 clone (twice the SSE2 width) picked at load time where the
// CPU has it. No FMA, so every machine computes the same bits. XGRAD_NO_SIMD_CLONES (CMake option
// of that name, on under the sanitizers) compiles the baseline only: the clones' ifunc resolvers
// run before a sanitizer runtime is initialized, which crashes ThreadSanitizer at load.
// Rule: a function marked XG_SIMD_CLONES must not throw, nor call anything that may (no
// allocation, no checks): GCC 12 compiles a call through the clones' dispatcher as a call that
// cannot throw, so an exception leaving a clone ends in std::terminate (a std::bad_alloc in the
// dim-wise sum did). Allocate and check in the caller; pass raw pointers in.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(XGRAD_NO_SIMD_CLONES)
#define XG_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define XG_SIMD_CLONES
#endif

namespace xg::detail {

// 2^n for n in [-126, 127], built from the exponent bits.
inline float pow2i(std::int32_t n) {
    std::uint32_t bits = static_cast<std::uint32_t>(n + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}

// exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln2 / 2, exp(r) by a degree-7 polynomial.
// The scale 2^n is applied in two halves so that n down to -150 (subnormal results) and up to
// 128 (overflow to inf) need no branch. Only plain arithmetic and selects: std::fma, nearbyint
// or fmin would be library calls on the x86-64 baseline and stop vectorization.
inline float exp_f(float x) {
    float xc = x > -104.0f ? x : -104.0f;  // NaN lands here too; fixed up at the end
    xc = xc < 89.0f ? xc : 89.0f;
    const float shift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float n = (xc * 1.44269504088896341f + shift) - shift;
    float r = xc - n * 0.693359375f;  // ln 2 split in a short high part and a low part
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::int32_t ni = static_cast<std::int32_t>(n);
    const std::int32_t h = ni / 2;
    const float y = p * pow2i(h) * pow2i(ni - h);
    return std::isnan(x) ? x : y;
}

// tanh: an odd polynomial near 0 (where 1 - 2/(e^2x + 1) cancels), that formula elsewhere.
inline float tanh_f(float x) {
    const float ax = std::fabs(x);
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * ax + ax;
    const float big = 1.0f - 2.0f / (exp_f(2.0f * ax) + 1.0f);  // exp overflow: 2/inf = 0
    return std::copysign(ax < 0.625f ? small : big, x);         // odd, -0 included
}

// With e = exp(-|x|) <= 1: 1 / (1 + e) for x >= 0 and e / (1 + e) below, so the negative side
// keeps its tiny values (sigmoid(-100) = 3.7e-44, as in torch) instead of 1/inf = 0.
inline float sigmoid_f(float x) {
    const float e = exp_f(-std::fabs(x));
    const float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

// Sums of contiguous runs for reductions and the fused norm/softmax kernels: 8 independent
// partial sums per block of 1024 (the loop vectorizes without reassociating), block totals added
// in double. A fixed order, so results are reproducible, and the error does not grow with n as a
// single running sum's does. f(i) gives the i-th term.
template <class T, class F>
double sum_terms(std::size_t n, F f) {
    double total = 0;
    for (std::size_t start = 0; start < n; start += 1024) {
        const std::size_t end = std::min(n, start + 1024);
        T acc[8] = {};
        std::size_t k = start;
        for (; k + 8 <= end; k += 8) {
            for (std::size_t j = 0; j < 8; ++j) acc[j] += f(k + j);
        }
        T block = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; k < end; ++k) block += f(k);
        total += static_cast<double>(block);
    }
    return total;
}

template <class T>
double sum_run(const T* p, std::size_t n) {
    return sum_terms<T>(n, [p](std::size_t i) { return p[i]; });
}

// What the elementwise ops call: the loops above for float, glibc for double.
inline float exp_of(float x) {
    return exp_f(x);
}
inline double exp_of(double x) {
    return std::exp(x);
}
inline float tanh_of(float x) {
    return tanh_f(x);
}
inline double tanh_of(double x) {
    return std::tanh(x);
}
inline float sigmoid_of(float x) {
    return sigmoid_f(x);
}
inline double sigmoid_of(double x) {
    const double e = std::exp(-std::fabs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

}  // namespace xg::detail
