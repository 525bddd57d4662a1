#include "ops/pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "core/parallel.hpp"

namespace xg {

namespace detail {

// The windows of one pooling over planes of h x w: output row o reads input rows
// [hs[o], he[o]) (columns likewise), and avg pooling divides output (oh, ow) by
// hdiv[oh] * wdiv[ow]. Every pooling here is separable this way.
struct PoolWindows {
    std::size_t h = 0, w = 0;
    std::vector<std::size_t> hs, he, ws, we;
    std::vector<double> hdiv, wdiv;
    std::size_t oh() const { return hs.size(); }
    std::size_t ow() const { return ws.size(); }
};

namespace {

using idx = std::ptrdiff_t;

// Windows of size k at o*s - p along a dim of size `in`, clipped to it. The divisor counts
// the padding (up to the padded edge) when include_pad, else only the real elements.
void fixed_windows(std::size_t in, std::size_t out, idx k, idx s, idx p, bool include_pad,
                   std::vector<std::size_t>& st, std::vector<std::size_t>& en,
                   std::vector<double>& div) {
    st.reserve(out);
    en.reserve(out);
    div.reserve(out);
    for (std::size_t o = 0; o < out; ++o) {
        idx a = static_cast<idx>(o) * s - p;
        idx b = std::min(a + k, static_cast<idx>(in) + p);
        double pool = static_cast<double>(b - a);
        a = std::max<idx>(a, 0);
        b = std::min<idx>(b, static_cast<idx>(in));
        st.push_back(static_cast<std::size_t>(a));
        en.push_back(static_cast<std::size_t>(b));
        div.push_back(include_pad ? pool : static_cast<double>(b - a));
    }
}

// PyTorch's adaptive windows: [floor(o*in/out), ceil((o+1)*in/out)).
void adaptive_windows(std::size_t in, std::size_t out, std::vector<std::size_t>& st,
                      std::vector<std::size_t>& en, std::vector<double>& div) {
    using wide = unsigned __int128;  // o * in may exceed 64 bits for huge planes
    st.reserve(out);
    en.reserve(out);
    div.reserve(out);
    for (std::size_t o = 0; o < out; ++o) {
        auto a = static_cast<std::size_t>(wide(o) * in / out);
        auto b = static_cast<std::size_t>((wide(o + 1) * in + out - 1) / out);
        st.push_back(a);
        en.push_back(b);
        div.push_back(static_cast<double>(b - a));
    }
}

template <class T>
void avg_forward_serial(const T* x, T* y, std::size_t planes, const PoolWindows& pw) {
    for (std::size_t p = 0; p < planes; ++p) {
        const T* xp = x + p * pw.h * pw.w;
        for (std::size_t oh = 0; oh < pw.oh(); ++oh) {
            for (std::size_t ow = 0; ow < pw.ow(); ++ow) {
                T acc = 0;
                for (std::size_t i = pw.hs[oh]; i < pw.he[oh]; ++i) {
                    for (std::size_t j = pw.ws[ow]; j < pw.we[ow]; ++j) acc += xp[i * pw.w + j];
                }
                *y++ = acc / static_cast<T>(pw.hdiv[oh] * pw.wdiv[ow]);
            }
        }
    }
}

// The transpose of avg_forward: spreads each g / divisor over its window.
template <class T>
void avg_adjoint_serial(const T* g, T* gx, std::size_t planes, const PoolWindows& pw) {
    std::fill(gx, gx + planes * pw.h * pw.w, T(0));
    for (std::size_t p = 0; p < planes; ++p) {
        T* gp = gx + p * pw.h * pw.w;
        for (std::size_t oh = 0; oh < pw.oh(); ++oh) {
            for (std::size_t ow = 0; ow < pw.ow(); ++ow) {
                T v = *g++ / static_cast<T>(pw.hdiv[oh] * pw.wdiv[ow]);
                for (std::size_t i = pw.hs[oh]; i < pw.he[oh]; ++i) {
                    for (std::size_t j = pw.ws[ow]; j < pw.we[ow]; ++j) gp[i * pw.w + j] += v;
                }
            }
        }
    }
}

// Max and its index in the plane (h*w + w). Strictly greater replaces, so the first maximum
// wins ties; a NaN (the last one) wins and propagates, as in PyTorch. Without NaN in x the
// compare-and-select has no second condition, and GCC emits it without branches: random data
// mispredicted the branchy form about every other window (forward 10 ms -> see PERFORMANCE.md).
template <class T, bool nan_aware>
void max_windows(const T* x, T* y, std::int64_t* arg, std::size_t planes, const PoolWindows& pw) {
    for (std::size_t p = 0; p < planes; ++p) {
        const T* xp = x + p * pw.h * pw.w;
        for (std::size_t oh = 0; oh < pw.oh(); ++oh) {
            for (std::size_t ow = 0; ow < pw.ow(); ++ow) {
                std::size_t best_i = pw.hs[oh] * pw.w + pw.ws[ow];
                T best = -std::numeric_limits<T>::infinity();
                for (std::size_t i = pw.hs[oh]; i < pw.he[oh]; ++i) {
                    for (std::size_t j = pw.ws[ow]; j < pw.we[ow]; ++j) {
                        const T v = xp[i * pw.w + j];
                        if constexpr (nan_aware) {
                            if (v > best || std::isnan(v)) best = v, best_i = i * pw.w + j;
                        } else {
                            const bool take = v > best;
                            best = take ? v : best;
                            best_i = take ? i * pw.w + j : best_i;
                        }
                    }
                }
                *y++ = best;
                *arg++ = static_cast<std::int64_t>(best_i);
            }
        }
    }
}

template <class T>
void max_forward_serial(const T* x, T* y, std::int64_t* arg, std::size_t planes,
                        const PoolWindows& pw) {
    const std::size_t n = planes * pw.h * pw.w;
    bool has_nan = false;
    for (std::size_t i = 0; i < n; ++i) has_nan |= x[i] != x[i];
    if (has_nan) return max_windows<T, true>(x, y, arg, planes, pw);
    max_windows<T, false>(x, y, arg, planes, pw);
}

// The planes are independent: each thread takes a contiguous run of them (core/parallel.hpp).
template <class T>
void max_forward(const T* x, T* y, std::int64_t* arg, std::size_t planes, const PoolWindows& pw) {
    const std::size_t in = pw.h * pw.w, out = pw.oh() * pw.ow();
    parallel_for(planes, planes * in, [&](std::size_t p0, std::size_t p1, int) {
        max_forward_serial(x + p0 * in, y + p0 * out, arg + p0 * out, p1 - p0, pw);
    });
}

template <class T>
void avg_forward(const T* x, T* y, std::size_t planes, const PoolWindows& pw) {
    const std::size_t in = pw.h * pw.w, out = pw.oh() * pw.ow();
    parallel_for(planes, planes * in, [&](std::size_t p0, std::size_t p1, int) {
        avg_forward_serial(x + p0 * in, y + p0 * out, p1 - p0, pw);
    });
}

template <class T>
void avg_adjoint(const T* g, T* gx, std::size_t planes, const PoolWindows& pw) {
    const std::size_t in = pw.h * pw.w, out = pw.oh() * pw.ow();
    parallel_for(planes, planes * in, [&](std::size_t p0, std::size_t p1, int) {
        avg_adjoint_serial(g + p0 * out, gx + p0 * in, p1 - p0, pw);
    });
}

}  // namespace

}  // namespace detail

namespace {

using detail::PoolWindows;
using Windows = std::shared_ptr<const PoolWindows>;

Shape out_shape(const Tensor& x, const PoolWindows& pw) {
    return {x.shape()[0], x.shape()[1], pw.oh(), pw.ow()};
}

std::size_t planes_of(const Shape& s) {
    return s[0] * s[1];
}

// Both directions of a pooling's linear map are ops whose backward is the other one, so
// pooling gradients are differentiable to any order.
Tensor window_avg(const Tensor& x, const Windows& pw, const char* name, const char* adj_name);

Tensor window_avg_adjoint(const Tensor& g, const Windows& pw, const Shape& in_shape,
                          const char* name, const char* fwd_name) {
    Tensor gx = detail::dispatch_float(name, g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto a = xg::array<T>::from_shape(in_shape);
        detail::avg_adjoint(g.data<T>().data(), a.data(), planes_of(in_shape), *pw);
        return Tensor(std::move(a));
    });
    if (auto node = record(name, {g}, {gx})) {
        node->set_fn([pw, name, fwd_name](const TensorList& gg) {
            return TensorList{window_avg(gg[0], pw, fwd_name, name)};
        });
    }
    return gx;
}

Tensor window_avg(const Tensor& x, const Windows& pw, const char* name, const char* adj_name) {
    Tensor y = detail::dispatch_float(name, x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto a = xg::array<T>::from_shape(out_shape(x, *pw));
        detail::avg_forward(x.data<T>().data(), a.data(), planes_of(x.shape()), *pw);
        return Tensor(std::move(a));
    });
    if (auto node = record(name, {x}, {y})) {
        Shape in = x.shape();
        node->set_fn([pw, in, name, adj_name](const TensorList& g) {
            return TensorList{window_avg_adjoint(g[0], pw, in, adj_name, name)};
        });
    }
    return y;
}

