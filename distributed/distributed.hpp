#pragma once
// Data-parallel training over MPI (built when CMake finds MPI, XGRAD_MPI): the process group
// (init, rank, world_size) and the collectives a training loop needs, on tensors, like
// torch.distributed. Launch with mpirun (see docs/DISTRIBUTED.md):
//
//   xg::distributed::init(&argc, &argv);
//   xg::distributed::all_reduce(t);            // t becomes the sum over every rank, in place
//   xg::distributed::finalize();
//
// Every collective must be called by every rank, in the same order. Each one first checks that
// every rank passed the same dtype and shape (one small all-gather) and throws xg::Error on
// every rank, naming the op and the first rank that differs, instead of corrupting memory or
// hanging. Waits are bounded by timeout() (default 300 s, XGRAD_DIST_TIMEOUT seconds): a rank
// that died or diverged makes the others throw rather than hang.
#include <cstddef>

#include "core/tensor.hpp"

namespace xg::distributed {

// MPI_Init_thread (funneled: only the thread that called init uses MPI). Does nothing if MPI
// is already initialized (by the program or a previous init). Errors become return codes that
// xgrad turns into xg::Error (MPI_ERRORS_RETURN), so a failed collective names its op.
void init(int* argc = nullptr, char*** argv = nullptr);
// MPI_Finalize, if init() initialized MPI; afterwards no collective may run.
void finalize();
bool is_initialized();
int rank();        // 0 .. world_size() - 1; 0 when not initialized
int world_size();  // 1 when not initialized

// Seconds a collective waits for the other ranks before throwing (0: wait forever).
void set_timeout(double seconds);
double timeout();

enum class ReduceOp { sum, mean, max, min };

// In place on every rank: t becomes the elementwise reduction of every rank's t. mean is the
// sum divided by world_size() (floating dtypes only). Not recorded on the tape (use
// all_reduce_autograd for that); refused on a tensor that requires grad while grad mode is on.
void all_reduce(Tensor& t, ReduceOp op = ReduceOp::sum);
// In place: every rank's t gets root's values.
void broadcast(Tensor& t, int root = 0);
// Every rank's t, in rank order, on every rank (same dtype and shape on every rank).
TensorList all_gather(const Tensor& t);
void barrier();

// The sum over ranks as a differentiable op (torch.distributed.nn.functional.all_reduce): its
// backward all-reduces the gradient, so each rank gets the gradient of the sum of every rank's
// loss. What SyncBatchNorm is made of. Every rank must run backward through it.
Tensor all_reduce_autograd(const Tensor& t);

namespace detail {
// Throws xg::Error naming op and this rank if rc is not MPI_SUCCESS.
void check_mpi(const char* op, int rc);
// The MPI communicator as an opaque handle (MPI_Comm), and a private duplicate for users such as
// DistributedDataParallel whose non-blocking collectives must not mix with the world's.
void* world_comm();
void* duplicate_comm();
void free_comm(void* comm);
// Checks that every rank passed a tensor of t's dtype and shape (or, for root_only, nothing).
void check_agreement(const char* op, const Tensor& t, void* comm);
// Waits for the MPI request (an MPI_Request*) up to timeout(); throws xg::Error naming op.
void wait(const char* op, void* request);
// The MPI datatype (MPI_Datatype) of a dtype.
void* mpi_type(Dtype d);
}  // namespace detail

}  // namespace xg::distributed
