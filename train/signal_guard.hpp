#pragma once
// Stopping a training run cleanly on SIGINT or SIGTERM (what a cluster scheduler sends before it
// kills): while a SignalGuard lives, the first of these signals only sets a flag, which the
// training loop polls between steps to finish the current step, write a checkpoint and exit
// with 128 + the signal; a second signal ends the process at once (_exit(128 + signal)).
//
//   xg::train::SignalGuard signals;
//   for (auto& batch : loader) {
//       if (signals.received()) break;   // then save and return signals.exit_status()
//       ...
//   }
namespace xg::train {

class SignalGuard {
  public:
    // Installs the handlers (sigaction) for SIGINT and SIGTERM; the destructor puts back the
    // previous ones. One guard at a time (xg::Error for a second).
    SignalGuard();
    ~SignalGuard();
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

    // The first signal received since the guard was made (SIGINT, SIGTERM), or 0.
    static int received();
    // 128 + received(): the shell's status for a process ended by that signal.
    static int exit_status() { return 128 + received(); }
    // For tests: forget a received signal.
    static void clear();

  private:
    bool installed_ = false;
};

}  // namespace xg::train
