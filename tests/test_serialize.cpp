// Checkpoint files (core/serialize.hpp): round trips, rejection of truncated, corrupted and lying
// files, the validating loader, atomic saves (injected failures, a full disk, SIGKILL) and
// interoperability with files written by Python.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "test_paths.hpp"
#include "tests/error_of.hpp"
#include "tests/parity.hpp"
#include "xgrad.hpp"

namespace xg::testing {
namespace {

namespace fs = std::filesystem;
using Bytes = std::string;

// A fresh directory, removed with its content at scope exit. in_memory puts it on /dev/shm
// where there is one, for the tests that write thousands of damaged files.
struct TempDir {
    fs::path path;
    explicit TempDir(bool in_memory = false) {
        static int counter = 0;
        fs::path root = in_memory && fs::is_directory("/dev/shm") ? fs::path("/dev/shm")
                                                                  : fs::temp_directory_path();
        path = root / fmt::format("xgrad_ckpt_{}_{}", ::getpid(), counter++);
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::vector<std::string> entries() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename());
        std::sort(out.begin(), out.end());
        return out;
    }
};

Bytes read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

void write_bytes(const std::string& path, const Bytes& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(b.data(), static_cast<std::streamsize>(b.size()));
}

bool contains(const std::string& s, const std::string& frag) {
    return s.find(frag) != std::string::npos;
}

// Same dtype, shape and bytes (NaN payloads and -0.0 included).
bool bitwise_equal(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    if (a.numel() == 0) return true;  // data() may be null
    switch (a.dtype()) {
        case Dtype::float32:
            return std::memcmp(a.data<float>().data(), b.data<float>().data(),
                               a.numel() * sizeof(float)) == 0;
        case Dtype::float64:
            return std::memcmp(a.data<double>().data(), b.data<double>().data(),
                               a.numel() * sizeof(double)) == 0;
        case Dtype::int64:
            return std::memcmp(a.data<std::int64_t>().data(), b.data<std::int64_t>().data(),
                               a.numel() * sizeof(std::int64_t)) == 0;
    }
    return false;
}

bool same_tensors(const NamedTensors& a, const NamedTensors& b) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
        if (ia->first != ib->first || !bitwise_equal(ia->second, ib->second)) return false;
    return true;
}

NamedTensors sample_tensors() {
    manual_seed(7);
    Tensor special = tensor({1.0, -0.0, 2.5}, float32);
    auto& s = special.mutable_data<float>();
    s(0) = std::numeric_limits<float>::quiet_NaN();
    s(2) = -std::numeric_limits<float>::infinity();
    Tensor big_ints(xt::xarray<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1, 0,
                                             std::numeric_limits<std::int64_t>::max()});
    return {{"layer.weight", randn({2, 3})},
            {"scalar64", scalar_tensor(0.1, float64)},
            {"ints", big_ints},
            {"empty", zeros({0, 3})},
            {"empty64", zeros({2, 0, 4}, float64)},
            {"special", special},
            {"ünïcode name", randn({1}, float64)},
            {"step", scalar_tensor(42, int64)}};
}

// A checkpoint file made by hand: u64 header length, header text, data bytes.
Bytes craft(const std::string& header, const Bytes& data = "") {
    Bytes out(8, '\0');
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

std::uint64_t header_length(const Bytes& b) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(b[i]);
    return n;
}

}  // namespace

