#include "ops/conv.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "core/parallel.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace detail {

// One convolution seen from conv2d's side: input (n, c, h, w) -> output (n, f, oh, ow).
// conv_transpose2d uses it with the roles swapped (its output is the conv input).
struct ConvGeom {
    std::size_t n, c, h, w, f, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    std::size_t cg() const { return c / groups; }
    std::size_t fg() const { return f / groups; }
    std::size_t kg() const { return cg() * kh * kw; }  // rows of one group's columns
    std::size_t k() const { return c * kh * kw; }      // rows of all columns
    std::size_t l() const { return oh * ow; }          // columns per sample
};

namespace {

using idx = std::ptrdiff_t;

// Output columns ow whose input column ow*sw + off lies in [0, w): [lo, hi).
std::pair<std::size_t, std::size_t> valid_range(idx off, const ConvGeom& g) {
    idx sw = static_cast<idx>(g.sw), w = static_cast<idx>(g.w), ow = static_cast<idx>(g.ow);
    idx lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    idx hi = w - 1 - off >= 0 ? std::min(ow, (w - 1 - off) / sw + 1) : 0;
    lo = std::min(lo, hi);
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

// Visits every (column row, output row) pair of one sample: f(column row, output row, offset
// of the input row in x or size_t(-1) when it falls in the padding, kernel column offset,
// [lo, hi) valid output columns). im2col and col2im are the same walk, copying both ways.
template <class F>
void walk_columns(const ConvGeom& g, F&& f) {
    for (std::size_t c = 0; c < g.c; ++c) {
        for (std::size_t i = 0; i < g.kh; ++i) {
            for (std::size_t j = 0; j < g.kw; ++j) {
                std::size_t row = (c * g.kh + i) * g.kw + j;
                idx off = static_cast<idx>(j * g.dw) - static_cast<idx>(g.pw);
                auto [lo, hi] = valid_range(off, g);
                for (std::size_t oh = 0; oh < g.oh; ++oh) {
                    idx ih = static_cast<idx>(oh * g.sh + i * g.dh) - static_cast<idx>(g.ph);
                    bool in = ih >= 0 && ih < static_cast<idx>(g.h);
                    std::size_t plane = (c * g.h + (in ? static_cast<std::size_t>(ih) : 0)) * g.w;
                    f(row, oh, in ? plane : std::size_t(-1), off, lo, hi);
                }
            }
        }
    }
}

}  // namespace

// x: one sample (c, h, w) -> cols rows (c, i, j), columns (oh, ow), row stride ld.
template <class T>
void im2col(const T* x, const ConvGeom& g, T* cols, std::size_t ld) {
    walk_columns(g, [&](std::size_t row, std::size_t oh, std::size_t plane, idx off, std::size_t lo,
                        std::size_t hi) {
        T* d = cols + row * ld + oh * g.ow;
        if (plane == std::size_t(-1)) {
            std::fill(d, d + g.ow, T(0));
            return;
        }
        const T* s = x + plane;
        std::fill(d, d + lo, T(0));
        if (g.sw == 1) {
            std::copy(s + (static_cast<idx>(lo) + off), s + (static_cast<idx>(hi) + off), d + lo);
        } else {
            for (std::size_t o = lo; o < hi; ++o) d[o] = s[static_cast<idx>(o * g.sw) + off];
        }
        std::fill(d + hi, d + g.ow, T(0));
    });
}

// The adjoint of im2col: adds every column entry back into its input position (overlapping
// windows accumulate). dx must be initialized by the caller.
template <class T>
void col2im(const T* cols, const ConvGeom& g, T* dx, std::size_t ld) {
    walk_columns(g, [&](std::size_t row, std::size_t oh, std::size_t plane, idx off, std::size_t lo,
                        std::size_t hi) {
        if (plane == std::size_t(-1)) return;
        const T* s = cols + row * ld + oh * g.ow;
        T* d = dx + plane;
        if (g.sw == 1) {  // contiguous: lets the compiler vectorize the adds
            T* dd = d + off;
            for (std::size_t o = lo; o < hi; ++o) dd[o] += s[o];
        } else {
            for (std::size_t o = lo; o < hi; ++o) d[static_cast<idx>(o * g.sw) + off] += s[o];
        }
    });
}

// Column buffers for consecutive samples, rotating through up to 4 MB (uninitialized: im2col
// and the gemm write every entry). Reusing one buffer for every sample was measured 16-28%
// slower in the forward at the benchmark shapes: im2col then overwrites lines the other gemm
// thread has just read (see docs/ops_conv_pool.md). Saving all columns instead would cost
// kh*kw times the input's memory. The 4 MB are kept per thread between calls: allocating them
// per call cost up to 14 ms of page faults per call whenever malloc had returned the memory to
// the OS. A single slot larger than that is allocated per call.
template <class T>
class ColumnRing {
  public:
    static constexpr std::size_t budget = (std::size_t(4) << 20) / sizeof(T);  // elements

