// Random factories and fillers (ops/random.hpp). Every check runs before the first draw, so a
// refused call leaves the generator where it was.
#include "ops/random.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "core/checked.hpp"
#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"

namespace xg {

namespace {

using detail::dispatch_all;
using detail::dispatch_float;

// Uniform in [0, range), range > 0, without modulo bias: draws below 2^64 mod range, the
// incomplete last block, are redrawn.
std::uint64_t bounded(Generator& gen, std::uint64_t range) {
    const std::uint64_t threshold = (0 - range) % range;
    for (;;) {
        const std::uint64_t x = gen.next_u64();
        if (x >= threshold) return x % range;
    }
}

// A tensor of `shape` and `dtype` with draw() (a double) in every element, row-major.
template <class Draw>
Tensor fill_float(const char* op, const Shape& shape, Dtype dtype, Draw draw) {
    checked_numel(op, shape, dtype_size(dtype));
    return naming_oom(op, [&] {
        return dispatch_float(op, dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape(shape);
            for (auto& v : a) v = static_cast<T>(draw());
            return Tensor(std::move(a));
        });
    });
}

// As the in-place ops of ops/inplace.cpp: the tape cannot follow a write into a tensor on it.
void check_fill_target(const char* op, const Tensor& t) {
    detail::check_defined(op, t, "self");
    XG_CHECK(!(GradMode::is_enabled() && t.requires_grad()),
             "{}: in-place fill of a tensor that requires grad while grad mode is on ({}; fill "
             "parameters under xg::NoGradGuard)",
             op, t.is_leaf() ? "a leaf" : "it has a grad_fn");
    detail::check_floating(op, t, "self");
}

// Writes draw() into every element of t, in t's precision, kept below `below` when given
// (rounding to float32 can reach the upper end of [from, to)).
template <class Draw>
Tensor& fill_in_place(Tensor& t, Draw draw, std::optional<double> below = std::nullopt) {
    dispatch_float("fill", t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto& a = t.mutable_data<T>();  // bumps the version
        const T hi = below ? static_cast<T>(*below) : T(0);
        const T under = std::nextafter(hi, std::numeric_limits<T>::lowest());
        for (auto& v : a) {
            v = static_cast<T>(draw());
            if (below && v >= hi) v = under;
        }
    });
    return t;
}

void check_finite(const char* op, const char* what, double v) {
    XG_CHECK(std::isfinite(v), "{}: {} must be finite, got {}", op, what, v);
}

}  // namespace

// ---- randint / randperm ----

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return randint(low, high, shape, default_generator(), dtype);
}

Tensor randint(std::int64_t high, const Shape& shape, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return randint(0, high, shape, default_generator(), dtype);
}

Tensor randint(std::int64_t high, const Shape& shape, Generator& gen, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return randint(0, high, shape, gen, dtype);
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen, Dtype dtype,
               Site site) {
    detail::SiteScope at(site);
    const char* op = "randint";
    XG_CHECK(low < high, "randint: low {} must be less than high {}", low, high);
    XG_CHECK(dtype != bool_, "randint: not supported for bool");
    XG_CHECK(dtype != int32 || (low >= -2147483648LL && high - 1 <= 2147483647LL),
             "randint: [{}, {}) is out of bounds for int32", low, high);
    checked_numel(op, shape, dtype_size(dtype));
    // In uint64, where the difference and the sum wrap without undefined behaviour.
    const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    return naming_oom(op, [&] {
        return dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape(shape);
            for (auto& v : a) {
                const auto x = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) +
                                                         bounded(gen, range));
                v = static_cast<T>(x);
            }
            return Tensor(std::move(a));
        });
    });
}

Tensor randperm(std::int64_t n, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return randperm(n, default_generator(), dtype);
}

Tensor randperm(std::int64_t n, Generator& gen, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    const char* op = "randperm";
    XG_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
    XG_CHECK(dtype != bool_ && (dtype != int32 || n - 1 <= 2147483647LL),
             "randperm: n {} is too large for {}", n, dtype);
    // Beyond 2^24 float32 skips integers, so the result would not be a permutation.
    XG_CHECK(dtype != float32 || n <= (std::int64_t(1) << 24),
             "randperm: n {} is too large for float32 (at most 2^24 = 16777216)", n);
    const auto count = static_cast<std::size_t>(n);
    checked_numel(op, Shape{count}, std::max<std::size_t>(dtype_size(dtype), 8));
    return naming_oom(op, [&] {
        std::vector<std::int64_t> p(count);
        std::iota(p.begin(), p.end(), std::int64_t{0});
        for (std::size_t i = count; i-- > 1;) std::swap(p[i], p[bounded(gen, i + 1)]);
        return dispatch_all(dtype, [&](auto tag) {
            using T = decltype(tag);
            auto a = xg::array<T>::from_shape({count});
            std::transform(p.begin(), p.end(), a.begin(),
                           [](std::int64_t v) { return static_cast<T>(v); });
            return Tensor(std::move(a));
        });
    });
}