TEST_CASE("safetensors: round trip of float32, float64 and int64, 0-d and empty, metadata") {
    TempDir dir;
    std::string path = dir.file("ckpt.safetensors");
    NamedTensors in = sample_tensors();
    std::map<std::string, std::string> meta = {
        {"epoch", "3"}, {"empty", ""}, {"note", "héllo \"quoted\"\n"}};
    save_safetensors(path, in, meta);
    SafetensorsFile f = load_safetensors(path);
    CHECK(same_tensors(f.tensors, in));
    CHECK(f.metadata == meta);
    CHECK(f.checksummed);
    CHECK(f.contains("ints"));
    CHECK_FALSE(f.contains("nope"));
    CHECK(f.at("step").item<std::int64_t>() == 42);
    CHECK(contains(error_of([&] { f.at("nope"); }), "no tensor named 'nope'"));

    // Layout: the data starts 8-byte aligned right after the header, as the reference pads it.
    Bytes b = read_bytes(path);
    std::uint64_t n = header_length(b);
    CHECK(n % 8 == 0);
    CHECK(b[8] == '{');
    CHECK(b.substr(8, 15) == "{\"__metadata__\"");

    SafetensorsHeader h = read_safetensors_header(path);
    REQUIRE(h.tensors.size() == in.size());
    std::size_t i = 0;
    for (const auto& [name, t] : in) {
        CHECK(h.tensors[i].name == name);
        CHECK(h.tensors[i].dtype == t.dtype());
        CHECK(h.tensors[i].shape == t.shape());
        ++i;
    }
    CHECK(h.metadata == meta);

    // No tensors at all is a valid file too; saving again replaces the file.
    save_safetensors(path, {});
    SafetensorsFile e = load_safetensors(path);
    CHECK(e.tensors.empty());
    CHECK(e.metadata.empty());
    CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("safetensors: a save with bad arguments throws before touching the file") {
    TempDir dir;
    std::string path = dir.file("a.safetensors");
    save_safetensors(path, {{"w", ones({2})}});
    Bytes before = read_bytes(path);
    // Names are unique by construction (NamedTensors refuses a repeated one).
    CHECK(contains(error_of([&] {
                       save_safetensors(path, {{"w", ones({2})}, {"w", ones({1})}});
                   }),
                   "duplicate name 'w'"));
    CHECK(contains(error_of([&] { save_safetensors(path, {{"", ones({2})}}); }), "empty name"));
    CHECK(contains(error_of([&] {
                       save_safetensors(path, {{"__metadata__", ones({2})}});
                   }),
                   "reserved"));
    CHECK(contains(error_of([&] {
                       save_safetensors(path, {{"w", ones({2})}, {"u", Tensor()}});
                   }),
                   "tensor 'u' is undefined"));
    CHECK(contains(error_of([&] {
                       save_safetensors(path, {}, {{"xgrad.crc32.w", "x"}});
                   }),
                   "reserved prefix"));
    CHECK(contains(error_of([&] {
                       save_safetensors(path, {{"bad\xff", ones({2})}});
                   }),
                   "not valid UTF-8"));
    std::string msg = error_of([&] { save_safetensors(path, {{"", ones({2})}}); });
    CHECK(msg.rfind("save_safetensors: " + path + ":", 0) == 0);
    CHECK(read_bytes(path) == before);
    CHECK(dir.entries() == std::vector<std::string>{"a.safetensors"});
}

TEST_CASE("safetensors: every truncation of a small checkpoint is rejected") {
    TempDir dir(/*in_memory=*/true);
    std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
    save_safetensors(good,
                     {{"w", randn({3, 4})},
                      {"b", randn({3}, float64)},
                      {"n", scalar_tensor(5, int64)},
                      {"e", zeros({0})}},
                     {{"k", "v"}});
    Bytes b = read_bytes(good);
    REQUIRE(b.size() < 4096);
    for (std::size_t len = 0; len < b.size(); ++len) {
        write_bytes(bad, b.substr(0, len));
        std::string msg = error_of([&] { load_safetensors(bad); });
        CHECK_MESSAGE(msg.rfind("load_safetensors: " + bad + ": ", 0) == 0, "length ", len, ": ",
                      msg);
    }
    // Spot-check that the messages say what is wrong.
    write_bytes(bad, b.substr(0, 5));
    CHECK(contains(error_of([&] { load_safetensors(bad); }), "too short for the 8-byte header"));
    write_bytes(bad, b.substr(0, 100));
    CHECK(contains(error_of([&] { load_safetensors(bad); }), "truncated file"));
    write_bytes(bad, b.substr(0, b.size() - 1));
    CHECK(contains(error_of([&] { load_safetensors(bad); }), "run past the"));
    write_bytes(bad, b + "x");
    CHECK(contains(error_of([&] { load_safetensors(bad); }), "trailing bytes"));
}

TEST_CASE("safetensors: every single-bit flip and byte change of a small checkpoint is rejected") {
    TempDir dir(/*in_memory=*/true);
    std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
    save_safetensors(good,
                     {{"w", randn({2, 3})},
                      {"b", randn({2}, float64)},
                      {"n", scalar_tensor(5, int64)},
                      {"e", zeros({0})}},
                     {{"k", "v"}});
    Bytes b = read_bytes(good);
    std::size_t tried = 0, rejected = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        std::vector<char> values;
        for (int bit = 0; bit < 8; ++bit) values.push_back(static_cast<char>(b[i] ^ (1 << bit)));
        for (char c : {' ', '\t', '\n', '0', 'a', '\0', '\xff', '}', '"'}) {
            if (c != b[i]) values.push_back(c);
        }
        for (char c : values) {
            Bytes m = b;
            m[i] = c;
            write_bytes(bad, m);
            ++tried;
            std::string msg = error_of([&] { load_safetensors(bad); });
            bool ok = msg.rfind("load_safetensors: " + bad + ": ", 0) == 0;
            rejected += ok;
            if (!ok)
                FAIL_CHECK("byte ", i, " set to ", int(static_cast<unsigned char>(c)),
                           " was accepted: ", msg);
        }
    }
    CHECK(rejected == tried);
    // A flip in the data names the tensor and the checksum.
    Bytes m = b;
    m[b.size() - 1] ^= 1;  // last byte of the last non-empty tensor, "n"
    write_bytes(bad, m);
    std::string msg = error_of([&] { load_safetensors(bad); });
    CHECK_MESSAGE(contains(msg, "tensor 'n': checksum mismatch"), msg);
}

