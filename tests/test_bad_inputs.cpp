// The bad-input table: what a hostile or careless caller can hand to ops, modules, optimizers,
// data readers and checkpoints. Each row either throws xg::Error whose message holds every
// expected fragment (the op and the problem), or returns what PyTorch returns (the row checks
// it) and must not throw. Rows that must leave state alone compare it before and after.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tests/data_testing.hpp"
#include "train/checkpoint.hpp"
#include "xgrad.hpp"

namespace xg::testing {
namespace {

// gcc defines __SANITIZE_ADDRESS__ under ASan; clang (the CI's sanitizer build) answers
// __has_feature instead.
#if defined(__SANITIZE_ADDRESS__)
#define XG_BAD_INPUTS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XG_BAD_INPUTS_ASAN 1
#endif
#endif
#if defined(XG_BAD_INPUTS_ASAN)
// ASan's allocator aborts on a request it cannot serve instead of throwing std::bad_alloc, and
// an address-space limit breaks its shadow memory: the genuine out-of-memory rows are skipped.
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

struct Row {
    std::string name;
    std::function<void()> run;
    std::vector<std::string> expect;  // fragments of the xg::Error; empty: must not throw
};

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k62 = std::int64_t(1) << 62;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor t(const Shape& s, Dtype d = float32) {
    Generator g(7);
    return randn(s, g, d);
}
Tensor labels(std::vector<double> v) {
    Tensor r = zeros({v.size()}, int64);
    for (std::size_t i = 0; i < v.size(); ++i)
        r.mutable_data<std::int64_t>()(i) = static_cast<std::int64_t>(v[i]);
    return r;
}
bool same(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector() == b.to_vector();
}
// The max of each (N, C) plane, shape (N, C, 1, 1).
Tensor amax_planes(const Tensor& x) {
    return max(x, {2, 3}, true);
}
// Parameters and buffers of a module, copied.
std::vector<std::vector<double>> snapshot(const nn::Module& m) {
    std::vector<std::vector<double>> r;
    for (const auto& kv : m.state_dict()) r.push_back(kv.second.to_vector());
    return r;
}

// ---- IDX bytes ----
void put_u32(std::vector<char>& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xff));
}
std::vector<char> idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                            std::size_t payload) {
    std::vector<char> b{0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (auto d : dims) put_u32(b, d);
    b.insert(b.end(), payload, char(1));
    return b;
}

// Sets the address-space limit to the current size plus `extra` bytes for one call, so an
// allocation inside it genuinely fails; the previous limit is restored before returning.
template <class F>
void with_address_space_headroom(std::size_t extra, F&& f) {
    std::size_t pages = 0;
    if (std::FILE* s = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(s, "%zu", &pages) != 1) pages = 0;
        std::fclose(s);
    }
    REQUIRE(pages > 0);
    rlimit old{};
    REQUIRE(getrlimit(RLIMIT_AS, &old) == 0);
    rlimit tight = old;
    tight.rlim_cur = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) + extra;
    REQUIRE(setrlimit(RLIMIT_AS, &tight) == 0);
    try {
        f();
    } catch (...) {
        setrlimit(RLIMIT_AS, &old);
        throw;
    }
    setrlimit(RLIMIT_AS, &old);
}

struct LimitGuard {
    explicit LimitGuard(std::size_t bytes) { set_max_alloc_bytes(bytes); }
    ~LimitGuard() { set_max_alloc_bytes(0); }
};

// ---------------------------------------------------------------------------------------------

void factory_rows(std::vector<Row>& rows) {
    const std::size_t big = std::size_t(1) << 40, f45 = std::size_t(1) << 45;
    rows.push_back({"zeros: shape whose product overflows",
                    [=] {
                        zeros({big, big});
                    },
                    {"zeros: shape", "overflows"}});
    rows.push_back({"ones: 2^45 floats exceed the allocation limit",
                    [=] { ones({f45}); },
                    {"ones: shape [35184372088832]", "allocation limit"}});
    rows.push_back({"randn: 2^45 floats exceed the allocation limit",
                    [=] { randn({f45}); },
                    {"randn:", "allocation limit"}});
    rows.push_back({"full: float64 counts 8 bytes per element",
                    [=] {
                        LimitGuard g(1 << 20);
                        full({(1 << 17) + 1}, 1.0, float64);
                    },
                    {"full:", "8 bytes", "allocation limit of 1048576"}});
    rows.push_back({"zeros: a lowered limit names the factory",
                    [] {
                        LimitGuard g(1000);
                        zeros({251});
                    },
                    {"zeros: shape [251]", "1004 bytes", "allocation limit of 1000"}});
    rows.push_back({"zeros: at the lowered limit is fine",
                    [] {
                        LimitGuard g(1000);
                        CHECK(zeros({250}).numel() == 250);
                    },
                    {}});
    rows.push_back({"zeros: empty tensor with huge dims is fine (numel 0)",
                    [=] {
                        CHECK(zeros({0, 1ul << 31, 1ul << 31}).numel() == 0);
                    },
                    {}});
    rows.push_back({"zeros: empty tensor whose strides overflow",
                    [=] {
                        zeros({0, big, big});
                    },
                    {"zeros: shape [0, 1099511627776, 1099511627776] has too many elements"}});
    rows.push_back({"reshape: empty result whose strides overflow",
                    [=] {
                        reshape(zeros({0}), {0, std::int64_t(big), std::int64_t(big)});
                    },
                    {"reshape: shape [0, 1099511627776, 1099511627776] has too many elements"}});
    rows.push_back({"arange: NaN step", [] { arange(0, 5, kNaN); }, {"arange:", "finite"}});
    rows.push_back({"arange: infinite end", [] { arange(0, kInf); }, {"arange:", "finite"}});
    rows.push_back(
        {"arange: zero step", [] { arange(0, 5, 0); }, {"arange: step must be nonzero"}});
    rows.push_back({"arange: wrong direction", [] { arange(5, 0, 1); }, {"arange: cannot go"}});
    rows.push_back({"arange: 2^45 elements exceed the allocation limit",
                    [] { arange(0, 35184372088832.0); },
                    {"arange:", "allocation limit"}});
    rows.push_back({"full: NaN as int64",
                    [] { full({2}, kNaN, int64); },
                    {"full: value nan cannot be represented as int64"}});
    rows.push_back({"tensor: ragged nested lists",
                    [] {
                        tensor({{1.0, 2.0}, {3.0}});
                    },
                    {"tensor: nested lists are ragged"}});
    rows.push_back({"zeros_like: undefined input",
                    [] { zeros_like(Tensor()); },
                    {"zeros_like: the input tensor is undefined"}});
    rows.push_back({"set_max_alloc_bytes(0) restores the default",
                    [] {
                        set_max_alloc_bytes(5);
                        set_max_alloc_bytes(0);
                        CHECK(max_alloc_bytes() == (std::size_t(1) << 40));
                    },
                    {}});
}

void arithmetic_rows(std::vector<Row>& rows) {
    rows.push_back({"checked_add: overflow names op and what",
                    [] { checked_add("myop", "padding", kMax, 1); },
                    {"myop: padding overflows int64", "9223372036854775807 + 1"}});
    rows.push_back({"checked_mul: overflow",
                    [] { checked_mul("myop", "size", k62, 4); },
                    {"myop: size overflows int64"}});
    rows.push_back({"checked_mul: negative overflow",
                    [] { checked_mul("myop", "size", kMin, -1); },
                    {"myop: size overflows int64"}});
    rows.push_back({"conv_out_size: padding near INT64_MAX",
                    [] { conv_out_size("myop", "height", 5, 3, 1, kMax / 2 + 1, 1); },
                    {"myop: the output height overflows int64"}});
    rows.push_back({"conv_out_size: matches PyTorch's formula",
                    [] {
                        CHECK(conv_out_size("c", "h", 7, 3, 2, 1, 2) == 3);  // (7+2-4-1)/2+1
                        CHECK(conv_out_size("c", "h", 5, 5, 1, 0, 1) == 1);
                        CHECK(conv_out_size("c", "h", 1, 1, kMax, 0, 1) == 1);
                    },
                    {}});
    rows.push_back({"conv_out_size: zero stride",
                    [] { conv_out_size("myop", "width", 5, 3, 0, 0, 1); },
                    {"myop: invalid width geometry", "stride 0"}});
    rows.push_back({"conv_transpose_out_size: stride overflow",
                    [] { conv_transpose_out_size("myop", "height", 3, 3, kMax, 0, 1, 0); },
                    {"myop: the output height overflows int64"}});
    rows.push_back({"checked_numel: product overflow",
                    [] {
                        checked_numel("myop", {1ul << 32, 1ul << 32});
                    },
                    {"myop: shape [4294967296, 4294967296] has too many elements"}});
}

