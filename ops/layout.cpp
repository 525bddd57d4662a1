#include "ops/layout.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

// Per output dim, the input offset each index along it reads: most layout ops move elements
// dim by dim (flip, roll, repeat, diagonal, a split's piece), so one kernel serves them all.
using Tables = std::vector<std::vector<std::size_t>>;

std::vector<std::size_t> strides_of(const Shape& s) {
    std::vector<std::size_t> st(s.size(), 1);
    for (std::size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
    return st;
}

std::vector<std::size_t> plain_table(std::size_t n, std::size_t stride) {
    std::vector<std::size_t> t(n);
    for (std::size_t i = 0; i < n; ++i) t[i] = i * stride;
    return t;
}

Tables plain_tables(const Shape& s) {
    auto st = strides_of(s);
    Tables t;
    for (std::size_t d = 0; d < s.size(); ++d) t.push_back(plain_table(s[d], st[d]));
    return t;
}

// `walked` is the row-major array of `shape`; element (i_0, .., i_k) of it pairs with element
// base + tables[0][i_0] + .. + tables[k][i_k] of `mapped`. Copies mapped -> walked (gather) or
// walked -> mapped (scatter). Unsigned offsets wrap, so stepping the odometer back is safe.
template <class T>
void copy_mapped(const T* mapped_in, T* mapped_out, const T* walked_in, T* walked_out,
                 const Shape& shape, const Tables& tables, std::size_t base) {
    for (auto n : shape)
        if (n == 0) return;
    const std::size_t nd = shape.size();
    if (nd == 0) {
        if (walked_out) walked_out[0] = mapped_in[base];
        if (mapped_out) mapped_out[base] = walked_in[0];
        return;
    }
    const auto& last = tables.back();
    const std::size_t n = shape.back();
    bool runs = true;  // the last dim reads a contiguous run
    for (std::size_t j = 1; runs && j < n; ++j) runs = last[j] == last[0] + j;
    std::vector<std::size_t> idx(nd - 1, 0);
    std::size_t off = base, outer = 1;
    for (std::size_t d = 0; d + 1 < nd; ++d) {
        off += tables[d][0];
        outer *= shape[d];
    }
    for (std::size_t o = 0, w = 0; o < outer; ++o, w += n) {
        if (walked_out && runs) {
            std::copy_n(mapped_in + off + last[0], n, walked_out + w);
        } else if (walked_out) {
            for (std::size_t j = 0; j < n; ++j) walked_out[w + j] = mapped_in[off + last[j]];
        } else if (runs) {
            std::copy_n(walked_in + w, n, mapped_out + off + last[0]);
        } else {
            for (std::size_t j = 0; j < n; ++j) mapped_out[off + last[j]] = walked_in[w + j];
        }
        for (std::size_t d = nd - 1; d-- > 0;) {
            off -= tables[d][idx[d]];
            if (++idx[d] < shape[d]) {
                off += tables[d][idx[d]];
                break;
            }
            idx[d] = 0;
            off += tables[d][0];
        }
    }
}

// A new tensor of `shape` gathered from a; make_tables() runs only for a non-empty result (an
// empty one may have a dim of 2^40).
template <class F>
Tensor gather(const char* op, const Tensor& a, const Shape& shape, F&& make_tables,
              std::size_t base = 0) {
    checked_numel(op, shape, dtype_size(a.dtype()));
    return naming_oom(op, [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> r = xg::array<T>::from_shape(shape);
            if (r.size() > 0) {
                const Tables t = make_tables();
                copy_mapped<T>(a.data<T>().data(), nullptr, nullptr, r.data(), shape, t, base);
            }
            return Tensor(std::move(r));
        });
    });
}

std::vector<std::int64_t> dims_of(const Shape& s) {
    return {s.begin(), s.end()};
}

// ---- split, chunk, unbind ----

// Pieces of the given sizes along d (they sum to its size); the backward cats the gradients.
TensorList split_pieces(const char* op, const Tensor& a, std::size_t d,
                        const std::vector<std::size_t>& sizes) {
    TensorList out;
    const auto st = strides_of(a.shape());
    std::size_t start = 0;
    for (std::size_t len : sizes) {
        Shape s = a.shape();
        s[d] = len;
        out.push_back(gather(
            op, a, s,
            [&] {
                Tables t = plain_tables(a.shape());
                t[d] = plain_table(len, st[d]);
                return t;
            },
            start * st[d]));
        start += len;
    }
    if (out.empty()) return out;
    if (auto node = record("SplitBackward", {a}, out)) {
        auto sd = static_cast<std::int64_t>(d);
        node->set_fn([sd](const TensorList& g) { return TensorList{cat(g, sd)}; });
    }
    return out;
}

