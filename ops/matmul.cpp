#include "ops/matmul.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include <xtensor-blas/xblas.hpp>

#ifdef XGRAD_USE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "core/alloc_failure.hpp"
#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "core/threads.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace detail {

// xtensor-blas's cxxblas layer calls cblas_?gemm with the transpose flags, so a transposed
// operand is never copied. Every gemm in xgrad comes through these two functions; float32 goes
// to oneDNN's dnnl_sgemm when built with it (XGRAD_GEMM, CMakeLists.txt): at the skinny shapes
// of im2col it ran 1.2-3x faster than OpenBLAS here, and it threads with OpenMP, the pool
// xgrad's own kernels use, so no second pool spins beside it.
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
#ifdef XGRAD_USE_DNNL
    if (m == 0 || n == 0) return;
    active_threads();  // oneDNN threads as OpenMP is set for this thread
    using dim = dnnl_dim_t;
    dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', dim(m), dim(n), dim(k), alpha, a,
                                  dim(lda), b, dim(ldb), beta, c, dim(ldc));
    if (st == dnnl_out_of_memory) {  // the op calling gemm names itself (naming_oom)
        char what[128];
        std::snprintf(what, sizeof what,
                      "oneDNN's sgemm could not allocate its scratch memory (gemm %zux%zux%zu)", m,
                      n, k);
        throw AllocationFailure(what);
    }
    XG_CHECK(st == dnnl_success, "gemm: dnnl_sgemm failed (status {}) for {}x{}x{}", int(st), m, n,
             k);
#else
    gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

const char* gemm_backend() {
#ifdef XGRAD_USE_DNNL
    return "oneDNN dnnl_sgemm";
#else
    return "BLAS";
#endif
}

void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta,
          double* c, std::size_t ldc) {
    gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace detail

namespace {

// Shape of op(x) for the last two dims of x.
std::pair<std::size_t, std::size_t> op_dims(const Shape& s, bool trans) {
    std::size_t r = s[s.size() - 2], c = s[s.size() - 1];
    return trans ? std::make_pair(c, r) : std::make_pair(r, c);
}

// One gemm per batch on pointer offsets into the contiguous arrays.
template <class T>
xg::array<T> gemm_batched(const xg::array<T>& a, const xg::array<T>& b, bool ta, bool tb,
                          const Shape& out_shape) {
    auto [m, k] = op_dims(a.shape(), ta);
    std::size_t n = op_dims(b.shape(), tb).second;
    xg::array<T> c = xg::array<T>::from_shape(out_shape);
    if (k == 0) {  // empty sum; BLAS would reject lda = 0
        c.fill(T(0));
        return c;
    }  // otherwise the gemm (beta = 0) writes every element without reading it
    const std::size_t lda = a.shape().back(), ldb = b.shape().back();
    const std::size_t sa = m * k, sb = k * n, sc = m * n;
    const std::size_t batches = m * n == 0 ? 0 : c.size() / (m * n);
    for (std::size_t i = 0; i < batches; ++i) {
        detail::gemm(ta, tb, m, n, k, T(1), a.data() + i * sa, lda, b.data() + i * sb, ldb, T(0),
                     c.data() + i * sc, n);
    }
    return c;
}

}  // namespace

Tensor gemm_op(const Tensor& a, const Tensor& b, bool ta, bool tb, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("gemm_op", a, "input");
    detail::check_defined("gemm_op", b, "other");
    detail::check_floating("gemm_op", a, "input");
    detail::check_same_dtype("gemm_op", a, b);
    XG_CHECK(a.dim() >= 2 && b.dim() >= 2,
             "gemm_op: both operands need at least 2 dims, got {} and {}", a.shape(), b.shape());
    Shape batch(a.shape().begin(), a.shape().end() - 2);
    XG_CHECK(a.dim() == b.dim() && std::equal(batch.begin(), batch.end(), b.shape().begin()),
             "gemm_op: batch dims of {} and {} must be identical (use matmul to broadcast)",
             a.shape(), b.shape());
    auto [m, k] = op_dims(a.shape(), ta);
    auto [k2, n] = op_dims(b.shape(), tb);
    XG_CHECK(k == k2, "gemm_op: cannot multiply {}{} by {}{} ({} != {})", a.shape(),
             ta ? " (transposed)" : "", b.shape(), tb ? " (transposed)" : "", k, k2);
    Shape out_shape = batch;
    out_shape.push_back(m);
    out_shape.push_back(n);
    Tensor out = detail::dispatch_float("gemm_op", a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        return Tensor(gemm_batched(a.data<T>(), b.data<T>(), ta, tb, out_shape));
    });
    if (auto node = record(batch.empty() ? "MmBackward" : "BmmBackward", {a, b}, {out})) {
        bool ga = a.requires_grad(), gb = b.requires_grad();
        SavedTensor sa = gb ? a : Tensor(), sb = ga ? b : Tensor();
        node->set_fn([sa, sb, ga, gb, ta, tb](const TensorList& g) {
            const Tensor& G = g[0];
            // op(A) = G op(B)^T and op(B) = op(A)^T G, written back in the stored layouts.
            Tensor da, db;
            if (ga) {
                Tensor B = sb.unpack();
                da = ta ? gemm_op(B, G, tb, true) : gemm_op(G, B, false, !tb);
            }
            if (gb) {
                Tensor A = sa.unpack();
                db = tb ? gemm_op(G, A, true, ta) : gemm_op(A, G, !ta, false);
            }
            return TensorList{da, db};
        });
    }
    return out;
}