TEST_CASE("safetensors: the validating loader checks names, dtypes and shapes first") {
    TempDir dir;
    std::string path = dir.file("m.safetensors");
    NamedTensors sd = {{"fc.weight", randn({3, 4})}, {"fc.bias", randn({3})}};
    save_safetensors(path, sd);
    std::vector<TensorSpec> spec = tensor_specs(sd);
    CHECK(same_tensors(load_safetensors(path, spec).tensors, sd));

    auto wrong_shape = spec;
    wrong_shape[0].shape = {4, 3};
    std::string msg = error_of([&] { load_safetensors(path, wrong_shape); });
    CHECK_MESSAGE(contains(msg, "tensor 'fc.weight' has shape [3, 4], expected [4, 3]"), msg);
    CHECK(msg.rfind("load_safetensors: " + path + ": ", 0) == 0);

    auto wrong_dtype = spec;
    wrong_dtype[1].dtype = float64;
    msg = error_of([&] { load_safetensors(path, wrong_dtype); });
    CHECK_MESSAGE(contains(msg, "tensor 'fc.bias' has dtype float32, expected float64"), msg);

    auto missing = spec;
    missing.push_back({"fc2.weight", float32, {2, 3}});
    msg = error_of([&] { load_safetensors(path, missing); });
    CHECK_MESSAGE(contains(msg, "missing tensor 'fc2.weight'"), msg);

    auto fewer = std::vector<TensorSpec>{spec[0]};
    msg = error_of([&] { load_safetensors(path, fewer); });
    CHECK_MESSAGE(contains(msg, "unexpected tensor 'fc.bias'"), msg);
    SafetensorsFile part = load_safetensors(path, fewer, /*allow_unexpected=*/true);
    CHECK(part.tensors.size() == 2);

    // The spec is checked before the data is read: a file with corrupt data but a bad spec
    // reports the spec problem.
    Bytes b = read_bytes(path);
    b[b.size() - 1] ^= 0x10;
    write_bytes(path, b);
    msg = error_of([&] { load_safetensors(path, wrong_shape); });
    CHECK_MESSAGE(contains(msg, "expected [4, 3]"), msg);
    msg = error_of([&] { load_safetensors(path, spec); });
    CHECK_MESSAGE(contains(msg, "tensor 'fc.bias': checksum mismatch"), msg);
}

