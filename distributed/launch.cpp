#include "distributed/launch.hpp"

#include "distributed/ddp.hpp"
#include "distributed/distributed.hpp"

namespace xg::distributed {

namespace {

class MpiProcesses : public train::Processes {
  public:
    MpiProcesses(int* argc, char*** argv) { init(argc, argv); }
    ~MpiProcesses() override {
        ddp_.reset();  // its communicator goes before MPI does
        finalize();
    }
    int rank() const override { return distributed::rank(); }
    int world_size() const override { return distributed::world_size(); }
    void prepare(const std::shared_ptr<nn::UnaryModule>& model) override {
        Processes::prepare(model);
        if (world_size() > 1) ddp_ = std::make_unique<DistributedDataParallel>(model);
    }
    Tensor forward(const Tensor& x) override { return ddp_ ? (*ddp_)(x) : (*model_)(x); }
    std::vector<double> sum(std::vector<double> values) override {
        if (world_size() == 1) return values;
        Tensor t = zeros({values.size()}, float64);
        for (std::size_t i = 0; i < values.size(); ++i) t.mutable_data<double>()(i) = values[i];
        all_reduce(t);
        return t.to_vector();
    }
    double last_wait_seconds() const override { return ddp_ ? ddp_->last_wait_seconds() : 0; }

  private:
    std::unique_ptr<DistributedDataParallel> ddp_;
};

}  // namespace

std::unique_ptr<train::Processes> launch(int* argc, char*** argv) {
    if (!train::launched_by_mpi()) return std::make_unique<train::Processes>();
    return std::make_unique<MpiProcesses>(argc, argv);
}

}  // namespace xg::distributed
