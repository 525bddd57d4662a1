#include "train/signal_guard.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "core/error.hpp"

namespace xg::train {

namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_active{false};
struct sigaction g_old_int, g_old_term;

static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free flag");

// Async-signal-safe: one atomic exchange, and _exit on the second signal.
extern "C" void on_signal(int sig) {
    int expected = 0;
    if (!g_signal.compare_exchange_strong(expected, sig)) _exit(128 + sig);
}

}  // namespace

SignalGuard::SignalGuard() {
    XG_CHECK(!g_active.exchange(true), "SignalGuard: another guard is already installed");
    g_signal = 0;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a read or write in progress goes on; the loop polls the flag
    if (sigaction(SIGINT, &sa, &g_old_int) != 0 || sigaction(SIGTERM, &sa, &g_old_term) != 0) {
        const int err = errno;
        sigaction(SIGINT, &g_old_int, nullptr);
        g_active = false;
        throw Error(std::string("SignalGuard: sigaction failed: ") + std::strerror(err));
    }
    installed_ = true;
}

SignalGuard::~SignalGuard() {
    if (!installed_) return;
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
    g_active = false;
}

int SignalGuard::received() {
    return g_signal.load();
}

void SignalGuard::clear() {
    g_signal = 0;
}

}  // namespace xg::train
