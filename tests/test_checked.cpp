// Checked size arithmetic (core/checked.hpp): overflow of the int64 helpers, the conv output-size
// formulas and element counts is an xg::Error naming the op and what overflowed.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "core/checked.hpp"
#include "tests/error_of.hpp"

namespace xg::testing {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k62 = std::int64_t(1) << 62;

TEST_CASE("checked arithmetic: overflow throws naming the op, what overflowed and the values") {
    check_error_rows({
        {"checked_add: overflow names op and what",
         [] { checked_add("myop", "padding", kMax, 1); },
         {"myop: padding overflows int64", "9223372036854775807 + 1"}},
        {"checked_mul: overflow",
         [] { checked_mul("myop", "size", k62, 4); },
         {"myop: size overflows int64"}},
        {"checked_mul: negative overflow",
         [] { checked_mul("myop", "size", kMin, -1); },
         {"myop: size overflows int64"}},
        {"conv_out_size: padding near INT64_MAX",
         [] { conv_out_size("myop", "height", 5, 3, 1, kMax / 2 + 1, 1); },
         {"myop: the output height overflows int64"}},
        {"conv_out_size: zero stride",
         [] { conv_out_size("myop", "width", 5, 3, 0, 0, 1); },
         {"myop: invalid width geometry", "stride 0"}},
        {"conv_transpose_out_size: stride overflow",
         [] { conv_transpose_out_size("myop", "height", 3, 3, kMax, 0, 1, 0); },
         {"myop: the output height overflows int64"}},
        {"checked_numel: product overflow",
         [] {
             checked_numel("myop", {std::size_t(1) << 32, std::size_t(1) << 32});
         },
         {"myop: shape [4294967296, 4294967296] has too many elements"}},
    });
}

TEST_CASE("conv_out_size: matches PyTorch's formula, also for a stride of INT64_MAX") {
    CHECK(conv_out_size("c", "h", 7, 3, 2, 1, 2) == 3);  // (7 + 2 - 4 - 1) / 2 + 1
    CHECK(conv_out_size("c", "h", 5, 5, 1, 0, 1) == 1);
    CHECK(conv_out_size("c", "h", 1, 1, kMax, 0, 1) == 1);
}

}  // namespace
}  // namespace xg::testing