TEST_CASE("safetensors: lying headers are rejected by name") {
    TempDir dir(/*in_memory=*/true);
    std::string path = dir.file("lie.safetensors");
    auto check = [&](const Bytes& file, const std::string& fragment) {
        write_bytes(path, file);
        std::string msg = error_of([&] { load_safetensors(path); });
        CHECK_MESSAGE(contains(msg, fragment), msg);
        CHECK_MESSAGE(msg.rfind("load_safetensors: " + path + ": ", 0) == 0, msg);
    };
    Bytes eight(8, 'x');
    // Header length.
    check("abc", "too short for the 8-byte header length");
    Bytes huge = craft("{}");
    for (int i = 0; i < 8; ++i) huge[i] = '\xff';  // len + 8 overflows u64
    check(huge, "exceeds the limit");
    Bytes past = craft("{}");
    past[0] = 50;
    check(past, "exceeds the 2 bytes that follow it");
    Bytes over_cap = craft("{}");
    over_cap[3] = 0x10;  // 268 MB, above the 100 MB cap, before looking at the file size
    check(over_cap, "exceeds the limit of 100000000 bytes");
    check(craft(""), "too short for a JSON object");
    // Not JSON, not an object, not UTF-8, bad padding.
    check(craft("[1, 2]"), "does not start with '{'");
    check(craft("{\"a\": }"), "not valid JSON");
    check(craft("{\"a\xff\": 1}"), "not valid JSON");
    check(craft("{}\t"), "bytes other than spaces after its JSON object");
    check(craft("{}  x"), "bytes other than spaces");
    check(craft("{\"a\":1}{}"), "not valid JSON");
    check(craft("{\"a\":{\"shape\":[[[1]]]}}"), "nests deeper");
    check(craft("{\"a\":1,\"a\":2}"), "repeats the key 'a'");
    check(craft("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}"), "repeats the key 'k'");
    // Entries.
    const std::string f32x2 = R"("dtype":"F32","shape":[2])";
    check(craft(R"({"a":[]})"), "tensor 'a': entry is not an object");
    check(craft(R"({"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]}})", eight),
          "tensor 'a': unknown dtype 'Q8'");
    check(craft(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight),
          "tensor 'a': unsupported dtype 'F16'");
    check(craft(R"({"a":{"dtype":3,"shape":[2],"data_offsets":[0,8]}})", eight),
          "missing or non-string dtype");
    check(craft(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
          "shape holds -2, not a size");
    check(craft(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight),
          "not a size");
    check(craft(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", eight),
          "non-array shape");
    check(craft(R"({"a":{)" + f32x2 + "}}", eight), "data_offsets must be two unsigned");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,-8]}})", eight),
          "data_offsets must be two unsigned");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8,8]}})", eight),
          "data_offsets must be two unsigned");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8],"x":1}})", eight),
          "tensor 'a': unknown field 'x'");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,12]}})", Bytes(12, 'x')),
          "span 12 bytes, F32 shape [2] needs 8");
    check(craft(R"({"":{)" + f32x2 + R"(,"data_offsets":[0,8]}})", eight), "empty name");
    // Shape products that overflow in some multiplication order.
    check(craft(R"({"a":{"dtype":"F32","shape":[2,9223372036854775807],"data_offsets":[0,8]}})",
                eight),
          "tensor 'a': shape [2, 9223372036854775807] overflows");
    check(craft(R"({"a":{"dtype":"F32","shape":[2,18446744073709551614],"data_offsets":[0,8]}})",
                eight),
          "overflows");
    check(craft(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
          "overflows");  // the product wraps to exactly 0
    check(craft(R"({"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,0]}})"),
          "not a size");  // past u64: a JSON float
    check(craft(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})"),
          "overflows");  // 2^61 elements fit, their 2^64 bytes do not
    // Offsets.
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[8,0]}})", eight), "are reversed");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8]}})", "1234"), "run past the 4-byte");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 +
                    R"(,"data_offsets":[4,12]}})",
                Bytes(12, 'x')),
          "tensor 'b': data_offsets [4, 12] overlap the previous tensor");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 +
                    R"(,"data_offsets":[0,8]}})",
                eight),
          "overlap");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8]},"b":{)" + f32x2 +
                    R"(,"data_offsets":[12,20]}})",
                Bytes(20, 'x')),
          "tensor 'b': data_offsets [12, 20] leave a gap after byte 8");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[4,12]}})", Bytes(12, 'x')),
          "leave a gap after byte 0");
    check(craft(R"({"a":{)" + f32x2 + R"(,"data_offsets":[0,8]}})", Bytes(12, 'x')),
          "the tensors cover 8 bytes of the 12-byte data buffer");
    // Metadata and the reserved xgrad keys.
    check(craft(R"({"__metadata__":[]})"), "__metadata__ is not an object");
    check(craft(R"({"__metadata__":{"k":1}})"), "metadata value of 'k' is not a string");
    check(craft(R"({"__metadata__":{"xgrad.format":"2"}})"), "xgrad format version '2'");
    check(craft(R"({"__metadata__":{"xgrad.header_crc32":"00000000"}})"), "lacks xgrad.format");
    check(craft(R"({"__metadata__":{"xgrad.format":"1"}})"), "lacks the header checksum");
    check(craft(R"({"__metadata__":{"xgrad.format":"1","xgrad.header_crc32":"xyz"}})"),
          "is not 8 hex digits");
    check(craft(R"({"__metadata__":{"xgrad.format":"1","xgrad.header_crc32":"00000000"}})"),
          "header checksum mismatch");

    // Zero-size tensors (any shape with a 0) and 0-d tensors are valid in a foreign file.
    write_bytes(path, craft(R"({"z":{"dtype":"F64","shape":[0,9223372036854775807],)"
                            R"("data_offsets":[0,0]},"s":{"dtype":"I64","shape":[],)"
                            R"("data_offsets":[0,8]}})",
                            Bytes("\x05\0\0\0\0\0\0\0", 8)));
    SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == 2);
    CHECK(f.at("z").shape() == Shape{0, 9223372036854775807ull});
    CHECK(f.at("s").item<std::int64_t>() == 5);
    CHECK_FALSE(f.checksummed);
    check(Bytes("\x05\0\0\0\0\0\0\0", 8) + "{}   x", "the tensors cover 0 bytes of the 1-byte");

    write_bytes(path, craft("{}", "x"));
    CHECK(error_of([&] {
              read_safetensors_header(path);
          }).rfind("read_safetensors_header: " + path + ": the tensors cover 0 bytes", 0) == 0);

    // Missing file, a directory.
    CHECK(contains(error_of([&] { load_safetensors(dir.file("nope")); }), "cannot open"));
    CHECK(contains(error_of([&] { load_safetensors(dir.path.string()); }), "not a regular file"));
}

