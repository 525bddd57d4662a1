#pragma once
// The processes of one training run, as a training program sees them: which one this is, how
// many there are, and the two things data-parallel training changes in a step (the model's
// call averages the gradients in backward; the epoch's figures are summed over processes).
// This class is one process; distributed::launch (distributed/launch.hpp) gives one per MPI
// rank, so a program written against it runs either way.
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "nn/module.hpp"

namespace xg::train {

class Processes {
  public:
    virtual ~Processes() = default;
    virtual int rank() const { return 0; }
    virtual int world_size() const { return 1; }
    bool lead() const { return rank() == 0; }  // the one that prints, evaluates and writes
    // Call once with the model before training: across processes, every rank takes rank 0's
    // weights and backward averages the gradients.
    virtual void prepare(const std::shared_ptr<nn::UnaryModule>& model) { model_ = model; }
    // The model's forward in a training step.
    virtual Tensor forward(const Tensor& x) {
        XG_CHECK(model_ != nullptr, "Processes::forward: call prepare(model) first");
        return (*model_)(x);
    }
    // values summed element by element over the processes (here: as they are).
    virtual std::vector<double> sum(std::vector<double> values) { return values; }
    // Seconds the last step waited for other processes.
    virtual double last_wait_seconds() const { return 0; }

  protected:
    std::shared_ptr<nn::UnaryModule> model_;
};

// Whether mpirun (or a scheduler setting the MPI environment) started this process.
bool launched_by_mpi();

}  // namespace xg::train
