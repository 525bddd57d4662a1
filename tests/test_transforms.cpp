// Normalize, RandomHorizontalFlip, RandomCrop and Compose: values against plain loops, and the
// random choices against a copy of the generator drawing in the documented order.
#include <doctest/doctest.h>

#include <limits>

#include "core/random.hpp"
#include "data/transforms.hpp"
#include "tests/data_testing.hpp"

namespace xg::testing {
namespace {

using data::Compose;
using data::Normalize;
using data::RandomCrop;
using data::RandomHorizontalFlip;

// (n, c, h, w) float32 with distinct values: v = 1 + flat index.
Tensor ramp(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
    xt::xarray<float> a = xt::xarray<float>::from_shape({n, c, h, w});
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(i + 1);
    return Tensor(a);
}

TEST_CASE("Normalize: (x - mean[c]) / std[c] per channel, one value for all channels") {
    Tensor x = ramp(2, 2, 1, 3);
    Generator gen(0);
    Tensor y = Normalize({1.0, 2.0}, {2.0, 4.0})(x, gen);
    REQUIRE(y.shape() == x.shape());
    const auto& a = x.data<float>();
    const auto& b = y.data<float>();
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t k = 0; k < 3; ++k) {
            CHECK(b(i, 0, 0, k) == (a(i, 0, 0, k) - 1.0f) / 2.0f);
            CHECK(b(i, 1, 0, k) == (a(i, 1, 0, k) - 2.0f) / 4.0f);
        }
    // The Fashion-MNIST statistics on one (C, H, W) image, in float64.
    Tensor img = tensor({{{0.0, 0.5, 1.0}}}, float64);
    Tensor z = Normalize({0.2860}, {0.3530})(img);
    CHECK(z.dtype() == float64);
    CHECK(z.to_vector()[2] == doctest::Approx((1.0 - 0.2860) / 0.3530));
    CHECK(x.to_vector()[0] == 1.0f);  // the input is untouched
}

TEST_CASE("Normalize: argument checks") {
    CHECK(error_of([] { Normalize({0.5}, {0.0}); }) ==
          "Normalize: std must be finite and nonzero, got 0");
    CHECK(error_of([] { Normalize({}, {1.0}); }) == "Normalize: mean and std must not be empty");
    CHECK(error_of([] {
              Normalize({0, 0, 0}, {1})(ramp(1, 2, 2, 2));
          }) == "Normalize: mean has 3 values, images have 2 channels");
    CHECK(error_of([] {
              Normalize({0}, {1})(zeros({2, 3}));
          }) == "Normalize: images must be (C, H, W) or (N, C, H, W), got shape [2, 3]");
    CHECK(error_of([] {
              Normalize({0}, {1})(zeros({1, 2, 3}, int64));
          }) == "Normalize: images must be float32 or float64, got int64");
}

TEST_CASE("RandomHorizontalFlip: p = 1 mirrors every row, p = 0 is the identity") {
    Tensor x = ramp(3, 2, 2, 4);
    Generator gen(1);
    Tensor y = RandomHorizontalFlip(1.0)(x, gen);
    const auto& a = x.data<float>();
    const auto& b = y.data<float>();
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t r = 0; r < 2; ++r)
                for (std::size_t k = 0; k < 4; ++k) CHECK(b(i, c, r, k) == a(i, c, r, 3 - k));
    CHECK(RandomHorizontalFlip(0.0)(x, gen).to_vector() == x.to_vector());
    CHECK(error_of([] { RandomHorizontalFlip(1.5); }) ==
          "RandomHorizontalFlip: p must be in [0, 1], got 1.5");
}

TEST_CASE("RandomHorizontalFlip: one draw per image, flipped when uniform() < p") {
    const std::size_t n = 40;
    Tensor x = ramp(n, 1, 2, 3);
    Generator gen(123);
    Generator replay = gen;
    Tensor y = RandomHorizontalFlip(0.5)(x, gen);
    const auto& a = x.data<float>();
    const auto& b = y.data<float>();
    std::size_t flipped = 0;
    for (std::size_t i = 0; i < n; ++i) {
        bool flip = replay.uniform() < 0.5;
        flipped += flip;
        for (std::size_t r = 0; r < 2; ++r)
            for (std::size_t k = 0; k < 3; ++k)
                CHECK(b(i, 0, r, k) == a(i, 0, r, flip ? 2 - k : k));
    }
    CHECK(flipped > 0);
    CHECK(flipped < n);
    CHECK(gen.next_u64() == replay.next_u64());  // exactly n draws were made
}

// The padded-then-cut reference: out(y, x) = in(top + y - pad, left + x - pad) or 0 outside.
float crop_ref(const xt::xarray<float>& in, std::size_t i, std::size_t c, std::size_t top,
               std::size_t left, std::size_t pad, std::size_t y, std::size_t x) {
    long sy = static_cast<long>(top + y) - static_cast<long>(pad);
    long sx = static_cast<long>(left + x) - static_cast<long>(pad);
    long h = static_cast<long>(in.shape()[2]), w = static_cast<long>(in.shape()[3]);
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) return 0.0f;
    return in(i, c, static_cast<std::size_t>(sy), static_cast<std::size_t>(sx));
}

