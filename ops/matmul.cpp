#include "ops/matmul.hpp"

#include <xtensor-blas/xblas.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"

namespace xg {

namespace detail {

// xtensor-blas's cxxblas layer calls cblas_?gemm with the transpose flags, so a transposed
// operand is never copied. Every gemm in xgrad comes through these two functions: a faster
// backend only has to change them.
template <class T>
void gemm_impl(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
               std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    using idx = xt::blas_index_t;
    cxxblas::gemm<idx>(cxxblas::StorageOrder::RowMajor,
                       ta ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans,
                       tb ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans,
                       static_cast<idx>(m), static_cast<idx>(n), static_cast<idx>(k), alpha, a,
                       static_cast<idx>(lda), b, static_cast<idx>(ldb), beta, c,
                       static_cast<idx>(ldc));
}

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
          std::size_t ldc) {
    gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta,
          double* c, std::size_t ldc) {
    gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace detail

}  // namespace xg
