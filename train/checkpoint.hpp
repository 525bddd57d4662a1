#pragma once
// A whole training state in one checkpoint file: the model's state dict, the optimizer's and the
// scheduler's state, generator states, epoch and step counters and the metric history, in the
// safetensors layout with xgrad's checksums (core/serialize.hpp), written atomically.
//
//   xg::train::Checkpoint ck;
//   ck.model(*net).optimizer(opt).scheduler(sched).generator("global", xg::default_generator());
//   ck.save("run/checkpoint.safetensors", progress);      // after each epoch
//   xg::train::TrainingProgress p = ck.load("run/checkpoint.safetensors");   // on --resume
//
// Loading is all or nothing: the file is fully validated (checksums, names, shapes, dtypes,
// the optimizer's layout, every state string) and if anything fails the model, optimizer,
// scheduler and generators are left exactly as they were.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/random.hpp"
#include "nn/module.hpp"
#include "optim/optimizer.hpp"
#include "optim/scheduler.hpp"
#include "train/metrics.hpp"

namespace xg::train {

// Where an epoch stopped when a run was interrupted (train/signal_guard.hpp): the batches of
// the epoch already consumed and its running sums, so the resumed run ends bitwise equal to one
// never interrupted.
struct EpochPosition {
    std::uint64_t batch = 0;    // batches of the epoch consumed (trained or skipped)
    std::uint64_t samples = 0;  // samples trained on
    std::uint64_t skipped = 0;  // steps skipped (a non-finite loss)
    double loss_sum = 0;        // sum over trained batches of mean loss * samples
    double correct = 0;         // correctly classified samples
};

// Counters and history saved beside the objects' states.
struct TrainingProgress {
    std::uint64_t epoch = 0;  // epochs completed
    std::uint64_t step = 0;   // optimizer steps taken
    MetricsLog metrics;
    std::map<std::string, std::string> info;  // free-form (e.g. the command line's settings)
    std::optional<EpochPosition> mid_epoch;   // set when epoch `epoch` stopped part-way
};

class Checkpoint {
  public:
    // The objects whose state the file holds. Each reference must outlive the Checkpoint.
    Checkpoint& model(nn::Module& m);
    Checkpoint& optimizer(optim::Optimizer& o);
    Checkpoint& scheduler(optim::LRScheduler& s);
    Checkpoint& scheduler(optim::ReduceLROnPlateau& s);
    Checkpoint& generator(const std::string& name, Generator& g);

    // Refuses (xg::Error naming the tensor, the file left as it was) when a model or optimizer
    // tensor holds NaN or inf: a diverged run keeps its last finite checkpoint.
    void save(const std::string& path, const TrainingProgress& progress) const;
    // Restores every registered object from path and returns the progress saved with them.
    // Throws xg::Error naming the file and the problem; then nothing was changed.
    TrainingProgress load(const std::string& path);

  private:
    nn::Module* model_ = nullptr;
    optim::Optimizer* optimizer_ = nullptr;
    optim::LRScheduler* scheduler_ = nullptr;
    optim::ReduceLROnPlateau* plateau_ = nullptr;
    std::vector<std::pair<std::string, Generator*>> generators_;
};

namespace detail {
// An optimizer's or scheduler's scalars and strings as JSON text (scalars as exact hex floats),
// and back; decode_state's errors start with "op: path:" and take the tensors from the file.
std::string encode_state(const optim::StateDict& sd);
optim::StateDict decode_state(const char* op, const std::string& path, const std::string& what,
                              const std::string& text, const NamedTensors& tensors);
}  // namespace detail

}  // namespace xg::train