// out[p][k] = src[p][arg[p][k]] per plane, and its transpose (scatter-add); each is the
// other's backward.
Tensor gather_planes(const Tensor& src, const Tensor& arg, const char* name, const char* sname);

Tensor scatter_planes(const Tensor& g, const Tensor& arg, const Shape& in_shape, const char* name,
                      const char* gname) {
    Tensor gx = detail::dispatch_float(name, g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> a = xt::zeros<T>(in_shape);
        std::size_t in_plane = in_shape[2] * in_shape[3], out_plane = g.shape()[2] * g.shape()[3];
        const T* gp = g.data<T>().data();
        const std::int64_t* ap = arg.data<std::int64_t>().data();
        T* dst = a.data();
        detail::parallel_for(
            planes_of(in_shape), a.size(), [&](std::size_t p0, std::size_t p1, int) {
                for (std::size_t p = p0; p < p1; ++p) {
                    T* d = dst + p * in_plane;
                    for (std::size_t k = p * out_plane; k < (p + 1) * out_plane; ++k)
                        d[static_cast<std::size_t>(ap[k])] += gp[k];
                }
            });
        return Tensor(std::move(a));
    });
    if (auto node = record(name, {g}, {gx})) {
        node->set_fn([arg, name, gname](const TensorList& gg) {
            return TensorList{gather_planes(gg[0], arg, gname, name)};
        });
    }
    return gx;
}

