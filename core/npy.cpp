#include "core/npy.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xnpy.hpp>

#include "core/dispatch.hpp"
#include "core/serialize.hpp"

// Writing goes through xtensor's xnpy (xt::dump_npy). Reading does not use xt::load_npy: it
// trusts the file (the data read is unchecked, so a short file yields uninitialized memory; the
// header length is read through a signed char; a shape of "-1" or "x" parses to garbage), and
// a reader of files from elsewhere must refuse those with an error instead.

namespace xg {

namespace {

constexpr std::size_t kMaxRank = 64;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw Error(fmt::format("load_npy: {}: {}", path, what));
}

std::string read_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        fail(path,
             std::filesystem::exists(path, ec) ? "not a regular file" : "cannot open the file");
    }
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, "cannot open the file");
    std::streamoff size = in.tellg();
    if (size < 0) fail(path, "cannot read the file's size");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (size > 0 && !in.read(bytes.data(), size)) fail(path, "read failed");
    return bytes;
}

// The text after "'key':" in the header dict (whitespace skipped), or fails if absent.
std::size_t value_pos(const std::string& path, const std::string& h, const char* key) {
    std::string quoted = fmt::format("'{}'", key);
    std::size_t k = h.find(quoted);
    if (k == std::string::npos) fail(path, fmt::format("header has no {} key: {}", quoted, h));
    std::size_t p = h.find_first_not_of(" ", k + quoted.size());
    if (p == std::string::npos || h[p] != ':') fail(path, fmt::format("malformed header: {}", h));
    p = h.find_first_not_of(" ", p + 1);
    if (p == std::string::npos) fail(path, fmt::format("malformed header: {}", h));
    return p;
}

struct Header {
    std::string descr;
    bool fortran = false;
    Shape shape;
};

Header parse_header(const std::string& path, const std::string& h) {
    Header out;
    std::size_t p = value_pos(path, h, "descr");
    std::size_t e = h[p] == '\'' ? h.find('\'', p + 1) : std::string::npos;
    if (e == std::string::npos) fail(path, fmt::format("'descr' is not a string: {}", h));
    out.descr = h.substr(p + 1, e - p - 1);
    p = value_pos(path, h, "fortran_order");
    if (h.compare(p, 4, "True") == 0) {
        out.fortran = true;
    } else if (h.compare(p, 5, "False") != 0) {
        fail(path, fmt::format("'fortran_order' is not True or False: {}", h));
    }
    p = value_pos(path, h, "shape");
    if (h[p] != '(') fail(path, fmt::format("'shape' is not a tuple: {}", h));
    e = h.find(')', p);
    if (e == std::string::npos) fail(path, fmt::format("'shape' is not a tuple: {}", h));
    std::string t = h.substr(p + 1, e - p - 1);
    std::size_t i = 0;
    while (true) {
        while (i < t.size() && t[i] == ' ') ++i;
        if (i == t.size()) break;
        std::uint64_t d = 0;
        std::size_t digits = 0;
        for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
            if (d > (std::numeric_limits<std::uint64_t>::max() - 9) / 10)
                fail(path, fmt::format("shape {} is too large", h.substr(p, e - p + 1)));
            d = d * 10 + static_cast<std::uint64_t>(t[i] - '0');
        }
        if (digits == 0 || d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            fail(path, fmt::format("shape {} is not a tuple of sizes", h.substr(p, e - p + 1)));
        out.shape.push_back(static_cast<std::size_t>(d));
        while (i < t.size() && t[i] == ' ') ++i;
        if (i == t.size()) break;
        if (t[i] != ',')
            fail(path, fmt::format("shape {} is not a tuple of sizes", h.substr(p, e - p + 1)));
        ++i;
    }
    if (out.shape.size() > kMaxRank)
        fail(path, fmt::format("shape has {} dims (at most {})", out.shape.size(), kMaxRank));
    return out;
}

Dtype dtype_of(const std::string& path, const std::string& descr) {
    if (descr == "<f4") return float32;
    if (descr == "<f8") return float64;
    if (descr == "<i8") return int64;
    if (descr == "<i4") return int32;
    if (descr == "|b1") return bool_;
    fail(path, fmt::format("dtype '{}' is not supported (float32 '<f4', float64 '<f8', int64 "
                           "'<i8', int32 '<i4' and bool '|b1' are)",
                           descr));
}

