#include "train/startup.hpp"

#include <execinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "core/alloc_failure.hpp"
#include "core/error.hpp"
#include "core/threads.hpp"

namespace xg::train {

void prepare_for_faults(char** argv) {
    // A log file gets each line when it is printed, so a run killed or stopped mid-way leaves
    // what it printed (and a supervisor can follow it).
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    void* frame[1];
    backtrace(frame, 1);
    if (blas_runs_float32_gemms() || blas_num_threads() <= 1) return;
    if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;  // the user's choice stands
    if (std::getenv("OMP_NUM_THREADS") == nullptr) {
        const std::string n = std::to_string(get_num_threads());
        setenv("OMP_NUM_THREADS", n.c_str(), 1);
    }
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
    // The exec failed (no /proc?): go on as before, with OpenBLAS's workers.
}

std::string failure_message(const std::exception& e) {
    if (dynamic_cast<const Error*>(&e)) return e.what();
    if (const auto* f = dynamic_cast<const AllocationFailure*>(&e))
        return f->bytes()
                   ? fmt::format("out of memory: an allocation of {} bytes failed", f->bytes())
                   : fmt::format("out of memory: {}", f->description());
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return fmt::format("out of memory ({} outside xgrad's tensors)", e.what());
    if (const auto* s = dynamic_cast<const std::system_error*>(&e))
        return fmt::format("a system call failed: {} (error {})", s->what(), s->code().value());
    return e.what();
}

}  // namespace xg::train