namespace {

Shape drop_last2(const Shape& s) {
    return s.size() <= 2 ? Shape{} : Shape(s.begin(), s.end() - 2);
}

std::vector<std::int64_t> dims_of(const Shape& s) {
    return {s.begin(), s.end()};
}

// Broadcast of the batch dims; the error names both operands' full shapes.
Shape matmul_batch(const Shape& a, const Shape& b) {
    try {
        return detail::broadcast_shapes("matmul", drop_last2(a), drop_last2(b));
    } catch (const Error& e) {
        throw Error(fmt::format("matmul: batch dims of {} and {} cannot be broadcast ({})", a, b,
                                std::string(e.what()).substr(std::string("matmul: ").size())));
    }
}

Shape with_matrix(Shape batch, std::size_t r, std::size_t c) {
    batch.push_back(r);
    batch.push_back(c);
    return batch;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("matmul", a, "input");
    detail::check_defined("matmul", b, "other");
    detail::check_floating("matmul", a, "input");
    detail::check_same_dtype("matmul", a, b);
    XG_CHECK(a.dim() >= 1 && b.dim() >= 1,
             "matmul: both arguments need at least 1 dim, got {} and {}", a.shape(), b.shape());
    const std::size_t ka = a.shape().back(), kb = b.dim() == 1 ? b.shape()[0] : b.size(-2);
    XG_CHECK(ka == kb, "matmul: cannot multiply {} by {} ({} != {})", a.shape(), b.shape(), ka, kb);
    // A 1-D operand becomes a row (a) or column (b) matrix; that dim is dropped at the end.
    Tensor a2 = a.dim() == 1 ? reshape(a, {1, -1}) : a;
    Tensor b2 = b.dim() == 1 ? reshape(b, {-1, 1}) : b;
    const std::size_t n = a2.size(-2), m = b2.size(-1);
    Shape batch = matmul_batch(a.shape(), b.shape());
    Tensor out;
    if (b2.dim() == 2) {
        // (..., n, k) @ (k, m): fold a's batch dims into the rows of one gemm.
        auto rows_n = static_cast<std::int64_t>(shape_numel(batch) * n);
        Tensor rows = a2.dim() == 2 ? a2 : reshape(a2, {rows_n, static_cast<std::int64_t>(ka)});
        out = gemm_op(rows, b2, false, false);
    } else {
        out = gemm_op(expand(a2, with_matrix(batch, n, ka)), expand(b2, with_matrix(batch, ka, m)),
                      false, false);
    }
    Shape out_shape = batch;
    if (a.dim() != 1) out_shape.push_back(n);
    if (b.dim() != 1) out_shape.push_back(m);
    return reshape(out, dims_of(out_shape));
}

Tensor Tensor::matmul(const Tensor& other, Site site) const {
    return xg::matmul(*this, other, site);
}

}  // namespace xg

namespace xg {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Site site) {
    detail::SiteScope at(site);
    const char* op = "linear";
    detail::check_defined(op, x, "input");
    detail::check_defined(op, w, "weight");
    detail::check_floating(op, x, "input");
    detail::check_same_dtype(op, x, w);
    XG_CHECK(w.dim() == 2, "linear: weight must be 2-D (out_features, in_features), got shape {}",
             w.shape());
    XG_CHECK(x.dim() >= 1, "linear: input must have at least 1 dim, got a scalar");
    const std::size_t in = w.shape()[1], outf = w.shape()[0];
    XG_CHECK(x.shape().back() == in,
             "linear: weight expects {} input features, input has {} (input shape {})", in,
             x.shape().back(), x.shape());
    if (b.defined()) {
        detail::check_same_dtype(op, x, b);
        XG_CHECK(b.dim() == 1 && b.shape()[0] == outf, "linear: bias must have shape [{}], got {}",
                 outf, b.shape());
    }
    std::size_t rows = 1;  // the product of the leading dims (also when in == 0)
    for (std::size_t d = 0; d + 1 < x.dim(); ++d) rows *= x.shape()[d];
    Shape out_shape(x.shape().begin(), x.shape().end() - 1);
    out_shape.push_back(outf);
    Tensor out = detail::dispatch_float(op, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> c = xg::array<T>::from_shape(out_shape);
        T* pc = c.data();
        if (b.defined()) {
            const T* pb = b.data<T>().data();
            for (std::size_t r = 0; r < rows; ++r) std::copy(pb, pb + outf, pc + r * outf);
        } else {
            std::fill(pc, pc + c.size(), T(0));
        }
        if (rows > 0 && outf > 0 && in > 0)  // C(rows, out) += X(rows, in) * W(out, in)^T
            detail::gemm(false, true, rows, outf, in, T(1), x.data<T>().data(), in,
                         w.data<T>().data(), in, T(1), pc, outf);
        return Tensor(std::move(c));
    });
    if (auto node = record("LinearBackward", {x, w, b}, {out})) {
        bool gx = x.requires_grad(), gw = w.requires_grad(), gb = b.defined() && b.requires_grad();
        SavedTensor sx = gw ? x : Tensor(), sw = gx ? w : Tensor();
        Shape xs = x.shape();
        std::int64_t n_in = static_cast<std::int64_t>(in), n_out = static_cast<std::int64_t>(outf);
        node->set_fn([sx, sw, gx, gw, gb, xs, n_in, n_out](const TensorList& g) {
            Tensor g2 = reshape(g[0], {-1, n_out});  // (rows, out)
            Tensor dx, dw, db;
            if (gx) {
                std::vector<std::int64_t> s(xs.begin(), xs.end());
                dx = reshape(gemm_op(g2, sw.unpack(), false, false), s);
            }
            if (gw) dw = gemm_op(g2, reshape(sx.unpack(), {-1, n_in}), true, false);
            if (gb) db = sum(g2, {0});
            return TensorList{dx, dw, db};
        });
    }
    return out;
}

}  // namespace xg
