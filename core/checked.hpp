#pragma once
// Checked size arithmetic: every user-controlled number that becomes a size, an offset or an
// allocation goes through these first, so overflow and absurd sizes are an xg::Error naming
// the op, never undefined behaviour, a wrong shape or a machine paged to death.
#include <cstddef>
#include <cstdint>
#include <new>

#include "core/dtype.hpp"

namespace xg {

// The element count of s, checked before anything of that size is allocated: throws xg::Error
// naming op when the product overflows or when elem_bytes * count exceeds max_alloc_bytes().
// A shape with a zero dim is 0 whatever its other dims.
std::size_t checked_numel(const char* op, const Shape& s, std::size_t elem_bytes = sizeof(double));

// The largest single buffer, in bytes, that an op may allocate for a size the user chose
// (default 2^40 bytes = 1 TiB): larger requests throw xg::Error naming the op before malloc is
// asked, so a hostile size fails at once instead of paging the machine to death.
// set_max_alloc_bytes(0) restores the default. Process-wide; not meant to change while other
// threads run ops.
std::size_t max_alloc_bytes();
void set_max_alloc_bytes(std::size_t bytes);

// Size arithmetic on user-controlled int64 numbers (options, shape arguments). Each throws
// xg::Error "op: <what> overflows int64 (...)" instead of wrapping or invoking UB.
std::int64_t checked_add(const char* op, const char* what, std::int64_t a, std::int64_t b);
std::int64_t checked_mul(const char* op, const char* what, std::int64_t a, std::int64_t b);
// The output size of a conv or pool along one dim: floor((in + 2 * padding - dilation *
// (kernel - 1) - 1) / stride) + 1. Expects kernel, stride, dilation >= 1 and padding >= 0
// (checked: Error naming op and dim otherwise); throws when any step overflows or the dilated
// kernel is larger than the padded input.
std::int64_t conv_out_size(const char* op, const char* dim, std::int64_t in, std::int64_t kernel,
                           std::int64_t stride, std::int64_t padding, std::int64_t dilation);
// The output size of a transposed conv along one dim: (in - 1) * stride - 2 * padding +
// dilation * (kernel - 1) + output_padding + 1; throws when a step overflows. The result may
// be zero or negative (padding too large): the caller reports that with its own context.
std::int64_t conv_transpose_out_size(const char* op, const char* dim, std::int64_t in,
                                     std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                     std::int64_t dilation, std::int64_t output_padding);
// Runs f() and turns an allocation failure (std::bad_alloc, std::bad_array_new_length) into
// xg::Error "op: out of memory ...", so the caller learns which op failed.
[[noreturn]] void throw_out_of_memory(const char* op);
template <class F>
decltype(auto) naming_oom(const char* op, F&& f) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        throw_out_of_memory(op);
    }
}

}  // namespace xg
