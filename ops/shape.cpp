#include "ops/shape.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <numeric>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xstrided_view.hpp>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "core/tensor_impl.hpp"

namespace xg {

namespace detail {

Tensor reshape_raw(const Tensor& a, const Shape& shape) {
    return dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = a.data<T>();
        r.reshape(shape);
        return Tensor(std::move(r));
    });
}

// Resolves one -1 and checks the element count.
Shape infer_shape(const char* op, const Shape& in, const std::vector<std::int64_t>& spec) {
    Shape out(spec.size());
    std::size_t known = 1;
    int infer = -1;
    for (std::size_t i = 0; i < spec.size(); ++i) {
        if (spec[i] == -1) {
            XG_CHECK(infer < 0, "{}: only one dimension can be -1, got shape {}", op,
                     fmt::join(spec, ", "));
            infer = static_cast<int>(i);
            continue;
        }
        XG_CHECK(spec[i] >= 0, "{}: invalid size {} at dim {}", op, spec[i], i);
        out[i] = static_cast<std::size_t>(spec[i]);
        XG_CHECK(!__builtin_mul_overflow(known, out[i], &known),
                 "{}: shape [{}] has too many elements (the product of its sizes overflows)", op,
                 fmt::join(spec, ", "));
    }
    std::size_t n = shape_numel(in);
    if (infer >= 0) {
        XG_CHECK(known != 0 && n % known == 0, "{}: shape [{}] is invalid for input of size {}", op,
                 fmt::join(spec, ", "), n);
        out[infer] = n / known;
    }
    checked_numel(op, out);  // an empty shape's nonzero sizes must fit as well
    XG_CHECK(shape_numel(out) == n, "{}: shape [{}] is invalid for input of size {} (shape {})", op,
             fmt::join(spec, ", "), n, in);
    checked_numel(op, out, 1);  // an empty result's strides must fit too
    return out;
}

}  // namespace detail

namespace detail {

Tensor alias(const char* name, const Tensor& a) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = a.impl()->storage;
    Tensor out(std::move(impl));
    if (auto node = record(name, {a}, {out})) node->set_fn([](const TensorList& g) { return g; });
    return out;
}

}  // namespace detail

namespace {
// Every size-only change goes through here: one copy, backward reshapes back. The same shape
// gives an alias (docs/ARCHITECTURE.md, "Aliasing").
Tensor reshape_to(const char* name, const Tensor& a, const Shape& shape) {
    if (a.shape() == shape) return detail::alias(name, a);
    Tensor out = detail::reshape_raw(a, shape);
    if (auto node = record(name, {a}, {out})) {
        Shape in = a.shape();
        node->set_fn([in](const TensorList& g) {
            return TensorList{reshape(g[0], std::vector<std::int64_t>(in.begin(), in.end()))};
        });
    }
    return out;
}
}  // namespace

Tensor reshape(const Tensor& a, const std::vector<std::int64_t>& shape, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("reshape", a, "input");
    return reshape_to("ReshapeBackward", a, detail::infer_shape("reshape", a.shape(), shape));
}

Tensor view(const Tensor& a, const std::vector<std::int64_t>& shape, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("view", a, "input");
    return reshape_to("ViewBackward", a, detail::infer_shape("view", a.shape(), shape));
}

