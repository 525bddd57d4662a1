#pragma once
// How xgrad asks glibc to keep freed tensor buffers for reuse (see core/memory.cpp).

namespace xg {

// Whether the allocator tuning is in effect (false when disabled or not on glibc).
bool allocator_tuned();

namespace detail {
// Applies the tuning once per process; called when the first tensor is made.
void tune_allocator_once();
}  // namespace detail

}  // namespace xg
