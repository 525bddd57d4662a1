#pragma once
// Anomaly mode, like torch::autograd::DetectAnomalyGuard: while it is on, every node records
// where its forward op was called (xg::Site), and backward throws xg::Error at the first node
// that returns a gradient holding NaN or inf, naming the node, the input and that site.
//
// The site is captured without std::source_location (C++20): every public op takes a last
// parameter `Site site = Site()` whose constructor defaults to __builtin_FILE()/__builtin_LINE(),
// which g++ and clang evaluate at the op's caller. A composite op (one built from other ops)
// must still report the user's line, so the outermost op call on a thread sets the current site
// (detail::SiteScope, a depth counter) and the ops it calls leave it alone.

namespace xg {

// A source position: the file and line of a call into xgrad. Site() used as a default argument
// is the caller's position; Site::unknown() is none. The tag parameter keeps brace lists such as
// sum(x, {0}) (dims) from ever converting to a Site.
struct Site {
    struct Caller {};
    const char* file;
    int line;
    explicit constexpr Site(Caller = Caller(), const char* file = __builtin_FILE(),
                            int line = __builtin_LINE()) noexcept
        : file(file), line(line) {}
    static constexpr Site unknown() noexcept { return Site(Caller(), nullptr, 0); }
    constexpr bool known() const { return file != nullptr && line > 0; }
};

// Process-wide, like PyTorch's AnomalyMode (one flag for every thread).
void set_detect_anomaly(bool enabled);
bool is_anomaly_enabled();

// Turns anomaly mode on (or off) for a scope and restores the previous mode on exit.
class DetectAnomalyGuard {
  public:
    explicit DetectAnomalyGuard(bool enabled = true);
    ~DetectAnomalyGuard();
    DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
    DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

  private:
    bool prev_;
};

namespace detail {

// Marks a call into a public op (or module) made at `site`. Only the outermost scope on the
// thread sets the current site, so ops called by ops keep the user's; `force` overrides that
// (the engine runs a backward rule under its node's site, so nodes recorded under create_graph
// point at the forward call that led to them).
class SiteScope {
  public:
    explicit SiteScope(const Site& site, bool force = false) noexcept;
    ~SiteScope();
    SiteScope(const SiteScope&) = delete;
    SiteScope& operator=(const SiteScope&) = delete;

  private:
    Site prev_;
};

// The site of the outermost op call running on this thread (unknown outside any op).
Site current_site() noexcept;

}  // namespace detail

}  // namespace xg
