#pragma once
// Runs a program as a child process for the fault tests: its output to a file, an optional
// address-space limit (RLIMIT_AS, set in the child before exec), signals sent to it, and a wait
// that kills it after a timeout, so a hanging program fails its test instead of hanging CI.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace xg::testing {

struct ChildEnd {
    bool hung = false;  // still running at the timeout (then killed)
    bool signaled = false;
    int code = -1;   // the exit status when it exited
    int signal = 0;  // the signal that ended it
};

inline std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

// Starts argv[0] with the arguments, stdout and stderr to log; as_limit_bytes > 0 limits its
// address space. Returns the pid (-1 if fork failed).
inline pid_t start_child(const std::vector<std::string>& argv, const std::string& log,
                         std::size_t as_limit_bytes = 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid != 0) return pid;
    // The child: only async-signal-safe calls until exec.
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if (as_limit_bytes > 0) {
        rlimit r{as_limit_bytes, as_limit_bytes};
        setrlimit(RLIMIT_AS, &r);
    }
    execv(args[0], args.data());
    _exit(127);
}

// Waits up to timeout_s for the child; kills it (SIGKILL) and reports hung if it is still there.
inline ChildEnd wait_child(pid_t pid, double timeout_s) {
    ChildEnd end;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    int status = 0;
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0) return end;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            end.hung = true;
            return end;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (WIFEXITED(status)) end.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) end.signaled = true, end.signal = WTERMSIG(status);
    return end;
}

// Waits until the file holds `text` (true) or the child ended or timeout_s passed (false).
inline bool wait_for_text(pid_t pid, const std::string& path, const std::string& text,
                          double timeout_s) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_text(path).find(text) != std::string::npos) return true;
        siginfo_t info{};
        if (waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0)
            return false;  // it ended (still reapable by wait_child)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace xg::testing