void elementwise_rows(std::vector<Row>& rows) {
    rows.push_back({"add: shapes that do not broadcast",
                    [] {
                        add(t({2, 3}), t({4}));
                    },
                    {"add:", "[2, 3]", "[4]"}});
    rows.push_back({"add: float32 + float64",
                    [] { add(t({2}), t({2}, float64)); },
                    {"add:", "float32", "float64"}});
    rows.push_back(
        {"add: undefined operand", [] { add(Tensor(), t({2})); }, {"add:", "undefined"}});
    rows.push_back({"exp: int64 input", [] { exp(labels({1, 2})); }, {"exp:", "int64"}});
    rows.push_back({"mul: int64 input",
                    [] {
                        mul(labels({1, 2}), labels({1, 2}));
                    },
                    {"mul:", "int64"}});
    rows.push_back({"div: by zero gives inf as in PyTorch",
                    [] { CHECK(std::isinf(div(ones({1}), zeros({1})).item<float>())); },
                    {}});
    rows.push_back({"log: of a negative number is NaN as in PyTorch",
                    [] { CHECK(std::isnan(log(full({1}, -1.0)).item<float>())); },
                    {}});
    rows.push_back({"pow: NaN exponent gives NaN as in PyTorch",
                    [] { CHECK(std::isnan(pow(full({1}, 2.0), kNaN).item<float>())); },
                    {}});
    rows.push_back({"relu: empty tensor gives an empty tensor",
                    [] {
                        CHECK(relu(zeros({0, 3})).shape() == Shape{0, 3});
                    },
                    {}});
    rows.push_back({"sigmoid: +-inf give 1 and 0",
                    [] {
                        auto v = sigmoid(tensor({kInf, -kInf})).to_vector();
                        CHECK(v == std::vector<double>{1.0, 0.0});
                    },
                    {}});
    rows.push_back({"where: condition that does not broadcast",
                    [] { where(ones({3}), t({2}), t({2})); },
                    {"where:"}});
    rows.push_back({"eq: shapes that do not broadcast", [] { eq(t({2}), t({3})); }, {"eq:"}});
}

void reduce_rows(std::vector<Row>& rows) {
    rows.push_back({"sum: of an empty tensor is 0 as in PyTorch",
                    [] { CHECK(sum(zeros({0})).item<float>() == 0.0f); },
                    {}});
    rows.push_back({"sum: over an empty dim gives zeros",
                    [] {
                        CHECK(sum(zeros({0, 3}), {0}).to_vector() == std::vector<double>(3, 0.0));
                    },
                    {}});
    rows.push_back({"sum: dim out of range", [] { sum(t({2, 3}), {2}); }, {"sum:", "dim"}});
    rows.push_back({"sum: dim INT64_MIN", [] { sum(t({2, 3}), {kMin}); }, {"sum:", "dim"}});
    rows.push_back({"sum: repeated dim",
                    [] {
                        sum(t({2, 3}), {1, -1});
                    },
                    {"sum: dim 1 appears more than once"}});
    rows.push_back({"mean: of zero elements is NaN, as in PyTorch",
                    [] { CHECK(std::isnan(mean(zeros({0})).item())); },
                    {}});
    rows.push_back({"max: of zero elements", [] { max(zeros({0})); }, {"max:", "zero elements"}});
    rows.push_back({"argmax: of an empty tensor", [] { argmax(zeros({0})); }, {"argmax:"}});
    rows.push_back({"max: NaN wins as in PyTorch",
                    [] {
                        CHECK(std::isnan(max(tensor({1.0, kNaN, 3.0})).item<float>()));
                    },
                    {}});
    rows.push_back({"var: int64 input", [] { var(labels({1, 2})); }, {"var:", "int64"}});
    rows.push_back({"expand: 2^45 elements exceed the allocation limit",
                    [] { expand(ones({1}), {std::size_t(1) << 45}); },
                    {"expand:", "allocation limit"}});
    rows.push_back({"expand: shape that does not broadcast",
                    [] {
                        expand(t({3}), {2, 4});
                    },
                    {"expand: cannot broadcast [3] to [2, 4]"}});
    rows.push_back({"sum_to: shape it does not broadcast to",
                    [] {
                        sum_to(t({2, 3}), {4});
                    },
                    {"sum_to: cannot sum shape [2, 3] down to [4]"}});
}

void shape_rows(std::vector<Row>& rows) {
    rows.push_back({"reshape: two -1",
                    [] {
                        reshape(t({6}), {-1, -1});
                    },
                    {"reshape: only one dimension can be -1"}});
    rows.push_back({"reshape: negative size",
                    [] {
                        reshape(t({6}), {-2, 3});
                    },
                    {"reshape: invalid size -2"}});
    rows.push_back({"reshape: wrong element count",
                    [] { reshape(t({6}), {4}); },
                    {"reshape: shape [4] is invalid for input of size 6"}});
    rows.push_back({"reshape: product overflows",
                    [] {
                        reshape(zeros({0}), {k62, 4});
                    },
                    {"reshape:", "too many"}});
    rows.push_back({"view: -1 with a zero-size tensor",
                    [] {
                        view(zeros({0, 2}), {-1, 0});
                    },
                    {"view:", "invalid"}});
    rows.push_back({"flatten: start after end",
                    [] {
                        flatten(t({2, 3, 4}), 2, 1);
                    },
                    {"flatten: start_dim 2 comes after end_dim 1"}});
    rows.push_back({"flatten: dim out of range",
                    [] {
                        flatten(t({2, 3}), 5);
                    },
                    {"flatten:", "dim"}});
    rows.push_back({"flatten: empty tensor with huge dims",
                    [] {
                        CHECK(flatten(zeros({0, 1ul << 31, 1ul << 31}), 1).shape() ==
                              Shape{0, std::size_t(1) << 62});
                    },
                    {}});
    rows.push_back({"transpose: dim out of range",
                    [] {
                        transpose(t({2, 3}), 0, 2);
                    },
                    {"transpose:", "dim"}});
    rows.push_back({"permute: repeated dim",
                    [] {
                        permute(t({2, 3}), {0, 0});
                    },
                    {"permute: dim 0 appears more than once"}});
    rows.push_back({"permute: wrong count",
                    [] {
                        permute(t({2, 3}), {0});
                    },
                    {"permute: dims [0]"}});
    rows.push_back({"squeeze: dim out of range",
                    [] {
                        squeeze(t({2, 1}), 3);
                    },
                    {"squeeze:", "dim"}});
    rows.push_back(
        {"unsqueeze: dim INT64_MAX", [] { unsqueeze(t({2}), kMax); }, {"unsqueeze:", "dim"}});
    rows.push_back({"slice: step 0",
                    [] { slice(t({5}), 0, 0, 5, 0); },
                    {"slice: step must be at least 1, got 0"}});
    rows.push_back({"slice: negative step",
                    [] { slice(t({5}), 0, 0, 5, -1); },
                    {"slice: step must be at least 1, got -1"}});
    rows.push_back({"slice: step INT64_MAX takes one element as in PyTorch",
                    [] {
                        Tensor x = t({5});
                        Tensor r = slice(x, 0, 0, 5, kMax);
                        CHECK(r.shape() == Shape{1});
                        CHECK(r.to_vector()[0] == x.to_vector()[0]);
                    },
                    {}});
    rows.push_back({"slice: start INT64_MIN, end INT64_MAX take everything",
                    [] { CHECK(slice(t({5}), 0, kMin, kMax, 2).shape() == Shape{3}); },
                    {}});
    rows.push_back({"slice: start past the end gives an empty slice",
                    [] { CHECK(slice(t({5}), 0, kMax, kMax).shape() == Shape{0}); },
                    {}});
    rows.push_back({"slice: backward with step INT64_MAX",
                    [] {
                        Tensor x = t({5}, float64);
                        x.requires_grad_(true);
                        sum(slice(x, 0, 1, kMax, kMax)).backward();
                        CHECK(x.grad().to_vector() == std::vector<double>{0, 1, 0, 0, 0});
                    },
                    {}});
    rows.push_back({"slice: 0-d tensor",
                    [] { slice(scalar_tensor(1), 0, 0, 1); },
                    {"slice: cannot slice a 0-d tensor"}});
    rows.push_back({"cat: empty list", [] { cat({}); }, {"cat: expected a non-empty list"}});
    rows.push_back({"cat: dtype mismatch",
                    [] {
                        cat({t({2}), t({2}, float64)});
                    },
                    {"cat: tensor 1 has dtype float64"}});
    rows.push_back({"cat: shape mismatch",
                    [] {
                        cat({t({2, 3}), t({2, 4})}, 0);
                    },
                    {"cat: tensor 1 has shape"}});
    rows.push_back({"cat: empty inputs whose sizes overflow the strides",
                    [] {
                        Tensor e = zeros({0, 3, std::size_t(1) << 61});
                        cat({e, e, e}, 1);
                    },
                    {"cat: shape [0, 9, 2305843009213693952] has too many elements"}});
    rows.push_back({"cat: empty inputs whose sizes overflow int64",
                    [] {
                        Tensor e = zeros({0, std::size_t(1) << 62});
                        cat({e, e}, 1);
                    },
                    {"cat: the concatenated size overflows int64"}});
    rows.push_back({"stack: empty inputs whose strides overflow",
                    [] {
                        Tensor e = zeros({0, std::size_t(1) << 62});
                        stack({e, e, e}, 0);
                    },
                    {"stack: shape [3, 0, 4611686018427387904] has too many elements"}});
    rows.push_back({"stack: shape mismatch", [] { stack({t({2}), t({3})}); }, {"stack:"}});
    rows.push_back({"pad: odd number of widths",
                    [] {
                        pad(t({2, 3}), {1});
                    },
                    {"pad: pads [1] must have an even length"}});
    rows.push_back({"pad: width INT64_MAX overflows",
                    [] {
                        pad(t({2, 3}), {kMax, 1});
                    },
                    {"pad: the padded size overflows int64"}});
    rows.push_back({"pad: width INT64_MIN",
                    [] {
                        pad(t({2, 3}), {kMin, 0});
                    },
                    {"pad: pad width -9223372036854775808 is out of range"}});
    rows.push_back({"pad: 2^45 padded elements exceed the allocation limit",
                    [] {
                        pad(t({1}), {std::int64_t(1) << 45, 0});
                    },
                    {"pad:", "allocation limit"}});
    rows.push_back({"pad: cropping more than the dim",
                    [] {
                        pad(t({2, 3}), {-2, -2});
                    },
                    {"pad: pads -2 and -2 crop more than the 3 elements"}});
    rows.push_back({"pad: cropping with huge negative widths",
                    [] {
                        pad(t({2, 3}), {-k62, -k62});
                    },
                    {"pad:", "crop more than"}});
    rows.push_back({"pad: NaN value into an int64 tensor",
                    [] {
                        pad(labels({1, 2}), {1, 1}, kNaN);
                    },
                    {"pad: value nan cannot be represented as int64"}});
    rows.push_back({"pad: negative widths crop as in PyTorch",
                    [] {
                        Tensor r = pad(arange(5.0), {-1, -2});
                        CHECK(r.to_vector() == std::vector<double>{1, 2});
                    },
                    {}});
}

