#pragma once
// Reading IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.
// Only unsigned-byte payloads (type code 0x08) are supported: that is what both datasets use.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/options.hpp"

namespace xg::data {

// The header of an IDX file: magic 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes.
struct IdxHeader {
    std::uint8_t type_code = 0;
    std::vector<std::size_t> dims;
    std::size_t numel = 0;  // product of dims (checked for overflow)
};

// An IDX file's contents: its dimensions and the payload, row-major.
struct IdxArray {
    std::vector<std::size_t> dims;
    std::vector<std::uint8_t> data;
};

struct IdxOptions {
    IdxOptions(std::size_t max_bytes = std::size_t{1} << 32) : max_bytes_(max_bytes) {}  // NOLINT
    // A header claiming more payload than this is refused before anything is allocated
    // (the MNIST train images are 47 MB). Plain files are also checked against their size.
    XG_ARG(std::size_t, max_bytes);
};

// Opens an IDX file (gzip or plain, told apart by its first bytes) and validates its header.
// Every problem is an xg::Error that starts with "read_idx: <path>: ".
class IdxReader {
  public:
    explicit IdxReader(const std::string& path, IdxOptions options = {});
    ~IdxReader();
    IdxReader(const IdxReader&) = delete;
    IdxReader& operator=(const IdxReader&) = delete;

    const std::string& path() const { return path_; }
    const IdxHeader& header() const { return header_; }
    // Reads the payload, checks that the file ends right after it (no truncation, no trailing
    // bytes) and that the gzip stream is intact, and closes the file. Callable once.
    std::vector<std::uint8_t> read_payload();

  private:
    struct File;
    std::string path_;
    IdxOptions options_;
    IdxHeader header_;
    std::unique_ptr<File> file_;
};

// Reads a whole IDX file. expect_ndim (if not 0) must match the header's dimension count.
IdxArray read_idx(const std::string& path, std::size_t expect_ndim = 0, IdxOptions options = {});

// Reads an images file (idx3: N x H x W) and its labels file (idx1: N), checking both headers
// and that their counts agree before reading either payload.
struct IdxImagesLabels {
    IdxArray images;
    IdxArray labels;
};
IdxImagesLabels read_idx_images_labels(const std::string& images_path,
                                       const std::string& labels_path, IdxOptions options = {});

}  // namespace xg::data
