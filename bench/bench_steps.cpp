// Whole training steps, xgrad beside libtorch, each framework in its own process.
//
//   ./build/bench/bench_steps                    # every case, 5 rounds, 2 threads
//   ./build/bench/bench_steps --rounds 3 --threads 1 --cases lenet,overhead
//   ./build/bench/bench_steps --competitors 2 --threads 0   # beside 2 busy processes
//
// --threads 0 runs each library at its default (xgrad: all cores, adapting to load; libtorch:
// all cores). --competitors N starts N CPU-bound processes (a busy loop each) for the whole run,
// as other jobs on a shared machine.
//
// The driver starts this program again once per (round, case, framework), alternating which
// framework goes first, and reads one line back from each child: `result <ms> <extra>`. A child
// times its case (median of --reps after warm-up) in a fresh process, so neither library's
// worker threads or heap state reach the other's figures. Printed: per case the median over the
// rounds of each framework's median, the range, and the ratio xgrad / libtorch (below 1: xgrad
// faster). libtorch children run with glibc's malloc thresholds raised (its best figures here).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_steps.hpp"

namespace {

using xg::bench::Case;

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

// Runs `self --child <framework> <case> <reps> <threads>` and parses its result line.
bool run_child(const std::string& self, const std::string& fw, const std::string& name, int reps,
               int threads, std::vector<double>& values) {
    std::string cmd = self + " --child " + fw + " " + name + " " + std::to_string(reps) + " " +
                      std::to_string(threads);
    if (fw == "torch") {
        // The peer at its best: without these its ThreeLayerConvNet step takes 40-45 ms instead
        // of 14-21 ms here (first-touch page faults on every freed activation).
        cmd = "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 " + cmd;
    }
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return false;
    char line[512];
    bool ok = false;
    while (std::fgets(line, sizeof line, p)) {
        std::istringstream in(line);
        std::string tag;
        in >> tag;
        if (tag != "result") continue;
        values.clear();
        for (double v; in >> v;) values.push_back(v);
        ok = !values.empty();
    }
    int status = pclose(p);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string cell(const std::vector<double>& v, int prec) {
    if (v.empty()) return "-";
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.*f (%.*f-%.*f)", prec, median(v), prec, *lo, prec, *hi);
    return buf;
}

// N busy-loop children, killed by the returned guard's destructor.
struct Competitors {
    std::vector<pid_t> pids;
    explicit Competitors(int n) {
        for (int i = 0; i < n; ++i) {
            pid_t pid = fork();
            if (pid == 0) {
                volatile unsigned long x = 0;
                for (;;) x = x + 1;
            }
            if (pid > 0) pids.push_back(pid);
        }
    }
    ~Competitors() {
        for (pid_t p : pids) kill(p, SIGKILL);
        for (pid_t p : pids) waitpid(p, nullptr, 0);
    }
};

int driver(const std::string& self, int rounds, int reps, int threads, int competitors,
           const std::vector<std::string>& names) {
    const auto& cases = xg::bench::all_cases();
    Competitors busy(competitors);
    std::printf(
        "bench_steps: %d rounds, %s threads, %d CPU-bound competitors, each cell the median over "
        "rounds of the per-process median (range)\n",
        rounds, threads ? std::to_string(threads).c_str() : "default", competitors);
    const bool torch = xg::bench::torch_available();
    if (!torch) std::printf("(built without libtorch: xgrad's column only)\n");
    std::printf(
        "\n| case | unit | xgrad | libtorch | ratio | xgrad GFLOP/s | libtorch GFLOP/s |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (const auto& name : names) {
        auto it =
            std::find_if(cases.begin(), cases.end(), [&](const Case& c) { return c.name == name; });
        if (it == cases.end()) {
            std::fprintf(stderr, "unknown case %s\n", name.c_str());
            return 2;
        }
        std::map<std::string, std::vector<double>> got;
        for (int r = 0; r < rounds; ++r) {
            std::vector<std::string> order = {"xgrad", "torch"};
            if (r % 2) std::swap(order[0], order[1]);
            for (const auto& fw : order) {
                if (fw == "torch" && !torch) continue;
                std::vector<double> v;
                if (!run_child(self, fw, name, reps, threads, v)) {
                    std::fprintf(stderr, "%s %s: child failed\n", fw.c_str(), name.c_str());
                    return 1;
                }
                got[fw].push_back(v[0]);
            }
        }
        const auto& x = got["xgrad"];
        const auto& t = got["torch"];
        std::vector<double> ratios;
        for (std::size_t i = 0; i < std::min(x.size(), t.size()); ++i)
            ratios.push_back(x[i] / t[i]);
        auto gf = [&](const std::vector<double>& v) {
            if (it->flops <= 0 || v.empty()) return std::string("-");
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f", it->flops / (median(v) * 1e6));
            return std::string(buf);
        };
        char ratio[32] = "-";
        if (!ratios.empty()) std::snprintf(ratio, sizeof ratio, "%.2f", median(ratios));
        std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", it->title.c_str(), it->unit.c_str(),
                    cell(x, 3).c_str(), cell(t, 3).c_str(), ratio, gf(x).c_str(), gf(t).c_str());
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "--child") {
        const auto& cases = xg::bench::all_cases();
        auto it = std::find_if(cases.begin(), cases.end(),
                               [&](const Case& c) { return c.name == args[2]; });
        if (it == cases.end()) return 2;
        int reps = std::max(1, std::atoi(args[3].c_str()));
        int threads = std::max(0, std::atoi(args[4].c_str()));  // 0: the library's default
        double v = args[1] == "torch" ? xg::bench::run_torch(*it, reps, threads)
                                      : xg::bench::run_xgrad(*it, reps, threads);
        if (v < 0) return 3;
        std::printf("result %.6f\n", v);
        return 0;
    }
    if (args.size() == 1 && args[0] == "--list") {
        for (const auto& c : xg::bench::all_cases()) std::printf("%s\n", c.name.c_str());
        return 0;
    }
    int rounds = 5, reps = 15, threads = 2, competitors = 0;
    std::vector<std::string> names;
    for (const auto& c : xg::bench::all_cases())
        if (c.in_default) names.push_back(c.name);
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--rounds")
            rounds = std::atoi(args[i + 1].c_str());
        else if (args[i] == "--reps")
            reps = std::atoi(args[i + 1].c_str());
        else if (args[i] == "--threads")
            threads = std::atoi(args[i + 1].c_str());
        else if (args[i] == "--competitors")
            competitors = std::atoi(args[i + 1].c_str());
        else if (args[i] == "--cases")
            names = split(args[i + 1]);
        else {
            std::fprintf(stderr,
                         "usage: bench_steps [--rounds R] [--reps N] [--threads T] "
                         "[--competitors C] [--cases a,b,...]\n");
            return 2;
        }
    }
    rounds = std::max(1, rounds), reps = std::max(1, reps), threads = std::max(0, threads);
    competitors = std::max(0, competitors);
    if (args.size() % 2) {
        std::fprintf(stderr,
                     "usage: bench_steps [--rounds R] [--reps N] [--threads T] "
                     "[--competitors C] [--cases a,b,...]\n");
        return 2;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 1;
    self[len] = 0;
    return driver(self, rounds, reps, threads, competitors, names);
}