void conv_rows(std::vector<Row>& rows) {
    auto w = [] { return t({2, 3, 3, 3}); };
    auto x = [] { return t({1, 3, 5, 5}); };
    using O = xg::Conv2dFuncOptions;
    rows.push_back({"conv2d: 3-D input",
                    [=] {
                        conv2d(t({3, 5, 5}), w());
                    },
                    {"conv2d: expected a 4-D input"}});
    rows.push_back({"conv2d: dtype mismatch",
                    [=] {
                        conv2d(x(), t({2, 3, 3, 3}, float64));
                    },
                    {"conv2d:", "float64"}});
    rows.push_back({"conv2d: int64 input",
                    [=] {
                        conv2d(labels({1}).reshape({1, 1, 1, 1}), w());
                    },
                    {"conv2d:", "int64"}});
    rows.push_back({"conv2d: channel mismatch",
                    [=] {
                        conv2d(t({1, 4, 5, 5}), w());
                    },
                    {"conv2d: weight expects 3 input channels, input has 4"}});
    rows.push_back({"conv2d: stride 0",
                    [=] { conv2d(x(), w(), Tensor(), O().stride(0)); },
                    {"conv2d: stride must be positive"}});
    rows.push_back({"conv2d: stride INT64_MIN",
                    [=] { conv2d(x(), w(), Tensor(), O().stride(kMin)); },
                    {"conv2d: stride must be positive"}});
    rows.push_back({"conv2d: padding -1",
                    [=] { conv2d(x(), w(), Tensor(), O().padding(-1)); },
                    {"conv2d: padding must be non-negative"}});
    rows.push_back({"conv2d: dilation 0",
                    [=] { conv2d(x(), w(), Tensor(), O().dilation(0)); },
                    {"conv2d: dilation must be positive"}});
    rows.push_back({"conv2d: groups 0",
                    [=] { conv2d(x(), w(), Tensor(), O().groups(0)); },
                    {"conv2d: groups must be positive"}});
    rows.push_back({"conv2d: groups not dividing channels",
                    [=] { conv2d(x(), w(), Tensor(), O().groups(2)); },
                    {"conv2d: groups 2 must divide the input channels 3"}});
    rows.push_back({"conv2d: groups INT64_MAX",
                    [=] { conv2d(x(), w(), Tensor(), O().groups(kMax)); },
                    {"conv2d: groups 9223372036854775807 must divide"}});
    rows.push_back({"conv2d: padding INT64_MAX overflows",
                    [=] { conv2d(x(), w(), Tensor(), O().padding(kMax)); },
                    {"conv2d: padded input height overflows int64"}});
    rows.push_back({"conv2d: padding 2^62 overflows",
                    [=] {
                        conv2d(x(), w(), Tensor(), O().padding({0, k62}));
                    },
                    {"conv2d: padded input width overflows int64"}});
    rows.push_back({"conv2d: dilation INT64_MAX overflows",
                    [=] { conv2d(x(), w(), Tensor(), O().dilation(kMax)); },
                    {"conv2d: dilated kernel height overflows int64"}});
    rows.push_back({"conv2d: padding 2^40 exceeds the allocation limit",
                    [=] { conv2d(x(), w(), Tensor(), O().padding(std::int64_t(1) << 40)); },
                    {"conv2d: shape [1, 2, 2199023255555, 2199023255555] has too many elements"}});
    rows.push_back(
        {"conv2d: stride INT64_MAX gives a 1x1 output as in PyTorch",
         [=] {
             CHECK(conv2d(x(), w(), Tensor(), O().stride(kMax)).shape() == Shape{1, 2, 1, 1});
         },
         {}});
    rows.push_back({"conv2d: kernel larger than the input",
                    [=] {
                        conv2d(t({1, 3, 2, 2}), w());
                    },
                    {"conv2d: kernel 3x3 (dilated 3x3) is larger than the padded input 2x2"}});
    rows.push_back({"conv2d: zero batch gives a zero batch as in PyTorch",
                    [=] {
                        CHECK(conv2d(t({0, 3, 5, 5}), w()).shape() == Shape{0, 2, 3, 3});
                    },
                    {}});
    rows.push_back({"conv2d: bias of the wrong length",
                    [=] { conv2d(x(), w(), t({3})); },
                    {"conv2d: bias must be 1-D with 2 elements"}});
    rows.push_back({"conv2d: NaN input propagates",
                    [=] {
                        Tensor xi = full({1, 3, 3, 3}, kNaN);
                        CHECK(std::isnan(conv2d(xi, w()).to_vector()[0]));
                    },
                    {}});
    using T = ConvTranspose2dFuncOptions;
    auto wt = [] { return t({3, 2, 3, 3}); };
    rows.push_back({"conv_transpose2d: output_padding >= stride and dilation",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().stride(2).output_padding(2)); },
                    {"conv_transpose2d: output_padding (2, 2) must be non-negative and smaller"}});
    rows.push_back({"conv_transpose2d: output_padding -1",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().output_padding(-1)); },
                    {"conv_transpose2d: output_padding (-1, -1)"}});
    rows.push_back({"conv_transpose2d: stride INT64_MAX overflows",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().stride(kMax)); },
                    {"conv_transpose2d: the output height overflows int64"}});
    rows.push_back({"conv_transpose2d: dilation INT64_MAX overflows",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().dilation(kMax)); },
                    {"conv_transpose2d: the output height overflows int64"}});
    rows.push_back(
        {"conv_transpose2d: output_padding near INT64_MAX",
         [=] { conv_transpose2d(x(), wt(), Tensor(), T().stride(kMax).output_padding(kMax - 1)); },
         {"conv_transpose2d:", "overflows int64"}});
    rows.push_back({"conv_transpose2d: padding too large",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().padding(4)); },
                    {"conv_transpose2d: output size -1x-1 is not positive"}});
    rows.push_back(
        {"conv_transpose2d: stride 2^40 exceeds the allocation limit",
         [=] { conv_transpose2d(x(), wt(), Tensor(), T().stride(std::int64_t(1) << 40)); },
         {"conv_transpose2d: shape", "has too many elements"}});
    rows.push_back({"conv_transpose2d: padding INT64_MAX",
                    [=] { conv_transpose2d(x(), wt(), Tensor(), T().padding(kMax)); },
                    {"conv_transpose2d:", "overflows int64"}});
}

