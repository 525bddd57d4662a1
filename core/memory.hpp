#pragma once
// xgrad's buffer cache. A training step frees and reallocates the same activation buffers every
// iteration; glibc's malloc serves large blocks with fresh mmap pages, so each step would pay
// first-touch page faults on every activation (docs/PERFORMANCE.md: relu forward + backward on
// 8 MB, 13 ms instead of 1.6 ms). Tensor buffers of 32 KB and more therefore go back to this
// cache when freed and are handed out again for a request of about the same size. The process's
// malloc settings are left alone. Smaller buffers go straight to malloc, which keeps them well.
#include <cstddef>
#include <cstdint>
#include <new>

namespace xg {

struct CacheStats {
    std::size_t allocated_bytes = 0;  // in buffers handed out and not yet freed (large ones)
    std::size_t cached_bytes = 0;     // in freed buffers kept for reuse
    std::size_t peak_bytes = 0;       // highest allocated + cached so far
    std::size_t limit_bytes = 0;      // cached_bytes never exceeds it
    std::uint64_t hits = 0;           // large allocations served from the cache
    std::uint64_t misses = 0;         // large allocations that went to malloc
};

CacheStats cache_stats();
// Returns every cached buffer to malloc (like torch.cuda.empty_cache for the CPU cache).
void empty_cache();
// At most `bytes` are kept; 0 turns caching off. Default 1 GiB, or $XGRAD_CACHE_LIMIT_MB.
void set_cache_limit(std::size_t bytes);

namespace detail {
inline constexpr std::size_t cache_min_bytes = 32 * 1024;
void* cache_allocate(std::size_t bytes);  // throws std::bad_alloc
void cache_deallocate(void* p, std::size_t bytes) noexcept;

// The allocator of xg::array (core/tensor.hpp): stateless, so arrays swap and move freely.
template <class T>
struct cache_allocator {
    using value_type = T;
    cache_allocator() = default;
    template <class U>
    cache_allocator(const cache_allocator<U>&) noexcept {}  // NOLINT
    T* allocate(std::size_t n) {
        if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(cache_allocate(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { cache_deallocate(p, n * sizeof(T)); }
    template <class U>
    struct rebind {
        using other = cache_allocator<U>;
    };
};
template <class T, class U>
bool operator==(const cache_allocator<T>&, const cache_allocator<U>&) {
    return true;
}
template <class T, class U>
bool operator!=(const cache_allocator<T>&, const cache_allocator<U>&) {
    return false;
}
}  // namespace detail

}  // namespace xg
