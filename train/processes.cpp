#include "train/processes.hpp"

#include <cstdlib>

namespace xg::train {

bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(v)) return true;
    return false;
}

}  // namespace xg::train