template <class T>
Tensor make_tensor(const std::string& path, const char* data, const Header& hd) {
    std::size_t n = 1;
    for (std::size_t d : hd.shape) n *= d;  // checked against the file size before this
    if constexpr (std::is_same_v<T, bool>) {
        for (std::size_t i = 0; i < n; ++i) {
            auto b = static_cast<unsigned char>(data[i]);
            if (b > 1) fail(path, fmt::format("bool element {} holds byte {} (not 0 or 1)", i, b));
        }
    }
    // Fortran order: the bytes are the row-major array of the reversed shape, transposed.
    Shape shape = hd.shape;
    if (hd.fortran) std::reverse(shape.begin(), shape.end());
    array<T> a = array<T>::from_shape(shape);
    if (n > 0) std::memcpy(a.data(), data, n * sizeof(T));
    if (!hd.fortran || shape.size() < 2) return Tensor(std::move(a));
    array<T> rows = xt::transpose(a);
    return Tensor(std::move(rows));
}

}  // namespace

Tensor load_npy(const std::string& path) {
    const std::string bytes = read_file(path);
    const std::size_t magic = 6;
    if (bytes.size() < magic + 2 || bytes.compare(0, magic, "\x93NUMPY") != 0)
        fail(path, fmt::format("not a .npy file (no \\x93NUMPY magic; {} bytes)", bytes.size()));
    const auto major = static_cast<unsigned char>(bytes[6]);
    const auto minor = static_cast<unsigned char>(bytes[7]);
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        fail(path, fmt::format("format version {}.{} is not supported (1.0, 2.0, 3.0 are)", major,
                               minor));
    const std::size_t len_size = major == 1 ? 2 : 4;
    if (bytes.size() < magic + 2 + len_size)
        fail(path, fmt::format("cut short in the header length ({} bytes)", bytes.size()));
    std::uint64_t hlen = 0;
    for (std::size_t i = 0; i < len_size; ++i)
        hlen |= std::uint64_t(static_cast<unsigned char>(bytes[magic + 2 + i])) << (8 * i);
    const std::size_t start = magic + 2 + len_size;
    if (hlen > bytes.size() - start)
        fail(path, fmt::format("header of {} bytes, but the file has {} bytes after the header "
                               "length",
                               hlen, bytes.size() - start));
    std::string h = bytes.substr(start, hlen);
    for (char c : h)
        if (c == '\0') fail(path, "header holds a NUL byte");
    Header hd = parse_header(path, h);
    Dtype dt = dtype_of(path, hd.descr);
    std::size_t item = dt == float64 || dt == int64 ? 8 : dt == bool_ ? 1 : 4;
    std::uint64_t want = item;
    // The product of the non-zero sizes bounds the strides (signed in xtensor) even when a zero
    // size makes the array empty: (0, 2^40, 2^40) holds nothing but its strides overflow.
    std::uint64_t strides = item;
    const std::uint64_t limit = std::uint64_t(std::numeric_limits<std::int64_t>::max());
    for (std::size_t d : hd.shape) {
        if (d != 0 && strides > limit / d) fail(path, fmt::format("shape {} overflows", hd.shape));
        if (d != 0) strides *= d;
        want *= d;
    }
    const std::uint64_t have = bytes.size() - start - hlen;
    if (have != want)
        fail(path, fmt::format("shape {} of {} needs {} data bytes, the file has {} ({})", hd.shape,
                               dt, want, have, have < want ? "cut short" : "extra bytes"));
    const char* data = bytes.data() + start + hlen;
    try {
        return detail::dispatch_all(
            dt, [&](auto tag) { return make_tensor<decltype(tag)>(path, data, hd); });
    } catch (const std::bad_alloc&) {
        fail(path, fmt::format("out of memory for shape {}", hd.shape));
    }
}

void save_npy(const std::string& path, const Tensor& t) {
    detail::check_defined("save_npy", t, "tensor");
    std::string bytes = detail::dispatch_all(t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        // xnpy takes the shape from the array; the data is already row-major and contiguous.
        return xt::dump_npy(t.data<T>());
    });
    detail::write_file_atomically("save_npy", path, {{bytes.data(), bytes.size()}});
}

}  // namespace xg
