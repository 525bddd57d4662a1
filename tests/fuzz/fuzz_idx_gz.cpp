// libFuzzer target for the IDX reader on gzip files: the input (after one control byte) is the
// IDX content, compressed here, so the fuzzer explores the format inside valid gzip streams;
// the control byte then damages the stream (truncates it, flips a byte, appends garbage or a
// second member). Every input must either load or throw xg::Error; anything else (a crash, a
// sanitizer report, another exception, a leak, an allocation over the limit) is a bug.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/idx.hpp"
#include "tests/fuzz/fuzz_common.hpp"

namespace {
std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) __builtin_trap();
    std::vector<std::uint8_t> out(deflateBound(&zs, size) + 32);
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = static_cast<uInt>(size);
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) __builtin_trap();
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t control = data[0];
    std::vector<std::uint8_t> gz = gzip(data + 1, size - 1);
    const std::size_t where = gz.empty() ? 0 : (control >> 3) * gz.size() / 32;
    switch (control & 7) {
        case 1:
            gz.resize(where);
            break;  // truncated stream
        case 2:
            if (!gz.empty()) gz[where % gz.size()] ^= 0x5a;
            break;  // corrupted byte
        case 3:
            gz.insert(gz.end(), data + 1, data + size);
            break;  // trailing garbage
        case 4: {   // two gzip members
            std::vector<std::uint8_t> second = gzip(data + 1, (size - 1) / 2);
            gz.insert(gz.end(), second.begin(), second.end());
            break;
        }
        default:
            break;  // intact
    }
    const std::string path = xg::fuzz::write_scratch("idx.gz", gz.data(), gz.size());
    try {
        xg::data::IdxArray a = xg::data::read_idx(path);
        std::size_t n = 1;
        for (auto d : a.dims) n *= d;
        if (n != a.data.size()) __builtin_trap();
    } catch (const xg::Error&) {
    }
    return 0;
}