Tensor gather_planes(const Tensor& src, const Tensor& arg, const char* name, const char* sname) {
    Tensor out = detail::dispatch_float(name, src.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto a = xg::array<T>::from_shape(arg.shape());
        std::size_t in_plane = src.shape()[2] * src.shape()[3];
        std::size_t out_plane = arg.shape()[2] * arg.shape()[3];
        const T* sp = src.data<T>().data();
        const std::int64_t* ap = arg.data<std::int64_t>().data();
        T* dst = a.data();
        detail::parallel_for(
            planes_of(src.shape()), a.size(), [&](std::size_t p0, std::size_t p1, int) {
                for (std::size_t p = p0; p < p1; ++p) {
                    const T* sp_p = sp + p * in_plane;
                    for (std::size_t k = p * out_plane; k < (p + 1) * out_plane; ++k)
                        dst[k] = sp_p[static_cast<std::size_t>(ap[k])];
                }
            });
        return Tensor(std::move(a));
    });
    if (auto node = record(name, {src}, {out})) {
        Shape in = src.shape();
        node->set_fn([arg, in, name, sname](const TensorList& g) {
            return TensorList{scatter_planes(g[0], arg, in, sname, name)};
        });
    }
    return out;
}

void check_input(const char* op, const Tensor& x) {
    detail::check_defined(op, x, "input");
    detail::check_floating(op, x, "input");
    XG_CHECK(x.dim() == 4, "{}: expected a 4-D input (N, C, H, W), got shape {}", op, x.shape());
}

// The output (N, C, oh, ow) and the windows' bookkeeping (a few words per output row and
// column) checked against the allocation limit before anything is built.
void check_pool_sizes(const char* op, const Tensor& x, std::size_t oh, std::size_t ow) {
    checked_numel(op, {x.shape()[0], x.shape()[1], oh, ow}, dtype_size(x.dtype()));
    checked_numel(op, {oh}, 3 * sizeof(std::size_t));
    checked_numel(op, {ow}, 3 * sizeof(std::size_t));
}