void pool_rows(std::vector<Row>& rows) {
    using M = MaxPool2dFuncOptions;
    using A = AvgPool2dFuncOptions;
    auto x = [] { return t({2, 3, 6, 6}); };
    rows.push_back({"max_pool2d: 3-D input",
                    [] {
                        max_pool2d(t({3, 6, 6}), M(2));
                    },
                    {"max_pool2d: expected a 4-D input"}});
    rows.push_back({"max_pool2d: int64 input",
                    [] {
                        max_pool2d(labels({1}).reshape({1, 1, 1, 1}), M(1));
                    },
                    {"max_pool2d:", "int64"}});
    rows.push_back({"max_pool2d: kernel 0",
                    [=] { max_pool2d(x(), M(0)); },
                    {"max_pool2d: kernel_size must be positive"}});
    rows.push_back({"max_pool2d: stride 0",
                    [=] { max_pool2d(x(), M(2).stride(Pair2(0))); },
                    {"max_pool2d: stride must be positive"}});
    rows.push_back({"max_pool2d: padding -1",
                    [=] { max_pool2d(x(), M(2).padding(-1)); },
                    {"max_pool2d: padding must be non-negative"}});
    rows.push_back({"max_pool2d: padding over half the kernel",
                    [=] { max_pool2d(x(), M(2).padding(2)); },
                    {"max_pool2d: padding (2, 2) must be at most half the kernel size"}});
    rows.push_back({"max_pool2d: kernel INT64_MAX",
                    [=] { max_pool2d(x(), M(kMax)); },
                    {"max_pool2d: kernel 9223372036854775807x9223372036854775807 is larger"}});
    rows.push_back({"max_pool2d: kernel and padding near INT64_MAX overflow",
                    [=] { max_pool2d(x(), M(kMax).padding(kMax / 2)); },
                    {"max_pool2d:", "overflows int64"}});
    rows.push_back({"max_pool2d: kernel 2^62 with padding 2^61 is one window as in PyTorch",
                    [=] {
                        Tensor xi = x();
                        Tensor r = max_pool2d(xi, M(k62).padding(k62 / 2));
                        CHECK(r.shape() == Shape{2, 3, 1, 1});
                        CHECK(same(r, amax_planes(xi)));
                    },
                    {}});
    rows.push_back(
        {"max_pool2d: stride INT64_MAX gives one window as in PyTorch",
         [=] {
             CHECK(max_pool2d(x(), M(2).stride(Pair2(kMax))).shape() == Shape{2, 3, 1, 1});
         },
         {}});
    rows.push_back({"max_pool2d: zero batch gives a zero batch as in PyTorch",
                    [] {
                        CHECK(max_pool2d(t({0, 3, 6, 6}), M(2)).shape() == Shape{0, 3, 3, 3});
                    },
                    {}});
    rows.push_back({"max_pool2d: empty plane",
                    [] {
                        max_pool2d(t({1, 1, 0, 4}), M(1));
                    },
                    {"max_pool2d: input has an empty plane"}});
    rows.push_back({"avg_pool2d: kernel larger than the input",
                    [] {
                        avg_pool2d(t({1, 1, 3, 3}), A(4));
                    },
                    {"avg_pool2d: kernel 4x4 is larger than the padded input 3x3"}});
    rows.push_back({"avg_pool2d: negative stride",
                    [=] { avg_pool2d(x(), A(2).stride(Pair2(-1))); },
                    {"avg_pool2d: stride must be positive"}});
    rows.push_back({"avg_pool2d: padding INT64_MIN",
                    [=] { avg_pool2d(x(), A(2).padding(kMin)); },
                    {"avg_pool2d: padding must be non-negative"}});
    rows.push_back({"avg_pool2d: zero batch",
                    [] {
                        CHECK(avg_pool2d(t({0, 2, 4, 4}), A(2)).numel() == 0);
                    },
                    {}});
    const std::int64_t p40 = std::int64_t(1) << 40;
    rows.push_back({"adaptive_avg_pool2d: output 2^40 x 2^40 exceeds the limit at once",
                    [=] {
                        adaptive_avg_pool2d(x(), {p40, p40});
                    },
                    {"adaptive_avg_pool2d:", "too many elements"}});
    rows.push_back({"adaptive_avg_pool2d: output 2^40 x 1 exceeds the limit at once",
                    [=] {
                        adaptive_avg_pool2d(t({1, 1, 2, 2}), {p40, 1});
                    },
                    {"adaptive_avg_pool2d:", "allocation limit"}});
    rows.push_back({"adaptive_avg_pool2d: output INT64_MAX",
                    [=] {
                        adaptive_avg_pool2d(x(), {kMax, 1});
                    },
                    {"adaptive_avg_pool2d:", "too many elements"}});
    rows.push_back({"adaptive_avg_pool2d: output 0",
                    [=] {
                        adaptive_avg_pool2d(x(), {0, 1});
                    },
                    {"adaptive_avg_pool2d: output_size must be positive"}});
    rows.push_back({"adaptive_avg_pool2d: negative output",
                    [=] {
                        adaptive_avg_pool2d(x(), {-1, -1});
                    },
                    {"adaptive_avg_pool2d: output_size must be positive"}});
    rows.push_back({"adaptive_avg_pool2d: output larger than the input as in PyTorch",
                    [] {
                        Tensor r = adaptive_avg_pool2d(arange(4.0).reshape({1, 1, 2, 2}), {3, 3});
                        // torch: [[0, .5, 1], [1, 1.5, 2], [2, 2.5, 3]]
                        CHECK(r.to_vector() == std::vector<double>{0, .5, 1, 1, 1.5, 2, 2, 2.5, 3});
                    },
                    {}});
    rows.push_back(
        {"adaptive_avg_pool2d: zero batch",
         [] {
             CHECK(adaptive_avg_pool2d(t({0, 2, 4, 4}), {2, 2}).shape() == Shape{0, 2, 2, 2});
         },
         {}});
}

void loss_rows(std::vector<Row>& rows) {
    auto x = [] { return t({3, 4}); };
    const auto bad = static_cast<Reduction>(7);
    rows.push_back({"cross_entropy: label -1",
                    [=] {
                        cross_entropy(x(), labels({0, -1, 2}));
                    },
                    {"cross_entropy: target[1] = -1 is out of range for 4 classes"}});
    rows.push_back({"cross_entropy: label = C",
                    [=] {
                        cross_entropy(x(), labels({0, 4, 2}));
                    },
                    {"cross_entropy: target[1] = 4 is out of range"}});
    rows.push_back({"cross_entropy: label INT64_MIN",
                    [=] {
                        cross_entropy(x(), labels({0, -9.2e18, 2}));
                    },
                    {"cross_entropy: target[1]", "out of range"}});
    rows.push_back({"cross_entropy: float target",
                    [=] { cross_entropy(x(), t({3})); },
                    {"cross_entropy: target must hold int64 class indices, got dtype float32"}});
    rows.push_back({"cross_entropy: target of the wrong length",
                    [=] {
                        cross_entropy(x(), labels({0, 1}));
                    },
                    {"cross_entropy: target must have shape [3]"}});
    rows.push_back({"cross_entropy: 1-D input",
                    [] { cross_entropy(t({4}), labels({0})); },
                    {"cross_entropy: input must be 2-D (N, C)"}});
    rows.push_back({"cross_entropy: zero classes",
                    [] {
                        cross_entropy(zeros({2, 0}), labels({0, 0}));
                    },
                    {"cross_entropy: input has no classes"}});
    rows.push_back({"cross_entropy: weight of the wrong shape",
                    [=] {
                        cross_entropy(x(), labels({0, 1, 2}),
                                      CrossEntropyFuncOptions()
                                          .reduction(Reduction::mean)
                                          .label_smoothing(0.0)
                                          .weight(ones({3})));
                    },
                    {"cross_entropy: weight must have shape [4]"}});
    rows.push_back({"cross_entropy: NaN label_smoothing",
                    [=] {
                        cross_entropy(x(), labels({0, 1, 2}),
                                      CrossEntropyFuncOptions()
                                          .reduction(Reduction::mean)
                                          .label_smoothing(kNaN)
                                          .weight(Tensor()));
                    },
                    {"cross_entropy: label_smoothing must be in [0, 1], got nan"}});
    rows.push_back({"cross_entropy: label_smoothing 1.5",
                    [=] {
                        cross_entropy(x(), labels({0, 1, 2}),
                                      CrossEntropyFuncOptions()
                                          .reduction(Reduction::mean)
                                          .label_smoothing(1.5)
                                          .weight(Tensor()));
                    },
                    {"cross_entropy: label_smoothing must be in [0, 1]"}});
    rows.push_back(
        {"cross_entropy: invalid Reduction",
         [=] {
             cross_entropy(
                 x(), labels({0, 1, 2}),
                 CrossEntropyFuncOptions().reduction(bad).label_smoothing(0.0).weight(Tensor()));
         },
         {"cross_entropy: invalid reduction 7"}});
    rows.push_back(
        {"nll_loss: invalid Reduction",
         [=] {
             nll_loss(x(), labels({0, 1, 2}), NLLLossFuncOptions().reduction(bad).weight(Tensor()));
         },
         {"nll_loss: invalid reduction 7"}});
    rows.push_back({"mse_loss: invalid Reduction",
                    [=] { mse_loss(x(), x(), static_cast<Reduction>(-1)); },
                    {"mse_loss: invalid reduction -1"}});
    rows.push_back({"l1_loss: invalid Reduction",
                    [=] { l1_loss(x(), x(), bad); },
                    {"l1_loss: invalid reduction 7"}});
    rows.push_back({"binary_cross_entropy_with_logits: invalid Reduction",
                    [=] {
                        binary_cross_entropy_with_logits(x(), x(),
                                                         BinaryCrossEntropyWithLogitsFuncOptions()
                                                             .reduction(bad)
                                                             .weight(Tensor())
                                                             .pos_weight(Tensor()));
                    },
                    {"binary_cross_entropy_with_logits: invalid reduction 7"}});
    rows.push_back(
        {"multi_margin_loss: invalid Reduction",
         [=] {
             multi_margin_loss(
                 x(), labels({0, 1, 2}),
                 MultiMarginLossFuncOptions().reduction(bad).p(1).margin(1.0).weight(Tensor()));
         },
         {"multi_margin_loss: invalid reduction 7"}});
    rows.push_back({"multi_margin_loss: NaN margin",
                    [=] {
                        multi_margin_loss(x(), labels({0, 1, 2}),
                                          MultiMarginLossFuncOptions()
                                              .reduction(Reduction::mean)
                                              .p(1)
                                              .margin(kNaN)
                                              .weight(Tensor()));
                    },
                    {"multi_margin_loss: margin must be finite, got nan"}});
    rows.push_back({"multi_margin_loss: infinite margin",
                    [=] {
                        multi_margin_loss(x(), labels({0, 1, 2}),
                                          MultiMarginLossFuncOptions()
                                              .reduction(Reduction::mean)
                                              .p(1)
                                              .margin(kInf)
                                              .weight(Tensor()));
                    },
                    {"multi_margin_loss: margin must be finite, got inf"}});
    rows.push_back({"multi_margin_loss: p = 3",
                    [=] {
                        multi_margin_loss(x(), labels({0, 1, 2}),
                                          MultiMarginLossFuncOptions()
                                              .reduction(Reduction::mean)
                                              .p(3)
                                              .margin(1.0)
                                              .weight(Tensor()));
                    },
                    {"multi_margin_loss: p must be 1 or 2, got 3"}});
    rows.push_back({"mse_loss: shape mismatch",
                    [] { mse_loss(t({3}), t({4})); },
                    {"mse_loss: target shape [4] differs from input shape [3]"}});
    rows.push_back(
        {"binary_cross_entropy_with_logits: pos_weight that does not broadcast",
         [=] {
             binary_cross_entropy_with_logits(x(), x(),
                                              BinaryCrossEntropyWithLogitsFuncOptions()
                                                  .reduction(Reduction::mean)
                                                  .weight(Tensor())
                                                  .pos_weight(ones({5})));
         },
         {"binary_cross_entropy_with_logits: pos_weight of shape [5] does not broadcast"}});
    rows.push_back({"mse_loss: empty input with mean is NaN as in PyTorch",
                    [] { CHECK(std::isnan(mse_loss(zeros({0}), zeros({0})).item<float>())); },
                    {}});
    rows.push_back({"cross_entropy: empty batch with sum is 0 as in PyTorch",
                    [] {
                        CHECK(cross_entropy(zeros({0, 3}), zeros({0}, int64),
                                            CrossEntropyFuncOptions()
                                                .reduction(Reduction::sum)
                                                .label_smoothing(0.0)
                                                .weight(Tensor()))
                                  .item<float>() == 0.0f);
                    },
                    {}});
    rows.push_back({"softmax: dim out of range",
                    [] {
                        softmax(t({2, 3}), 2);
                    },
                    {"softmax:", "dim"}});
    rows.push_back({"log_softmax: 0-d input",
                    [] { log_softmax(scalar_tensor(1), 0); },
                    {"log_softmax: input must have at least 1 dim"}});
}