std::size_t split_dim(const char* op, const Tensor& a, std::int64_t dim) {
    detail::check_defined(op, a, "input");
    XG_CHECK(a.dim() >= 1, "{}: cannot split a 0-d tensor (dim {})", op, dim);
    return detail::wrap_dim(op, dim, a.dim());
}

// Pieces of split_size along d, the last one smaller; PyTorch's split.
TensorList split_even(const char* op, const Tensor& a, std::size_t d, std::int64_t split_size) {
    const auto n = static_cast<std::int64_t>(a.shape()[d]);
    XG_CHECK(split_size >= 0, "{}: split_size must be non-negative, got {}", op, split_size);
    XG_CHECK(split_size > 0 || n == 0,
             "{}: split_size can be 0 only if the dim is empty, but dim {} has size {}", op, d, n);
    std::vector<std::size_t> sizes;
    if (split_size == 0 || n == 0) {
        sizes.push_back(0);
    } else {
        for (std::int64_t at = 0; at < n; at += std::min(split_size, n - at))
            sizes.push_back(static_cast<std::size_t>(std::min(split_size, n - at)));
    }
    return split_pieces(op, a, d, sizes);
}

}  // namespace

TensorList split(const Tensor& a, std::int64_t split_size, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    std::size_t d = split_dim("split", a, dim);
    return split_even("split", a, d, split_size);
}

TensorList split(const Tensor& a, const std::vector<std::int64_t>& sizes, std::int64_t dim,
                 Site site) {
    detail::SiteScope at(site);
    std::size_t d = split_dim("split", a, dim);
    std::int64_t total = 0;
    std::vector<std::size_t> us;
    for (auto s : sizes) {
        XG_CHECK(s >= 0, "split: sizes [{}] has a negative entry {}", fmt::join(sizes, ", "), s);
        total = checked_add("split", "the sum of sizes", total, s);
        us.push_back(static_cast<std::size_t>(s));
    }
    XG_CHECK(total == static_cast<std::int64_t>(a.shape()[d]),
             "split: sizes [{}] sum to {}, but dim {} of the input {} has size {}",
             fmt::join(sizes, ", "), total, d, a.shape(), a.shape()[d]);
    return split_pieces("split", a, d, us);
}

TensorList chunk(const Tensor& a, std::int64_t chunks, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    std::size_t d = split_dim("chunk", a, dim);
    XG_CHECK(chunks > 0, "chunk: chunks must be greater than 0, got {}", chunks);
    const auto n = static_cast<std::int64_t>(a.shape()[d]);
    if (n == 0) {  // as PyTorch: `chunks` empty pieces
        checked_numel("chunk", Shape{static_cast<std::size_t>(chunks)}, sizeof(Tensor));
        return naming_oom("chunk", [&] {
            return split_pieces("chunk", a, d,
                                std::vector<std::size_t>(static_cast<std::size_t>(chunks), 0));
        });
    }
    return split_even("chunk", a, d, n / chunks + (n % chunks != 0));
}

TensorList unbind(const Tensor& a, std::int64_t dim, Site site) {
    detail::SiteScope at(site);
    std::size_t d = split_dim("unbind", a, dim);
    Shape s = a.shape();
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(d));
    const auto st = strides_of(a.shape());
    TensorList out;
    for (std::size_t k = 0; k < a.shape()[d]; ++k) {
        out.push_back(gather(
            "unbind", a, s,
            [&] {
                Tables t = plain_tables(a.shape());
                t.erase(t.begin() + static_cast<std::ptrdiff_t>(d));
                return t;
            },
            k * st[d]));
    }
    if (out.empty()) return out;
    if (auto node = record("UnbindBackward", {a}, out)) {
        auto sd = static_cast<std::int64_t>(d);
        node->set_fn([sd](const TensorList& g) { return TensorList{stack(g, sd)}; });
    }
    return out;
}

