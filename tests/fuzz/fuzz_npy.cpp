// libFuzzer target for the .npy reader (core/npy.cpp). Built by CMake with XGRAD_FUZZ=ON (clang)
// and run by scripts/fuzz.sh from tests/fuzz/corpus/fuzz_npy (files NumPy wrote). Every input
// must either load or throw xg::Error; anything else (a crash, a sanitizer report, another
// exception, an allocation over the limit) is a bug.
#include <cstdint>

#include "core/npy.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = xg::fuzz::write_scratch("npy", data, size);
    try {
        xg::load_npy(path);
    } catch (const xg::Error&) {
    }
    return 0;
}
