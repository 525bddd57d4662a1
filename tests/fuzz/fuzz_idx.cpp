// libFuzzer target for the IDX reader on raw bytes (plain files, and whatever gzip-looking
// input the mutator makes). The input is one file for read_idx; split in two at a position
// taken from its first byte, it is also an images file and a labels file for
// read_idx_images_labels. Every input must either load or throw xg::Error; anything else (a
// crash, a sanitizer report, another exception, a leak, an allocation over the limit) is a bug.
// Build: cmake -DXGRAD_FUZZ=ON with CXX=clang++ (see docs/RELIABILITY.md); run: scripts/fuzz.sh.
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "data/idx.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace xg::data;
    const std::string path = xg::fuzz::write_scratch("idx", data, size);
    try {
        IdxArray a = read_idx(path);
        // The reader's contract: the payload is exactly the product of the dims.
        std::size_t n = 1;
        for (auto d : a.dims) n *= d;
        if (n != a.data.size()) __builtin_trap();
    } catch (const xg::Error&) {
    }
    try {
        read_idx(path, 3, IdxOptions{64});  // a small limit and a required rank
    } catch (const xg::Error&) {
    }
    if (size > 1) {
        std::size_t cut = 1 + data[0] * (size - 1) / 255;
        const std::string images = xg::fuzz::write_scratch("images", data + 1, cut - 1);
        const std::string labels = xg::fuzz::write_scratch("labels", data + cut, size - cut);
        try {
            read_idx_images_labels(images, labels);
        } catch (const xg::Error&) {
        }
    }
    return 0;
}