Tensor narrow(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t length,
              Site site) {
    detail::SiteScope at(site);
    detail::check_defined("narrow", a, "input");
    XG_CHECK(a.dim() >= 1, "narrow: cannot narrow a 0-d tensor");
    std::size_t d = detail::wrap_dim("narrow", dim, a.dim());
    const auto n = static_cast<std::int64_t>(a.shape()[d]);
    XG_CHECK(start >= -n && start <= n, "narrow: start {} is out of range for dim {} of size {}",
             start, d, n);
    if (start < 0) start += n;
    XG_CHECK(length >= 0, "narrow: length must be non-negative, got {}", length);
    XG_CHECK(length <= n - start, "narrow: start ({}) + length ({}) exceeds dim {} of size {}",
             start, length, d, n);
    return slice(a, static_cast<std::int64_t>(d), start, start + length);
}

// ---- repeat, tile, repeat_interleave ----

namespace {

Tensor repeat_impl(const char* op, const char* what, const Tensor& a,
                   const std::vector<std::int64_t>& reps) {
    XG_CHECK(reps.size() >= a.dim(), "{}: {} [{}] has {} entries, fewer than the {} dims of {}", op,
             what, fmt::join(reps, ", "), reps.size(), a.dim(), a.shape());
    for (auto r : reps)
        XG_CHECK(r >= 0, "{}: {} [{}] has a negative entry {}", op, what, fmt::join(reps, ", "), r);
    if (reps.empty()) return a.clone();  // a 0-d input
    const std::size_t lead = reps.size() - a.dim();
    Shape in(lead, 1), out(reps.size());
    in.insert(in.end(), a.shape().begin(), a.shape().end());
    for (std::size_t i = 0; i < reps.size(); ++i)
        out[i] = static_cast<std::size_t>(
            checked_mul(op, "the repeated size", reps[i], static_cast<std::int64_t>(in[i])));
    Tensor r = gather(op, a, out, [&] {
        auto st = strides_of(in);
        Tables t(out.size());
        for (std::size_t d = 0; d < out.size(); ++d)
            for (std::size_t j = 0; j < out[d]; ++j) t[d].push_back(j % in[d] * st[d]);
        return t;
    });
    if (auto node = record("RepeatBackward", {a}, {r})) {
        // (r0 * s0, r1 * s1, ..) seen as (r0, s0, r1, s1, ..), summed over the repeats.
        std::vector<std::int64_t> split_shape, rep_dims;
        for (std::size_t i = 0; i < reps.size(); ++i) {
            rep_dims.push_back(static_cast<std::int64_t>(2 * i));
            split_shape.push_back(reps[i]);
            split_shape.push_back(static_cast<std::int64_t>(in[i]));
        }
        auto shape = dims_of(a.shape());
        node->set_fn([split_shape, rep_dims, shape](const TensorList& g) {
            return TensorList{reshape(sum(reshape(g[0], split_shape), rep_dims), shape)};
        });
    }
    return r;
}

}  // namespace

Tensor repeat(const Tensor& a, const std::vector<std::int64_t>& repeats, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("repeat", a, "input");
    return repeat_impl("repeat", "repeats", a, repeats);
}

Tensor tile(const Tensor& a, const std::vector<std::int64_t>& reps, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("tile", a, "input");
    std::vector<std::int64_t> padded(reps);
    if (padded.size() < a.dim()) padded.insert(padded.begin(), a.dim() - padded.size(), 1);
    for (auto r : reps)  // named with the caller's reps, not the padded ones
        XG_CHECK(r >= 0, "tile: reps [{}] has a negative entry {}", fmt::join(reps, ", "), r);
    return repeat_impl("tile", "reps", a, padded);
}