Tensor flatten(const Tensor& a, std::int64_t start_dim, std::int64_t end_dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("flatten", a, "input");
    if (a.dim() == 0) return reshape_to("FlattenBackward", a, Shape{1});
    std::size_t s = detail::wrap_dim("flatten", start_dim, a.dim());
    std::size_t e = detail::wrap_dim("flatten", end_dim, a.dim());
    XG_CHECK(s <= e, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
    Shape out;
    for (std::size_t i = 0; i < s; ++i) out.push_back(a.shape()[i]);
    std::size_t n = 1;  // may overflow only for an empty tensor with huge dims
    for (std::size_t i = s; i <= e; ++i) {
        XG_CHECK(!__builtin_mul_overflow(n, a.shape()[i], &n),
                 "flatten: flattening dims {}..{} of shape {} overflows the size", s, e, a.shape());
    }
    out.push_back(n);
    for (std::size_t i = e + 1; i < a.dim(); ++i) out.push_back(a.shape()[i]);
    return reshape_to("FlattenBackward", a, out);
}

Tensor squeeze(const Tensor& a, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("squeeze", a, "input");
    Shape out;
    for (auto d : a.shape()) {
        if (d != 1) out.push_back(d);
    }
    return reshape_to("SqueezeBackward", a, out);
}

Tensor squeeze(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("squeeze", a, "input");
    if (a.dim() == 0) return detail::alias("SqueezeBackward", a);
    std::size_t d = detail::wrap_dim("squeeze", dim, a.dim());
    if (a.shape()[d] != 1)  // as in PyTorch: a no-op on a dim that is not 1
        return detail::alias("SqueezeBackward", a);
    Shape out = a.shape();
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(d));
    return reshape_to("SqueezeBackward", a, out);
}

Tensor unsqueeze(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("unsqueeze", a, "input");
    std::size_t d = detail::wrap_dim("unsqueeze", dim, a.dim() + 1);
    Shape out = a.shape();
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(d), 1);
    return reshape_to("UnsqueezeBackward", a, out);
}

// ---- transpose / permute ----

namespace detail {

namespace {

// dst[i0, i1, ...] = src at the input offset sum_k i_k * stride[k], for the output dims
// (size[k], stride[k]) after coalescing: runs of the innermost dim are copied as blocks when
// they are contiguous in the input, else gathered with the input stride. (xtensor's transpose
// assignment walks a stepper per element: a fifth of a small GPT's step went there.)
template <class T>
void permute_copy(const T* src, T* dst, std::vector<std::size_t> size,
                  std::vector<std::size_t> stride) {
    // Merge output dims k, k+1 that are adjacent in the input too; drop dims of size 1.
    std::vector<std::size_t> sz, st;
    for (std::size_t k = 0; k < size.size(); ++k) {
        if (size[k] == 1) continue;
        if (!sz.empty() && st.back() == stride[k] * size[k]) {
            sz.back() *= size[k];
            st.back() = stride[k];
        } else {
            sz.push_back(size[k]);
            st.push_back(stride[k]);
        }
    }
    if (sz.empty()) {
        dst[0] = src[0];
        return;
    }
    const std::size_t inner = sz.back(), inner_stride = st.back(), outer_dims = sz.size() - 1;
    std::size_t outer = 1;
    for (std::size_t k = 0; k < outer_dims; ++k) outer *= sz[k];
    std::vector<std::size_t> idx(outer_dims, 0);
    std::size_t off = 0;
    for (std::size_t o = 0; o < outer; ++o) {
        const T* s = src + off;
        if (inner_stride == 1) {
            std::copy(s, s + inner, dst);
        } else {
            for (std::size_t j = 0; j < inner; ++j) dst[j] = s[j * inner_stride];
        }
        dst += inner;
        for (std::size_t k = outer_dims; k-- > 0;) {  // the odometer over the outer dims
            off += st[k];
            if (++idx[k] < sz[k]) break;
            off -= st[k] * sz[k];
            idx[k] = 0;
        }
    }
}

}  // namespace

Tensor permute_raw(const Tensor& a, const std::vector<std::size_t>& perm) {
    const Shape& in = a.shape();
    std::vector<std::size_t> in_stride(in.size(), 1), size(perm.size()), stride(perm.size());
    for (std::size_t k = in.size(); k-- > 1;) in_stride[k - 1] = in_stride[k] * in[k];
    Shape out_shape(perm.size());
    for (std::size_t k = 0; k < perm.size(); ++k) {
        size[k] = out_shape[k] = in[perm[k]];
        stride[k] = in_stride[perm[k]];
    }
    return dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto out = xg::array<T>::from_shape(out_shape);
        if (out.size() > 0) permute_copy<T>(a.data<T>().data(), out.data(), size, stride);
        return Tensor(std::move(out));
    });
}

}  // namespace detail

