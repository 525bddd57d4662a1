// bool, int32 and int64 beside the floats: PyTorch's type promotion, wrapping integer arithmetic,
// rounding division, conversions, comparisons returning bool, printing and saving.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {
namespace {

Tensor ints(std::initializer_list<double> v, Dtype d = int64) {
    return tensor(v, d);
}

std::vector<std::int64_t> as_longs(const Tensor& t) {
    const Tensor l = t.to(int64);
    return {l.data<std::int64_t>().begin(), l.data<std::int64_t>().end()};
}

}  // namespace

TEST_CASE("dtype: promote_types and result_type follow torch.promote_types / result_type") {
    // torch.promote_types over every pair.
    CHECK(promote_types(bool_, bool_) == bool_);
    CHECK(promote_types(bool_, int32) == int32);
    CHECK(promote_types(bool_, float32) == float32);
    CHECK(promote_types(int32, int64) == int64);
    CHECK(promote_types(int64, float32) == float32);
    CHECK(promote_types(int32, float64) == float64);
    CHECK(promote_types(float32, float64) == float64);
    // Scalars only lift the kind: int64 tensor * 2 stays int64, * 2.5 is float32; bool + 1 int64.
    CHECK(result_type(int64, Scalar(2)) == int64);
    CHECK(result_type(int32, Scalar(2)) == int32);
    CHECK(result_type(int64, Scalar(2.5)) == float32);
    CHECK(result_type(bool_, Scalar(1)) == int64);
    CHECK(result_type(bool_, Scalar(true)) == bool_);
    CHECK(result_type(float64, Scalar(2.5)) == float64);
    CHECK(result_type(float32, Scalar(std::int64_t{3})) == float32);
    // A 0-d tensor counts only when of a higher kind than the dimensioned one.
    CHECK(result_type(zeros({2}), zeros({}, float64)) == float32);
    CHECK(result_type(zeros({2}, int32), zeros({}, float64)) == float64);
    CHECK(result_type(zeros({2}, int32), zeros({}, int64)) == int32);
    CHECK(result_type(zeros({}, int32), zeros({}, int64)) == int64);
    CHECK(result_type(zeros({2}, bool_), zeros({}, int32)) == int32);
}

TEST_CASE("dtype: mixed arithmetic promotes, and the gradient comes back in each input's dtype") {
    Tensor a = tensor({1.5, 2.5}).requires_grad_();           // float32
    Tensor b = tensor({2.0, 4.0}, float64).requires_grad_();  // float64
    Tensor y = a * b;
    CHECK(y.dtype() == float64);
    y.sum().backward();
    CHECK(a.grad().dtype() == float32);
    CHECK(b.grad().dtype() == float64);
    check_values(a.grad(), {2, 4});
    check_values(b.grad(), {1.5, 2.5});

    CHECK((ints({1, 2}) + tensor({0.5, 0.5})).dtype() == float32);
    CHECK((ints({1, 2}, int32) + ints({1, 2})).dtype() == int64);
    CHECK((ints({1, 2}) * 2).dtype() == int64);
    CHECK((ints({1, 2}) * 2.5).dtype() == float32);
    check_values(ints({1, 2}) * 2.5, {2.5, 5});
    CHECK((tensor({1, 0}, bool_) + 1).dtype() == int64);
    CHECK((tensor({1.0, 2.0}, float64) + ints({1, 1})).dtype() == float64);
}

TEST_CASE("dtype: integer arithmetic wraps like PyTorch, bool + and * are or / and") {
    const auto max64 = std::numeric_limits<std::int64_t>::max();
    const auto min64 = std::numeric_limits<std::int64_t>::min();
    Tensor big = full({1}, 9.0e18, int64);
    CHECK(as_longs(big * 2)[0] == static_cast<std::int64_t>(18000000000000000000ULL));
    Tensor mx = add(zeros({1}, int64), Scalar(max64));
    CHECK(as_longs(mx + 1)[0] == min64);
    CHECK(as_longs(neg(add(zeros({1}, int64), Scalar(min64))))[0] == min64);
    CHECK(as_longs(abs(add(zeros({1}, int64), Scalar(min64))))[0] == min64);
    Tensor i32 = full({1}, 2147483647.0, int32);
    CHECK((i32 + 1).dtype() == int32);
    CHECK((i32 + 1).item<std::int32_t>() == std::numeric_limits<std::int32_t>::min());
    CHECK(as_longs(ints({7, -7}) - 10) == std::vector<std::int64_t>{-3, -17});
    CHECK(as_longs(ints({3, -4}) * ints({-2, 5})) == std::vector<std::int64_t>{-6, -20});

    Tensor t = tensor({1, 1, 0, 0}, bool_), f = tensor({1, 0, 1, 0}, bool_);
    CHECK((t + f).dtype() == bool_);
    CHECK(as_longs(t + f) == std::vector<std::int64_t>{1, 1, 1, 0});
    CHECK(as_longs(t * f) == std::vector<std::int64_t>{1, 0, 0, 0});
    CHECK(error_of([&] { t - f; }).find("sub: not supported for bool") == 0);
    CHECK(error_of([&] { neg(t); }).find("neg: not supported for bool") == 0);
    CHECK(error_of([&] { t - 1; }).find("sub: not supported for bool") == 0);  // as torch
    CHECK(error_of([&] { ints({1}) - t; }).find("sub: not supported for bool") == 0);
    // In place: integers wrap, scalars must fit the dtype.
    Tensor w32 = full({1}, 2147483647.0, int32);
    w32.add_(1.0);
    CHECK(w32.item<std::int32_t>() == std::numeric_limits<std::int32_t>::min());
    CHECK(error_of([] { zeros({2}, int32).fill_(3e9); }) ==
          "fill_: an int32 tensor takes a whole value within int32's range, got 3000000000");
    CHECK(error_of([] { zeros({2}, int32).add_(ones({2}, int32), 3e9); }).find("add_: an int32") ==
          0);
    // An integer scalar that int32 cannot hold is refused, not truncated.
    CHECK(error_of([&] { add(ints({1}, int32), Scalar(std::int64_t{1} << 40)); }) ==
          "add: value 1099511627776 cannot be represented as int32");
}