// Files that are no checkpoint at all, and a header length of 2^63: the error names the file.
TEST_CASE("safetensors: a text file, an IDX file and a header length of 2^63 are refused") {
    TempDir dir;
    auto file = [&dir](const std::string& name, const Bytes& b) {
        write_bytes(dir.file(name), b);
        return dir.file(name);
    };
    Bytes header_2_63(16, '\0');
    header_2_63[7] = '\x80';
    // An IDX file of 2 x 3 x 4 bytes: magic 0, 0, 8 (u8), 3 (dims), big-endian dims, payload.
    const Bytes idx = Bytes("\0\0\x08\x03\0\0\0\x02\0\0\0\x03\0\0\0\x04", 16) + Bytes(24, '\1');
    check_error_rows({
        {"a text file",
         [=] { load_safetensors(file("text.st", "not a checkpoint at all, just some words\n")); },
         {"load_safetensors: ", "text.st"}},
        {"an IDX file", [=] { load_safetensors(file("idx.st", idx)); }, {"idx.st"}},
        {"header length 2^63",
         [=] { load_safetensors(file("hlen.st", header_2_63)); },
         {"hlen.st", "header length"}},
    });
}

TEST_CASE("safetensors: a failed save leaves the old file whole and no temporary file") {
    TempDir dir;
    std::string path = dir.file("state.safetensors");
    NamedTensors a = {{"w", full({64}, 1.0)}}, b = {{"w", full({64}, 2.0)}, {"v", ones({3})}};
    save_safetensors(path, a);
    Bytes old = read_bytes(path);

    std::string msg = error_of([&] { save_safetensors(dir.file("no/such/dir/x"), a); });
    CHECK_MESSAGE(contains(msg, "save_safetensors: " + dir.file("no/such/dir/x") +
                                    ": creating a temporary file"),
                  msg);
    CHECK(contains(msg, "No such file or directory"));

    // Fail the k-th system call of a save, for every k, until a save goes through.
    for (int k = 0;; ++k) {
        int calls = 0;
        std::string failed_step;
        detail::set_save_fault_hook([&](const char* step) {
            if (calls++ != k) return false;
            failed_step = step;
            return true;
        });
        msg = error_of([&] { save_safetensors(path, b); });
        detail::set_save_fault_hook(nullptr);
        CHECK(dir.entries() == std::vector<std::string>{"state.safetensors"});
        if (failed_step.empty()) {  // k ran past the last call: the save succeeded
            CHECK(msg.empty());
            CHECK(same_tensors(load_safetensors(path).tensors, b));
            CHECK(k >= 8);  // open, 4 writes, fsync, close, rename, fsync_dir
            break;
        }
        INFO("failed step ", failed_step, ": ", msg);
        CHECK(msg.rfind("save_safetensors: " + path + ": ", 0) == 0);
        if (failed_step == "fsync_dir") {  // after the rename: the new file is in place
            CHECK(contains(msg, "saved, but syncing its directory"));
            CHECK(same_tensors(load_safetensors(path).tensors, b));
            write_bytes(path, old);
        } else {
            CHECK(read_bytes(path) == old);
        }
        if (failed_step == "write") CHECK(contains(msg, "No space left on device"));
    }
    save_safetensors(path, a);

    // A full disk, for real: a child process whose file size limit stops the write.
    Tensor large = zeros({1 << 18});
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{16384, 16384};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        try {
            save_safetensors(path, {{"big", large}});
        } catch (const Error& e) {
            std::string m = e.what();
            ::_exit(contains(m, path + ": write failed: File too large") ? 0 : 2);
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(read_bytes(path) == old);
    CHECK(dir.entries() == std::vector<std::string>{"state.safetensors"});

    // A parent that is a file; an unwritable directory (root writes anywhere: other users only).
    msg = error_of([&] { save_safetensors(path + "/x", b); });
    CHECK_MESSAGE(contains(msg, "Not a directory"), msg);
    CHECK(read_bytes(path) == old);
    if (::geteuid() != 0) {
        fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
        msg = error_of([&] { save_safetensors(path, b); });
        fs::permissions(dir.path, fs::perms::owner_all);
        CHECK_MESSAGE(contains(msg, "Permission denied"), msg);
        CHECK(read_bytes(path) == old);
    }

    // Temporaries left by a killed process are removed by the next save; a live one is not.
    pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, &status, 0);
    std::string stale = dir.file(fmt::format(".state.safetensors.tmp-{}-0123456789abcdef", dead));
    std::string live = dir.file(fmt::format(".state.safetensors.tmp-{}-0123456789abcdef", 1));
    write_bytes(stale, "partial");
    write_bytes(live, "partial");
    save_safetensors(path, a);
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(live));
}