namespace detail {

Tensor repeat_runs(const Tensor& a, const std::vector<std::int64_t>& counts, std::size_t d) {
    const char* op = "repeat_interleave";
    const std::size_t n = a.shape()[d];
    XG_CHECK(counts.size() == 1 || counts.size() == n,
             "{}: repeats has {} entries, but the input {} has size {} along dim {}", op,
             counts.size(), a.shape(), n, d);
    std::int64_t total = 0;
    if (counts.size() == 1) {
        total = checked_mul(op, "the repeated size", counts[0], static_cast<std::int64_t>(n));
    } else {
        for (auto c : counts) total = checked_add(op, "the repeated size", total, c);
    }
    Shape out = a.shape();
    out[d] = static_cast<std::size_t>(total);
    Tensor r = gather(op, a, out, [&] {
        Tables t = plain_tables(a.shape());
        const std::size_t stride = strides_of(a.shape())[d];
        t[d].clear();
        for (std::size_t k = 0; k < n; ++k)
            t[d].insert(t[d].end(), static_cast<std::size_t>(counts[counts.size() == 1 ? 0 : k]),
                        k * stride);
        return t;
    });
    if (auto node = record("RepeatInterleaveBackward", {a}, {r})) {
        node->set_fn([counts, d, n](const TensorList& g) {
            return TensorList{sum_runs(g[0], counts, d, n)};
        });
    }
    return r;
}

Tensor sum_runs(const Tensor& g, const std::vector<std::int64_t>& counts, std::size_t d,
                std::size_t n) {
    const char* op = "sum_runs";
    check_defined(op, g, "grad");
    XG_CHECK(d < g.dim() && (counts.size() == 1 || counts.size() == n),
             "sum_runs: dim {} or {} counts do not fit a gradient of shape {} (n = {})", d,
             counts.size(), g.shape(), n);
    std::int64_t total = 0;
    if (counts.size() == 1)  // no loop over n: an empty gradient may have n = 2^40
        total = checked_mul(op, "the run lengths", counts[0], static_cast<std::int64_t>(n));
    for (std::size_t k = 0; counts.size() > 1 && k < n; ++k)
        total = checked_add(op, "the run lengths", total, counts[k]);
    XG_CHECK(total == static_cast<std::int64_t>(g.shape()[d]),
             "sum_runs: the runs cover {} elements, the gradient {} has {} along dim {}", total,
             g.shape(), g.shape()[d], d);
    Shape out_shape = g.shape();
    out_shape[d] = n;
    Tensor out = dispatch_float(op, g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = xt::zeros<T>(out_shape);
        if (r.size() == 0) return Tensor(std::move(r));
        const std::size_t m = g.shape()[d], inner = strides_of(g.shape())[d];
        const std::size_t outer = r.size() / (n * inner);
        const T* src = g.data<T>().data();
        for (std::size_t o = 0; o < outer; ++o) {
            std::size_t j = 0;
            for (std::size_t k = 0; k < n; ++k) {
                T* dst = r.data() + (o * n + k) * inner;
                const auto c = static_cast<std::size_t>(counts[counts.size() == 1 ? 0 : k]);
                for (std::size_t e = 0; e < c; ++e, ++j) {
                    const T* row = src + (o * m + j) * inner;
                    for (std::size_t i = 0; i < inner; ++i) dst[i] += row[i];
                }
            }
        }
        return Tensor(std::move(r));
    });
    if (auto node = record("SumRunsBackward", {g}, {out})) {
        node->set_fn([counts, d](const TensorList& gg) {
            return TensorList{repeat_runs(gg[0], counts, d)};
        });
    }
    return out;
}

}  // namespace detail

namespace {

// The input seen by repeat_interleave and the dim it repeats along: without a dim, flattened.
std::pair<Tensor, std::size_t> interleave_input(const Tensor& a, std::optional<std::int64_t> dim) {
    detail::check_defined("repeat_interleave", a, "input");
    if (!dim) return {reshape(a, {-1}), 0};
    XG_CHECK(a.dim() >= 1, "repeat_interleave: dim {} given for a 0-d tensor (give no dim)", *dim);
    return {a, detail::wrap_dim("repeat_interleave", *dim, a.dim())};
}

}  // namespace

Tensor repeat_interleave(const Tensor& a, std::int64_t repeats, std::optional<std::int64_t> dim,
                         Site site) {
    detail::SiteScope at(site);
    auto [x, d] = interleave_input(a, dim);
    XG_CHECK(repeats >= 0, "repeat_interleave: repeats must be non-negative, got {}", repeats);
    return detail::repeat_runs(x, {repeats}, d);
}

Tensor repeat_interleave(const Tensor& a, const Tensor& repeats, std::optional<std::int64_t> dim,
                         Site site) {
    detail::SiteScope at(site);
    auto [x, d] = interleave_input(a, dim);
    detail::check_defined("repeat_interleave", repeats, "repeats");
    XG_CHECK(repeats.dtype() == int64, "repeat_interleave: repeats must be an int64 tensor, got {}",
             repeats.dtype());
    XG_CHECK(repeats.dim() <= 1, "repeat_interleave: repeats must be 0-d or 1-D, got shape {}",
             repeats.shape());
    const auto& data = repeats.data<std::int64_t>();
    std::vector<std::int64_t> counts(data.begin(), data.end());
    for (std::size_t i = 0; i < counts.size(); ++i)
        XG_CHECK(counts[i] >= 0, "repeat_interleave: repeats has a negative entry {} at index {}",
                 counts[i], i);
    XG_CHECK(!counts.empty() || x.shape()[d] == 0,
             "repeat_interleave: repeats has 0 entries, but the input {} has size {} along dim {}",
             x.shape(), x.shape()[d], d);
    if (counts.empty()) counts.push_back(0);  // an empty dim: any count gives an empty result
    return detail::repeat_runs(x, counts, d);
}

