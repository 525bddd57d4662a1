// glibc's malloc serves blocks above 128 KB with fresh mmap pages and gives freed memory at the
// top of the heap back to the OS beyond a small threshold. A training step frees and
// reallocates the same large buffers every iteration, so every step pays page faults on every
// activation: relu forward + backward on 8 MB took 13 ms standalone against 1.9 ms with the
// memory kept (docs/PERFORMANCE.md). The first tensor therefore raises both thresholds: blocks
// up to 32 MB come from the heap and up to 256 MB of freed memory stays for reuse.
// XGRAD_MALLOC_TUNING=0, or setting glibc's own MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_,
// leaves malloc as it is; so does AddressSanitizer, whose allocator refuses mallopt.
#include "core/memory.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace xg {

namespace {
bool tuned = false;

bool tune() {
#if defined(__GLIBC__)
    const char* opt = std::getenv("XGRAD_MALLOC_TUNING");
    if (opt && std::strcmp(opt, "0") == 0) return false;
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_"))
        return false;
    const bool a = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
    const bool b = mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
    return a && b;
#else
    return false;
#endif
}
}  // namespace

bool allocator_tuned() {
    detail::tune_allocator_once();
    return tuned;
}

namespace detail {
void tune_allocator_once() {
    static const bool once = (tuned = tune(), true);
    (void)once;
}
}  // namespace detail

}  // namespace xg
