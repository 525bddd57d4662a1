#pragma once
// The one options style of every layer, libtorch's: a struct of named fields, each with a
// chained setter and a getter (`Conv2dFuncOptions().stride(2).padding(1)`, `o.stride()`), and
// Pair2, a (height, width) pair built from one int or two, like torch::ExpandingArray<2>.
#include <cstdint>
#include <utility>

namespace xg {

// (height, width). Pair2(3) is (3, 3); Pair2(3, 1) and {3, 1} are (3, 1). Derives from
// std::pair so .first/.second keep working.
struct Pair2 : std::pair<std::int64_t, std::int64_t> {
    Pair2(std::int64_t v = 0) : std::pair<std::int64_t, std::int64_t>(v, v) {}  // NOLINT
    Pair2(std::int64_t h, std::int64_t w) : std::pair<std::int64_t, std::int64_t>(h, w) {}
    Pair2(std::pair<std::int64_t, std::int64_t> p)  // NOLINT
        : std::pair<std::int64_t, std::int64_t>(p) {}
};

}  // namespace xg

// Declares `T name_` with a chained setter `name(v)` and a getter `name()`, as TORCH_ARG.
#define XG_ARG(T, name)      \
  public:                    \
    auto& name(const T& v) { \
        name##_ = v;         \
        return *this;        \
    }                        \
    const T& name() const {  \
        return name##_;      \
    }                        \
                             \
  private:                   \
    T name##_

// XG_ARG in a base template shared by options classes (AdamOptions, AdamWOptions): the setter
// returns the derived class, so chains keep its type.
#define XG_ARG_FOR(Derived, T, name)         \
  public:                                    \
    Derived& name(const T& v) {              \
        name##_ = v;                         \
        return static_cast<Derived&>(*this); \
    }                                        \
    const T& name() const {                  \
        return name##_;                      \
    }                                        \
                                             \
  private:                                   \
    T name##_