// ---- flip, roll ----

Tensor flip(const Tensor& a, const std::vector<std::int64_t>& dims, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("flip", a, "input");
    std::vector<bool> flipped(std::max<std::size_t>(a.dim(), 1), false);
    for (auto dim : dims) {
        std::size_t d = detail::wrap_dim("flip", dim, a.dim());
        XG_CHECK(!flipped[d], "flip: dim {} appears more than once in [{}]", d,
                 fmt::join(dims, ", "));
        flipped[d] = true;
    }
    Tensor r = gather("flip", a, a.shape(), [&] {
        Tables t = plain_tables(a.shape());
        for (std::size_t d = 0; d < t.size(); ++d)
            if (flipped[d]) std::reverse(t[d].begin(), t[d].end());
        return t;
    });
    if (auto node = record("FlipBackward", {a}, {r}))
        node->set_fn([dims](const TensorList& g) { return TensorList{flip(g[0], dims)}; });
    return r;
}

Tensor roll(const Tensor& a, const std::vector<std::int64_t>& shifts,
            const std::vector<std::int64_t>& dims, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("roll", a, "input");
    if (dims.empty()) {  // over the flattened tensor
        XG_CHECK(shifts.size() == 1, "roll: without dims, shifts must have one entry, got [{}]",
                 fmt::join(shifts, ", "));
        return reshape(roll(reshape(a, {-1}), shifts, {0}), dims_of(a.shape()));
    }
    XG_CHECK(shifts.size() == dims.size(),
             "roll: shifts [{}] and dims [{}] must have the same length ({} vs {})",
             fmt::join(shifts, ", "), fmt::join(dims, ", "), shifts.size(), dims.size());
    XG_CHECK(a.dim() >= 1, "roll: cannot roll a 0-d tensor along dims [{}]", fmt::join(dims, ", "));
    // Each dim's total shift in [0, n): its negation (the backward's shift) cannot overflow.
    std::vector<std::int64_t> shift(a.dim(), 0);
    for (std::size_t i = 0; i < dims.size(); ++i) {
        std::size_t d = detail::wrap_dim("roll", dims[i], a.dim());
        const auto n = static_cast<std::int64_t>(a.shape()[d]);
        if (n == 0) continue;
        std::int64_t s = shifts[i] % n;
        shift[d] = (shift[d] + (s < 0 ? s + n : s)) % n;
    }
    Tensor r = gather("roll", a, a.shape(), [&] {
        Tables t = plain_tables(a.shape());
        for (std::size_t d = 0; d < t.size(); ++d)
            std::rotate(t[d].begin(), t[d].end() - shift[d], t[d].end());
        return t;
    });
    if (auto node = record("RollBackward", {a}, {r})) {
        std::vector<std::int64_t> back, all;
        for (std::size_t d = 0; d < shift.size(); ++d) {
            back.push_back(-shift[d]);
            all.push_back(static_cast<std::int64_t>(d));
        }
        node->set_fn(
            [back, all](const TensorList& g) { return TensorList{roll(g[0], back, all)}; });
    }
    return r;
}

// ---- tril, triu ----