Tensor transpose(const Tensor& a, std::int64_t d0, std::int64_t d1, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("transpose", a, "input");
    std::size_t i = detail::wrap_dim("transpose", d0, a.dim());
    std::size_t j = detail::wrap_dim("transpose", d1, a.dim());
    if (i == j) return detail::alias("TransposeBackward", a);
    std::vector<std::size_t> perm(a.dim());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::swap(perm[i], perm[j]);
    Tensor out = detail::permute_raw(a, perm);
    if (auto node = record("TransposeBackward", {a}, {out})) {
        node->set_fn([d0, d1](const TensorList& g) { return TensorList{transpose(g[0], d0, d1)}; });
    }
    return out;
}

Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("permute", a, "input");
    XG_CHECK(dims.size() == a.dim(), "permute: dims [{}] has {} entries, the input {} has {} dims",
             fmt::join(dims, ", "), dims.size(), a.shape(), a.dim());
    std::vector<std::size_t> perm(dims.size());
    std::vector<bool> seen(dims.size(), false);
    for (std::size_t i = 0; i < dims.size(); ++i) {
        perm[i] = detail::wrap_dim("permute", dims[i], a.dim());
        XG_CHECK(!seen[perm[i]], "permute: dim {} appears more than once in [{}]", perm[i],
                 fmt::join(dims, ", "));
        seen[perm[i]] = true;
    }
    Tensor out = detail::permute_raw(a, perm);
    if (auto node = record("PermuteBackward", {a}, {out})) {
        std::vector<std::int64_t> inv(perm.size());
        for (std::size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<std::int64_t>(i);
        node->set_fn([inv](const TensorList& g) { return TensorList{permute(g[0], inv)}; });
    }
    return out;
}

// ---- slice ----

namespace {

// A contiguous tensor seen as (outer, size of dim, inner).
struct Split {
    std::size_t outer = 1, inner = 1;
};

Split split_at(const Shape& s, std::size_t dim) {
    Split r;
    for (std::size_t i = 0; i < dim; ++i) r.outer *= s[i];
    for (std::size_t i = dim + 1; i < s.size(); ++i) r.inner *= s[i];
    return r;
}

// Python-slice clamping of one bound.
std::int64_t clamp_bound(std::int64_t v, std::int64_t n) {
    if (v < 0) v += n;
    return std::clamp<std::int64_t>(v, 0, n);
}

// Copies the n_small rows of an (outer, n_small, inner) array into rows start, start + step, ...
// of an (outer, n_big, inner) array; with `gather` the copy goes the other way.
template <class T>
void strided_copy(const T* src, T* dst, Split sp, std::size_t n_small, std::size_t n_big,
                  std::size_t start, std::size_t step, bool gather) {
    // Nothing to copy; the outer count of an empty tensor can still be 2^59 (a fuzzer-found hang).
    if (n_small == 0 || sp.inner == 0) return;
    for (std::size_t o = 0; o < sp.outer; ++o) {
        for (std::size_t i = 0; i < n_small; ++i) {
            std::size_t big = (o * n_big + start + i * step) * sp.inner;
            std::size_t small = (o * n_small + i) * sp.inner;
            if (gather) {
                std::copy_n(src + big, sp.inner, dst + small);
            } else {
                std::copy_n(src + small, sp.inner, dst + big);
            }
        }
    }
}

}  // namespace

