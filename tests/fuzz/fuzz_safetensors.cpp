// libFuzzer target for the checkpoint loader (not part of the CMake build). Build the loader
// with the sanitizers and link the rest of xgrad from a normal build:
//   F="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I."
//   clang++ $F core/serialize.cpp tests/fuzz/fuzz_safetensors.cpp build/libxgrad.a \
//       -lfmt -lz -lopenblas -o fuzz_safetensors
//   mkdir corpus && cp tests/fixtures/*.safetensors corpus/   # libFuzzer adds to the corpus
//   ./fuzz_safetensors -max_total_time=180 -rss_limit_mb=2048 -max_len=4096 corpus
// Every input must either load or throw xg::Error; anything else (a crash, a sanitizer report,
// another exception, an allocation over the limit) is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/serialize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = "/dev/shm/xgrad_fuzz_" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        xg::load_safetensors(path);
    } catch (const xg::Error&) {
    }
    try {
        xg::read_safetensors_header(path);
    } catch (const xg::Error&) {
    }
    return 0;
}
