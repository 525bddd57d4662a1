// Built against an installed xgrad with distributed/: the umbrella header brings in the
// distributed API (xgrad::distributed defines XGRAD_WITH_MPI), and the library links.
#include <xgrad.hpp>

#include <cstdio>

#if !defined(XGRAD_WITH_MPI)
#error "xgrad::distributed must define XGRAD_WITH_MPI"
#endif

int main() {
    // Safe without MPI_Init: an uninitialized process group is one rank of one.
    const int n = xg::distributed::world_size();
    const int r = xg::distributed::rank();
    xg::distributed::SyncBatchNorm bn(4);  // a distributed/ module, built without collectives
    std::printf("consumer_distributed: rank %d of %d, %zu parameter elements\n", r, n,
                bn->num_parameters());
    return (n == 1 && r == 0 && !xg::distributed::is_initialized()) ? 0 : 1;
}
