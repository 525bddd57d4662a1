#include "core/debug.hpp"

namespace xg {

namespace detail {
std::atomic<std::int64_t> live_node_count{0};
std::atomic<std::int64_t> live_storage_count{0};
}  // namespace detail

namespace debug {
std::int64_t live_nodes() {
    return detail::live_node_count.load(std::memory_order_relaxed);
}
std::int64_t live_storages() {
    return detail::live_storage_count.load(std::memory_order_relaxed);
}
}  // namespace debug

}  // namespace xg