namespace detail {

Tensor slice_backward(const Tensor& g, const Shape& in_shape, std::int64_t dim, std::int64_t start,
                      std::int64_t end, std::int64_t step) {
    check_defined("slice_backward", g, "grad");
    std::size_t d = wrap_dim("slice_backward", dim, in_shape.size());
    XG_CHECK(
        step >= 1 && 0 <= start && start <= end && end <= static_cast<std::int64_t>(in_shape[d]),
        "slice_backward: invalid range {}:{}:{} for dim {} of {}", start, end, step, d, in_shape);
    Shape expect = in_shape;
    std::int64_t len = end > start ? (end - start - 1) / step + 1 : 0;  // no overflow near 2^63
    expect[d] = static_cast<std::size_t>(len);
    XG_CHECK(g.shape() == expect, "slice_backward: grad has shape {}, expected {}", g.shape(),
             expect);
    Tensor out = dispatch_float("slice_backward", g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = xt::zeros<T>(in_shape);
        strided_copy(g.data<T>().data(), r.data(), split_at(in_shape, d), expect[d], in_shape[d],
                     static_cast<std::size_t>(start), static_cast<std::size_t>(step), false);
        return Tensor(std::move(r));
    });
    if (auto node = record("SliceBackwardBackward", {g}, {out})) {
        node->set_fn([dim, start, end, step](const TensorList& gg) {
            return TensorList{slice(gg[0], dim, start, end, step)};
        });
    }
    return out;
}

}  // namespace detail

Tensor slice(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("slice", a, "input");
    XG_CHECK(a.dim() >= 1, "slice: cannot slice a 0-d tensor");
    std::size_t d = detail::wrap_dim("slice", dim, a.dim());
    XG_CHECK(step >= 1, "slice: step must be at least 1, got {}", step);
    const auto n = static_cast<std::int64_t>(a.shape()[d]);
    start = clamp_bound(start, n);
    end = std::max(clamp_bound(end, n), start);
    Shape out_shape = a.shape();
    out_shape[d] = static_cast<std::size_t>(end > start ? (end - start - 1) / step + 1 : 0);
    Tensor out = detail::dispatch_all(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = xg::array<T>::from_shape(out_shape);
        strided_copy(a.data<T>().data(), r.data(), split_at(a.shape(), d), out_shape[d],
                     a.shape()[d], static_cast<std::size_t>(start), static_cast<std::size_t>(step),
                     true);
        return Tensor(std::move(r));
    });
    if (auto node = record("SliceBackward", {a}, {out})) {
        Shape in = a.shape();
        auto sd = static_cast<std::int64_t>(d);
        node->set_fn([in, sd, start, end, step](const TensorList& g) {
            return TensorList{detail::slice_backward(g[0], in, sd, start, end, step)};
        });
    }
    return out;
}

// ---- cat / stack ----

namespace {

// Concatenates tensors seen as (outer, chunk_i) blocks, one block row after the other.
Tensor concat_raw(const TensorList& ts, std::size_t outer, const Shape& out_shape) {
    return detail::dispatch_all(ts[0].dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = xg::array<T>::from_shape(out_shape);
        // Nothing to copy; an empty shape's outer count can still be 2^59 (a fuzzer-found hang).
        if (r.size() == 0) return Tensor(std::move(r));
        const std::size_t row = outer == 0 ? 0 : r.size() / outer;
        std::size_t off = 0;
        for (const auto& t : ts) {
            const std::size_t chunk = outer == 0 ? 0 : t.numel() / outer;
            const T* src = t.data<T>().data();
            for (std::size_t o = 0; o < outer; ++o)
                std::copy_n(src + o * chunk, chunk, r.data() + o * row + off);
            off += chunk;
        }
        return Tensor(std::move(r));
    });
}

