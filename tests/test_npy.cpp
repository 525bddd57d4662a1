// xg::load_npy / xg::save_npy (core/npy.hpp): files written by NumPy (tests/parity/
// npy_fixture.py), round trips of every dtype, and refusal of cut-short, padded and lying files.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/data_testing.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

namespace xg::testing {
namespace {

std::string fixture(const std::string& name) {
    return std::string(XGRAD_FIXTURE_DIR) + "/npy/" + name + ".npy";
}

// A .npy file with the given header dict text (padded as NumPy pads it) and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
    std::string h = dict;
    const std::size_t pre = version == 1 ? 10 : 12;
    while ((pre + h.size() + 1) % 64 != 0) h += ' ';
    h += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(version);
    out += '\0';
    for (std::size_t i = 0; i < (version == 1 ? 2u : 4u); ++i)
        out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
    return out + h + data;
}

std::string load_error(const ScratchDir& dir, const std::string& bytes) {
    std::string path = dir.write("bad.npy", bytes.data(), bytes.size());
    return error_of([&] { load_npy(path); });
}

TEST_CASE("npy: files written by NumPy load with their dtypes, shapes and values") {
    Tensor a = load_npy(fixture("f32_2x3"));
    CHECK(a.dtype() == float32);
    CHECK(a.shape() == Shape{2, 3});
    CHECK(a.to_vector() == std::vector<double>{-1, -0.5, 0, 0.5, 1, 1.5});

    Tensor f = load_npy(fixture("f64_3x4_fortran"));  // Fortran order: same values per index
    CHECK(f.dtype() == float64);
    REQUIRE(f.shape() == Shape{3, 4});
    for (std::size_t i = 0; i < 12; ++i) CHECK(f.to_vector()[i] == static_cast<double>(i) / 3);

    Tensor g = load_npy(fixture("i64_2x2x2_fortran"));
    CHECK(g.dtype() == int64);
    CHECK(g.shape() == Shape{2, 2, 2});
    CHECK(g.to_vector() == std::vector<double>{-4, -3, -2, -1, 0, 1, 2, 3});

    Tensor i = load_npy(fixture("i32_5"));
    CHECK(i.dtype() == int32);
    CHECK(i.to_vector() == std::vector<double>{-2147483648.0, -1, 0, 1, 2147483647.0});

    Tensor b = load_npy(fixture("bool_2x3"));
    CHECK(b.dtype() == bool_);
    CHECK(b.to_vector() == std::vector<double>{1, 0, 1, 0, 1, 0});

    Tensor s = load_npy(fixture("f64_scalar"));
    CHECK(s.dim() == 0);
    CHECK(s.item<double>() == 2.5);
    CHECK(load_npy(fixture("f32_0x3")).shape() == Shape{0, 3});
    CHECK(load_npy(fixture("f32_v2")).to_vector() == std::vector<double>{0, 1, 2, 3});

    CHECK(error_of([] { load_npy(fixture("u8_rejected")); }).find("'|u1' is not supported") !=
          std::string::npos);
    CHECK(error_of([] {
              load_npy(fixture("f64_bigendian_rejected"));
          }).find("'>f8' is not supported") != std::string::npos);
}

TEST_CASE("npy: save_npy and load_npy round-trip every dtype, 0-d and empty tensors") {
    ScratchDir dir;
    std::vector<Tensor> ts{randn({2, 3}),
                           randn({4, 1, 2}, float64),
                           arange(-3, 3, 1, int64).reshape({3, 2}),
                           tensor(std::vector<int>{-2147483647 - 1, 0, 2147483647}),
                           gt(randn({5}), 0.0),
                           scalar_tensor(-7.25, float64),
                           zeros({0, 4}),
                           randn({3, 4}).transpose(0, 1)};  // a view: written in logical order
    for (std::size_t k = 0; k < ts.size(); ++k) {
        CAPTURE(k);
        const std::string path = dir.file(fmt::format("t{}.npy", k));
        save_npy(path, ts[k]);
        Tensor back = load_npy(path);
        CHECK(back.dtype() == ts[k].dtype());
        CHECK(back.shape() == ts[k].shape());
        CHECK(back.to_vector() == ts[k].to_vector());
    }
    CHECK(error_of([&] { save_npy(dir.file("u.npy"), Tensor()); }).find("save_npy") !=
          std::string::npos);
    CHECK(error_of([&] { save_npy(dir.file("no/such/dir/x.npy"), ones({2})); }).find("save_npy") !=
          std::string::npos);
    CHECK(error_of([&] { load_npy(dir.file("absent.npy")); }).find("cannot open") !=
          std::string::npos);
    CHECK(error_of([&] { load_npy(dir.path().string()); }).find("not a regular file") !=
          std::string::npos);
}

TEST_CASE("npy: every cut-short prefix and every extra byte is refused") {
    ScratchDir dir;
    const auto good = read_bytes(fixture("f64_3x4_fortran"));
    const std::string bytes(good.begin(), good.end());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(n);
        CHECK(load_error(dir, bytes.substr(0, n)).find("load_npy") == 0);
    }
    CHECK(load_error(dir, bytes + "x").find("extra bytes") != std::string::npos);
}