namespace {

Tensor triangle(const char* op, const Tensor& a, std::int64_t k, bool lower) {
    detail::check_defined(op, a, "input");
    XG_CHECK(a.dim() >= 2, "{}: input must have at least 2 dims, got shape {}", op, a.shape());
    const std::size_t rows = a.size(-2), cols = a.size(-1);
    // Beyond these bounds k changes nothing; clamped, i + k cannot overflow.
    const auto kc = std::clamp<std::int64_t>(k, -static_cast<std::int64_t>(rows),
                                             static_cast<std::int64_t>(cols));
    Tensor r = naming_oom(op, [&] {
        return detail::dispatch_all(a.dtype(), [&](auto tag) {
            using T = decltype(tag);
            xg::array<T> out = xg::array<T>::from_shape(a.shape());
            if (out.size() == 0) return Tensor(std::move(out));
            const T* src = a.data<T>().data();
            T* dst = out.data();
            const std::size_t mats = out.size() / (rows * cols);
            for (std::size_t m = 0; m < mats; ++m) {
                for (std::size_t i = 0; i < rows; ++i) {
                    // Row i keeps columns j <= i + k (tril) or j >= i + k (triu).
                    const auto edge = static_cast<std::int64_t>(i) + kc + (lower ? 1 : 0);
                    const auto cut = static_cast<std::size_t>(
                        std::clamp<std::int64_t>(edge, 0, static_cast<std::int64_t>(cols)));
                    const std::size_t row = (m * rows + i) * cols;
                    const std::size_t keep0 = lower ? 0 : cut, keep1 = lower ? cut : cols;
                    std::fill(dst + row, dst + row + cols, T(0));
                    std::copy(src + row + keep0, src + row + keep1, dst + row + keep0);
                }
            }
            return Tensor(std::move(out));
        });
    });
    if (auto node = record(lower ? "TrilBackward" : "TriuBackward", {a}, {r})) {
        node->set_fn([k, lower](const TensorList& g) {
            return TensorList{lower ? tril(g[0], k) : triu(g[0], k)};
        });
    }
    return r;
}

}  // namespace

Tensor tril(const Tensor& a, std::int64_t diagonal, Site site) {
    detail::SiteScope at(site);
    return triangle("tril", a, diagonal, true);
}

Tensor triu(const Tensor& a, std::int64_t diagonal, Site site) {
    detail::SiteScope at(site);
    return triangle("triu", a, diagonal, false);
}

// ---- diagonal ----

namespace {

// Where diagonal(offset, d1, d2) of a tensor of shape `in` reads: the result's shape (the other
// dims, then the diagonal), its first element and the tables (only for a non-empty result).
struct DiagMap {
    Shape out;
    std::size_t base = 0;
    Tables tables() const { return make(); }
    std::function<Tables()> make;
};

DiagMap diag_map(const Shape& in, std::int64_t offset, std::size_t d1, std::size_t d2) {
    const auto n1 = static_cast<std::int64_t>(in[d1]), n2 = static_cast<std::int64_t>(in[d2]);
    std::int64_t len = 0;
    if (offset >= 0)
        len = offset >= n2 ? 0 : std::min(n1, n2 - offset);
    else
        len = offset <= -n1 ? 0 : std::min(n1 + offset, n2);
    DiagMap m;
    for (std::size_t d = 0; d < in.size(); ++d)
        if (d != d1 && d != d2) m.out.push_back(in[d]);
    m.out.push_back(static_cast<std::size_t>(len));
    const auto st = strides_of(in);
    if (len > 0) {  // |offset| < n1 or n2 here, so negating it is safe
        const auto r0 = static_cast<std::size_t>(offset < 0 ? -offset : 0);
        const auto c0 = static_cast<std::size_t>(offset > 0 ? offset : 0);
        m.base = r0 * st[d1] + c0 * st[d2];
    }
    m.make = [in, st, d1, d2, len] {
        Tables t;
        for (std::size_t d = 0; d < in.size(); ++d)
            if (d != d1 && d != d2) t.push_back(plain_table(in[d], st[d]));
        t.push_back(plain_table(static_cast<std::size_t>(len), st[d1] + st[d2]));
        return t;
    };
    return m;
}

}  // namespace

namespace detail {

Tensor diagonal_backward(const Tensor& g, const Shape& in_shape, std::int64_t offset,
                         std::size_t d1, std::size_t d2) {
    check_defined("diagonal_backward", g, "grad");
    XG_CHECK(d1 < in_shape.size() && d2 < in_shape.size() && d1 != d2,
             "diagonal_backward: dims {} and {} do not fit shape {}", d1, d2, in_shape);
    DiagMap m = diag_map(in_shape, offset, d1, d2);
    XG_CHECK(g.shape() == m.out, "diagonal_backward: grad has shape {}, expected {}", g.shape(),
             m.out);
    Tensor out = dispatch_float("diagonal_backward", g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        xg::array<T> r = xt::zeros<T>(in_shape);
        if (g.numel() > 0)
            copy_mapped<T>(nullptr, r.data(), g.data<T>().data(), nullptr, m.out, m.tables(),
                           m.base);
        return Tensor(std::move(r));
    });
    if (auto node = record("DiagonalBackwardBackward", {g}, {out})) {
        auto s1 = static_cast<std::int64_t>(d1), s2 = static_cast<std::int64_t>(d2);
        node->set_fn([offset, s1, s2](const TensorList& gg) {
            return TensorList{diagonal(gg[0], offset, s1, s2)};
        });
    }
    return out;
}

}  // namespace detail

