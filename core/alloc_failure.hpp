#pragma once
// The failed allocation that knows the bytes asked: what xgrad's allocator (every tensor's
// buffer, core/memory.hpp) throws. A std::bad_alloc, so code that catches that still does;
// naming_oom and dispatch_float (core/checked.hpp, core/dispatch.hpp) turn it into
// "op: out of memory: an allocation of N bytes failed".
#include <cstddef>
#include <new>

namespace xg {

class AllocationFailure : public std::bad_alloc {
  public:
    explicit AllocationFailure(std::size_t bytes) : bytes_(bytes) {}
    // A library that does not say the size (oneDNN) gives a description (bytes() is then 0).
    explicit AllocationFailure(const char* description);  // copied, cut at 127 characters
    std::size_t bytes() const noexcept { return bytes_; }
    const char* description() const noexcept { return text_; }
    const char* what() const noexcept override { return "xgrad: an allocation failed"; }

  private:
    std::size_t bytes_ = 0;
    char text_[128] = {};  // not a std::string: copying an exception must not throw
};

}  // namespace xg