TEST_CASE("dtype: division: true division is float, rounding modes keep integers") {
    Tensor a = ints({7, -7, 7, -7}), b = ints({2, 2, -2, -2});
    Tensor q = a / b;
    CHECK(q.dtype() == float32);
    check_values(q, {3.5, -3.5, -3.5, 3.5});
    CHECK((a / 2).dtype() == float32);
    CHECK((1 / ints({4})).dtype() == float32);
    Tensor fl = floor_divide(a, b);
    CHECK(fl.dtype() == int64);
    CHECK(as_longs(fl) == std::vector<std::int64_t>{3, -4, -4, 3});  // Python's //
    CHECK(as_longs(div(a, b, "trunc")) == std::vector<std::int64_t>{3, -3, -3, 3});
    check_values(div(tensor({7.5, -7.5}), tensor({2.0, 2.0}), "floor"), {3, -4});
    check_values(div(tensor({7.5, -7.5}), tensor({2.0, 2.0}), "trunc"), {3, -3});
    // Python's // on floats: 1.0 // 0.1 is 9 (0.1 is a little more than a tenth).
    CHECK(floor_divide(tensor({1.0}, float64), tensor({0.1}, float64)).item() == 9.0);
    CHECK(std::isinf(floor_divide(tensor({1.0}), tensor({0.0})).item()));
    const auto min64 = std::numeric_limits<std::int64_t>::min();
    Tensor m = add(zeros({1}, int64), Scalar(min64));
    CHECK(as_longs(floor_divide(m, ints({-1})))[0] == min64);  // wraps, as PyTorch
    CHECK(error_of([&] {
              floor_divide(a, ints({1, 0, 1, 1}));
          }) == "floor_divide: integer division by zero (rounding_mode 'floor')");
    CHECK(error_of([&] { div(a, b, "round"); }) ==
          "div: rounding_mode must be 'trunc' or 'floor', got 'round'");
}

TEST_CASE("dtype: comparisons and their operators return bool") {
    Tensor a = tensor({1, 2, 3}), b = tensor({3, 2, 1});
    Tensor e = a == b;
    CHECK(e.dtype() == bool_);
    CHECK(as_longs(e) == std::vector<std::int64_t>{0, 1, 0});
    CHECK(as_longs(a != b) == std::vector<std::int64_t>{1, 0, 1});
    CHECK(as_longs(a < b) == std::vector<std::int64_t>{1, 0, 0});
    CHECK(as_longs(a <= b) == std::vector<std::int64_t>{1, 1, 0});
    CHECK(as_longs(a > 1.5) == std::vector<std::int64_t>{0, 1, 1});
    CHECK(as_longs(2 <= a) == std::vector<std::int64_t>{0, 1, 1});
    CHECK(as_longs(2 > a) == std::vector<std::int64_t>{1, 0, 0});
    // Mixed dtypes compare in their result dtype; an integer against a fraction in double.
    CHECK(as_longs(ints({2, 3}) < 2.5) == std::vector<std::int64_t>{1, 0});
    CHECK(as_longs(ints({2, 3}) == tensor({2.0, 3.5}, float64)) == std::vector<std::int64_t>{1, 0});
    CHECK(as_longs(tensor({NAN}) == tensor({NAN})) == std::vector<std::int64_t>{0});
    // The libtorch accuracy idiom: (pred == y).sum() counts, as int64.
    Tensor hits = (ints({1, 2, 3}) == ints({1, 0, 3})).sum();
    CHECK(hits.dtype() == int64);
    CHECK(hits.item<std::int64_t>() == 2);
    CHECK((tensor({1, 0, 1}, bool_).mean()).dtype() == float32);
    check_values(ints({1, 2}, int32).mean(), {1.5});
}

