#pragma once
// Out-of-memory testing: a lowered (or raised) allocation limit for one scope, an address-space
// limit under which an allocation genuinely fails, and whether ASan is on (then the genuine
// out-of-memory inputs are skipped).
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/checked.hpp"

// gcc defines __SANITIZE_ADDRESS__ under ASan; clang (the CI's sanitizer build) answers
// __has_feature instead.
#if defined(__SANITIZE_ADDRESS__)
#define XG_OOM_TESTING_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XG_OOM_TESTING_ASAN 1
#endif
#endif

namespace xg::testing {

#if defined(XG_OOM_TESTING_ASAN)
// ASan's allocator aborts on a request it cannot serve instead of throwing std::bad_alloc, and
// an address-space limit breaks its shadow memory: the genuine out-of-memory inputs are skipped.
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

// set_max_alloc_bytes(bytes) for one scope; the default comes back at scope exit.
struct LimitGuard {
    explicit LimitGuard(std::size_t bytes) { set_max_alloc_bytes(bytes); }
    ~LimitGuard() { set_max_alloc_bytes(0); }
    LimitGuard(const LimitGuard&) = delete;
    LimitGuard& operator=(const LimitGuard&) = delete;
};

// Sets the address-space limit to the current size plus `extra` bytes for one call, so an
// allocation inside it genuinely fails; the previous limit is restored before returning. Memory
// malloc already holds free (left by earlier tests, or by empty_cache()) would serve a request
// without new address space: with `request` > 0, every free block that could serve a request of
// that size is taken first (and given back after the call).
template <class F>
void with_address_space_headroom(std::size_t extra, F&& f, std::size_t request = 0) {
    std::vector<void*> held;
    held.reserve(request > 0 ? 4096 : 0);  // no allocation of its own under the limit
    std::size_t pages = 0;
    if (std::FILE* s = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(s, "%zu", &pages) != 1) pages = 0;
        std::fclose(s);
    }
    REQUIRE(pages > 0);
    rlimit old{};
    REQUIRE(getrlimit(RLIMIT_AS, &old) == 0);
    rlimit tight = old;
    tight.rlim_cur = pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) + extra;
    REQUIRE(setrlimit(RLIMIT_AS, &tight) == 0);
    auto restore = [&] {
        for (void* p : held) std::free(p);
        setrlimit(RLIMIT_AS, &old);
    };
    while (request > 0 && held.size() < held.capacity()) {
        void* p = std::malloc(request);
        if (p == nullptr) break;
        held.push_back(p);
    }
    try {
        f();
    } catch (...) {
        restore();
        throw;
    }
    restore();
}

}  // namespace xg::testing