TEST_CASE("npy: lying and malformed headers are refused by name") {
    ScratchDir dir;
    const std::string four(16, '\0');  // 4 float32 zeros
    auto dict = [](const std::string& descr, const std::string& fortran, const std::string& shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape +
               ", }";
    };
    CHECK(load_error(dir, npy_bytes(dict("<f4", "False", "(4,)"), four)) == "");
    CHECK(load_error(dir, npy_bytes(dict("<f4", "False", "(2, 2)"), four, 3)) == "");
    struct Row {
        std::string bytes, expect;
    };
    std::string overflow = "(4294967296, 4294967296, 4294967296)";
    std::vector<Row> rows{
        {"NUMPY\x01\x00", "no \\x93NUMPY magic"},
        {npy_bytes(dict("<f4", "False", "(4,)"), four, 9), "format version 9.0"},
        {npy_bytes(dict("<f4", "False", "(5,)"), four), "needs 20 data bytes, the file has 16"},
        {npy_bytes(dict("<f4", "False", "(3,)"), four), "extra bytes"},
        {npy_bytes(dict("<f4", "False", "(-4,)"), four), "is not a tuple of sizes"},
        {npy_bytes(dict("<f4", "False", "(2,x)"), four), "is not a tuple of sizes"},
        {npy_bytes(dict("<f4", "False", "(99999999999999999999999,)"), four), "too large"},
        {npy_bytes(dict("<f4", "False", overflow), four), "overflows"},
        // Empty, but its strides overflow (a libFuzzer finding: UBSan in xtensor's strides).
        {npy_bytes(dict("<f4", "False", "(0, 4294967296, 4294967296)"), ""), "overflows"},
        {npy_bytes(dict("<f4", "False", "4"), four), "'shape' is not a tuple"},
        {npy_bytes(dict("<f4", "Maybe", "(4,)"), four), "'fortran_order' is not True or False"},
        {npy_bytes(dict("<f2", "False", "(8,)"), four), "'<f2' is not supported"},
        {npy_bytes("{'fortran_order': False, 'shape': (4,), }", four), "no 'descr' key"},
        {npy_bytes("{'descr': '<f4', 'shape': (4,), }", four), "no 'fortran_order' key"},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False}", four), "no 'shape' key"},
        {npy_bytes("{'descr': <f4, 'fortran_order': False, 'shape': (4,)}", four),
         "'descr' is not a string"},
        {npy_bytes(dict("|b1", "False", "(2,)"), std::string("\x01\x02", 2)), "holds byte 2"},
        {npy_bytes(dict("<f4", "False", "(4,)"), four).substr(0, 9), "cut short"},
    };
    // A header length past the end of the file.
    std::string lying = npy_bytes(dict("<f4", "False", "(4,)"), four);
    lying[8] = '\xff';
    lying[9] = '\xff';
    rows.push_back({lying, "header of 65535 bytes"});
    for (const auto& row : rows) {
        CAPTURE(row.expect);
        std::string msg = load_error(dir, row.bytes);
        CHECK(msg.find("load_npy: ") == 0);
        CHECK(msg.find(row.expect) != std::string::npos);
    }
}

}  // namespace
}  // namespace xg::testing
