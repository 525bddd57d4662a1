#pragma once
// Helpers shared by the data/ tests: fixture paths, IDX bytes, scratch files (and error_of).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/error.hpp"
#include "test_paths.hpp"
#include "tests/error_of.hpp"

namespace xg::testing {

inline std::string idx_fixture(const std::string& name) {
    return std::string(XGRAD_FIXTURE_DIR) + "/idx/" + name;
}

// The bytes of an IDX file: magic (0, 0, type, rank), big-endian dims, `payload` bytes of 1.
inline std::vector<char> idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                                   std::size_t payload) {
    std::vector<char> b{0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (auto d : dims)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((d >> s) & 0xff));
    b.insert(b.end(), payload, char(1));
    return b;
}

inline std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open ", path);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

// A fresh directory under the system temp dir, removed with its contents at scope exit.
class ScratchDir {
  public:
    ScratchDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("xgrad_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }
    std::string write(const std::string& name, const char* data, std::size_t n) const {
        std::string p = file(name);
        std::ofstream out(p, std::ios::binary);
        out.write(data, static_cast<std::streamsize>(n));
        REQUIRE_MESSAGE(out.good(), "cannot write ", p);
        return p;
    }

  private:
    std::filesystem::path path_;
};

}  // namespace xg::testing