void matmul_norm_rows(std::vector<Row>& rows) {
    rows.push_back({"matmul: inner sizes differ",
                    [] {
                        matmul(t({2, 3}), t({4, 5}));
                    },
                    {"matmul:", "3", "4"}});
    rows.push_back({"matmul: 0-d operand", [] { matmul(scalar_tensor(1), t({2})); }, {"matmul:"}});
    rows.push_back({"matmul: dtype mismatch",
                    [] {
                        matmul(t({2, 3}), t({3, 2}, float64));
                    },
                    {"matmul:", "float64"}});
    rows.push_back(
        {"matmul: K = 0 gives zeros as in PyTorch",
         [] {
             CHECK(matmul(zeros({2, 0}), zeros({0, 3})).to_vector() == std::vector<double>(6, 0.0));
         },
         {}});
    rows.push_back({"linear: weight features differ",
                    [] {
                        linear(t({2, 3}), t({4, 5}));
                    },
                    {"linear: weight expects 5 input features, input has 3"}});
    rows.push_back({"batch_norm: running stats of the wrong length",
                    [] {
                        batch_norm(t({2, 3}), zeros({4}), ones({4}), BatchNormFuncOptions());
                    },
                    {"batch_norm:"}});
    rows.push_back(
        {"batch_norm: training on one value per channel",
         [] {
             batch_norm(t({1, 3}), zeros({3}), ones({3}), BatchNormFuncOptions().training(true));
         },
         {"batch_norm:", "1 value"}});
    rows.push_back({"layer_norm: normalized_shape that is not the input's tail",
                    [] {
                        layer_norm(t({2, 3}), {4});
                    },
                    {"layer_norm:"}});
    rows.push_back({"layer_norm: negative eps",
                    [] {
                        layer_norm(t({2, 3}), {3}, Tensor(), Tensor(), -1.0);
                    },
                    {"layer_norm:", "eps"}});
    rows.push_back({"group_norm: groups not dividing channels",
                    [] {
                        group_norm(t({2, 6, 2}), 4);
                    },
                    {"group_norm:"}});
    rows.push_back({"group_norm: groups INT64_MIN",
                    [] {
                        group_norm(t({2, 6, 2}), kMin);
                    },
                    {"group_norm:"}});
    rows.push_back({"dropout: p = 1", [] { dropout(t({4}), 1.0); }, {"dropout:", "p"}});
    rows.push_back({"dropout: NaN p", [] { dropout(t({4}), kNaN); }, {"dropout:", "nan"}});
}

void inplace_rows(std::vector<Row>& rows) {
    // A failed in-place op leaves self as it was (values and version).
    auto unchanged = [](std::function<void(Tensor&)> op) {
        return [op] {
            Tensor self = t({2, 3});
            Tensor before = self.clone();
            auto v = self.version();
            try {
                op(self);
            } catch (...) {
                CHECK(same(self, before));
                CHECK(self.version() == v);
                throw;
            }
        };
    };
    rows.push_back({"add_: argument that does not broadcast to self, self unchanged",
                    unchanged([](Tensor& s) { s.add_(t({4})); }),
                    {"add_:"}});
    rows.push_back({"add_: argument that self would broadcast to, self unchanged",
                    unchanged([](Tensor& s) {
                        s.add_(t({4, 2, 3}));
                    }),
                    {"add_:"}});
    rows.push_back({"mul_: dtype mismatch, self unchanged",
                    unchanged([](Tensor& s) {
                        s.mul_(t({2, 3}, float64));
                    }),
                    {"mul_:", "float64"}});
    rows.push_back({"copy_: dtype mismatch, self unchanged",
                    unchanged([](Tensor& s) {
                        s.copy_(t({2, 3}, float64));
                    }),
                    {"copy_:"}});
    rows.push_back({"addcdiv_: second tensor of the wrong shape, self unchanged",
                    unchanged([](Tensor& s) {
                        s.addcdiv_(t({2, 3}), t({5}), 1.0);
                    }),
                    {"addcdiv_:"}});
    rows.push_back({"lerp_: end of the wrong shape, self unchanged",
                    unchanged([](Tensor& s) { s.lerp_(t({7}), 0.5); }),
                    {"lerp_:"}});
    rows.push_back({"add_: on a leaf that requires grad",
                    [] {
                        Tensor p = t({2});
                        p.requires_grad_(true);
                        Tensor before = p.detach().clone();
                        try {
                            p.add_(1.0);
                        } catch (...) {
                            CHECK(same(p.detach(), before));
                            throw;
                        }
                    },
                    {"add_: a leaf Variable that requires grad"}});
    rows.push_back({"add_: undefined self",
                    [] {
                        Tensor u;
                        u.add_(1.0);
                    },
                    {"add_:", "undefined"}});
}

