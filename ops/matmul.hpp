#pragma once
// Matrix products on BLAS gemm with transpose flags (no transposed copies).
#include "core/tensor.hpp"

namespace xg {

// torch.matmul semantics: 1-D x 1-D dot, 2-D x 2-D, and batched (..., n, k) x (..., k, m) with
// broadcast batch dims; a 1-D operand is treated as a row/column vector and the dim removed.
Tensor matmul(const Tensor& a, const Tensor& b, Site site = Site());
// op(a) @ op(b) for 2-D or batched (same batch dims) a, b, where op transposes the last two dims
// when the flag is set. Differentiable; its backward rule uses gemm_op again.
Tensor gemm_op(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, Site site = Site());

// torch.nn.functional.linear: x (*, in), weight (out, in), bias (out) or undefined ->
// (*, out) = x @ weight^T + bias, as one gemm with the transpose flag (the bias is written into
// the output first and the gemm accumulates onto it). Twice differentiable.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Site site = Site());

namespace detail {
// Which library runs float32 gemms: "oneDNN dnnl_sgemm" or "BLAS".
const char* gemm_backend();
// The one place every gemm in xgrad goes through: row-major C = alpha*op(A)*op(B) + beta*C.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
          std::size_t ldc);
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta,
          double* c, std::size_t ldc);
}  // namespace detail

}  // namespace xg