    ColumnRing(std::size_t slot_size, std::size_t n) : size_(slot_size) {
        slots_ = std::max<std::size_t>(1, std::min(n, budget / std::max<std::size_t>(1, size_)));
        if (slots_ * size_ <= budget) {
            data_ = cached();
        } else {
            own_.reset(new T[size_]);
            data_ = own_.get();
        }
    }
    T* slot(std::size_t i) { return data_ + (i % slots_) * size_; }

  private:
    static T* cached() {
        thread_local std::unique_ptr<T[]> buf(new T[budget]);
        return buf.get();
    }
    std::size_t size_, slots_;
    T* data_ = nullptr;
    std::unique_ptr<T[]> own_;
};

// The batch is split over xgrad's threads (core/parallel.hpp) only when the float32 gemm is
// oneDNN's: it runs single-threaded inside the region, so the threads do not fight over the
// cores. OpenBLAS (float64, or builds without oneDNN) threads inside each gemm instead.
template <class T>
std::size_t batch_work(std::size_t flops) {
#if defined(XGRAD_USE_DNNL)
    return std::is_same_v<T, float> ? flops : 0;
#else
    (void)flops;
    return 0;
#endif
}

// y (n, f, l) = w (f, kg) x cols per sample and group, plus bias. The bias is written first and
// the gemm accumulates onto it (beta = 1).
template <class T>
void conv_forward(const T* x, const T* w, const T* b, T* y, const ConvGeom& g) {
    std::size_t l = g.l(), kg = g.kg(), fg = g.fg();
    std::size_t work = batch_work<T>(2 * g.n * g.f * kg * l);
    detail::parallel_for(g.n, work, [&](std::size_t n0, std::size_t n1, int) {
        ColumnRing<T> ring(g.k() * l, n1 - n0);
        for (std::size_t n = n0; n < n1; ++n) {
            T* cols = ring.slot(n - n0);
            im2col(x + n * g.c * g.h * g.w, g, cols, l);
            T* yn = y + n * g.f * l;
            for (std::size_t f = 0; f < g.f; ++f)
                std::fill(yn + f * l, yn + (f + 1) * l, b ? b[f] : T(0));
            for (std::size_t grp = 0; grp < g.groups; ++grp) {
                gemm(false, false, fg, l, kg, T(1), w + grp * fg * kg, kg, cols + grp * kg * l, l,
                     T(1), yn + grp * fg * l, l);
            }
        }
    });
}

// Gradients of conv_forward: dx (if non-null; needs w) and dw (if non-null; needs x), one
// sample at a time. dw is summed per chunk of the batch, then the chunks in order. The chunks
// do not depend on the thread count (threads take whole chunks), so every thread count gives
// the same bits. The columns are recomputed from x (saving them would cost kh*kw times the
// input's memory for about 8% of the time).
inline constexpr std::size_t dw_chunks = 8;

template <class T>
void conv_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, const ConvGeom& g) {
    std::size_t l = g.l(), kg = g.kg(), fg = g.fg(), in_size = g.c * g.h * g.w;
    std::size_t work = batch_work<T>(2 * g.n * g.f * kg * l * ((dw ? 1 : 0) + (dx ? 1 : 0)));
    const std::size_t chunks = std::min(g.n, dw_chunks);
    auto first = [&](std::size_t c) { return g.n * c / chunks; };  // chunk c's first sample
    std::vector<T> partial(dw && chunks > 1 ? (chunks - 1) * g.f * kg : 0, T(0));
    if (dw) std::fill(dw, dw + g.f * kg, T(0));
    if (dx) std::fill(dx, dx + g.n * in_size, T(0));
    int threads = detail::parallel_threads(chunks, work);
    detail::parallel_for_threads(chunks, threads, [&](std::size_t c0, std::size_t c1, int) {
        ColumnRing<T> ring(g.k() * l, first(c1) - first(c0));
        for (std::size_t c = c0; c < c1; ++c) {
            T* dwc = !dw || c == 0 ? dw : partial.data() + (c - 1) * g.f * kg;
            for (std::size_t n = first(c); n < first(c + 1); ++n) {
                const T* dyn = dy + n * g.f * l;
                T* cols = ring.slot(n - first(c0));
                if (dw) {
                    im2col(x + n * in_size, g, cols, l);
                    for (std::size_t grp = 0; grp < g.groups; ++grp) {
                        gemm(false, true, fg, kg, l, T(1), dyn + grp * fg * l, l,
                             cols + grp * kg * l, l, T(1), dwc + grp * fg * kg, kg);
                    }
                }
                if (dx) {
                    for (std::size_t grp = 0; grp < g.groups; ++grp) {
                        gemm(true, false, kg, l, fg, T(1), w + grp * fg * kg, kg,
                             dyn + grp * fg * l, l, T(0), cols + grp * kg * l, l);
                    }
                    col2im(cols, g, dx + n * in_size, l);
                }
            }
        }
    });
    for (std::size_t c = 1; c < chunks && dw; ++c) {
        const T* p = partial.data() + (c - 1) * g.f * kg;
        for (std::size_t i = 0; i < g.f * kg; ++i) dw[i] += p[i];
    }
}