// ---- multinomial ----

Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement, Site site) {
    detail::SiteScope at(site);
    return multinomial(probs, num_samples, replacement, default_generator());
}

Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement, Generator& gen,
                   Site site) {
    detail::SiteScope at(site);
    const char* op = "multinomial";
    detail::check_defined(op, probs, "probs");
    detail::check_floating(op, probs, "probs");
    XG_CHECK(probs.dim() == 1 || probs.dim() == 2,
             "multinomial: probs must be 1-D or 2-D, got shape {}", probs.shape());
    XG_CHECK(num_samples > 0, "multinomial: num_samples must be positive, got {}", num_samples);
    const std::size_t rows = probs.dim() == 2 ? probs.size(0) : 1;
    const std::size_t cats = probs.size(-1);
    XG_CHECK(cats > 0, "multinomial: probs {} has no categories", probs.shape());
    const auto n = static_cast<std::size_t>(num_samples);
    XG_CHECK(replacement || n <= cats,
             "multinomial: cannot draw {} samples without replacement from {} categories",
             num_samples, cats);
    const std::vector<double> w = probs.to_vector();
    std::vector<std::size_t> positive(rows, 0);
    std::vector<double> largest(rows, 0.0);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cats; ++c) {
            const double v = w[r * cats + c];
            XG_CHECK(std::isfinite(v) && v >= 0.0,
                     "multinomial: weights must be finite and non-negative, got {} at row {}, "
                     "category {}",
                     v, r, c);
            largest[r] = std::max(largest[r], v);
        }
        // Counted after scaling by the largest weight, as drawn: one below 1e-308 of the
        // largest is 0 (its probability would be too).
        for (std::size_t c = 0; c < cats && largest[r] > 0.0; ++c)
            positive[r] += w[r * cats + c] / largest[r] > 0.0 ? 1 : 0;
        XG_CHECK(positive[r] > 0, "multinomial: row {} has no positive weight (all {} are 0)", r,
                 cats);
        XG_CHECK(replacement || positive[r] >= n,
                 "multinomial: row {} has {} categories of nonzero weight, fewer than the {} "
                 "samples to draw without replacement",
                 r, positive[r], num_samples);
    }
    Shape out_shape = probs.dim() == 2 ? Shape{rows, n} : Shape{n};
    checked_numel(op, out_shape, sizeof(std::int64_t));
    return naming_oom(op, [&] {
        auto out = xg::array<std::int64_t>::from_shape(out_shape);
        std::vector<double> row(cats), cdf(cats);
        for (std::size_t r = 0; r < rows; ++r) {
            // Scaled by the largest weight, so the sums cannot overflow (weights near 1e308).
            for (std::size_t c = 0; c < cats; ++c) row[c] = w[r * cats + c] / largest[r];
            for (std::size_t s = 0; s < n; ++s) {
                // Inverse CDF over the remaining weights (recomputed: no drift as they go).
                std::partial_sum(row.begin(), row.end(), cdf.begin());
                const double u = gen.uniform() * cdf.back();
                auto c = static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) -
                                                  cdf.begin());
                if (c == cats) {  // u rounded up to the total: the last positive category
                    c = cats - 1;
                    while (c > 0 && row[c] == 0.0) --c;
                }
                out.data()[r * n + s] = static_cast<std::int64_t>(c);
                if (!replacement) row[c] = 0.0;
            }
        }
        return Tensor(std::move(out));
    });
}

// ---- bernoulli / normal ----

Tensor bernoulli(const Tensor& p, Site site) {
    detail::SiteScope at(site);
    return bernoulli(p, default_generator());
}

Tensor bernoulli(const Tensor& p, Generator& gen, Site site) {
    detail::SiteScope at(site);
    const char* op = "bernoulli";
    detail::check_defined(op, p, "p");
    detail::check_floating(op, p, "p");
    const std::vector<double> pv = p.to_vector();
    for (std::size_t i = 0; i < pv.size(); ++i)
        XG_CHECK(pv[i] >= 0.0 && pv[i] <= 1.0,
                 "bernoulli: probabilities must be in [0, 1], got {} at element {}", pv[i], i);
    std::size_t i = 0;
    return fill_float(op, p.shape(), p.dtype(),
                      [&] { return gen.uniform() < pv[i++] ? 1.0 : 0.0; });
}

Tensor normal(double mean, double std, const Shape& shape, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    return normal(mean, std, shape, default_generator(), dtype);
}

Tensor normal(double mean, double std, const Shape& shape, Generator& gen, Dtype dtype, Site site) {
    detail::SiteScope at(site);
    const char* op = "normal";
    check_finite(op, "mean", mean);
    XG_CHECK(std::isfinite(std) && std >= 0.0, "normal: std must be finite and >= 0, got {}", std);
    return fill_float(op, shape, dtype, [&] { return mean + std * gen.normal(); });
}

// ---- in-place fillers ----

Tensor& uniform_(Tensor& t, double from, double to, Site site) {
    detail::SiteScope at(site);
    return uniform_(t, from, to, default_generator());
}

Tensor& uniform_(Tensor& t, double from, double to, Generator& gen, Site site) {
    detail::SiteScope at(site);
    const char* op = "uniform_";
    check_fill_target(op, t);
    check_finite(op, "from", from);
    check_finite(op, "to", to);
    XG_CHECK(from <= to, "uniform_: from {} is greater than to {}", from, to);
    XG_CHECK(std::isfinite(to - from), "uniform_: the range from {} to {} overflows", from, to);
    if (t.dtype() == float32)
        XG_CHECK(std::abs(from) <= 3.4028234663852886e38 && std::abs(to) <= 3.4028234663852886e38,
                 "uniform_: from {} and to {} must fit in float32", from, to);
    const double span = to - from;
    return fill_in_place(
        t, [&] { return from + span * gen.uniform(); },
        from < to ? std::optional<double>(to) : std::nullopt);
}

Tensor& normal_(Tensor& t, double mean, double std, Site site) {
    detail::SiteScope at(site);
    return normal_(t, mean, std, default_generator());
}

Tensor& normal_(Tensor& t, double mean, double std, Generator& gen, Site site) {
    detail::SiteScope at(site);
    const char* op = "normal_";
    check_fill_target(op, t);
    check_finite(op, "mean", mean);
    XG_CHECK(std::isfinite(std) && std >= 0.0, "normal_: std must be finite and >= 0, got {}", std);
    return fill_in_place(t, [&] { return mean + std * gen.normal(); });
}

}  // namespace xg
