// Whole training steps, xgrad beside libtorch, each framework in its own process.
//
//   ./build/bench/bench_steps                    # every case, 5 rounds, 2 threads
//   ./build/bench/bench_steps --rounds 3 --threads 1 --cases lenet,overhead
//   ./build/bench/bench_steps --competitors 2 --threads 0   # beside 2 busy processes
//   ./build/bench/bench_steps --peers --rounds 3   # LeNet-5 epoch: xgrad, libtorch, dlib, tiny-dnn
//
// --peers: one Fashion-MNIST epoch of LeNet-5 (SGD lr 0.05 momentum 0.9, batch 64) and the test
// pass, by xgrad, libtorch and the peer programs built beside this one (bench/peers/: dlib and
// tiny-dnn, `cmake --build build --target bench_peers`), each in its own process, in rotating
// order each round. Printed: seconds per epoch and per test pass, and test accuracy.
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

// The peer at its best: without these its ThreeLayerConvNet step takes 40-45 ms instead of
// 14-21 ms here (first-touch page faults on every freed activation).
const char* kTorchMalloc = "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 ";

bool run_command(const std::string& cmd, std::vector<double>& values);

// Runs `self --child <framework> <case> <reps> <threads>` and parses its result line.
bool run_child(const std::string& self, const std::string& fw, const std::string& name, int reps,
               int threads, std::vector<double>& values) {
    std::string cmd = self + " --child " + fw + " " + name + " " + std::to_string(reps) + " " +
                      std::to_string(threads);
    if (fw == "torch") cmd = kTorchMalloc + cmd;
    return run_command(cmd, values);
}

// Runs `cmd` and reads the numbers of its last `result ...` line.
bool run_command(const std::string& cmd, std::vector<double>& values) {
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

// The peers table: each library's LeNet-5 epoch in its own process, N rounds, rotating order.
int peers(const std::string& self, int rounds, int threads) {
    const std::string dir = self.substr(0, self.rfind('/') + 1), t = std::to_string(threads);
    struct Peer {
        std::string name, cmd;
    };
    std::vector<Peer> all = {{"xgrad", self + " --peer-child xgrad " + t}};
    if (xg::bench::torch_available())
        all.push_back({"libtorch", kTorchMalloc + self + " --peer-child torch " + t});
    for (const char* p : {"dlib", "tinydnn"}) {
        std::string exe = dir + "peers/lenet_" + p;
        // dlib's convolutions and fully connected layers run on its BLAS (OpenBLAS here);
        // tiny-dnn runs on std::thread::hardware_concurrency() threads, no knob.
        std::string env = threads && p == std::string("dlib")
                              ? "OPENBLAS_NUM_THREADS=" + t + " OMP_NUM_THREADS=" + t + " "
                              : "";
        if (access(exe.c_str(), X_OK) == 0)
            all.push_back({p == std::string("dlib") ? "dlib" : "tiny-dnn", env + exe});
        else
            std::printf("(%s not built: cmake --build <build> --target bench_peers)\n",
                        exe.c_str());
    }
    std::printf(
        "bench_steps --peers: LeNet-5, one Fashion-MNIST epoch (SGD lr 0.05 momentum 0.9, batch "
        "64), %d rounds, %s threads; each cell the median over rounds (range)\n",
        rounds, threads ? t.c_str() : "default");
    std::map<std::string, std::vector<std::vector<double>>> got;  // name: round: train, test, acc
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t i = 0; i < all.size(); ++i) {
            const Peer& p = all[(i + std::size_t(r)) % all.size()];
            std::vector<double> v;
            if (!run_command(p.cmd, v) || v.size() < 3) {
                std::fprintf(stderr, "%s: child failed (%s)\n", p.name.c_str(), p.cmd.c_str());
                return 1;
            }
            got[p.name].push_back(v);
            std::fprintf(stderr, "round %d %s: %.2f s train, %.2f s test, %.2f%%\n", r + 1,
                         p.name.c_str(), v[0], v[1], v[2]);
        }
    }
    std::printf("\n| library | epoch (s) | test pass (s) | test accuracy (%%) |\n");
    std::printf("|---|---:|---:|---:|\n");
    for (const auto& p : all) {
        std::vector<double> col[3];
        for (const auto& v : got[p.name])
            for (int k = 0; k < 3; ++k) col[k].push_back(v[k]);
        std::printf("| %s | %s | %s | %s |\n", p.name.c_str(), cell(col[0], 2).c_str(),
                    cell(col[1], 2).c_str(), cell(col[2], 2).c_str());
    }
    return 0;
}

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
    if (args.size() == 3 && args[0] == "--peer-child") {
        xg::bench::EpochFigures f;
        int threads = std::max(0, std::atoi(args[2].c_str()));
        bool ok = args[1] == "torch" ? xg::bench::lenet_epoch_torch(threads, f)
                                     : xg::bench::lenet_epoch_xgrad(threads, f);
        if (!ok) return 3;
        std::printf("result %.6f %.6f %.4f\n", f.train_s, f.test_s, f.accuracy);
        return 0;
    }
    if (args.size() == 1 && args[0] == "--list") {
        for (const auto& c : xg::bench::all_cases()) std::printf("%s\n", c.name.c_str());
        return 0;
    }
    int rounds = 5, reps = 15, threads = 2, competitors = 0;
    const bool peer_mode = std::find(args.begin(), args.end(), "--peers") != args.end();
    if (peer_mode) args.erase(std::find(args.begin(), args.end(), "--peers"));
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
                         "[--competitors C] [--cases a,b,...] [--peers]\n");
            return 2;
        }
    }
    rounds = std::max(1, rounds), reps = std::max(1, reps), threads = std::max(0, threads);
    competitors = std::max(0, competitors);
    if (args.size() % 2) {
        std::fprintf(stderr,
                     "usage: bench_steps [--rounds R] [--reps N] [--threads T] "
                     "[--competitors C] [--cases a,b,...] [--peers]\n");
        return 2;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 1;
    self[len] = 0;
    if (peer_mode) return peers(self, rounds, threads);
    return driver(self, rounds, reps, threads, competitors, names);
}