// Validates kernel/stride/padding and builds PyTorch's floor-mode windows.
Windows fixed_pool(const char* op, const Tensor& x, Pair2 k, std::optional<Pair2> stride, Pair2 p,
                   bool include_pad) {
    check_input(op, x);
    Pair2 s = stride.value_or(k);
    XG_CHECK(k.first > 0 && k.second > 0, "{}: kernel_size must be positive, got ({}, {})", op,
             k.first, k.second);
    XG_CHECK(s.first > 0 && s.second > 0, "{}: stride must be positive, got ({}, {})", op, s.first,
             s.second);
    XG_CHECK(p.first >= 0 && p.second >= 0, "{}: padding must be non-negative, got ({}, {})", op,
             p.first, p.second);
    XG_CHECK(p.first <= k.first / 2 && p.second <= k.second / 2,
             "{}: padding ({}, {}) must be at most half the kernel size ({}, {})", op, p.first,
             p.second, k.first, k.second);
    XG_CHECK(x.shape()[2] > 0 && x.shape()[3] > 0, "{}: input has an empty plane (shape {})", op,
             x.shape());  // else a window lies wholly in the padding and has no argmax
    auto h = static_cast<std::int64_t>(x.shape()[2]), w = static_cast<std::int64_t>(x.shape()[3]);
    // p <= k / 2 above, so these cannot overflow unless k is near INT64_MAX: checked.
    const std::int64_t hp =
        checked_add(op, "padded input height", h, checked_mul(op, "padding", 2, p.first));
    const std::int64_t wp =
        checked_add(op, "padded input width", w, checked_mul(op, "padding", 2, p.second));
    XG_CHECK(k.first <= hp && k.second <= wp,
             "{}: kernel {}x{} is larger than the padded input {}x{}", op, k.first, k.second, hp,
             wp);
    auto oh =
        static_cast<std::size_t>(conv_out_size(op, "height", h, k.first, s.first, p.first, 1));
    auto ow =
        static_cast<std::size_t>(conv_out_size(op, "width", w, k.second, s.second, p.second, 1));
    check_pool_sizes(op, x, oh, ow);
    return naming_oom(op, [&] {
        auto pw = std::make_shared<PoolWindows>();
        pw->h = x.shape()[2];
        pw->w = x.shape()[3];
        detail::fixed_windows(pw->h, oh, k.first, s.first, p.first, include_pad, pw->hs, pw->he,
                              pw->hdiv);
        detail::fixed_windows(pw->w, ow, k.second, s.second, p.second, include_pad, pw->ws, pw->we,
                              pw->wdiv);
        return Windows(pw);
    });
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const MaxPool2dFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    Windows pw = fixed_pool("max_pool2d", x, o.kernel_size(), o.stride(), o.padding(), true);
    Shape os = out_shape(x, *pw);
    checked_numel("max_pool2d", os, sizeof(std::int64_t));  // the argmax indices
    auto arg = naming_oom("max_pool2d", [&] { return xg::array<std::int64_t>::from_shape(os); });
    Tensor out = detail::dispatch_float("max_pool2d", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto y = xg::array<T>::from_shape(os);
        detail::max_forward(x.data<T>().data(), y.data(), arg.data(), planes_of(x.shape()), *pw);
        return Tensor(std::move(y));
    });
    if (auto node = record("MaxPool2dBackward", {x}, {out})) {
        Tensor idx(std::move(arg));
        Shape in = x.shape();
        node->set_fn([idx, in](const TensorList& g) {
            return TensorList{
                scatter_planes(g[0], idx, in, "MaxPool2dBackwardBackward", "MaxPool2dBackward")};
        });
    }
    return out;
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dFuncOptions& o, Site site) {
    detail::SiteScope at(site);
    Windows pw = fixed_pool("avg_pool2d", x, o.kernel_size(), o.stride(), o.padding(),
                            o.count_include_pad());
    return window_avg(x, pw, "AvgPool2dBackward", "AvgPool2dBackwardBackward");
}

Tensor adaptive_avg_pool2d(const Tensor& x, Pair2 output_size, Site site) {
    detail::SiteScope at(site);
    const char* op = "adaptive_avg_pool2d";
    check_input(op, x);
    const std::int64_t oh = output_size.first, ow = output_size.second;
    XG_CHECK(oh > 0 && ow > 0, "{}: output_size must be positive, got ({}, {})", op, oh, ow);
    XG_CHECK(x.shape()[2] > 0 && x.shape()[3] > 0, "{}: input has an empty plane (shape {})", op,
             x.shape());
    check_pool_sizes(op, x, static_cast<std::size_t>(oh), static_cast<std::size_t>(ow));
    Windows pw = naming_oom(op, [&] {
        auto w = std::make_shared<PoolWindows>();
        w->h = x.shape()[2];
        w->w = x.shape()[3];
        detail::adaptive_windows(w->h, static_cast<std::size_t>(oh), w->hs, w->he, w->hdiv);
        detail::adaptive_windows(w->w, static_cast<std::size_t>(ow), w->ws, w->we, w->wdiv);
        return Windows(w);
    });
    return window_avg(x, pw, "AdaptiveAvgPool2dBackward", "AdaptiveAvgPool2dBackwardBackward");
}

}  // namespace xg