TEST_CASE("safetensors: SIGKILL during saves always leaves one whole state") {
    TempDir dir;
    std::string path = dir.file("state.safetensors");
    manual_seed(3);
    NamedTensors a = {{"w", randn({256, 256})}, {"step", scalar_tensor(1, int64)}};
    NamedTensors b = {{"w", randn({256, 256})}, {"step", scalar_tensor(2, int64)}};
    save_safetensors(path, a);
    std::mt19937 rng(12345);
    int kills = 0, saw_a = 0, saw_b = 0, temps_left = 0;
    for (int round = 0; round < 60; ++round) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            try {
                for (int i = 0;; ++i) save_safetensors(path, i % 2 ? a : b);
            } catch (...) {
            }
            ::_exit(1);
        }
        ::usleep(std::uniform_int_distribution<int>(0, 6000)(rng));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status));  // it never stopped by itself
        kills += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        temps_left += dir.entries().size() > 1;
        SafetensorsFile f = load_safetensors(path, tensor_specs(a));
        bool is_a = same_tensors(f.tensors, a), is_b = same_tensors(f.tensors, b);
        CHECK_MESSAGE(is_a != is_b, "round ", round, ": the file holds neither state");
        saw_a += is_a;
        saw_b += is_b;
    }
    // On this machine about half of the kills landed mid-save (a temporary file was left).
    INFO("state A ", saw_a, " times, B ", saw_b, ", a temporary file left ", temps_left, " times");
    CHECK(kills == 60);
    save_safetensors(path, a);  // clears the temporaries of the killed children
    CHECK(dir.entries() == std::vector<std::string>{"state.safetensors"});
}

