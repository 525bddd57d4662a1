// libFuzzer target for the argument space of tensor creation and the movement ops: the input
// is decoded into a tensor (from nested lists, ragged or not, or from a factory) of a dtype,
// then a chain of reshape / view / slice / pad / flatten / transpose / permute / squeeze /
// unsqueeze / cat / stack calls with decoded arguments, and of indexing (t.index and
// index_put_ with decoded Slice / None / Ellipsis / integer / bool / bool-mask / int64-tensor
// indices) and gather / scatter / scatter_add with decoded, often invalid, index tensors, then
// a backward when the result
// requires grad. Every call must either succeed or throw xg::Error; anything else (a crash, a
// sanitizer report, another exception, a leak, a hang) is a bug. Results are kept small (the
// harness skips calls whose valid result would exceed 2^16 elements: a big allocation is not a
// bug), but sizes that overflow int64 are passed on, and must be refused.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "tests/fuzz/fuzz_common.hpp"
#include "xgrad.hpp"

namespace {
using xg::Tensor;
using xg::TensorIndex;
using xg::fuzz::Bytes;
constexpr std::size_t max_numel = 1 << 16;

// Calls k with a nested initializer list of depth D whose lengths (0 to 3 per list, each list
// its own: ragged lists arise) and values come from the input. Continuation-passing keeps every
// inner list's backing array alive while k runs.
template <std::size_t D>
void with_nested(Bytes& in,
                 const std::function<void(xt::nested_initializer_list_t<double, D>)>& k) {
    if constexpr (D == 0) {
        k(in.value());
    } else {
        using E = xt::nested_initializer_list_t<double, D - 1>;
        switch (in.u8() % 4) {
            case 0:
                k({});
                break;
            case 1:
                with_nested<D - 1>(in, [&](E a) { k({a}); });
                break;
            case 2:
                with_nested<D - 1>(in, [&](E a) {
                    with_nested<D - 1>(in, [&](E b) { k({a, b}); });
                });
                break;
            default:
                with_nested<D - 1>(in, [&](E a) {
                    with_nested<D - 1>(in, [&](E b) {
                        with_nested<D - 1>(in, [&](E c) { k({a, b, c}); });
                    });
                });
        }
    }
}

xg::Dtype pick_dtype(Bytes& in) {
    switch (in.u8() % 3) {
        case 0:
            return xg::float32;
        case 1:
            return xg::float64;
        default:
            return xg::int64;
    }
}

Tensor make_tensor(Bytes& in) {
    const xg::Dtype dtype = pick_dtype(in);
    Tensor t;
    const std::uint8_t how = in.u8() % 8;
    if (how < 5) {
        auto keep = [&](auto v) { t = xg::tensor(v, dtype); };
        switch (how) {
            case 0:
                with_nested<0>(in, keep);
                break;
            case 1:
                with_nested<1>(in, keep);
                break;
            case 2:
                with_nested<2>(in, keep);
                break;
            case 3:
                with_nested<3>(in, keep);
                break;
            default:
                with_nested<4>(in, keep);
                break;
        }
    } else {
        xg::Shape shape(in.u8() % 5);
        for (auto& d : shape) d = in.u8() % 6;
        if (how == 5)
            t = xg::zeros(shape, dtype);
        else if (how == 6)
            t = xg::full(shape, in.value(), dtype);
        else
            t = xg::arange(static_cast<double>(in.u8() % 40) - 8, dtype);
    }
    if (in.u8() % 2) t.requires_grad_();  // int64: must throw xg::Error
    return t;
}

std::vector<std::int64_t> int_list(Bytes& in, std::size_t max_len, std::int64_t lo,
                                   std::int64_t hi) {
    std::vector<std::int64_t> v(in.u8() % (max_len + 1));
    for (auto& x : v) x = in.small_or_extreme(lo, hi);
    return v;
}

// Whether to make the pad call: not when its result would be valid but big (over max_numel
// elements and within what checked_numel allows), which only tests the allocator. Invalid
// pads, sizes that overflow int64 and shapes with too many elements are passed on: they must
// throw xg::Error.
bool pad_worth_calling(const Tensor& t, const std::vector<std::int64_t>& pads) {
    if (pads.size() % 2 || pads.size() > 2 * t.dim()) return true;
    __int128 n = 1;
    bool big = false;
    for (std::size_t d = 0; d < t.dim(); ++d) {
        __int128 s = static_cast<__int128>(t.shape()[d]);
        const std::size_t from_last = t.dim() - 1 - d;
        if (2 * from_last + 1 < pads.size()) {
            const __int128 lo = pads[2 * from_last], hi = pads[2 * from_last + 1];
            if (-lo > s || -hi > s) return true;  // crops too much: must throw
            s += lo + hi;
            if (s > INT64_MAX || s < 0) return true;  // overflows or crops too much: must throw
        }
        if (s == 0) return true;  // empty result
        n *= s;
        if (n > (static_cast<__int128>(1) << 60)) return true;  // checked_numel must throw
        big = big || n > static_cast<__int128>(max_numel);
    }
    return !big;
}

// An int64 tensor of rank 0-3 (sizes 0-3) whose values are often out of range for t.
Tensor int_tensor(Bytes& in) {
    xg::Shape shape(in.u8() % 4);
    for (auto& d : shape) d = in.u8() % 4;
    std::vector<std::int64_t> v(xg::shape_numel(shape));
    for (auto& x : v) x = in.small_or_extreme(-5, 5);
    return xg::tensor(v, shape);
}

// A bool mask from the input: t's leading dims (a valid mask) or a decoded shape (often not).
Tensor bool_mask(Bytes& in, const Tensor& t) {
    xg::Shape shape;
    if (in.u8() % 2) {
        shape.assign(t.shape().begin(), t.shape().begin() + std::min<std::size_t>(t.dim(), 2));
    } else {
        shape.resize(in.u8() % 3);
        for (auto& d : shape) d = in.u8() % 4;
    }
    if (xg::shape_numel(shape) > max_numel) shape = {0};
    std::vector<std::int64_t> v(xg::shape_numel(shape));
    for (auto& x : v) x = in.u8() % 2;
    return xg::gt(xg::tensor(v, shape), 0);
}

xg::indexing::SliceBound bound(Bytes& in) {
    if (in.u8() % 3 == 0) return xg::indexing::None;
    return in.small_or_extreme(-6, 6);
}

std::vector<TensorIndex> indices(Bytes& in, const Tensor& t) {
    std::vector<TensorIndex> out;
    const std::size_t n = in.u8() % 5;
    for (std::size_t i = 0; i < n; ++i) {
        switch (in.u8() % 7) {
            case 0:
                out.emplace_back(in.small_or_extreme(-5, 5));
                break;
            case 1:
                out.emplace_back(xg::indexing::Slice(bound(in), bound(in), bound(in)));
                break;
            case 2:
                out.emplace_back(xg::indexing::None);
                break;
            case 3:
                out.emplace_back(xg::indexing::Ellipsis);
                break;
            case 4:
                out.emplace_back(in.u8() % 2 == 0);
                break;
            case 5:
                out.emplace_back(bool_mask(in, t));
                break;
            default:
                out.emplace_back(int_tensor(in));
                break;
        }
    }
    return out;
}

// Indexing and gather / scatter with decoded (often invalid) indices.
Tensor index_step(Bytes& in, const Tensor& t) {
    switch (in.u8() % 6) {
        case 0:
            return t.index(indices(in, t));
        case 1: {
            Tensor c = t.detach().clone();
            xg::index_put_(c, indices(in, t), in.value());
            return c;
        }
        case 2: {
            Tensor c = t.detach().clone();
            auto idx = indices(in, t);
            xg::index_put_(c, idx, in.u8() % 2 ? t : int_tensor(in), in.u8() % 2 == 0);
            return c;
        }
        case 3:
            return xg::gather(t, in.small_or_extreme(-5, 4), int_tensor(in));
        case 4:
            return xg::scatter(t, in.small_or_extreme(-5, 4), int_tensor(in), in.value());
        default:
            return xg::scatter_add(t, in.small_or_extreme(-5, 4), int_tensor(in), t);
    }
}

Tensor step(Bytes& in, const Tensor& t) {
    if (in.u8() % 4 == 0) return index_step(in, t);
    switch (in.u8() % 12) {
        case 0:
            return xg::reshape(t, int_list(in, 5, -2, 8));
        case 1:
            return xg::view(t, int_list(in, 5, -2, 8));
        case 2: {
            std::int64_t dim = in.small_or_extreme(-5, 4), start = in.small_or_extreme(-6, 6);
            std::int64_t end = in.small_or_extreme(-6, 6), stp = in.small_or_extreme(-1, 4);
            return xg::slice(t, dim, start, end, stp);
        }
        case 3: {
            auto pads = int_list(in, 9, -4, 4);
            double value = in.value();
            if (!pad_worth_calling(t, pads)) return t;
            return xg::pad(t, pads, value);
        }
        case 4:
            return xg::flatten(t, in.small_or_extreme(-5, 4), in.small_or_extreme(-5, 4));
        case 5:
            return xg::transpose(t, in.small_or_extreme(-5, 4), in.small_or_extreme(-5, 4));
        case 6:
            return xg::permute(t, int_list(in, 5, -5, 4));
        case 7:
            return xg::squeeze(t);
        case 8:
            return xg::squeeze(t, in.small_or_extreme(-5, 4));
        case 9:
            return xg::unsqueeze(t, in.small_or_extreme(-6, 5));
        case 10: {
            if (t.numel() * 3 > max_numel) return t;
            std::int64_t dim = in.small_or_extreme(-5, 4);
            xg::TensorList parts(1 + in.u8() % 3, t);
            if (in.u8() % 2) parts.push_back(make_tensor(in));  // another shape or dtype
            return xg::cat(parts, dim);
        }
        default: {
            if (t.numel() * 3 > max_numel) return t;
            xg::TensorList parts(1 + in.u8() % 3, t);
            return xg::stack(parts, in.small_or_extreme(-6, 5));
        }
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in(data, size);
    Tensor t;
    try {
        t = make_tensor(in);
    } catch (const xg::Error&) {
        return 0;
    }
    for (int i = 0; i < 8 && !in.empty(); ++i) {
        try {
            Tensor r = step(in, t);
            if (!r.defined() || r.numel() != xg::shape_numel(r.shape())) __builtin_trap();
            t = r;
        } catch (const xg::Error&) {
        }
    }
    try {
        if (t.requires_grad()) {
            t.sum().backward();
        }
        (void)t.to_vector();
    } catch (const xg::Error&) {
    }
    return 0;
}
