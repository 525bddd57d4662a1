#pragma once
// Leak counters: how many autograd nodes and tensor storages are alive in the process. Cheap
// (one relaxed atomic add per construction and destruction), always on. A test or a training
// program reads them before and after a step; a graph that is not freed shows up as a count that
// keeps growing. See docs/RELIABILITY.md, "Memory".
#include <atomic>
#include <cstdint>

namespace xg {

namespace debug {
std::int64_t live_nodes();     // Node objects: recorded ops and leaf accumulators
std::int64_t live_storages();  // Storage objects: the arrays behind tensors
}  // namespace debug

namespace detail {
extern std::atomic<std::int64_t> live_node_count;
extern std::atomic<std::int64_t> live_storage_count;

// A member that counts the objects of its owner (Storage).
struct LiveStorageCounter {
    LiveStorageCounter() noexcept { live_storage_count.fetch_add(1, std::memory_order_relaxed); }
    LiveStorageCounter(const LiveStorageCounter&) noexcept : LiveStorageCounter() {}
    LiveStorageCounter& operator=(const LiveStorageCounter&) noexcept { return *this; }
    ~LiveStorageCounter() { live_storage_count.fetch_sub(1, std::memory_order_relaxed); }
};
}  // namespace detail

}  // namespace xg