// Checks that every tensor is defined with the first one's dtype, and that its shape matches
// the first one's except in `skip` (no dim is skipped when skip == ndim).
void check_list(const char* op, const TensorList& ts, std::size_t skip) {
    XG_CHECK(!ts.empty(), "{}: expected a non-empty list of tensors", op);
    for (std::size_t i = 0; i < ts.size(); ++i) {
        XG_CHECK(ts[i].defined(), "{}: tensor {} in the list is undefined", op, i);
        XG_CHECK(ts[i].dtype() == ts[0].dtype(), "{}: tensor {} has dtype {}, tensor 0 has {}", op,
                 i, ts[i].dtype(), ts[0].dtype());
        const Shape& s = ts[i].shape();
        const Shape& s0 = ts[0].shape();
        bool ok = s.size() == s0.size();
        for (std::size_t j = 0; ok && j < s.size(); ++j) ok = j == skip || s[j] == s0[j];
        XG_CHECK(ok, "{}: tensor {} has shape {}, which does not match tensor 0's {}{}", op, i, s,
                 s0, skip < s0.size() ? fmt::format(" except in dim {}", skip) : std::string());
    }
}

}  // namespace

Tensor cat(const TensorList& ts, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(!ts.empty(), "cat: expected a non-empty list of tensors");
    detail::check_defined("cat", ts[0], "tensors[0]");
    XG_CHECK(ts[0].dim() >= 1, "cat: tensor 0 is 0-d, which cannot be concatenated");
    std::size_t d = detail::wrap_dim("cat", dim, ts[0].dim());
    check_list("cat", ts, d);
    Shape out_shape = ts[0].shape();
    out_shape[d] = 0;
    std::vector<std::int64_t> offsets{0};
    for (const auto& t : ts) {
        offsets.push_back(checked_add("cat", "the concatenated size", offsets.back(),
                                      static_cast<std::int64_t>(t.shape()[d])));
        out_shape[d] = static_cast<std::size_t>(offsets.back());
    }
    // Empty inputs can carry huge sizes: the result's strides must still fit.
    checked_numel("cat", out_shape, dtype_size(ts[0].dtype()));
    Tensor out = concat_raw(ts, split_at(out_shape, d).outer, out_shape);
    if (auto node = record("CatBackward", ts, {out})) {
        std::vector<bool> req;
        for (const auto& t : ts) req.push_back(t.requires_grad());
        auto sd = static_cast<std::int64_t>(d);
        node->set_fn([req, offsets, sd](const TensorList& g) {
            TensorList r(req.size());
            for (std::size_t i = 0; i < req.size(); ++i)
                if (req[i]) r[i] = slice(g[0], sd, offsets[i], offsets[i + 1]);
            return r;
        });
    }
    return out;
}

Tensor stack(const TensorList& ts, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(!ts.empty(), "stack: expected a non-empty list of tensors");
    detail::check_defined("stack", ts[0], "tensors[0]");
    std::size_t d = detail::wrap_dim("stack", dim, ts[0].dim() + 1);
    check_list("stack", ts, ts[0].dim());
    Shape out_shape = ts[0].shape();
    out_shape.insert(out_shape.begin() + static_cast<std::ptrdiff_t>(d), ts.size());
    checked_numel("stack", out_shape, dtype_size(ts[0].dtype()));
    Tensor out = concat_raw(ts, split_at(out_shape, d).outer, out_shape);
    if (auto node = record("StackBackward", ts, {out})) {
        std::vector<bool> req;
        for (const auto& t : ts) req.push_back(t.requires_grad());
        auto sd = static_cast<std::int64_t>(d);
        node->set_fn([req, sd](const TensorList& g) {
            TensorList r(req.size());
            for (std::size_t i = 0; i < req.size(); ++i) {
                auto k = static_cast<std::int64_t>(i);
                if (req[i]) r[i] = squeeze(slice(g[0], sd, k, k + 1), sd);
            }
            return r;
        });
    }
    return out;
}

// ---- pad ----

