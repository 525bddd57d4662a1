#pragma once
// Batched products with PyTorch 1.13 semantics, on the gemm of ops/matmul.hpp, and einsum
// built from differentiable ops (permute, reshape, diagonal, sum, mul, gemm_op), so every op
// here is twice differentiable. float32 and float64, as matmul.
#include <string>

#include "core/tensor.hpp"

namespace xg {

// (B, n, k) @ (B, k, m) -> (B, n, m): one gemm per batch, no broadcasting.
Tensor bmm(const Tensor& a, const Tensor& b, Site site = Site());
// beta * input + alpha * bmm(batch1, batch2); input broadcasts to (B, n, m) and is ignored
// (NaN included) when beta is 0.
Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, double beta = 1.0,
               double alpha = 1.0, Site site = Site());
// beta * input + alpha * mat1 @ mat2 for 2-D mat1, mat2; input broadcasts to (n, m).
Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta = 1.0,
             double alpha = 1.0, Site site = Site());
// a (n) and b (m) -> (n, m) = a_i b_j.
Tensor outer(const Tensor& a, const Tensor& b, Site site = Site());
// Einstein summation (torch.einsum): "ij,jk->ik", implicit output ("ij,jk": the letters seen
// once, sorted), a letter repeated in one operand takes its diagonal ("ii->i", "ii" the trace),
// "..." broadcasts, size-1 dims broadcast; any number of operands, contracted left to right,
// each pair with one batched gemm.
Tensor einsum(const std::string& equation, const TensorList& operands, Site site = Site());

}  // namespace xg