// db[f] = sum of dy over batch and positions.
template <class T>
void bias_grad(const T* dy, T* db, std::size_t n, std::size_t f, std::size_t l) {
    std::fill(db, db + f, T(0));
    for (std::size_t s = 0; s < n; ++s) {
        for (std::size_t c = 0; c < f; ++c) {
            const T* p = dy + (s * f + c) * l;
            T acc[8] = {};  // independent partial sums, so the loop vectorizes
            std::size_t k = 0;
            for (; k + 8 <= l; k += 8) {
                for (std::size_t j = 0; j < 8; ++j) acc[j] += p[k + j];
            }
            for (; k < l; ++k) acc[0] += p[k];
            for (std::size_t j = 0; j < 8; ++j) db[c] += acc[j];
        }
    }
}

}  // namespace detail

namespace {

using detail::ConvGeom;

std::size_t as_size(std::int64_t v) {
    return static_cast<std::size_t>(v);
}

void check_conv_options(const char* op, Pair2 stride, Pair2 padding, Pair2 dilation,
                        std::int64_t groups);

// Checks shared by conv2d and conv_transpose2d: definedness, dtypes, ranks, options.
void check_conv_common(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                       Pair2 stride, Pair2 padding, Pair2 dilation, std::int64_t groups) {
    detail::check_defined(op, x, "input");
    detail::check_defined(op, weight, "weight");
    detail::check_floating(op, x, "input");
    detail::check_same_dtype(op, x, weight);
    if (bias.defined()) detail::check_same_dtype(op, x, bias);
    XG_CHECK(x.dim() == 4, "{}: expected a 4-D input (N, C, H, W), got shape {}", op, x.shape());
    XG_CHECK(weight.dim() == 4, "{}: expected a 4-D weight, got shape {}", op, weight.shape());
    check_conv_options(op, stride, padding, dilation, groups);
    for (auto d : weight.shape()) {
        XG_CHECK(d > 0, "{}: weight has a zero-size dim (shape {})", op, weight.shape());
    }
    XG_CHECK(x.shape()[1] > 0 && x.shape()[2] > 0 && x.shape()[3] > 0,
             "{}: input has a zero-size dim (shape {})", op, x.shape());
}

void check_conv_options(const char* op, Pair2 stride, Pair2 padding, Pair2 dilation,
                        std::int64_t groups) {
    XG_CHECK(stride.first > 0 && stride.second > 0, "{}: stride must be positive, got ({}, {})", op,
             stride.first, stride.second);
    XG_CHECK(dilation.first > 0 && dilation.second > 0,
             "{}: dilation must be positive, got ({}, {})", op, dilation.first, dilation.second);
    XG_CHECK(padding.first >= 0 && padding.second >= 0,
             "{}: padding must be non-negative, got ({}, {})", op, padding.first, padding.second);
    XG_CHECK(groups > 0, "{}: groups must be positive, got {}", op, groups);
}

void check_bias(const char* op, const Tensor& bias, std::size_t channels) {
    if (!bias.defined()) return;
    XG_CHECK(bias.dim() == 1 && bias.shape()[0] == channels,
             "{}: bias must be 1-D with {} elements (the output channels), got shape {}", op,
             channels, bias.shape());
}

// The geometry of a conv with input (n, c, h, w), output (n, f, oh, ow), the kernel of weight
// shape ws and the given stride, padding, dilation and groups (both geometries below use it).
ConvGeom make_geom(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::size_t f,
                   std::size_t oh, std::size_t ow, const Shape& ws, Pair2 stride, Pair2 padding,
                   Pair2 dilation, std::size_t groups) {
    return ConvGeom{n,
                    c,
                    h,
                    w,
                    f,
                    oh,
                    ow,
                    ws[2],
                    ws[3],
                    as_size(stride.first),
                    as_size(stride.second),
                    as_size(padding.first),
                    as_size(padding.second),
                    as_size(dilation.first),
                    as_size(dilation.second),
                    groups};
}

// The conv's buffers (output, one im2col slot, the input gradient) checked against the
// allocation limit before any is allocated; elem is the bytes per element.
void check_conv_sizes(const char* op, const ConvGeom& g, std::size_t elem) {
    checked_numel(op, {g.n, g.f, g.oh, g.ow}, elem);
    checked_numel(op, {g.n, g.c, g.h, g.w}, elem);
    checked_numel(op, {g.c / g.groups, g.kh, g.kw, g.oh, g.ow}, elem);
}

std::int64_t as_int(const char* op, const char* what, std::size_t v) {
    XG_CHECK(v <= std::size_t(INT64_MAX), "{}: {} {} does not fit in int64", op, what, v);
    return static_cast<std::int64_t>(v);
}

// Geometry of a conv2d of an input of shape xs by a weight of shape ws (both 4-D, dims > 0).
ConvGeom conv2d_geom_of(const char* op, const Shape& xs, const Shape& ws,
                        const Conv2dFuncOptions& o, std::size_t elem) {
    std::size_t groups = as_size(o.groups()), cin = 0;
    XG_CHECK(xs[1] % groups == 0, "{}: groups {} must divide the input channels {}", op, groups,
             xs[1]);
    const bool wraps = __builtin_mul_overflow(ws[1], groups, &cin);
    XG_CHECK(!wraps && cin == xs[1], "{}: weight expects {} input channels, input has {}", op,
             wraps ? fmt::format("{} x {} (groups)", ws[1], groups) : std::to_string(cin), xs[1]);
    XG_CHECK(ws[0] % groups == 0,
             "{}: groups {} must divide the output channels (weight.size(0) = {})", op, groups,
             ws[0]);
    auto extent = [op](const char* what, std::int64_t d, std::size_t k) {
        return checked_add(op, what, checked_mul(op, what, d, as_int(op, what, k) - 1), 1);
    };
    auto padded = [op](const char* what, std::size_t in, std::int64_t p) {
        return checked_add(op, what, as_int(op, what, in), checked_mul(op, what, 2, p));
    };
    const std::int64_t eh = extent("dilated kernel height", o.dilation().first, ws[2]),
                       ew = extent("dilated kernel width", o.dilation().second, ws[3]),
                       ph = padded("padded input height", xs[2], o.padding().first),
                       pw = padded("padded input width", xs[3], o.padding().second);
    XG_CHECK(eh <= ph && ew <= pw,
             "{}: kernel {}x{} (dilated {}x{}) is larger than the padded input {}x{}", op, ws[2],
             ws[3], eh, ew, ph, pw);
    const std::int64_t oh = conv_out_size(op, "height", as_int(op, "input height", xs[2]),
                                          as_int(op, "kernel height", ws[2]), o.stride().first,
                                          o.padding().first, o.dilation().first);
    const std::int64_t ow = conv_out_size(op, "width", as_int(op, "input width", xs[3]),
                                          as_int(op, "kernel width", ws[3]), o.stride().second,
                                          o.padding().second, o.dilation().second);
    ConvGeom g = make_geom(xs[0], xs[1], xs[2], xs[3], ws[0], as_size(oh), as_size(ow), ws,
                           o.stride(), o.padding(), o.dilation(), groups);
    check_conv_sizes(op, g, elem);
    return g;
}

ConvGeom conv2d_geom(const Tensor& x, const Tensor& weight, const Tensor& bias,
                     const Conv2dFuncOptions& o) {
    check_conv_common("conv2d", x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
    check_bias("conv2d", bias, weight.shape()[0]);
    return conv2d_geom_of("conv2d", x.shape(), weight.shape(), o, dtype_size(x.dtype()));
}

// What conv_transpose2d must add to one side to map an output of g's (oh, ow) back to (h, w):
// the input rows and columns the strided conv never reached.
Pair2 output_padding_of(const ConvGeom& g) {
    auto extra = [](std::size_t in, std::size_t out, std::size_t s, std::size_t p, std::size_t d,
                    std::size_t k) {
        return static_cast<std::int64_t>(in + 2 * p) -
               static_cast<std::int64_t>((out - 1) * s + d * (k - 1) + 1);
    };
    return {extra(g.h, g.oh, g.sh, g.ph, g.dh, g.kh), extra(g.w, g.ow, g.sw, g.pw, g.dw, g.kw)};
}

Conv2dFuncOptions conv2d_options_of(const ConvGeom& g) {
    return Conv2dFuncOptions()
        .stride({std::int64_t(g.sh), std::int64_t(g.sw)})
        .padding({std::int64_t(g.ph), std::int64_t(g.pw)})
        .dilation({std::int64_t(g.dh), std::int64_t(g.dw)})
        .groups(std::int64_t(g.groups));
}

// The conv_transpose2d that is the adjoint of g's conv2d: (n, f, oh, ow) -> (n, c, h, w).
ConvTranspose2dFuncOptions transpose_options_of(const ConvGeom& g) {
    Conv2dFuncOptions o = conv2d_options_of(g);
    return ConvTranspose2dFuncOptions()
        .stride(o.stride())
        .padding(o.padding())
        .output_padding(output_padding_of(g))
        .dilation(o.dilation())
        .groups(o.groups());
}

// t (n, c, H, W) cut to its first h rows and w columns: conv2d of an (h, w)-sized conv input
// can be larger than g's output where output_padding >= stride (allowed when < dilation).
Tensor crop_hw(const Tensor& t, std::size_t h, std::size_t w) {
    Tensor r = t;
    if (r.shape()[2] != h) r = slice(r, 2, 0, static_cast<std::int64_t>(h));
    if (r.shape()[3] != w) r = slice(r, 3, 0, static_cast<std::int64_t>(w));
    return r;
}

// The conv2d whose input gradient conv_transpose2d computes: its input is our output.
ConvGeom conv_transpose2d_geom(const Tensor& x, const Tensor& weight, const Tensor& bias,
                               const ConvTranspose2dFuncOptions& o) {
    const char* op = "conv_transpose2d";
    check_conv_common(op, x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups());
    const Shape &xs = x.shape(), &ws = weight.shape();
    std::size_t groups = as_size(o.groups());
    XG_CHECK(ws[0] == xs[1], "{}: weight expects {} input channels, input has {}", op, ws[0],
             xs[1]);
    XG_CHECK(xs[1] % groups == 0, "{}: groups {} must divide the input channels {}", op, groups,
             xs[1]);
    auto [oph, opw] = o.output_padding();
    XG_CHECK(oph >= 0 && opw >= 0 && (oph < o.stride().first || oph < o.dilation().first) &&
                 (opw < o.stride().second || opw < o.dilation().second),
             "{}: output_padding ({}, {}) must be non-negative and smaller than stride ({}, {}) "
             "or dilation ({}, {})",
             op, oph, opw, o.stride().first, o.stride().second, o.dilation().first,
             o.dilation().second);
    std::size_t cout = 0;
    XG_CHECK(!__builtin_mul_overflow(ws[1], groups, &cout),
             "{}: output channels {} x {} (groups) overflow", op, ws[1], groups);
    check_bias(op, bias, cout);
    const std::int64_t oh = conv_transpose_out_size(
        op, "height", as_int(op, "input height", xs[2]), as_int(op, "kernel height", ws[2]),
        o.stride().first, o.padding().first, o.dilation().first, oph);
    const std::int64_t ow = conv_transpose_out_size(
        op, "width", as_int(op, "input width", xs[3]), as_int(op, "kernel width", ws[3]),
        o.stride().second, o.padding().second, o.dilation().second, opw);
    XG_CHECK(oh > 0 && ow > 0,
             "{}: output size {}x{} is not positive (input {}x{}, padding ({}, {}) too large)", op,
             oh, ow, xs[2], xs[3], o.padding().first, o.padding().second);
    ConvGeom g = make_geom(xs[0], cout, as_size(oh), as_size(ow), xs[1], xs[2], xs[3], ws,
                           o.stride(), o.padding(), o.dilation(), groups);
    check_conv_sizes(op, g, dtype_size(x.dtype()));
    return g;
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
    return t.defined() ? t.data<T>().data() : nullptr;
}

// Runs the conv forward (in -> out) with the geometry's roles: in (n, c, h, w) to (n, f, oh, ow).
Tensor run_forward(const Tensor& in, const Tensor& w, const Tensor& b, const ConvGeom& g) {
    return detail::dispatch_float("conv2d", in.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto y = xg::array<T>::from_shape({g.n, g.f, g.oh, g.ow});
        detail::conv_forward(in.data<T>().data(), w.data<T>().data(), ptr_or_null<T>(b), y.data(),
                             g);
        return Tensor(std::move(y));
    });
}

// Gradients of run_forward with respect to its input (if need_in) and weight (if need_w).
std::pair<Tensor, Tensor> run_backward(const Tensor& in, const Tensor& w, const Tensor& dy,
                                       const ConvGeom& g, bool need_in, bool need_w) {
    return detail::dispatch_float("conv2d", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> din, dw;
        if (need_in) din = xg::array<T>::from_shape({g.n, g.c, g.h, g.w});
        if (need_w) dw = xg::array<T>::from_shape({g.f, g.cg(), g.kh, g.kw});
        detail::conv_backward(need_w ? in.data<T>().data() : nullptr,
                              need_in ? w.data<T>().data() : nullptr, dy.data<T>().data(),
                              need_in ? din.data() : nullptr, need_w ? dw.data() : nullptr, g);
        return std::pair<Tensor, Tensor>{need_in ? Tensor(std::move(din)) : Tensor(),
                                         need_w ? Tensor(std::move(dw)) : Tensor()};
    });
}

