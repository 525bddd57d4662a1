#pragma once
// What a training program does first in main(), before anything allocates.
#include <exception>
#include <string>

namespace xg::train {

// Makes out of memory end cleanly (an xg::Error, exit 1) instead of hanging or aborting:
// - When oneDNN runs the float32 gemms, OpenBLAS serves only float64 ones and needs no threads
//   of its own; but a pthread OpenBLAS starts its workers while it loads, before main(), and each
//   asks for a 128 MB buffer at once: under a memory limit (ulimit -v) a worker retried forever
//   and exit() then waited for it. OpenBLAS reads OPENBLAS_NUM_THREADS only when it loads, so
//   when it started workers and the variable is unset, this sets it to 1 (and OMP_NUM_THREADS,
//   when unset, to xgrad's default thread count, which would otherwise follow
//   OPENBLAS_NUM_THREADS) and runs the program again in the same process (execv of
//   /proc/self/exe, same arguments). If the exec fails it goes on as before.
// - glibc loads libgcc_s the first time an exception unwinds through C code (oneDNN throws
//   std::bad_alloc through pthread_once): under a memory limit that load failed and glibc
//   aborted ("libgcc_s.so.1 must be installed for unwinding to work"). One backtrace() call
//   loads it now, while memory is there.
// - stdout becomes line-buffered, so a log file holds every line printed before a fault.
void prepare_for_faults(char** argv);

// The message for an exception that ends a run: an xg::Error's own; a std::bad_alloc (or an
// allocation failure xgrad's allocator threw outside an op) as "out of memory ..." with the
// bytes when known; a std::system_error (a thread that could not start) with its error code.
std::string failure_message(const std::exception& e);

}  // namespace xg::train
