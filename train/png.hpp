#pragma once
// Small images as PNG files in memory and as data: URIs, for self-contained HTML pages.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xg::train {

// 8-bit gray (channels 1) or RGB (channels 3) pixels, row-major height x width x channels, as
// the bytes of a PNG file (zlib's deflate). Throws xg::Error on a size mismatch.
std::string encode_png(const std::vector<std::uint8_t>& pixels, std::size_t height,
                       std::size_t width, std::size_t channels);
std::string base64(const std::string& bytes);
// "data:image/png;base64,..." for an <img src>.
std::string png_data_uri(const std::vector<std::uint8_t>& pixels, std::size_t height,
                         std::size_t width, std::size_t channels);

}  // namespace xg::train