// Sum of dy (n, c, h, w) over all dims but c.
Tensor channel_sum(const Tensor& dy) {
    return detail::dispatch_float("conv2d", dy.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const Shape& s = dy.shape();
        auto db = xg::array<T>::from_shape({s[1]});
        detail::bias_grad(dy.data<T>().data(), db.data(), s[0], s[1], s[2] * s[3]);
        return Tensor(std::move(db));
    });
}

// Sum of dy (n, c, h, w) over all dims but c, recorded (for create_graph).
Tensor channel_sum_op(const Tensor& dy) {
    return sum(dy, {0, 2, 3});
}

}  // namespace

// Backward rules: outside create_graph they run the raw kernels (one im2col per sample for both
// gradients); under create_graph they are written with recorded conv ops, so every conv node
// is differentiable again (conv2d <-> conv_transpose2d <-> conv2d_weight_grad).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dFuncOptions& opts, Site site) {
    detail::SiteScope at(site);
    ConvGeom g = conv2d_geom(x, weight, bias, opts);
    Tensor out = run_forward(x, weight, bias, g);
    if (auto node = record("Conv2dBackward", {x, weight, bias}, {out})) {
        bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.requires_grad();
        SavedTensor sx = gw ? x : Tensor(), sw = gx ? weight : Tensor();
        Shape ws = weight.shape();
        node->set_fn([sx, sw, ws, g, gx, gw, gb](const TensorList& grads) {
            const Tensor& dy = grads[0];
            if (!GradMode::is_enabled()) {
                auto [dx, dw] = run_backward(sx.unpack(), sw.unpack(), dy, g, gx, gw);
                return TensorList{dx, dw, gb ? channel_sum(dy) : Tensor()};
            }
            Tensor dx = gx ? conv_transpose2d(dy, sw.unpack(), Tensor(), transpose_options_of(g))
                           : Tensor();
            Tensor dw =
                gw ? conv2d_weight_grad(sx.unpack(), dy, ws, conv2d_options_of(g)) : Tensor();
            return TensorList{dx, dw, gb ? channel_sum_op(dy) : Tensor()};
        });
    }
    return out;
}

