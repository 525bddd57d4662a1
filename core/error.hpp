#pragma once
// xg::Error and the XG_CHECK macro: every user-facing check throws, naming the op and values.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace xg {

// Thrown for every invalid argument or misuse of the tape. The message names the op.
class Error : public std::invalid_argument {
  public:
    explicit Error(const std::string& what) : std::invalid_argument(what) {}
};

}  // namespace xg

// XG_CHECK(cond, "op: format {}", args...): throws xg::Error when cond is false. Never compiled
// out, unlike assert.
#define XG_CHECK(cond, ...)                                       \
    do {                                                          \
        if (!(cond)) throw ::xg::Error(fmt::format(__VA_ARGS__)); \
    } while (0)