TEST_CASE("RandomCrop: padding shifts the image by the drawn offsets, zeros fill the rest") {
    const std::size_t n = 60, pad = 2;
    Tensor x = ramp(n, 2, 4, 5);
    Generator gen(7);
    Generator replay = gen;
    Tensor y = RandomCrop(4, 5, pad)(x, gen);
    REQUIRE(y.shape() == x.shape());
    const auto& a = x.data<float>();
    const auto& b = y.data<float>();
    std::vector<int> seen_top(5, 0), seen_left(5, 0);
    for (std::size_t i = 0; i < n; ++i) {
        auto top = static_cast<std::size_t>(replay.uniform() * 5);  // 4 + 2*2 - 4 + 1 offsets
        auto left = static_cast<std::size_t>(replay.uniform() * 5);
        ++seen_top[top];
        ++seen_left[left];
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t r = 0; r < 4; ++r)
                for (std::size_t k = 0; k < 5; ++k)
                    CHECK(b(i, c, r, k) == crop_ref(a, i, c, top, left, pad, r, k));
    }
    // Every offset from 0 to 2 * pad occurs, so the extreme shifts are covered.
    for (int s : seen_top) CHECK(s > 0);
    for (int s : seen_left) CHECK(s > 0);
}

TEST_CASE("RandomCrop: no padding cuts a window; full size without padding is the identity") {
    Tensor x = ramp(4, 1, 3, 4);
    Generator gen(3);
    CHECK(RandomCrop(3, 4, 0)(x, gen).to_vector() == x.to_vector());
    Generator replay = gen;
    Tensor y = RandomCrop(2, 3, 0)(x, gen);
    REQUIRE(y.shape() == Shape{4, 1, 2, 3});
    for (std::size_t i = 0; i < 4; ++i) {
        auto top = static_cast<std::size_t>(replay.uniform() * 2);
        auto left = static_cast<std::size_t>(replay.uniform() * 2);
        for (std::size_t r = 0; r < 2; ++r)
            for (std::size_t k = 0; k < 3; ++k)
                CHECK(y.data<float>()(i, 0, r, k) == x.data<float>()(i, 0, top + r, left + k));
    }
    // One (C, H, W) image keeps its rank.
    Tensor one = tensor({{{1, 2}, {3, 4}}});
    CHECK(RandomCrop(2, 1)(one, gen).shape() == Shape{1, 2, 2});
    CHECK(error_of([&] { RandomCrop(5, 1)(one, gen); }) ==
          "RandomCrop: crop 5x5 is larger than the padded image 4x4 (2x2 with padding 1)");
}

// Sizes near the limits, zero and NaN: refused naming the transform.
TEST_CASE("transforms: huge, zero and NaN arguments") {
    const std::size_t p40 = std::size_t(1) << 40;
    check_error_rows({
        {"RandomCrop: padding 2^63",
         [] { RandomCrop(4, std::size_t(1) << 63); },
         {"RandomCrop: size 4x4 and padding 9223372036854775808 must each be below 2^60"}},
        {"RandomCrop: size 0", [] { RandomCrop(0, 0, 0); }, {"RandomCrop: size must be positive"}},
        {"RandomCrop: a crop of 2^40 x 2^40 is larger than the image",
         [=] {
             Generator g(1);
             RandomCrop(p40, p40, 0)(ones({1, 1, 2, 2}), g);
         },
         {"RandomCrop:", "larger than the padded image"}},
        {"RandomCrop: padding 2^40 with a 2^40 crop exceeds the limit",
         [=] {
             Generator g(1);
             RandomCrop(p40, p40, p40)(ones({1, 1, 2, 2}), g);
         },
         {"RandomCrop: shape [1, 1, 1099511627776, 1099511627776] has too many elements"}},
        {"Normalize: NaN std",
         [] { Normalize({0.5}, {std::numeric_limits<double>::quiet_NaN()}); },
         {"Normalize: std must be finite and nonzero, got nan"}},
        {"RandomHorizontalFlip: NaN p",
         [] { RandomHorizontalFlip{std::numeric_limits<double>::quiet_NaN()}; },
         {"RandomHorizontalFlip: p must be in [0, 1], got nan"}},
    });
}

TEST_CASE("Compose: applies the transforms in order with one generator") {
    Tensor x = ramp(5, 1, 3, 3);
    Generator g1(11), g2(11);
    Compose both({RandomHorizontalFlip(0.5), Normalize({1.0}, {2.0})});
    Tensor a = both(x, g1);
    Tensor b = Normalize({1.0}, {2.0})(RandomHorizontalFlip(0.5)(x, g2));
    CHECK(a.to_vector() == b.to_vector());
    CHECK(error_of([] { Compose({data::Transform()}); }) == "Compose: transform 0 is empty");
}

}  // namespace
}  // namespace xg::testing
