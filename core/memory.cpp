// The buffer cache (core/memory.hpp). Large buffers carry a 64-byte header holding their real
// size, so a freed block can serve any later request between 3/4 of its size and its size;
// free blocks sit in a size-ordered multimap and the best fit is taken. One mutex: the
// DataLoader's worker allocates batches while the training thread frees activations.
#include "core/memory.hpp"

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/alloc_failure.hpp"

namespace xg {

namespace {
constexpr std::size_t kHeader = 64;  // keeps large buffers 64-byte aligned (small: malloc's 16)
constexpr std::size_t kPage = 4096;

struct Cache {
    std::mutex mu;
    std::multimap<std::size_t, void*> free;  // block size -> block (header included)
    CacheStats stats;

    Cache() {
        stats.limit_bytes = std::size_t(1) << 30;
        if (const char* e = std::getenv("XGRAD_CACHE_LIMIT_MB")) {
            char* end = nullptr;
            unsigned long long mb = std::strtoull(e, &end, 10);
            if (end != e && *end == 0) stats.limit_bytes = static_cast<std::size_t>(mb) << 20;
        }
    }
    void note_peak() {
        std::size_t total = stats.allocated_bytes + stats.cached_bytes;
        if (total > stats.peak_bytes) stats.peak_bytes = total;
    }
    // Frees cached blocks, largest first, until at most `keep` bytes stay. Caller holds mu.
    void trim(std::size_t keep) {
        while (stats.cached_bytes > keep && !free.empty()) {
            auto it = std::prev(free.end());
            stats.cached_bytes -= it->first;
            std::free(it->second);
            free.erase(it);
        }
    }
};

// Never destroyed: tensors in static objects may be freed after main returns.
Cache& cache() {
    static Cache* c = new Cache();
    return *c;
}

// Whole pages for the data plus the header, so a power-of-two buffer does not take a page more.
std::size_t block_size(std::size_t bytes) {
    return (bytes + kPage - 1) / kPage * kPage + kHeader;
}
}  // namespace

CacheStats cache_stats() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    return c.stats;
}

void empty_cache() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    c.trim(0);
}

void set_cache_limit(std::size_t bytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.limit_bytes = bytes;
    c.trim(bytes);
}

namespace detail {

void* cache_allocate(std::size_t bytes) {
    if (bytes < cache_min_bytes) {
        void* p = std::malloc(bytes ? bytes : 1);
        if (!p) throw AllocationFailure(bytes);
        return p;
    }
    if (bytes > std::size_t(-1) / 2) throw AllocationFailure(bytes);
    const std::size_t need = block_size(bytes);
    Cache& c = cache();
    std::unique_lock<std::mutex> lock(c.mu);
    auto it = c.free.lower_bound(need);
    char* block = nullptr;
    std::size_t size = need;
    if (it != c.free.end() && it->first - need <= (it->first - kHeader) / 4) {
        size = it->first;
        block = static_cast<char*>(it->second);
        c.free.erase(it);
        c.stats.cached_bytes -= size;
        ++c.stats.hits;
    } else {
        ++c.stats.misses;
        lock.unlock();
        block = static_cast<char*>(std::aligned_alloc(kHeader, size));
        if (!block) {  // out of memory: give the cache back and try once more
            empty_cache();
            block = static_cast<char*>(std::aligned_alloc(kHeader, size));
            if (!block) throw AllocationFailure(bytes);
        }
        lock.lock();
    }
    *reinterpret_cast<std::size_t*>(block) = size;
    c.stats.allocated_bytes += size;
    c.note_peak();
    return block + kHeader;
}

void cache_deallocate(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    if (bytes < cache_min_bytes) {
        std::free(p);
        return;
    }
    char* block = static_cast<char*>(p) - kHeader;
    const std::size_t size = *reinterpret_cast<std::size_t*>(block);
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.allocated_bytes -= size;
    if (size > c.stats.limit_bytes) {  // never fits: keep what is cached
        std::free(block);
        return;
    }
    if (c.stats.cached_bytes + size > c.stats.limit_bytes) {
        c.trim(c.stats.limit_bytes > size ? c.stats.limit_bytes - size : 0);
        if (c.stats.cached_bytes + size > c.stats.limit_bytes) {
            std::free(block);
            return;
        }
    }
    try {
        c.free.emplace(size, block);
        c.stats.cached_bytes += size;
    } catch (...) {  // no memory for the map node: release the block instead
        std::free(block);
    }
}

}  // namespace detail

}  // namespace xg
