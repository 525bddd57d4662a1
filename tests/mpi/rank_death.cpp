// Run by tests/mpi/rank_death.sh. `kill DIR` (under mpirun -np 2): data-parallel SGD steps,
// rank 0 saving a checkpoint after each one; rank 1 kills itself (SIGKILL) in step 5. Rank 0
// must not hang: mpirun aborts the job when a rank dies. `hang DIR`: rank 1 stops taking part
// in step 5 without dying (it sleeps); rank 0's all-reduce must throw after the timeout (5 s)
// and exit non-zero, which makes mpirun abort the job. `verify DIR` (one process): the
// checkpoint left behind loads, whole, at a step rank 0 finished.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "xgrad.hpp"

using namespace xg;

namespace {
nn::Sequential model() {
    manual_seed(1);
    return nn::Sequential({nn::Linear(16, 32), nn::ReLU(), nn::Linear(32, 4)});
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s kill|hang|verify DIR\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1], path = std::string(argv[2]) + "/checkpoint.safetensors";
    nn::Sequential net = model();
    optim::SGD opt(net->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    train::Checkpoint ck;
    ck.model(*net).optimizer(opt);
    if (mode == "verify") {
        try {
            train::TrainingProgress p = ck.load(path);
            std::printf("verify: the checkpoint loads, step %llu\n",
                        static_cast<unsigned long long>(p.step));
            return p.step >= 4 ? 0 : 1;
        } catch (const Error& e) {
            std::printf("verify: %s\n", e.what());
            return 1;
        }
    }
    distributed::init(&argc, &argv);
    distributed::set_timeout(mode == "hang" ? 5 : 20);
    const int rank = distributed::rank();
    distributed::DistributedDataParallel ddp(net.ptr());
    Generator g(10 + rank);
    try {
        for (std::uint64_t step = 1; step <= 1000; ++step) {
            if (rank == 1 && step == 5 && mode == "kill") std::raise(SIGKILL);
            if (rank == 1 && step == 5 && mode == "hang")
                std::this_thread::sleep_for(std::chrono::seconds(600));
            opt.zero_grad();
            Tensor x = randn({8, 16}, g);
            ddp(x).pow(2.0).mean().backward();
            opt.step();
            if (rank == 0) {
                train::TrainingProgress p;
                p.step = step;
                ck.save(path, p);
            }
        }
    } catch (const Error& e) {
        std::printf("rank %d: %s\n", rank, e.what());
        std::fflush(stdout);
        return 3;
    }
    distributed::finalize();
    return 0;
}