void module_rows(std::vector<Row>& rows) {
    rows.push_back({"Linear: negative in_features",
                    [] { nn::Linear(-1, 2); },
                    {"Linear: in_features and out_features must be non-negative"}});
    rows.push_back({"Linear: 2^40 x 2^40 weight exceeds the limit",
                    [] { nn::Linear(1l << 40, 1l << 40); },
                    {"Linear: shape [1099511627776, 1099511627776]"}});
    rows.push_back({"Linear: 2^19 x 2^20 weight (2 TiB) exceeds the limit",
                    [] { nn::Linear(1l << 19, 1l << 20); },
                    {"Linear:", "allocation limit"}});
    rows.push_back({"Linear: forward with the wrong features",
                    [] {
                        nn::Linear(3, 2)->forward(t({4, 5}));
                    },
                    {"linear: weight expects 3 input features, input has 5"}});
    using C = nn::Conv2dOptions;
    rows.push_back({"Conv2d: stride 0",
                    [] { nn::Conv2d(C(1, 1, 3).stride(0)); },
                    {"Conv2d: stride must be positive"}});
    rows.push_back({"Conv2d: padding -1",
                    [] { nn::Conv2d(C(1, 1, 3).padding(-1)); },
                    {"Conv2d: padding must be non-negative"}});
    rows.push_back({"Conv2d: dilation 0",
                    [] { nn::Conv2d(C(1, 1, 3).dilation(0)); },
                    {"Conv2d: dilation must be positive"}});
    rows.push_back({"Conv2d: kernel 0",
                    [] { nn::Conv2d(C(1, 1, 0)); },
                    {"Conv2d: kernel_size must be positive"}});
    rows.push_back({"Conv2d: groups not dividing",
                    [] { nn::Conv2d(C(3, 2, 3).groups(2)); },
                    {"Conv2d: in_channels (3) must be divisible by groups (2)"}});
    rows.push_back({"Conv2d: in_channels 0",
                    [] { nn::Conv2d(C(0, 2, 3)); },
                    {"Conv2d: in_channels must be positive"}});
    rows.push_back({"Conv2d: 2^30 channels and kernel 2^10 exceed the limit",
                    [] { nn::Conv2d(C(1l << 30, 1l << 10, 1l << 10)); },
                    {"Conv2d: shape", "too many elements"}});
    rows.push_back({"Conv2d: padding INT64_MAX fails at forward naming the op",
                    [] {
                        nn::Conv2d(C(1, 1, 3).padding(kMax))->forward(t({1, 1, 4, 4}));
                    },
                    {"conv2d:", "overflows int64"}});
    rows.push_back({"ConvTranspose2d: output_padding -1",
                    [] { nn::ConvTranspose2d(C(1, 1, 3).output_padding(-1)); },
                    {"ConvTranspose2d: output_padding must be non-negative"}});
    rows.push_back({"ConvTranspose2d: stride INT64_MAX fails at forward",
                    [] {
                        nn::ConvTranspose2d(C(1, 1, 3).stride(kMax))->forward(t({1, 1, 4, 4}));
                    },
                    {"conv_transpose2d: the output height overflows int64"}});
    rows.push_back({"MaxPool2d: kernel 0",
                    [] { nn::MaxPool2d(nn::MaxPool2dOptions(0)); },
                    {"MaxPool2d: kernel_size must be positive"}});
    rows.push_back({"MaxPool2d: stride -1",
                    [] { nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(Pair2(-1))); },
                    {"MaxPool2d: stride must be positive"}});
    rows.push_back({"MaxPool2d: padding over half the kernel",
                    [] { nn::MaxPool2d(nn::MaxPool2dOptions(2).padding(2)); },
                    {"MaxPool2d: padding must be non-negative and at most half"}});
    rows.push_back({"AvgPool2d: padding INT64_MIN",
                    [] { nn::AvgPool2d(nn::AvgPool2dOptions(2).padding(kMin)); },
                    {"AvgPool2d: padding"}});
    rows.push_back({"AdaptiveAvgPool2d: output 0",
                    [] { nn::AdaptiveAvgPool2d(Pair2(0, 2)); },
                    {"AdaptiveAvgPool2d: output_size must be positive"}});
    rows.push_back({"AdaptiveAvgPool2d: output 2^40 fails at forward",
                    [] {
                        nn::AdaptiveAvgPool2d(Pair2(1l << 40))->forward(t({1, 1, 2, 2}));
                    },
                    {"adaptive_avg_pool2d:", "too many elements"}});
    rows.push_back({"Dropout: p = 1",
                    [] { nn::Dropout(1.0); },
                    {"Dropout: p (the drop probability) must be in [0, 1)"}});
    rows.push_back({"Dropout: NaN p", [] { (void)nn::Dropout(kNaN); }, {"Dropout:", "got nan"}});
    rows.push_back({"BatchNorm2d: 0 features",
                    [] { nn::BatchNorm2d(0); },
                    {"BatchNorm2d: num_features must be positive"}});
    rows.push_back({"BatchNorm2d: eps 0",
                    [] { nn::BatchNorm2d(nn::BatchNormOptions(3).eps(0)); },
                    {"BatchNorm2d: eps must be positive"}});
    rows.push_back({"BatchNorm2d: NaN eps",
                    [] { nn::BatchNorm2d(nn::BatchNormOptions(3).eps(kNaN)); },
                    {"BatchNorm2d: eps must be positive"}});
    rows.push_back({"BatchNorm2d: momentum 2",
                    [] { nn::BatchNorm2d(nn::BatchNormOptions(3).momentum(2.0)); },
                    {"BatchNorm2d:", "momentum"}});
    rows.push_back({"BatchNorm2d: forward with the wrong channels",
                    [] {
                        nn::BatchNorm2d(3)->forward(t({2, 4, 2, 2}));
                    },
                    {"BatchNorm2d:"}});
    rows.push_back({"LayerNorm: empty normalized_shape",
                    [] { nn::LayerNorm(nn::LayerNormOptions({})); },
                    {"LayerNorm: normalized_shape must not be empty"}});
    rows.push_back({"LayerNorm: negative size",
                    [] { nn::LayerNorm(nn::LayerNormOptions({-3})); },
                    {"LayerNorm: normalized_shape must be positive"}});
    rows.push_back({"GroupNorm: groups not dividing", [] { nn::GroupNorm(4, 6); }, {"GroupNorm:"}});
    rows.push_back({"MSELoss: invalid Reduction at forward",
                    [] { nn::MSELoss(static_cast<Reduction>(9))->forward(t({2}), t({2})); },
                    {"mse_loss: invalid reduction 9"}});
    rows.push_back(
        {"Flatten: dims out of range at forward",
         [] {
             nn::Flatten(nn::FlattenOptions().start_dim(5).end_dim(6))->forward(t({2, 3}));
         },
         {"flatten:", "dim"}});
    // load_state_dict is all or nothing.
    // other's state dict with key replaced by value (dropped if value is "drop"; added at the
    // end if absent).
    auto refused_load = [](std::string key, std::optional<Tensor> value) {
        return [key, value] {
            nn::Sequential net({nn::Linear(3, 4), nn::BatchNorm1d(4), nn::Linear(4, 2)});
            nn::Sequential other({nn::Linear(3, 4), nn::BatchNorm1d(4), nn::Linear(4, 2)});
            nn::StateDict sd;
            bool found = false;
            for (const auto& [k, v] : other->state_dict()) {
                if (k != key) {
                    sd.insert(k, v);
                    continue;
                }
                found = true;
                if (value) sd.insert(k, *value);
            }
            if (!found && value) sd.insert(key, *value);
            auto before = snapshot(*net);
            try {
                net->load_state_dict(sd);
            } catch (...) {
                CHECK(snapshot(*net) == before);
                throw;
            }
        };
    };
    rows.push_back({"load_state_dict: a tensor of the wrong shape, model unchanged",
                    refused_load("2.weight", zeros({3, 4})),
                    {"load_state_dict:", "2.weight"}});
    rows.push_back({"load_state_dict: a missing key, model unchanged",
                    refused_load("2.bias", std::nullopt),
                    {"load_state_dict:", "2.bias"}});
    rows.push_back({"load_state_dict: a wrong dtype, model unchanged",
                    refused_load("2.bias", zeros({2}, float64)),
                    {"load_state_dict:", "2.bias"}});
    rows.push_back({"load_state_dict: an unexpected key, model unchanged",
                    refused_load("9.weight", zeros({2})),
                    {"load_state_dict:", "9.weight"}});
    rows.push_back({"load_state_dict: an undefined tensor, model unchanged",
                    refused_load("0.weight", Tensor()),
                    {"load_state_dict:", "0.weight"}});
}

void optim_rows(std::vector<Row>& rows) {
    auto p = [] {
        Tensor w = t({3});
        w.requires_grad_(true);
        return w;
    };
    rows.push_back({"SGD: negative lr",
                    [=] { optim::SGD({p()}, optim::SGDOptions(-0.1)); },
                    {"SGD: invalid learning rate -0.1"}});
    rows.push_back({"SGD: NaN lr",
                    [=] { optim::SGD({p()}, optim::SGDOptions(kNaN)); },
                    {"SGD: invalid learning rate nan"}});
    rows.push_back({"SGD: negative momentum",
                    [=] { optim::SGD({p()}, optim::SGDOptions(0.1).momentum(-1)); },
                    {"SGD: invalid momentum -1"}});
    rows.push_back({"SGD: nesterov without momentum",
                    [=] { optim::SGD({p()}, optim::SGDOptions(0.1).nesterov(true)); },
                    {"SGD: Nesterov momentum requires a momentum"}});
    rows.push_back({"SGD: empty parameter list",
                    [] { optim::SGD(std::vector<Tensor>{}, optim::SGDOptions(0.1)); },
                    {"SGD: optimizer got an empty parameter list"}});
    rows.push_back({"SGD: the same parameter twice",
                    [=] {
                        Tensor w = p();
                        optim::SGD({w, w}, optim::SGDOptions(0.1));
                    },
                    {"SGD:", "more than once"}});
    rows.push_back({"SGD: a non-leaf parameter",
                    [=] { optim::SGD({mul(p(), 2.0)}, optim::SGDOptions(0.1)); },
                    {"SGD: can't optimize a non-leaf tensor"}});
    rows.push_back({"SGD: an int64 parameter",
                    [] { optim::SGD({labels({1})}, optim::SGDOptions(0.1)); },
                    {"SGD: parameter 0 has dtype int64"}});
    rows.push_back({"Adam: beta1 = 1",
                    [=] {
                        optim::Adam({p()}, optim::AdamOptions().betas({1.0, 0.999}));
                    },
                    {"Adam:", "beta"}});
    rows.push_back({"Adam: negative eps",
                    [=] { optim::Adam({p()}, optim::AdamOptions().eps(-1)); },
                    {"Adam: invalid eps -1"}});
    rows.push_back({"Adam: NaN weight_decay",
                    [=] { optim::Adam({p()}, optim::AdamOptions().weight_decay(kNaN)); },
                    {"Adam: invalid weight_decay nan"}});
    rows.push_back({"RMSprop: negative alpha",
                    [=] { optim::RMSprop({p()}, optim::RMSpropOptions().alpha(-0.5)); },
                    {"RMSprop: invalid alpha -0.5"}});
    // A refused step changes no parameter and no state.
    rows.push_back({"step: lr set to NaN by hand, params unchanged",
                    [=] {
                        Tensor a = p(), b = p();
                        optim::SGD opt({a, b}, optim::SGDOptions(0.1).momentum(0.9));
                        a.set_grad(ones({3}));
                        b.set_grad(ones({3}));
                        opt.step();
                        opt.param_groups()[0].options().set_lr(kNaN);
                        Tensor a0 = a.detach().clone(), b0 = b.detach().clone();
                        auto m0 = opt.state(a)->buffers.at("momentum_buffer").clone();
                        try {
                            opt.step();
                        } catch (...) {
                            CHECK(same(a.detach(), a0));
                            CHECK(same(b.detach(), b0));
                            CHECK(same(opt.state(a)->buffers.at("momentum_buffer"), m0));
                            throw;
                        }
                    },
                    {"SGD: invalid learning rate nan"}});
    rows.push_back({"step: Adam's lr set negative by hand, params unchanged",
                    [] {
                        nn::Linear lin(2, 2);
                        optim::Adam opt(lin->parameters(), optim::AdamOptions(0.1));
                        sum(lin->forward(ones({1, 2}))).backward();
                        opt.param_groups()[0].options().set_lr(-1.0);
                        auto before = snapshot(*lin);
                        try {
                            opt.step();
                        } catch (...) {
                            CHECK(snapshot(*lin) == before);
                            throw;
                        }
                    },
                    {"Adam: invalid learning rate -1"}});
    rows.push_back({"step: buffers left behind by a dtype change, params unchanged",
                    [] {
                        nn::Linear lin(2, 2);
                        optim::SGD opt(lin->parameters(), optim::SGDOptions(0.1).momentum(0.5));
                        sum(lin->forward(ones({1, 2}))).backward();
                        opt.step();
                        lin->zero_grad();
                        lin->to(float64);
                        sum(lin->forward(ones({1, 2}, float64))).backward();
                        auto before = snapshot(*lin);
                        try {
                            opt.step();
                        } catch (...) {
                            CHECK(snapshot(*lin) == before);
                            throw;
                        }
                    },
                    {"SGD: step: parameter", "its state 'momentum_buffer' is float32"}});
    rows.push_back({"load_state_dict: optimizer of another type, state unchanged",
                    [=] {
                        Tensor a = p();
                        optim::SGD sgd({a}, optim::SGDOptions(0.1));
                        optim::Adam adam({a}, optim::AdamOptions(0.1));
                        a.set_grad(ones({3}));
                        sgd.step();
                        auto before = sgd.state_dict();
                        try {
                            sgd.load_state_dict(adam.state_dict());
                        } catch (...) {
                            CHECK(sgd.state_dict().scalars == before.scalars);
                            throw;
                        }
                    },
                    {"SGD:", "Adam"}});
    rows.push_back({"load_state_dict: a buffer of the wrong shape, state unchanged",
                    [=] {
                        Tensor a = p();
                        optim::SGD opt({a}, optim::SGDOptions(0.1).momentum(0.9));
                        a.set_grad(ones({3}));
                        opt.step();
                        optim::StateDict sd = opt.state_dict();
                        sd.tensors["state.0.momentum_buffer"] = zeros({4});
                        sd.scalars["param_groups.0.lr"] = 0.5;
                        auto m0 = opt.state(a)->buffers.at("momentum_buffer").clone();
                        try {
                            opt.load_state_dict(sd);
                        } catch (...) {
                            CHECK(same(opt.state(a)->buffers.at("momentum_buffer"), m0));
                            CHECK(opt.param_groups()[0].options().get_lr() == 0.1);
                            throw;
                        }
                    },
                    {"SGD: load_state_dict:", "state.0.momentum_buffer"}});
    rows.push_back({"clip_grad_norm_: NaN max_norm",
                    [=] { optim::clip_grad_norm_({p()}, kNaN); },
                    {"clip_grad_norm_: max_norm is NaN"}});
    rows.push_back({"StepLR: step_size 0",
                    [=] {
                        optim::SGD opt({p()}, optim::SGDOptions(0.1));
                        optim::StepLR(opt, 0);
                    },
                    {"StepLR: step_size must be positive"}});
}

