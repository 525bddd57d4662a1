// Checked size arithmetic: every user-controlled number that becomes a size or an offset goes
// through these before it is used, so overflow is an xg::Error naming the op, never signed
// wrap-around (undefined behaviour) or a wrong shape.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>

#include "core/alloc_failure.hpp"
#include "core/checked.hpp"
#include "core/dtype.hpp"
#include "core/error.hpp"

namespace xg {

namespace {
constexpr std::size_t kDefaultMaxAlloc = std::size_t(1) << 40;
std::atomic<std::size_t> max_alloc{kDefaultMaxAlloc};
}  // namespace

std::size_t max_alloc_bytes() {
    return max_alloc.load(std::memory_order_relaxed);
}

void set_max_alloc_bytes(std::size_t bytes) {
    // Beyond PTRDIFF_MAX no allocator can serve a buffer and pointer differences overflow.
    constexpr std::size_t cap = std::size_t(PTRDIFF_MAX);
    max_alloc.store(bytes == 0 ? kDefaultMaxAlloc : std::min(bytes, cap),
                    std::memory_order_relaxed);
}

std::size_t checked_numel(const char* op, const Shape& s, std::size_t elem_bytes) {
    // Even an empty tensor gets strides (products of its trailing dims, signed in xtensor): the
    // product of the nonzero dims must fit in ptrdiff_t.
    std::size_t strides = 1;
    bool empty = false;
    for (auto d : s) {
        empty = empty || d == 0;
        XG_CHECK(d == 0 || (!__builtin_mul_overflow(strides, d, &strides) &&
                            strides <= std::size_t(PTRDIFF_MAX)),
                 "{}: shape {} has too many elements (the product of its sizes overflows)", op,
                 shape_str(s));
    }
    if (empty) return 0;
    std::size_t n = 1, bytes = 0;
    for (auto d : s) {
        XG_CHECK(!__builtin_mul_overflow(n, d, &n),
                 "{}: shape {} has too many elements (the product of its sizes overflows)", op,
                 shape_str(s));
    }
    const std::size_t limit = max_alloc_bytes();
    if (__builtin_mul_overflow(n, elem_bytes, &bytes) || bytes > limit) {
        throw Error(fmt::format(
            "{}: shape {} has too many elements ({} elements of {} bytes{} exceed the allocation "
            "limit of {} bytes; see xg::set_max_alloc_bytes)",
            op, shape_str(s), n, elem_bytes,
            bytes >= n ? fmt::format(", {} bytes,", bytes) : std::string(), limit));
    }
    return n;
}

AllocationFailure::AllocationFailure(const char* description) {
    std::snprintf(text_, sizeof text_, "%s", description);
}

// Called from a catch handler (naming_oom, dispatch_float): the exception being handled says
// how much was asked when xgrad's allocator threw it.
void throw_out_of_memory(const char* op) {
    if (std::current_exception()) {
        try {
            throw;
        } catch (const AllocationFailure& f) {
            if (f.bytes() > 0)
                throw Error(
                    fmt::format("{}: out of memory: an allocation of {} bytes ({:.1f} MiB) failed",
                                op, f.bytes(), double(f.bytes()) / (1 << 20)));
            if (f.description()[0] != '\0')
                throw Error(fmt::format("{}: out of memory: {}", op, f.description()));
        } catch (...) {
        }
    }
    throw Error(fmt::format("{}: out of memory (an allocation failed)", op));
}

std::int64_t checked_add(const char* op, const char* what, std::int64_t a, std::int64_t b) {
    std::int64_t r;
    XG_CHECK(!__builtin_add_overflow(a, b, &r), "{}: {} overflows int64 ({} + {})", op, what, a, b);
    return r;
}

std::int64_t checked_mul(const char* op, const char* what, std::int64_t a, std::int64_t b) {
    std::int64_t r;
    XG_CHECK(!__builtin_mul_overflow(a, b, &r), "{}: {} overflows int64 ({} * {})", op, what, a, b);
    return r;
}

std::int64_t conv_out_size(const char* op, const char* dim, std::int64_t in, std::int64_t kernel,
                           std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
    XG_CHECK(in >= 0 && kernel >= 1 && stride >= 1 && padding >= 0 && dilation >= 1,
             "{}: invalid {} geometry (input {}, kernel {}, stride {}, padding {}, dilation {})",
             op, dim, in, kernel, stride, padding, dilation);
    std::int64_t padded, span, extent;
    const bool overflow = __builtin_mul_overflow(padding, 2, &padded) ||
                          __builtin_add_overflow(padded, in, &padded) ||
                          __builtin_mul_overflow(dilation, kernel - 1, &span) ||
                          __builtin_add_overflow(span, 1, &extent);
    XG_CHECK(!overflow,
             "{}: the output {} overflows int64 (input {}, kernel {}, stride {}, padding {}, "
             "dilation {})",
             op, dim, in, kernel, stride, padding, dilation);
    XG_CHECK(extent <= padded,
             "{}: kernel {} (dilated {}) is larger than the padded input {} along {} (input {}, "
             "padding {})",
             op, kernel, extent, padded, dim, in, padding);
    return (padded - extent) / stride + 1;
}

std::int64_t conv_transpose_out_size(const char* op, const char* dim, std::int64_t in,
                                     std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                     std::int64_t dilation, std::int64_t output_padding) {
    XG_CHECK(in >= 1 && kernel >= 1 && stride >= 1 && padding >= 0 && dilation >= 1 &&
                 output_padding >= 0,
             "{}: invalid {} geometry (input {}, kernel {}, stride {}, padding {}, dilation {}, "
             "output_padding {})",
             op, dim, in, kernel, stride, padding, dilation, output_padding);
    std::int64_t grown, span, padded, out;
    const bool overflow = __builtin_mul_overflow(in - 1, stride, &grown) ||
                          __builtin_mul_overflow(dilation, kernel - 1, &span) ||
                          __builtin_add_overflow(grown, span, &grown) ||
                          __builtin_add_overflow(grown, output_padding, &grown) ||
                          __builtin_add_overflow(grown, 1, &grown) ||
                          __builtin_mul_overflow(padding, 2, &padded) ||
                          __builtin_sub_overflow(grown, padded, &out);
    XG_CHECK(!overflow,
             "{}: the output {} overflows int64 (input {}, kernel {}, stride {}, padding {}, "
             "dilation {}, output_padding {})",
             op, dim, in, kernel, stride, padding, dilation, output_padding);
    return out;
}

}  // namespace xg