TEST_CASE("safetensors: weights of a PyTorch Linear written by Python") {
    std::string dir = std::string(XGRAD_FIXTURE_DIR) + "/checkpoints";
    Tensor x = load_fixture("checkpoints/safetensors_linear", "x");
    Tensor y = load_fixture("checkpoints/safetensors_linear", "y");
    // With xgrad's checksums computed in Python (the header canonical form reproduced there).
    SafetensorsFile f = load_safetensors(
        dir + "/safetensors_linear.safetensors",
        {{"weight", float32, {3, 4}}, {"bias", float32, {3}}, {"num_calls", int64, {}}});
    CHECK(f.checksummed);
    CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}});
    CHECK(f.at("num_calls").item<std::int64_t>() == 7);
    Tensor w = f.at("weight").to(float64), bias = f.at("bias").to(float64);
    auto got = (matmul(x, w.transpose(0, 1)) + bias).to_vector(), want = y.to_vector();
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
    // The same tensors from a writer without checksums, keys in another order, spaced JSON.
    SafetensorsFile p = load_safetensors(dir + "/safetensors_linear_plain.safetensors");
    CHECK_FALSE(p.checksummed);
    CHECK(p.metadata == std::map<std::string, std::string>{{"format", "pt"}});
    REQUIRE(p.tensors.size() == 3);
    for (const auto& [name, t] : f.tensors) CHECK(bitwise_equal(p.at(name), t));
}

TEST_CASE("safetensors: the writer is deterministic and matches the fixture Python reads") {
    // tests/parity/read_safetensors.py --check-xgrad reads this same file with json + numpy.
    NamedTensors ts = {{"a", arange(6, float32).reshape({2, 3}) * 0.5f - 1.0f},
                       {"b", scalar_tensor(0.1, float64)},
                       {"c", Tensor(xt::xarray<std::int64_t>{-1, 0, 1099511627776})},
                       {"empty", zeros({0, 3})}};
    std::map<std::string, std::string> meta = {{"epoch", "3"}, {"note", "héllo wörld"}};
    std::string fixture = std::string(XGRAD_FIXTURE_DIR) + "/checkpoints/xgrad_written.safetensors";
    if (std::getenv("XGRAD_WRITE_FIXTURES")) save_safetensors(fixture, ts, meta);
    TempDir dir;
    save_safetensors(dir.file("w.safetensors"), ts, meta);
    CHECK(read_bytes(dir.file("w.safetensors")) == read_bytes(fixture));
    SafetensorsFile f = load_safetensors(fixture);
    CHECK(same_tensors(f.tensors, ts));
    CHECK(f.metadata == meta);
}

TEST_CASE("safetensors: training state groups flatten and split by prefix") {
    NamedTensors model = {{"fc.weight", ones({2, 2})}, {"fc.bias", zeros({2})}};
    NamedTensors optim = {{"step", scalar_tensor(3, int64)}, {"fc.weight.exp_avg", ones({2, 2})}};
    NamedTensors all = flatten_groups({{"model", model}, {"optim", optim}});
    REQUIRE(all.size() == 4);
    CHECK(all.keys().front() == "model.fc.weight");
    CHECK(all.keys().back() == "optim.fc.weight.exp_avg");
    CHECK(same_tensors(select_group(all, "model"), model));
    CHECK(same_tensors(select_group(all, "optim"), optim));
    CHECK(select_group(all, "sched").empty());
    CHECK(select_group(all, "mod").empty());
    CHECK(contains(error_of([&] { flatten_groups({{"a.b", model}}); }), "group name 'a.b'"));
    CHECK(contains(error_of([&] { flatten_groups({{"", model}}); }), "group name ''"));
    CHECK(contains(error_of([&] {
                       flatten_groups({{"m", model}, {"m", model}});
                   }),
                   "duplicate name 'm.fc.weight'"));

    TempDir dir;
    save_safetensors(dir.file("t.safetensors"), all, {{"sched.last_epoch", "4"}});
    SafetensorsFile f = load_safetensors(dir.file("t.safetensors"), tensor_specs(all));
    CHECK(same_tensors(select_group(f.tensors, "optim"), optim));
}

}  // namespace xg::testing