void data_rows(std::vector<Row>& rows, const ScratchDir& dir) {
    auto file = [&dir](const std::string& name, const std::vector<char>& b) {
        return dir.write(name, b.data(), b.size());
    };
    const std::string images = file("images.idx3", idx_bytes(8, {2, 3, 4}, 24));
    const std::string lab = file("labels.idx1", idx_bytes(8, {2}, 2));
    rows.push_back({"read_idx: missing file",
                    [&dir] { data::read_idx(dir.file("none.idx")); },
                    {"read_idx:", "none.idx"}});
    rows.push_back({"read_idx: empty file",
                    [=] { data::read_idx(file("empty.idx", {})); },
                    {"read_idx:", "empty.idx"}});
    rows.push_back({"read_idx: a text file",
                    [=] {
                        std::string s = "hello, this is not an IDX file\n";
                        data::read_idx(file("text.idx", {s.begin(), s.end()}));
                    },
                    {"read_idx:", "text.idx"}});
    rows.push_back({"read_idx: a PNG file",
                    [=] {
                        std::vector<char> png{'\x89', 'P',  'N', 'G', '\r', '\n',
                                              '\x1a', '\n', 0,   0,   0,    13};
                        data::read_idx(file("img.png", png));
                    },
                    {"read_idx:", "img.png"}});
    rows.push_back({"read_idx: float payload type",
                    [=] { data::read_idx(file("f.idx", idx_bytes(0x0D, {2}, 8))); },
                    {"read_idx:", "f.idx"}});
    rows.push_back({"read_idx: header claiming 2^32 - 1 images of 28x28",
                    [=] {
                        data::read_idx(file("huge.idx3", idx_bytes(8, {0xFFFFFFFFu, 28, 28}, 16)));
                    },
                    {"read_idx:", "huge.idx3", "more than the limit"}});
    rows.push_back({"read_idx: dims whose product overflows 64 bits",
                    [=] {
                        data::read_idx(file(
                            "ovf.idx", idx_bytes(8, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 4)));
                    },
                    {"read_idx:", "ovf.idx"}});
    rows.push_back({"read_idx: truncated payload",
                    [=] {
                        data::read_idx(file("short.idx3", idx_bytes(8, {2, 3, 4}, 23)));
                    },
                    {"read_idx:", "short.idx3"}});
    rows.push_back({"read_idx: trailing bytes",
                    [=] {
                        data::read_idx(file("long.idx3", idx_bytes(8, {2, 3, 4}, 25)));
                    },
                    {"read_idx:", "long.idx3"}});
    rows.push_back({"read_idx: truncated header",
                    [=] {
                        auto b = idx_bytes(8, {2, 3, 4}, 0);
                        b.resize(9);
                        data::read_idx(file("head.idx3", b));
                    },
                    {"read_idx:", "head.idx3"}});
    rows.push_back({"read_idx: bit-flipped gzip stream",
                    [=] {
                        auto b = read_bytes(idx_fixture("images.idx3.gz"));
                        b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x10);
                        data::read_idx(file("flip.idx3.gz", b));
                    },
                    {"read_idx:", "flip.idx3.gz"}});
    rows.push_back({"read_idx: truncated gzip stream",
                    [=] {
                        auto b = read_bytes(idx_fixture("images.idx3.gz"));
                        b.resize(b.size() - 9);
                        data::read_idx(file("cut.idx3.gz", b));
                    },
                    {"read_idx:", "cut.idx3.gz"}});
    rows.push_back({"read_idx: wrong rank asked",
                    [=] { data::read_idx(images, 1); },
                    {"read_idx:", "images.idx3"}});
    rows.push_back({"read_idx: a tiny max_bytes",
                    [=] {
                        data::IdxOptions o;
                        o.max_bytes(10);
                        data::read_idx(images, 0, o);
                    },
                    {"read_idx:", "more than the limit of 10 bytes"}});
    rows.push_back(
        {"read_idx_images_labels: counts differ",
         [=] { data::read_idx_images_labels(images, file("l3.idx1", idx_bytes(8, {3}, 3))); },
         {"read_idx"}});
    rows.push_back({"load_idx_dataset: a label >= num_classes",
                    [=] {
                        auto b = idx_bytes(8, {2}, 0);
                        b.push_back(1);
                        b.push_back(10);
                        data::load_idx_dataset(images, file("l10.idx1", b), 10);
                    },
                    {"10"}});
    rows.push_back({"load_idx_dataset: images and labels swapped",
                    [=] { data::load_idx_dataset(lab, images); },
                    {"read_idx"}});
    rows.push_back({"FashionMNIST: a root without the files",
                    [&dir] { data::FashionMNIST(data::Split::train, dir.file("nowhere")); },
                    {"nowhere"}});
    rows.push_back({"TensorDataset: counts differ",
                    [] {
                        data::TensorDataset(t({3, 1, 2, 2}), labels({0, 1}));
                    },
                    {"TensorDataset:"}});
    rows.push_back({"TensorDataset: float labels",
                    [] {
                        data::TensorDataset(t({2, 1, 2, 2}), t({2}));
                    },
                    {"TensorDataset: labels must be int64, got float32"}});
    rows.push_back({"TensorDataset: 3-D images",
                    [] {
                        data::TensorDataset(t({2, 2, 2}), labels({0, 1}));
                    },
                    {"TensorDataset: images must be 4-D"}});
    rows.push_back({"Dataset::get: index past the end",
                    [] {
                        data::TensorDataset(t({2, 1, 2, 2}), labels({0, 1})).get(2);
                    },
                    {"Dataset::get: index 2 is out of range for a dataset of 2 samples"}});
    rows.push_back(
        {"ByteImageDataset: pixel count differs from the shape",
         [] {
             data::ByteImageDataset(std::vector<std::uint8_t>(7), {2, 1, 2, 2}, labels({0, 1}));
         },
         {"ByteImageDataset:"}});
    rows.push_back({"DataLoader: batch_size 0",
                    [] {
                        data::DataLoaderOptions o;
                        o.batch_size(0);
                        data::DataLoader(data::TensorDataset(t({2, 1, 2, 2}), labels({0, 1})), o);
                    },
                    {"DataLoader: batch_size must be positive"}});
    rows.push_back(
        {"RandomCrop: padding 2^63",
         [] { data::RandomCrop(4, std::size_t(1) << 63); },
         {"RandomCrop: size 4x4 and padding 9223372036854775808 must each be below 2^60"}});
    rows.push_back({"RandomCrop: size 0",
                    [] { data::RandomCrop(0, 0, 0); },
                    {"RandomCrop: size must be positive"}});
    rows.push_back(
        {"RandomCrop: a crop of 2^40 x 2^40 is larger than the image",
         [] {
             Generator g(1);
             data::RandomCrop(std::size_t(1) << 40, std::size_t(1) << 40, 0)(t({1, 1, 2, 2}), g);
         },
         {"RandomCrop:", "larger than the padded image"}});
    rows.push_back(
        {"RandomCrop: padding 2^40 with a 2^40 crop exceeds the limit",
         [] {
             Generator g(1);
             const std::size_t s = std::size_t(1) << 40;
             data::RandomCrop(s, s, s)(t({1, 1, 2, 2}), g);
         },
         {"RandomCrop: shape [1, 1, 1099511627776, 1099511627776] has too many elements"}});
    rows.push_back({"Normalize: zero std",
                    [] { data::Normalize({0.5}, {0.0}); },
                    {"Normalize: std must be finite and nonzero"}});
    rows.push_back({"Normalize: NaN std",
                    [] { data::Normalize({0.5}, {kNaN}); },
                    {"Normalize: std must be finite and nonzero, got nan"}});
    rows.push_back({"RandomHorizontalFlip: NaN p",
                    [] { data::RandomHorizontalFlip{kNaN}; },
                    {"RandomHorizontalFlip: p must be in [0, 1], got nan"}});
    rows.push_back(
        {"Subset: index past the end",
         [] {
             auto ds = std::make_shared<data::TensorDataset>(t({2, 1, 2, 2}), labels({0, 1}));
             data::Subset(ds, {0, 5});
         },
         {"Subset:"}});
}