Tensor conv2d_weight_grad(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape,
                          const Conv2dFuncOptions& opts, Site site) {
    detail::SiteScope at(site);
    const char* op = "conv2d_weight_grad";
    detail::check_defined(op, input, "input");
    detail::check_defined(op, grad_output, "grad_output");
    detail::check_floating(op, input, "input");
    detail::check_same_dtype(op, input, grad_output);
    XG_CHECK(input.dim() == 4, "{}: expected a 4-D input (N, C, H, W), got shape {}", op,
             input.shape());
    XG_CHECK(weight_shape.size() == 4, "{}: weight_shape must be 4-D, got {}", op, weight_shape);
    check_conv_options(op, opts.stride(), opts.padding(), opts.dilation(), opts.groups());
    for (auto d : weight_shape) {
        XG_CHECK(d > 0, "{}: weight_shape has a zero-size dim ({})", op, weight_shape);
    }
    XG_CHECK(input.shape()[1] > 0 && input.shape()[2] > 0 && input.shape()[3] > 0,
             "{}: input has a zero-size dim (shape {})", op, input.shape());
    ConvGeom g = conv2d_geom_of(op, input.shape(), weight_shape, opts, dtype_size(input.dtype()));
    const Shape& gs = grad_output.shape();
    XG_CHECK(gs.size() == 4 && gs[0] == g.n && gs[1] == g.f,
             "{}: grad_output must be ({}, {}, OH, OW) for input {} and weight {}, got shape {}",
             op, g.n, g.f, input.shape(), weight_shape, gs);
    XG_CHECK(gs[2] > 0 && gs[3] > 0 && gs[2] <= g.oh && gs[3] <= g.ow,
             "{}: grad_output is {}x{}, conv2d's output is {}x{}", op, gs[2], gs[3], g.oh, g.ow);
    g.oh = gs[2];
    g.ow = gs[3];
    auto [oph, opw] = output_padding_of(g);
    XG_CHECK((oph < opts.stride().first || oph < opts.dilation().first) &&
                 (opw < opts.stride().second || opw < opts.dilation().second),
             "{}: grad_output {}x{} leaves ({}, {}) input rows/columns unreached, more than "
             "stride ({}, {}) or dilation ({}, {}) allow",
             op, gs[2], gs[3], oph, opw, opts.stride().first, opts.stride().second,
             opts.dilation().first, opts.dilation().second);
    Tensor dw = run_backward(input, Tensor(), grad_output, g, false, true).second;
    if (auto node = record("Conv2dWeightGradBackward", {input, grad_output}, {dw})) {
        bool gi = input.requires_grad(), gg = grad_output.requires_grad();
        SavedTensor si = gg ? input : Tensor(), sg = gi ? grad_output : Tensor();
        node->set_fn([si, sg, g, gi, gg](const TensorList& grads) {
            const Tensor& G = grads[0];  // gradient w.r.t. dw: a weight-shaped tensor
            if (!GradMode::is_enabled()) {
                Tensor di =
                    gi ? run_backward(Tensor(), G, sg.unpack(), g, true, false).first : Tensor();
                Tensor dg = gg ? run_forward(si.unpack(), G, Tensor(), g) : Tensor();
                return TensorList{di, dg};
            }
            Tensor di =
                gi ? conv_transpose2d(sg.unpack(), G, Tensor(), transpose_options_of(g)) : Tensor();
            Tensor dg =
                gg ? crop_hw(conv2d(si.unpack(), G, Tensor(), conv2d_options_of(g)), g.oh, g.ow)
                   : Tensor();
            return TensorList{di, dg};
        });
    }
    return dw;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dFuncOptions& opts, Site site) {
    detail::SiteScope at(site);
    ConvGeom g = conv_transpose2d_geom(x, weight, bias, opts);
    // Forward: the input gradient of the conv2d (out -> x), bias added per channel.
    Tensor out = run_backward(Tensor(), weight, x, g, true, false).first;
    if (bias.defined()) {
        detail::dispatch_float("conv_transpose2d", x.dtype(), [&](auto tag) {
            using T = decltype(tag);
            T* o = out.mutable_data<T>().data();
            const T* b = bias.data<T>().data();
            std::size_t l = g.h * g.w;
            for (std::size_t s = 0; s < g.n * g.c; ++s) {
                std::for_each(o + s * l, o + (s + 1) * l, [&](T& v) { v += b[s % g.c]; });
            }
        });
    }
    if (auto node = record("ConvTranspose2dBackward", {x, weight, bias}, {out})) {
        bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.requires_grad();
        SavedTensor sx = gw ? x : Tensor(), sw = gx ? weight : Tensor();
        Shape ws = weight.shape();
        node->set_fn([sx, sw, ws, g, gx, gw, gb](const TensorList& grads) {
            // dx = conv2d(dy, w); dw = the conv2d weight gradient with dy as input, x as output.
            const Tensor& dy = grads[0];
            if (!GradMode::is_enabled()) {
                Tensor dx = gx ? run_forward(dy, sw.unpack(), Tensor(), g) : Tensor();
                Tensor dw =
                    gw ? run_backward(dy, Tensor(), sx.unpack(), g, false, true).second : Tensor();
                return TensorList{dx, dw, gb ? channel_sum(dy) : Tensor()};
            }
            Conv2dFuncOptions o = conv2d_options_of(g);
            Tensor dx = gx ? crop_hw(conv2d(dy, sw.unpack(), Tensor(), o), g.oh, g.ow) : Tensor();
            Tensor dw = gw ? conv2d_weight_grad(dy, sx.unpack(), ws, o) : Tensor();
            return TensorList{dx, dw, gb ? channel_sum_op(dy) : Tensor()};
        });
    }
    return out;
}

}  // namespace xg
