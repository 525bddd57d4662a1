#pragma once
// Helpers shared by the libFuzzer harnesses: a per-process scratch file in /dev/shm (the readers
// take paths), and a reader that decodes the fuzz bytes into choices.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace xg::fuzz {

// Writes bytes to /dev/shm/xgrad_fuzz_<pid>_<tag> and returns the path.
inline std::string write_scratch(const std::string& tag, const std::uint8_t* data,
                                 std::size_t size) {
    std::string path = "/dev/shm/xgrad_fuzz_" + std::to_string(::getpid()) + "_" + tag;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return path;
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
    return path;
}

// Consumes the input from the front; reads past the end give zeros.
class Bytes {
  public:
    Bytes(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool empty() const { return p_ == end_; }
    std::uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
    std::uint64_t u64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = v << 8 | u8();
        return v;
    }
    // Mostly small values (where the interesting bounds are), sometimes extreme ones.
    std::int64_t small_or_extreme(std::int64_t lo, std::int64_t hi) {
        std::uint8_t b = u8();
        if (b < 224) return lo + static_cast<std::int64_t>(b % (hi - lo + 1));
        static const std::int64_t extremes[] = {INT64_MIN,
                                                INT64_MAX,
                                                INT64_MIN + 1,
                                                INT64_MAX - 1,
                                                std::int64_t{1} << 62,
                                                -(std::int64_t{1} << 62),
                                                std::int64_t{1} << 32,
                                                -(std::int64_t{1} << 32),
                                                INT32_MAX,
                                                INT32_MIN,
                                                std::int64_t{1} << 31,
                                                std::int64_t{1} << 63 >> 1,
                                                -(std::int64_t{1} << 63 >> 1),
                                                3037000500,
                                                -3037000500,
                                                4294967296 + 3};
        return extremes[(b - 224) % (sizeof extremes / sizeof extremes[0])];
    }
    double value() {
        std::uint8_t b = u8();
        static const double specials[] = {0.0,
                                          -0.0,
                                          1.0 / 0.0,
                                          -1.0 / 0.0,
                                          0.0 / 0.0,
                                          1e300,
                                          -1e300,
                                          3.4e38,
                                          3.5e38,
                                          1e-45,
                                          9.3e18,
                                          -9.3e18,
                                          9.2233720368547758e18,
                                          1e-310,
                                          2.5,
                                          -2.5};
        if (b >= 240) return specials[b - 240];
        return static_cast<double>(static_cast<int>(b) - 120) / 4.0;
    }

  private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

}  // namespace xg::fuzz
