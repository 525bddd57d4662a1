#include "core/anomaly.hpp"

#include <atomic>

namespace xg {

namespace {
std::atomic<bool> anomaly_enabled{false};
thread_local int site_depth = 0;
thread_local Site site_now = Site::unknown();
}  // namespace

void set_detect_anomaly(bool enabled) {
    anomaly_enabled.store(enabled, std::memory_order_relaxed);
}

bool is_anomaly_enabled() {
    return anomaly_enabled.load(std::memory_order_relaxed);
}

DetectAnomalyGuard::DetectAnomalyGuard(bool enabled) : prev_(is_anomaly_enabled()) {
    set_detect_anomaly(enabled);
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
    set_detect_anomaly(prev_);
}

namespace detail {

SiteScope::SiteScope(const Site& site, bool force) noexcept : prev_(site_now) {
    if (site_depth++ == 0 || force) site_now = site;
}

SiteScope::~SiteScope() {
    --site_depth;
    site_now = prev_;
}

Site current_site() noexcept {
    return site_now;
}

}  // namespace detail

}  // namespace xg
