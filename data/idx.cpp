#include "data/idx.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <zlib.h>

#include "core/error.hpp"

namespace xg::data {

namespace {

const char* type_name(std::uint8_t code) {
    switch (code) {
        case 0x08:
            return "unsigned byte";
        case 0x09:
            return "signed byte";
        case 0x0B:
            return "short";
        case 0x0C:
            return "int";
        case 0x0D:
            return "float";
        case 0x0E:
            return "double";
        default:
            return "unknown";
    }
}

std::uint32_t big_endian_u32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// zlib's error text for the stream, without the "<path>: " prefix zlib puts in front.
std::string gz_message(gzFile gz, const std::string& path, int* err) {
    std::string msg = gzerror(gz, err);
    if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
    return msg;
}

}  // namespace

// The open zlib handle (zlib reads plain files through the same calls: "direct" mode).
struct IdxReader::File {
    gzFile gz = nullptr;
    ~File() {
        if (gz != nullptr) gzclose_r(gz);
    }
};

#define IDX_FAIL(...) throw ::xg::Error("read_idx: " + path_ + ": " + fmt::format(__VA_ARGS__))

IdxReader::IdxReader(const std::string& path, IdxOptions options)
    : path_(path), options_(options), file_(std::make_unique<File>()) {
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) IDX_FAIL("is a directory, not an IDX file");
    errno = 0;
    file_->gz = gzopen(path_.c_str(), "rb");
    if (file_->gz == nullptr)
        IDX_FAIL("cannot open ({})", errno != 0 ? std::strerror(errno) : "out of memory");
    gzbuffer(file_->gz, 1 << 17);

    // Reads exactly n header bytes or throws, telling a damaged gzip stream from a short file.
    // zlib reads ahead: a stream cut in the payload may already report its end here, after the
    // header bytes arrived whole; read_payload reports that cut, with what arrived.
    auto read_exact = [&](unsigned char* out, unsigned n, const char* what) {
        int got = gzread(file_->gz, out, n);
        int err = Z_OK;
        std::string msg = gz_message(file_->gz, path_, &err);
        if (err == Z_BUF_ERROR && got != static_cast<int>(n))
            IDX_FAIL("truncated gzip stream in the header ({}: {} of {} bytes arrived; {})", what,
                     std::max(got, 0), n, msg);
        if (err != Z_OK && err != Z_BUF_ERROR)
            IDX_FAIL("gzip stream error in the header ({})", msg);
        if (got != static_cast<int>(n))
            IDX_FAIL("truncated: the file ends inside the header ({}: {} of {} bytes)", what,
                     std::max(got, 0), n);
    };

    unsigned char magic[4];
    read_exact(magic, 4, "magic number");
    if (magic[0] != 0 || magic[1] != 0)
        IDX_FAIL(
            "bad magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero "
            "bytes",
            magic[0], magic[1], magic[2], magic[3]);
    header_.type_code = magic[2];
    if (magic[2] != 0x08)
        IDX_FAIL("type code 0x{:02x} ({}) is not supported, expected 0x08 (unsigned byte)",
                 magic[2], type_name(magic[2]));
    std::size_t ndim = magic[3];
    if (ndim == 0) IDX_FAIL("dimension count is 0, expected at least 1");

    std::vector<unsigned char> raw(4 * ndim);
    read_exact(raw.data(), static_cast<unsigned>(raw.size()), "dimension sizes");
    header_.dims.resize(ndim);
    std::size_t numel = 1;
    for (std::size_t i = 0; i < ndim; ++i) {
        header_.dims[i] = big_endian_u32(&raw[4 * i]);
        if (__builtin_mul_overflow(numel, header_.dims[i], &numel))
            IDX_FAIL("the product of the dimension sizes overflows ({} dimensions)", ndim);
    }
    header_.numel = numel;
    if (numel > options_.max_bytes())
        IDX_FAIL("the header claims {} payload bytes, more than the limit of {} bytes", numel,
                 options_.max_bytes());

    // A plain file's size is known: compare before any payload is allocated.
    if (gzdirect(file_->gz) == 1) {
        auto size = std::filesystem::file_size(path_, ec);
        if (ec) IDX_FAIL("cannot get the file size ({})", ec.message());
        std::size_t header_bytes = 4 + 4 * ndim;
        std::size_t payload = size - header_bytes;  // size >= header_bytes: the header was read
        if (payload < numel)
            IDX_FAIL("truncated: the header claims {} payload bytes, the file holds {}", numel,
                     payload);
        if (payload > numel)
            IDX_FAIL("{} trailing bytes after the {}-byte payload", payload - numel, numel);
    }
}

IdxReader::~IdxReader() = default;

