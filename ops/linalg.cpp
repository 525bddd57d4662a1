#include "ops/linalg.hpp"

#include "core/dispatch.hpp"
#include "ops/elementwise.hpp"
#include "ops/matmul.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

// The checks bmm and baddbmm share; gemm_op then does the product (one gemm per batch).
void check_bmm(const char* op, const Tensor& a, const Tensor& b, const char* an, const char* bn) {
    detail::check_defined(op, a, an);
    detail::check_defined(op, b, bn);
    detail::check_floating(op, a, an);
    detail::check_same_dtype(op, a, b);
    XG_CHECK(a.dim() == 3, "{}: {} must be a 3-D tensor, got shape {}", op, an, a.shape());
    XG_CHECK(b.dim() == 3, "{}: {} must be a 3-D tensor, got shape {}", op, bn, b.shape());
    XG_CHECK(a.shape()[0] == b.shape()[0], "{}: batch sizes differ: {} {} has {}, {} {} has {}", op,
             an, a.shape(), a.shape()[0], bn, b.shape(), b.shape()[0]);
    XG_CHECK(a.shape()[2] == b.shape()[1], "{}: cannot multiply {} by {} ({} != {})", op, a.shape(),
             b.shape(), a.shape()[2], b.shape()[1]);
}

// beta * input + alpha * product, where input broadcasts to the product's shape.
Tensor scale_add(const char* op, const Tensor& input, Tensor product, double beta, double alpha) {
    detail::check_defined(op, input, "input");
    detail::check_same_dtype(op, input, product);
    XG_CHECK(detail::is_broadcastable_to(input.shape(), product.shape()),
             "{}: input of shape {} does not broadcast to the product's shape {}", op,
             input.shape(), product.shape());
    if (alpha != 1.0) product = mul(product, alpha);
    if (beta == 0.0) return product;  // as PyTorch: input is not read (its NaNs do not spread)
    return add(beta == 1.0 ? input : mul(input, beta), product);
}

}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    check_bmm("bmm", a, b, "input", "mat2");
    return gemm_op(a, b, false, false);
}

Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, double beta,
               double alpha, Site site) {
    detail::SiteScope at(site);
    check_bmm("baddbmm", batch1, batch2, "batch1", "batch2");
    detail::check_defined("baddbmm", input, "input");
    return scale_add("baddbmm", input, gemm_op(batch1, batch2, false, false), beta, alpha);
}

Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta, double alpha,
             Site site) {
    detail::SiteScope at(site);
    const char* op = "addmm";
    detail::check_defined(op, input, "input");
    detail::check_defined(op, mat1, "mat1");
    detail::check_defined(op, mat2, "mat2");
    detail::check_floating(op, mat1, "mat1");
    detail::check_same_dtype(op, mat1, mat2);
    XG_CHECK(mat1.dim() == 2, "addmm: mat1 must be a matrix (2-D), got shape {}", mat1.shape());
    XG_CHECK(mat2.dim() == 2, "addmm: mat2 must be a matrix (2-D), got shape {}", mat2.shape());
    XG_CHECK(mat1.shape()[1] == mat2.shape()[0],
             "addmm: mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", mat1.shape()[0],
             mat1.shape()[1], mat2.shape()[0], mat2.shape()[1]);
    return scale_add(op, input, gemm_op(mat1, mat2, false, false), beta, alpha);
}

Tensor outer(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("outer", a, "input");
    detail::check_defined("outer", b, "vec2");
    detail::check_floating("outer", a, "input");
    detail::check_same_dtype("outer", a, b);
    XG_CHECK(a.dim() == 1, "outer: input must be 1-D, got shape {}", a.shape());
    XG_CHECK(b.dim() == 1, "outer: vec2 must be 1-D, got shape {}", b.shape());
    return mul(reshape(a, {-1, 1}), reshape(b, {1, -1}));
}

}  // namespace xg
