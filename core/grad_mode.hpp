#pragma once
// Thread-local grad mode: ops record on the tape only while it is enabled.

namespace xg {

struct GradMode {
    static bool is_enabled();
    static void set_enabled(bool enabled);
};

// Sets grad mode for a scope and restores the previous mode on exit.
class AutoGradMode {
  public:
    explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) {
        GradMode::set_enabled(enabled);
    }
    ~AutoGradMode() { GradMode::set_enabled(prev_); }
    AutoGradMode(const AutoGradMode&) = delete;
    AutoGradMode& operator=(const AutoGradMode&) = delete;

  private:
    bool prev_;
};

// Like torch::NoGradGuard: nothing computed in its scope is recorded.
struct NoGradGuard : AutoGradMode {
    NoGradGuard() : AutoGradMode(false) {}
};

struct EnableGradGuard : AutoGradMode {
    EnableGradGuard() : AutoGradMode(true) {}
};

}  // namespace xg
