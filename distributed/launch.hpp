#pragma once
// A training run over MPI ranks behind train::Processes: launch() initializes MPI when mpirun
// started the program (one process otherwise) and finalizes it when the result is destroyed.
// prepare() wraps the model in DistributedDataParallel, sum() all-reduces the epoch figures.
#include <memory>

#include "train/processes.hpp"

namespace xg::distributed {

std::unique_ptr<train::Processes> launch(int* argc, char*** argv);

}  // namespace xg::distributed
