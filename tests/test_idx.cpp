// The IDX reader on the small files of tests/fixtures/idx (made by make_idx.py there): good
// files plain and gzip, every truncation of them, and one file per header or stream defect.
#include <doctest/doctest.h>

#include "data/idx.hpp"
#include "tests/data_testing.hpp"

namespace xg::testing {
namespace {

using data::IdxArray;
using data::IdxOptions;
using data::IdxReader;
using data::read_idx;
using data::read_idx_images_labels;

// The pixel and label formulas of make_idx.py.
std::vector<std::uint8_t> expected_pixels() {
    std::vector<std::uint8_t> v;
    for (int i = 0; i < 5; ++i)
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c)
                v.push_back(static_cast<std::uint8_t>(4 * (12 * i + 4 * r + c) + 1));
    return v;
}
std::vector<std::uint8_t> expected_labels() {
    return {0, 3, 6, 9, 2};
}

TEST_CASE("read_idx: plain and gzip files give the header's dims and the payload") {
    for (const char* suffix : {"", ".gz"}) {
        CAPTURE(suffix);
        IdxArray images = read_idx(idx_fixture(std::string("images.idx3") + suffix), 3);
        CHECK(images.dims == std::vector<std::size_t>{5, 3, 4});
        CHECK(images.data == expected_pixels());
        IdxArray labels = read_idx(idx_fixture(std::string("labels.idx1") + suffix));
        CHECK(labels.dims == std::vector<std::size_t>{5});
        CHECK(labels.data == expected_labels());
    }
    auto both = read_idx_images_labels(idx_fixture("images.idx3.gz"), idx_fixture("labels.idx1"));
    CHECK(both.images.data == expected_pixels());
    CHECK(both.labels.data == expected_labels());
}

TEST_CASE("IdxReader: the header is available before the payload is read") {
    IdxReader r(idx_fixture("images.idx3.gz"));
    CHECK(r.header().type_code == 0x08);
    CHECK(r.header().dims == std::vector<std::size_t>{5, 3, 4});
    CHECK(r.header().numel == 60);
    CHECK(r.read_payload() == expected_pixels());
    CHECK(error_of([&] { r.read_payload(); }).find("read_payload called twice") !=
          std::string::npos);
}

TEST_CASE("read_idx: every truncation of a file is an error naming the file") {
    ScratchDir dir;
    for (const char* name : {"images.idx3", "labels.idx1", "images.idx3.gz", "labels.idx1.gz"}) {
        std::vector<char> bytes = read_bytes(idx_fixture(name));
        const bool gz = std::string(name).find(".gz") != std::string::npos;
        for (std::size_t len = 0; len < bytes.size(); ++len) {
            CAPTURE(name);
            CAPTURE(len);
            std::string path = dir.write(std::string("cut_") + name, bytes.data(), len);
            std::string msg = error_of([&] { read_idx(path); });
            CHECK(msg.rfind("read_idx: " + path + ": ", 0) == 0);
            if (gz) {
                // A cut inside the gzip header or the deflate data or the trailer.
                CHECK((msg.find("truncated") != std::string::npos ||
                       msg.find("gzip stream error") != std::string::npos));
            } else {
                CHECK(msg.find("truncated") != std::string::npos);
            }
        }
        // The whole file still reads (the scratch copy is byte-identical).
        std::string path = dir.write(std::string("full_") + name, bytes.data(), bytes.size());
        CHECK(read_idx(path).data == read_idx(idx_fixture(name)).data);
    }
}

TEST_CASE("read_idx: a gzip file cut short says which part was cut and how much arrived") {
    ScratchDir dir;
    std::vector<char> bytes = read_bytes(idx_fixture("images.idx3.gz"));  // 16 + 60 bytes inside
    REQUIRE(bytes.size() == 95);
    // Cut at 50 of 95 compressed bytes: the 16 header bytes and part of the 60-byte payload.
    std::string payload_cut = dir.write("payload_cut.gz", bytes.data(), 50);
    std::string msg = error_of([&] { read_idx(payload_cut); });
    CHECK(msg.find("truncated gzip stream in the payload: ") != std::string::npos);
    CHECK(msg.find(" of the 60 payload bytes arrived") != std::string::npos);
    CHECK(msg.find("in the header") == std::string::npos);
    // Cut at 21: only 11 of the 16 header bytes come out.
    std::string header_cut = dir.write("header_cut.gz", bytes.data(), 21);
    msg = error_of([&] { read_idx(header_cut); });
    CHECK(msg.find("truncated gzip stream in the header (dimension sizes: ") != std::string::npos);
    CHECK(msg.find("of 12 bytes arrived") != std::string::npos);
}

TEST_CASE("read_idx: header defects") {
    auto msg = [](const char* name) { return error_of([&] { read_idx(idx_fixture(name)); }); };
    CHECK(msg("bad_magic.idx1").find("bad magic number 0x01000801") != std::string::npos);
    CHECK(msg("float_type.idx1").find("type code 0x0d (float) is not supported, expected 0x08") !=
          std::string::npos);
    CHECK(msg("zero_dims.idx").find("dimension count is 0") != std::string::npos);
    CHECK(msg("overflow.idx3").find("product of the dimension sizes overflows") !=
          std::string::npos);
    CHECK(msg("labels.idx1").empty());  // the control
    CHECK(error_of([] {
              read_idx(idx_fixture("images.idx3"), 1);
          }).find("expected 1 dimensions, the header has 3") != std::string::npos);
    std::string missing = idx_fixture("no_such_file.idx1");
    CHECK(error_of([&] { read_idx(missing); }) ==
          "read_idx: " + missing + ": cannot open (No such file or directory)");
    CHECK(error_of([] {
              read_idx(std::string(XGRAD_FIXTURE_DIR) + "/idx");
          }).find("is a directory") != std::string::npos);
}

TEST_CASE("read_idx: payload size against the file") {
    auto msg = [](const char* name) { return error_of([&] { read_idx(idx_fixture(name)); }); };
    CHECK(msg("trailing.idx1").find("2 trailing bytes after the 5-byte payload") !=
          std::string::npos);
    CHECK(msg("trailing.idx1.gz").find("2 trailing bytes after the 5-byte payload") !=
          std::string::npos);
    // 2^32 - 1 images of 28x28: over the limit, refused before any allocation.
    for (const char* name : {"huge.idx3", "huge.idx3.gz"}) {
        CAPTURE(name);
        CHECK(msg(name).find("claims 3367254359280 payload bytes, more than the limit") !=
              std::string::npos);
    }
    // Past the limit, the plain file is checked against its size; 2^32 - 1 labels in a 31-byte
    // gzip file get a buffer bounded by deflate's 1032:1 ratio, and the stream ends early.
    CHECK(error_of([] {
              read_idx(idx_fixture("huge.idx3"), 0, IdxOptions{std::size_t{1} << 50});
          }).find("truncated: the header claims 3367254359280 payload bytes, the file holds 60") !=
          std::string::npos);
    CHECK(msg("huge.idx1.gz").find("truncated") != std::string::npos);
    // A lower limit refuses even the good file.
    CHECK(error_of([] {
              read_idx(idx_fixture("images.idx3.gz"), 0, IdxOptions{59});
          }).find("claims 60 payload bytes, more than the limit of 59 bytes") != std::string::npos);
}

// Files that are no IDX file at all, and a damaged gzip stream: the error names the file.
TEST_CASE("read_idx: a text file, a PNG file and a bit-flipped gzip stream") {
    ScratchDir dir;
    auto file = [&dir](const std::string& name, const std::vector<char>& b) {
        return dir.write(name, b.data(), b.size());
    };
    check_error_rows({
        {"a text file",
         [=] {
             std::string s = "hello, this is not an IDX file\n";
             read_idx(file("text.idx", {s.begin(), s.end()}));
         },
         {"read_idx:", "text.idx"}},
        {"a PNG file",
         [=] {
             std::vector<char> png{'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n', 0, 0, 0, 13};
             read_idx(file("img.png", png));
         },
         {"read_idx:", "img.png"}},
        {"a bit flip in the middle of a gzip stream",
         [=] {
             auto b = read_bytes(idx_fixture("images.idx3.gz"));
             b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x10);
             read_idx(file("flip.idx3.gz", b));
         },
         {"read_idx:", "flip.idx3.gz"}},
    });
}

TEST_CASE("read_idx: a gzip stream with a wrong CRC is an error") {
    std::string msg = error_of([] { read_idx(idx_fixture("bad_crc.idx1.gz")); });
    CHECK(msg.find("gzip stream error") != std::string::npos);
    CHECK(msg.find("incorrect data check") != std::string::npos);
}

TEST_CASE("read_idx_images_labels: counts and ranks must agree") {
    CHECK(error_of([] {
              read_idx_images_labels(idx_fixture("images.idx3"), idx_fixture("labels4.idx1"));
          }) == "read_idx: " + idx_fixture("images.idx3") + " holds 5 images but " +
                    idx_fixture("labels4.idx1") + " holds 4 labels");
    CHECK(error_of([] {
              read_idx_images_labels(idx_fixture("labels.idx1"), idx_fixture("labels.idx1"));
          }).find("expected 3 dimensions (images x rows x columns), the header has 1") !=
          std::string::npos);
    CHECK(error_of([] {
              read_idx_images_labels(idx_fixture("images.idx3"), idx_fixture("images.idx3"));
          }).find("expected 1 dimension (labels), the header has 3") != std::string::npos);
}

}  // namespace
}  // namespace xg::testing