Tensor diagonal(const Tensor& a, std::int64_t offset, std::int64_t dim1, std::int64_t dim2,
                Site site) {
    detail::SiteScope at(site);
    detail::check_defined("diagonal", a, "input");
    XG_CHECK(a.dim() >= 2, "diagonal: input must have at least 2 dims, got shape {}", a.shape());
    std::size_t d1 = detail::wrap_dim("diagonal", dim1, a.dim());
    std::size_t d2 = detail::wrap_dim("diagonal", dim2, a.dim());
    XG_CHECK(d1 != d2, "diagonal: dim1 ({}) and dim2 ({}) are both dim {}; they must differ", dim1,
             dim2, d1);
    DiagMap m = diag_map(a.shape(), offset, d1, d2);
    Tensor r = gather(
        "diagonal", a, m.out, [&] { return m.tables(); }, m.base);
    if (auto node = record("DiagonalBackward", {a}, {r})) {
        Shape in = a.shape();
        node->set_fn([in, offset, d1, d2](const TensorList& g) {
            return TensorList{detail::diagonal_backward(g[0], in, offset, d1, d2)};
        });
    }
    return r;
}

// ---- movedim, swapaxes ----

namespace detail {

Tensor permute_copy(const Tensor& a, const std::vector<std::int64_t>& perm) {
    check_defined("permute", a, "input");
    XG_CHECK(perm.size() == a.dim(), "permute: perm [{}] does not fit shape {}",
             fmt::join(perm, ", "), a.shape());
    Shape out;
    std::vector<std::int64_t> inv(perm.size(), -1);
    for (std::size_t i = 0; i < perm.size(); ++i) {
        XG_CHECK(perm[i] >= 0 && static_cast<std::size_t>(perm[i]) < a.dim() &&
                     inv[static_cast<std::size_t>(perm[i])] < 0,
                 "permute: perm [{}] is not a permutation of the dims of {}", fmt::join(perm, ", "),
                 a.shape());
        inv[static_cast<std::size_t>(perm[i])] = static_cast<std::int64_t>(i);
        out.push_back(a.shape()[static_cast<std::size_t>(perm[i])]);
    }
    Tensor r = gather("permute", a, out, [&] {
        const auto st = strides_of(a.shape());
        Tables t;
        for (auto p : perm) {
            const auto d = static_cast<std::size_t>(p);
            t.push_back(plain_table(a.shape()[d], st[d]));
        }
        return t;
    });
    if (auto node = record("PermuteBackward", {a}, {r}))
        node->set_fn([inv](const TensorList& g) { return TensorList{permute_copy(g[0], inv)}; });
    return r;
}

}  // namespace detail

Tensor movedim(const Tensor& a, std::int64_t source, std::int64_t destination, Site site) {
    detail::SiteScope at(site);
    return movedim(a, std::vector<std::int64_t>{source}, std::vector<std::int64_t>{destination});
}

Tensor movedim(const Tensor& a, const std::vector<std::int64_t>& source,
               const std::vector<std::int64_t>& destination, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("movedim", a, "input");
    XG_CHECK(source.size() == destination.size(),
             "movedim: source [{}] and destination [{}] must have the same length ({} vs {})",
             fmt::join(source, ", "), fmt::join(destination, ", "), source.size(),
             destination.size());
    const std::size_t nd = a.dim(), slots = std::max<std::size_t>(nd, 1);
    std::vector<std::int64_t> perm(slots, -1);
    std::vector<bool> moved(slots, false);
    for (std::size_t i = 0; i < source.size(); ++i) {
        std::size_t s = detail::wrap_dim("movedim", source[i], nd);
        std::size_t d = detail::wrap_dim("movedim", destination[i], nd);
        XG_CHECK(!moved[s], "movedim: source [{}] repeats dim {}", fmt::join(source, ", "), s);
        XG_CHECK(perm[d] < 0, "movedim: destination [{}] repeats dim {}",
                 fmt::join(destination, ", "), d);
        moved[s] = true;
        perm[d] = static_cast<std::int64_t>(s);
    }
    if (nd == 0) return a.clone();
    // The dims not moved keep their order in the free slots.
    std::size_t next = 0;
    for (auto& p : perm) {
        if (p >= 0) continue;
        while (moved[next]) ++next;
        p = static_cast<std::int64_t>(next++);
    }
    return detail::permute_copy(a, perm);
}