TEST_CASE("dtype: to() converts between all five dtypes as PyTorch does") {
    Tensor f = tensor({-1.7, 0.0, 2.9});
    CHECK(as_longs(f.to(int64)) == std::vector<std::int64_t>{-1, 0, 2});  // toward zero
    CHECK(as_longs(f.to(bool_)) == std::vector<std::int64_t>{1, 0, 1});
    CHECK(as_longs(tensor({NAN}).to(bool_)) == std::vector<std::int64_t>{1});
    check_values(tensor({1, 0}, bool_).to(float64), {1, 0});
    Tensor w = full({1}, 4294967297.0, int64).to(int32);  // 2^32 + 1 wraps to 1
    CHECK(w.item<std::int32_t>() == 1);
    CHECK(error_of([] { tensor({NAN}).to(int64); }) ==
          "to: value nan cannot be represented as int64");
    CHECK(error_of([] { tensor({3e9}).to(int32); }) ==
          "to: value 3000000000 cannot be represented as int32");
    CHECK(error_of([] { tensor({1.0}).requires_grad_().to(int32); }).find("to: cannot cast") == 0);
    CHECK(error_of([] {
              zeros({2}, bool_).requires_grad_();
          }).find("requires_grad_: only floating-point") == 0);
    CHECK(tensor({1}, int32).item<std::int32_t>() == 1);
    CHECK(ones({}, bool_).item<bool>());
    CHECK(error_of([] { tensor(1e10, int32); }) ==
          "tensor: value 10000000000 cannot be represented as int32");
    CHECK(arange(3, int32).dtype() == int32);
    CHECK(error_of([] { arange(3, bool_); }) == "arange: not supported for bool");
    xt::xarray<bool> xb = {true, false};
    CHECK(from_array(xb).dtype() == bool_);
    xt::xarray<std::int32_t> xi = {1, 2};
    CHECK(from_array(xi).dtype() == int32);
}

TEST_CASE("dtype: clamp, where and sign on integers and bool") {
    Tensor c = clamp(ints({-5, 0, 5}), -1, 2);
    CHECK(c.dtype() == int64);
    CHECK(as_longs(c) == std::vector<std::int64_t>{-1, 0, 2});
    CHECK(clamp(ints({-5, 0, 5}), 0.5, std::nullopt).dtype() == float32);
    CHECK(clamp(tensor({1, 0}, bool_), 0, 1).dtype() == int64);  // promoted, as torch.clamp
    Tensor w = where(tensor({1, 0}, bool_), ints({1, 2}), 7);
    CHECK(w.dtype() == int64);
    CHECK(as_longs(w) == std::vector<std::int64_t>{1, 7});
    CHECK(where(tensor({1, 0}, bool_), ints({1, 2}), 0.5).dtype() == float32);
    CHECK(as_longs(sign(ints({-3, 0, 4}, int32))) == std::vector<std::int64_t>{-1, 0, 1});
}

TEST_CASE("dtype: bool and int32 print, save and load") {
    CHECK(to_string(tensor({1, 0}, bool_)) == "tensor({ true, false}, dtype=bool)");
    CHECK(to_string(tensor({1, -2}, int32)) == "tensor({ 1, -2}, dtype=int32)");
    // Exact beyond 2^53 (a double would round these, and cast 2^63 out of range).
    Tensor big = add(zeros({2}, int64), Scalar(std::numeric_limits<std::int64_t>::max()));
    CHECK(to_string(sub(big, tensor({0, 2}, int64))) ==
          "tensor({9223372036854775807, 9223372036854775805}, dtype=int64)");
    const auto path = std::filesystem::temp_directory_path() / "xgrad_test_dtype.safetensors";
    NamedTensors d;
    d.insert("mask", tensor({{1, 0}, {0, 1}}, bool_));
    d.insert("ids", tensor({7, -8}, int32));
    save_safetensors(path.string(), d);
    NamedTensors back = load_safetensors(path.string()).tensors;
    CHECK(back["mask"].dtype() == bool_);
    CHECK(as_longs(back["mask"]) == std::vector<std::int64_t>{1, 0, 0, 1});
    CHECK(back["ids"].dtype() == int32);
    CHECK(as_longs(back["ids"]) == std::vector<std::int64_t>{7, -8});
    // A BOOL byte other than 0 or 1 is refused (reading it as bool would be undefined).
    {
        const std::string header = R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})";
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        const std::uint64_t n = header.size();
        f.write(reinterpret_cast<const char*>(&n), 8);
        f << header;
        f.put(1);
        f.put(2);
    }
    const std::string msg = error_of([&] { load_safetensors(path.string()); });
    CHECK(msg.find("BOOL element 1 holds byte 2") != std::string::npos);
    std::filesystem::remove(path);
}

}  // namespace xg::testing
