#include "train/png.hpp"

#include <zlib.h>

#include "core/error.hpp"

namespace xg::train {

namespace {
void put_u32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s += char((v >> shift) & 0xff);
}

// length, type, data, CRC-32 of type and data.
void put_chunk(std::string& png, const char* type, const std::string& data) {
    put_u32(png, static_cast<std::uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    png += body;
    uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()));
    put_u32(png, static_cast<std::uint32_t>(crc));
}
}  // namespace

std::string encode_png(const std::vector<std::uint8_t>& pixels, std::size_t height,
                       std::size_t width, std::size_t channels) {
    XG_CHECK(channels == 1 || channels == 3, "encode_png: channels must be 1 or 3, got {}",
             channels);
    XG_CHECK(height > 0 && width > 0 && height < (1u << 20) && width < (1u << 20),
             "encode_png: bad size {}x{}", height, width);
    XG_CHECK(pixels.size() == height * width * channels, "encode_png: {} bytes for {}x{}x{} pixels",
             pixels.size(), height, width, channels);
    // Each row starts with filter type 0 (none).
    const std::size_t row = width * channels;
    std::string raw;
    raw.reserve(height * (row + 1));
    for (std::size_t y = 0; y < height; ++y) {
        raw += '\0';
        raw.append(reinterpret_cast<const char*>(pixels.data() + y * row), row);
    }
    uLongf size = compressBound(uLong(raw.size()));
    std::string z(size, '\0');
    int rc = compress2(reinterpret_cast<Bytef*>(&z[0]), &size,
                       reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()), 9);
    XG_CHECK(rc == Z_OK, "encode_png: zlib's compress2 failed ({})", rc);
    z.resize(size);

    std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
    put_u32(ihdr, std::uint32_t(width));
    put_u32(ihdr, std::uint32_t(height));
    ihdr += char(8);                      // bit depth
    ihdr += char(channels == 1 ? 0 : 2);  // gray or RGB
    ihdr += std::string(3, '\0');         // deflate, adaptive filters, no interlace
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", z);
    put_chunk(png, "IEND", "");
    return png;
}

std::string base64(const std::string& bytes) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16 |
                          std::uint32_t(std::uint8_t(bytes[i + 1])) << 8 |
                          std::uint8_t(bytes[i + 2]);
        out += k[v >> 18];
        out += k[(v >> 12) & 63];
        out += k[(v >> 6) & 63];
        out += k[v & 63];
    }
    if (i < bytes.size()) {
        std::uint32_t v = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        if (i + 1 < bytes.size()) v |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
        out += k[v >> 18];
        out += k[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? k[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string png_data_uri(const std::vector<std::uint8_t>& pixels, std::size_t height,
                         std::size_t width, std::size_t channels) {
    return "data:image/png;base64," + base64(encode_png(pixels, height, width, channels));
}

}  // namespace xg::train