Tensor pad(const Tensor& a, const std::vector<std::int64_t>& pads, double value, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("pad", a, "input");
    XG_CHECK(pads.size() % 2 == 0 && pads.size() <= 2 * a.dim(),
             "pad: pads [{}] must have an even length of at most 2 * {} (the input {} has {} "
             "dims), got {}",
             fmt::join(pads, ", "), a.dim(), a.shape(), a.dim(), pads.size());
    XG_CHECK(a.dtype() != int64 || (std::isfinite(value) && value >= -9223372036854775808.0 &&
                                    value < 9223372036854775808.0),
             "pad: value {} cannot be represented as int64 (the input's dtype)", value);
    const std::size_t nd = a.dim();
    Shape out_shape = a.shape();
    xt::xstrided_slice_vector src(nd, xt::all()), dst(nd, xt::all());
    bool nothing_kept = a.numel() == 0;
    for (std::size_t p = 0; p < pads.size() / 2; ++p) {
        const std::size_t d = nd - 1 - p;
        const std::int64_t lo = pads[2 * p], hi = pads[2 * p + 1];
        const auto n = static_cast<std::int64_t>(a.shape()[d]);
        XG_CHECK(lo != INT64_MIN && hi != INT64_MIN, "pad: pad width {} is out of range",
                 std::min(lo, hi));  // its negation (the backward's pad) overflows
        const std::int64_t crop_lo = std::max<std::int64_t>(0, -lo);
        const std::int64_t crop_hi = std::max<std::int64_t>(0, -hi);
        XG_CHECK(crop_lo <= n && crop_hi <= n - crop_lo,
                 "pad: pads {} and {} crop more than the {} elements of dim {} (input {})", lo, hi,
                 n, d, a.shape());
        out_shape[d] = static_cast<std::size_t>(checked_add(
            "pad", "the padded size", checked_add("pad", "the padded size", n, lo), hi));
        const std::int64_t keep = n - crop_lo - crop_hi;
        nothing_kept = nothing_kept || keep == 0;
        src[d] = xt::range(crop_lo, crop_lo + keep);
        dst[d] = xt::range(std::max<std::int64_t>(0, lo), std::max<std::int64_t>(0, lo) + keep);
    }
    checked_numel("pad", out_shape, dtype_size(a.dtype()));
    detail::check_representable("pad", value, a.dtype());
    Tensor out = naming_oom("pad", [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> r = xg::array<T>::from_shape(out_shape);
            r.fill(detail::value_cast<T>("pad", value));
            // An empty view still offsets its (null, for an empty array) data pointer: UB.
            if (!nothing_kept) {
                auto from = xt::strided_view(a.data<T>(), src);
                auto to = xt::strided_view(r, dst);
                to = from;
            }
            return Tensor(std::move(r));
        });
    });
    if (auto node = record("ConstantPadNdBackward", {a}, {out})) {
        std::vector<std::int64_t> neg(pads.size());
        for (std::size_t i = 0; i < pads.size(); ++i) neg[i] = -pads[i];
        // Padding with the negated pads crops what was added and zero-fills what was cropped.
        node->set_fn([neg](const TensorList& g) { return TensorList{pad(g[0], neg, 0.0)}; });
    }
    return out;
}

Tensor Tensor::reshape(std::vector<std::int64_t> shape, Site site) const {
    return xg::reshape(*this, shape, site);
}
Tensor Tensor::view(std::vector<std::int64_t> shape, Site site) const {
    return xg::view(*this, shape, site);
}
Tensor Tensor::flatten(std::int64_t s, std::int64_t e, Site site) const {
    return xg::flatten(*this, s, e, site);
}
Tensor Tensor::squeeze(Site site) const {
    return xg::squeeze(*this, site);
}
Tensor Tensor::squeeze(std::int64_t dim, Site site) const {
    return xg::squeeze(*this, dim, site);
}
Tensor Tensor::unsqueeze(std::int64_t dim, Site site) const {
    return xg::unsqueeze(*this, dim, site);
}
Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1, Site site) const {
    return xg::transpose(*this, d0, d1, site);
}
Tensor Tensor::permute(std::vector<std::int64_t> dims, Site site) const {
    return xg::permute(*this, dims, site);
}

}  // namespace xg