std::vector<std::uint8_t> IdxReader::read_payload() {
    if (!file_ || file_->gz == nullptr) IDX_FAIL("read_payload called twice");
    gzFile gz = file_->gz;
    const std::size_t numel = header_.numel;
    std::vector<std::uint8_t> out;
    auto check_stream = [&](const char* where) {
        int err = Z_OK;
        std::string msg = gz_message(gz, path_, &err);
        if (err == Z_BUF_ERROR)
            IDX_FAIL("truncated gzip stream {}: {} of the {} payload bytes arrived ({})", where,
                     out.size(), numel, msg);
        if (err == Z_ERRNO) IDX_FAIL("read error {} ({})", where, std::strerror(errno));
        if (err != Z_OK) IDX_FAIL("gzip stream error {} ({})", where, msg);
    };

    // A plain file was checked against its size. A gzip stream's length is unknown until it is
    // read, but deflate expands at most 1032:1, so the compressed size bounds what can come out:
    // allocate no more than that up front, and grow if the data really goes on.
    std::size_t initial = numel;
    if (gzdirect(gz) != 1) {
        std::error_code ec;
        auto compressed = std::filesystem::file_size(path_, ec);
        std::size_t bound =
            ec ? std::size_t{1} << 20 : static_cast<std::size_t>(compressed) * 1032 + 1024;
        initial = std::min(numel, bound);
    }
    // Out of memory names the file and the bytes asked (the payload is read in one buffer).
    auto grow = [&](std::size_t bytes, bool reserve) {
        try {
            reserve ? out.reserve(bytes) : out.resize(bytes);
        } catch (const std::bad_alloc&) {
            IDX_FAIL("out of memory: an allocation of {} bytes for the payload failed", bytes);
        }
    };
    grow(initial, true);
    while (out.size() < numel) {
        std::size_t want = numel - out.size();
        if (out.size() >= initial)
            want = std::min(want, std::max(out.size(), std::size_t{1} << 20));
        else
            want = initial - out.size();
        want = std::min(want, std::size_t{1} << 30);  // gzread takes an unsigned int
        std::size_t old = out.size();
        grow(old + want, false);
        int got = gzread(gz, out.data() + old, static_cast<unsigned>(want));
        if (got < 0) check_stream("in the payload");
        std::size_t n = static_cast<std::size_t>(std::max(got, 0));
        out.resize(old + n);
        if (n < want) {
            check_stream("in the payload");
            IDX_FAIL("truncated: the header claims {} payload bytes, the file holds {}", numel,
                     out.size());
        }
    }

    // Reading past the payload makes zlib check the gzip trailer (CRC and length).
    unsigned char extra[4096];
    int got = gzread(gz, extra, sizeof extra);
    if (got < 0) check_stream("after the payload");
    if (got > 0) {
        std::size_t trailing = static_cast<std::size_t>(got);
        while ((got = gzread(gz, extra, sizeof extra)) > 0)
            trailing += static_cast<std::size_t>(got);
        IDX_FAIL("{} trailing bytes after the {}-byte payload", trailing, numel);
    }
    check_stream("after the payload");
    file_->gz = nullptr;
    int rc = gzclose_r(gz);
    if (rc == Z_BUF_ERROR) IDX_FAIL("truncated gzip stream (it ends inside a gzip member)");
    if (rc != Z_OK) IDX_FAIL("closing the file failed (zlib error {})", rc);
    return out;
}

#undef IDX_FAIL

IdxArray read_idx(const std::string& path, std::size_t expect_ndim, IdxOptions options) {
    IdxReader reader(path, options);
    XG_CHECK(expect_ndim == 0 || reader.header().dims.size() == expect_ndim,
             "read_idx: {}: expected {} dimensions, the header has {}", path, expect_ndim,
             reader.header().dims.size());
    IdxArray out;
    out.dims = reader.header().dims;
    out.data = reader.read_payload();
    return out;
}

IdxImagesLabels read_idx_images_labels(const std::string& images_path,
                                       const std::string& labels_path, IdxOptions options) {
    IdxReader images(images_path, options);
    IdxReader labels(labels_path, options);
    const auto& id = images.header().dims;
    const auto& ld = labels.header().dims;
    XG_CHECK(id.size() == 3,
             "read_idx: {}: expected 3 dimensions (images x rows x columns), the "
             "header has {}",
             images_path, id.size());
    XG_CHECK(ld.size() == 1, "read_idx: {}: expected 1 dimension (labels), the header has {}",
             labels_path, ld.size());
    XG_CHECK(id[0] == ld[0], "read_idx: {} holds {} images but {} holds {} labels", images_path,
             id[0], labels_path, ld[0]);
    IdxImagesLabels out;
    out.images.dims = id;
    out.labels.dims = ld;
    out.labels.data = labels.read_payload();
    out.images.data = images.read_payload();
    return out;
}

}  // namespace xg::data