Tensor swapaxes(const Tensor& a, std::int64_t axis0, std::int64_t axis1, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("swapaxes", a, "input");
    detail::wrap_dim("swapaxes", axis0, a.dim());
    detail::wrap_dim("swapaxes", axis1, a.dim());
    return transpose(a, axis0, axis1);
}

// ---- expand_as, broadcast_to, meshgrid ----

namespace {

// a broadcast to `shape` (checked by the caller), written out when first read. Integer
// tensors never carry a gradient: they take the same lazy broadcast without a node.
Tensor broadcast_impl(const char* op, const Tensor& a, const Shape& shape) {
    checked_numel(op, shape, dtype_size(a.dtype()));
    if (a.shape() == shape) return detail::alias("ExpandBackward", a);
    if (a.dtype() == float32 || a.dtype() == float64) return expand(a, shape);
    return detail::broadcast_lazy(a, shape);
}

}  // namespace

Tensor expand_as(const Tensor& a, const Tensor& other, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("expand_as", a, "input");
    detail::check_defined("expand_as", other, "other");
    XG_CHECK(detail::is_broadcastable_to(a.shape(), other.shape()),
             "expand_as: cannot broadcast the input's shape {} to other's shape {}", a.shape(),
             other.shape());
    return broadcast_impl("expand_as", a, other.shape());
}

Tensor broadcast_to(const Tensor& a, const std::vector<std::int64_t>& shape, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("broadcast_to", a, "input");
    XG_CHECK(shape.size() >= a.dim(), "broadcast_to: shape [{}] has fewer dims than the input {}",
             fmt::join(shape, ", "), a.shape());
    const std::size_t lead = shape.size() - a.dim();
    Shape out(shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const std::int64_t s = shape[i];
        if (i < lead) {
            XG_CHECK(s >= 0, "broadcast_to: size {} of the new leading dim {} must be >= 0", s, i);
        } else if (s == -1) {
            out[i] = a.shape()[i - lead];
            continue;
        } else {
            const std::size_t in = a.shape()[i - lead];
            XG_CHECK(s >= 0 && (in == 1 || static_cast<std::size_t>(s) == in),
                     "broadcast_to: the input {} has size {} at dim {}, which cannot broadcast to "
                     "size {} (shape [{}])",
                     a.shape(), in, i - lead, s, fmt::join(shape, ", "));
        }
        out[i] = static_cast<std::size_t>(s);
    }
    return broadcast_impl("broadcast_to", a, out);
}

TensorList meshgrid(const TensorList& tensors, const std::string& indexing, Site site) {
    detail::SiteScope at(site);
    XG_CHECK(indexing == "ij" || indexing == "xy",
             "meshgrid: indexing must be 'ij' or 'xy', got '{}'", indexing);
    XG_CHECK(!tensors.empty(), "meshgrid: expected a non-empty list of tensors");
    const std::size_t n = tensors.size();
    for (std::size_t i = 0; i < n; ++i) {
        XG_CHECK(tensors[i].defined(), "meshgrid: tensor {} in the list is undefined", i);
        XG_CHECK(tensors[i].dim() <= 1, "meshgrid: tensor {} has shape {}; expected 0-d or 1-D", i,
                 tensors[i].shape());
        XG_CHECK(tensors[i].dtype() == tensors[0].dtype(),
                 "meshgrid: tensor {} has dtype {}, tensor 0 has {}", i, tensors[i].dtype(),
                 tensors[0].dtype());
    }
    // "xy" swaps the first two dims: tensor 0 varies along dim 1, tensor 1 along dim 0.
    auto pos = [&](std::size_t i) { return indexing == "xy" && n >= 2 && i < 2 ? 1 - i : i; };
    Shape full(n);
    for (std::size_t i = 0; i < n; ++i) full[pos(i)] = tensors[i].numel();
    TensorList out;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::int64_t> line(n, 1);
        line[pos(i)] = static_cast<std::int64_t>(tensors[i].numel());
        out.push_back(broadcast_impl("meshgrid", reshape(tensors[i], line), full));
    }
    return out;
}

}  // namespace xg