void checkpoint_rows(std::vector<Row>& rows, const ScratchDir& dir) {
    const std::string good = dir.file("good.safetensors");
    save_safetensors(good, {{"a", arange(6.0).reshape({2, 3})}, {"b", ones({4}, float64)}});
    const auto bytes = read_bytes(good);
    auto file = [&dir](const std::string& name, const std::vector<char>& b) {
        return dir.write(name, b.data(), b.size());
    };
    rows.push_back({"load_safetensors: missing file",
                    [&dir] { load_safetensors(dir.file("none.st")); },
                    {"none.st"}});
    rows.push_back({"load_safetensors: empty file",
                    [=] { load_safetensors(file("empty.st", {})); },
                    {"empty.st"}});
    rows.push_back({"load_safetensors: a text file",
                    [=] {
                        std::string s = "not a checkpoint at all, just some words\n";
                        load_safetensors(file("text.st", {s.begin(), s.end()}));
                    },
                    {"text.st"}});
    rows.push_back({"load_safetensors: an IDX file",
                    [=] {
                        load_safetensors(file("idx.st", idx_bytes(8, {2, 3, 4}, 24)));
                    },
                    {"idx.st"}});
    rows.push_back({"load_safetensors: header length 2^63",
                    [=] {
                        std::vector<char> b(16, 0);
                        b[7] = '\x80';
                        load_safetensors(file("hlen.st", b));
                    },
                    {"hlen.st", "header length"}});
    rows.push_back({"load_safetensors: truncated by one byte",
                    [=] {
                        auto b = bytes;
                        b.pop_back();
                        load_safetensors(file("cut.st", b));
                    },
                    {"cut.st"}});
    rows.push_back({"load_safetensors: truncated to the header",
                    [=] {
                        auto b = bytes;
                        b.resize(40);
                        load_safetensors(file("cut40.st", b));
                    },
                    {"cut40.st"}});
    rows.push_back({"load_safetensors: bit flip in the data",
                    [=] {
                        auto b = bytes;
                        b[b.size() - 3] = static_cast<char>(b[b.size() - 3] ^ 0x01);
                        load_safetensors(file("flipd.st", b));
                    },
                    {"flipd.st", "checksum mismatch"}});
    rows.push_back({"load_safetensors: bit flip in the header",
                    [=] {
                        auto b = bytes;
                        b[20] = static_cast<char>(b[20] ^ 0x04);
                        load_safetensors(file("fliph.st", b));
                    },
                    {"fliph.st"}});
    rows.push_back({"load_safetensors: expected names differ",
                    [=] {
                        load_safetensors(good, {{"a", float32, {2, 3}}, {"c", float64, {4}}});
                    },
                    {"good.safetensors", "c"}});
    rows.push_back({"load_safetensors: expected shape differs",
                    [=] {
                        load_safetensors(good, {{"a", float32, {3, 2}}, {"b", float64, {4}}});
                    },
                    {"good.safetensors", "a"}});
    rows.push_back({"save_safetensors: empty name",
                    [&dir] {
                        save_safetensors(dir.file("noname.st"), {{"", ones({1})}});
                    },
                    {"noname.st"}});
    rows.push_back({"save_safetensors: undefined tensor",
                    [&dir] {
                        save_safetensors(dir.file("undef.st"), {{"a", Tensor()}});
                    },
                    {"undef.st", "a"}});
    // A refused checkpoint load changes neither the model nor the optimizer.
    auto refused_checkpoint = [&dir](const std::string& name,
                                     std::function<void(std::vector<char>&)> spoil,
                                     bool other_model) {
        return [&dir, name, spoil, other_model] {
            Generator g(3);
            nn::Sequential saved({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
            optim::Adam saved_opt(saved->parameters(), optim::AdamOptions(0.01));
            sum(saved->forward(ones({2, 3}))).backward();
            saved_opt.step();
            const std::string path = dir.file(name);
            train::Checkpoint ck;
            ck.model(*saved).optimizer(saved_opt).generator("g", g);
            ck.save(path, {});
            auto b = read_bytes(path);
            spoil(b);
            dir.write(name, b.data(), b.size());

            nn::Sequential net =
                other_model ? nn::Sequential({nn::Linear(3, 5), nn::ReLU(), nn::Linear(5, 2)})
                            : nn::Sequential({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
            optim::Adam opt(net->parameters(), optim::AdamOptions(0.02));
            sum(net->forward(ones({1, 3}))).backward();
            opt.step();
            Generator g2(99);
            const std::string g2_state = g2.state();
            auto before = snapshot(*net);
            auto opt_before = opt.state_dict();
            train::Checkpoint load;
            load.model(*net).optimizer(opt).generator("g", g2);
            try {
                load.load(path);
            } catch (...) {
                CHECK(snapshot(*net) == before);
                auto opt_after = opt.state_dict();
                CHECK(opt_after.scalars == opt_before.scalars);
                for (const auto& [k, v] : opt_before.tensors)
                    CHECK(same(opt_after.tensors.at(k), v));
                CHECK(g2.state() == g2_state);
                throw;
            }
        };
    };
    rows.push_back({"Checkpoint::load: another model's file, nothing changed",
                    refused_checkpoint(
                        "other.ckpt", [](std::vector<char>&) {}, true),
                    {"other.ckpt"}});
    rows.push_back({"Checkpoint::load: a truncated file, nothing changed",
                    refused_checkpoint(
                        "trunc.ckpt", [](std::vector<char>& b) { b.resize(b.size() - 5); }, false),
                    {"trunc.ckpt"}});
    rows.push_back({"Checkpoint::load: a bit flip in the data, nothing changed",
                    refused_checkpoint(
                        "flip.ckpt", [](std::vector<char>& b) { b[b.size() - 2] ^= 0x20; }, false),
                    {"flip.ckpt", "checksum mismatch"}});
    rows.push_back({"Checkpoint::load: an empty file, nothing changed",
                    refused_checkpoint(
                        "empty.ckpt", [](std::vector<char>& b) { b.clear(); }, false),
                    {"empty.ckpt"}});
}

void oom_rows(std::vector<Row>& rows) {
    if (kAsan) return;
    // Past the limit check: a request no machine serves reaches malloc, which fails; the error
    // names the op and the process goes on.
    rows.push_back({"zeros: a genuine allocation failure names the factory",
                    [] {
                        LimitGuard g(std::size_t(PTRDIFF_MAX));
                        zeros({std::size_t(1) << 45}, float64);  // 256 TiB
                    },
                    {"zeros: out of memory"}});
    rows.push_back({"conv2d: a genuine allocation failure names the op",
                    [] {
                        LimitGuard g(std::size_t(PTRDIFF_MAX));
                        conv2d(t({1, 1, 1, 1}), t({1, 1, 1, 1}), Tensor(),
                               xg::Conv2dFuncOptions().padding(
                                   {std::int64_t(1) << 22, std::int64_t(1) << 22}));
                    },
                    {"conv2d: out of memory"}});
    rows.push_back({"sum: a failure inside the vectorized dim-wise kernel reaches the caller",
                    [] {
                        Tensor x = zeros({2, std::size_t(1) << 24});  // 128 MB; the sum needs 64 MB
                        empty_cache();  // so no cached buffer can serve the sum
                        with_address_space_headroom(std::size_t(16) << 20, [&] { sum(x, {0}); });
                    },
                    {"sum: out of memory"}});
    rows.push_back({"adaptive_avg_pool2d: windows that cannot be allocated",
                    [] {
                        LimitGuard g(std::size_t(PTRDIFF_MAX));
                        adaptive_avg_pool2d(t({1, 1, 1, 1}), {std::int64_t(1) << 44, 1});
                    },
                    {"adaptive_avg_pool2d: out of memory"}});
}

std::vector<Row> all_rows(const ScratchDir& dir) {
    std::vector<Row> rows;
    factory_rows(rows);
    arithmetic_rows(rows);
    elementwise_rows(rows);
    reduce_rows(rows);
    shape_rows(rows);
    conv_rows(rows);
    pool_rows(rows);
    loss_rows(rows);
    matmul_norm_rows(rows);
    inplace_rows(rows);
    module_rows(rows);
    optim_rows(rows);
    data_rows(rows, dir);
    checkpoint_rows(rows, dir);
    oom_rows(rows);
    return rows;
}

TEST_CASE("bad inputs: every row throws its xg::Error or returns PyTorch's result") {
    ScratchDir dir;
    const std::vector<Row> rows = all_rows(dir);
    CHECK(rows.size() >= 150);
    MESSAGE("bad-input table: ", rows.size(), " rows");
    for (const Row& row : rows) {
        CAPTURE(row.name);
        const std::string msg = error_of(row.run);
        if (row.expect.empty()) {
            CHECK_MESSAGE(msg == "<no error>", row.name, " threw: ", msg);
            continue;
        }
        CHECK_MESSAGE(msg != "<no error>", row.name, " did not throw");
        for (const auto& frag : row.expect)
            CHECK_MESSAGE(msg.find(frag) != std::string::npos, row.name, ": expected \"", frag,
                          "\" in: ", msg);
    }
    CHECK(max_alloc_bytes() == (std::size_t(1) << 40));  // every row restored the limit
}

}  // namespace
}  // namespace xg::testing
