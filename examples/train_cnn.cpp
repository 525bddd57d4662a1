// Trains a CNN on Fashion-MNIST: the main job (`make run`). It reads like a tutorial of the API:
// data, model, optimizer and scheduler, the training loop, evaluation, metrics, checkpoints.
//
//   ./build/train_cnn                      # defaults: the small CNN, 5 epochs, Adam + one-cycle
//   ./build/train_cnn --model lenet --epochs 10 --optimizer sgd --lr 0.05
//   ./build/train_cnn --resume             # continue from runs/train_cnn/checkpoint.safetensors
//
// Outputs in --out-dir: metrics.csv, metrics.svg (loss and accuracy per epoch), a checkpoint per
// epoch, and (with --export-dot) the graph of one training step as Graphviz DOT.
#include <xgrad.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "train/checkpoint.hpp"
#include "train/confusion.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"
#if defined(XGRAD_WITH_MPI)
#include "distributed/ddp.hpp"
#include "distributed/distributed.hpp"
#endif

using namespace xg;
namespace fs = std::filesystem;

struct Flags {
    std::string model = "cnn";
    int epochs = 5;
    std::size_t batch_size = 64;
    double lr = 2e-3;
    std::string optimizer = "adam";
    std::string scheduler = "onecycle";
    std::uint64_t seed = 0;
    int threads = 0;
    int width = 16;
    std::string data_dir;
    std::string out_dir = "runs/train_cnn";
    bool resume = false;
    std::string export_dot;
    std::size_t train_subset = 0, test_subset = 0;
    bool augment = false;
    int stop_after = 0;
};

std::unique_ptr<optim::Optimizer> make_optimizer(const Flags& f, std::vector<Tensor> params) {
    if (f.optimizer == "adam")
        return std::make_unique<optim::Adam>(params, optim::AdamOptions(f.lr));
    if (f.optimizer == "adamw")
        return std::make_unique<optim::AdamW>(params, optim::AdamWOptions(f.lr));
    if (f.optimizer == "sgd")
        return std::make_unique<optim::SGD>(params,
                                            optim::SGDOptions(f.lr).momentum(0.9).nesterov(true));
    return std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions(f.lr));
}

struct EvalResult {
    double loss = 0, accuracy = 0;
};

// Mean loss and accuracy over a loader, without recording (NoGradGuard) and in eval mode.
EvalResult evaluate(nn::Sequential& model, data::DataLoader& loader,
                    train::ConfusionMatrix* confusion) {
    NoGradGuard no_grad;
    model->eval();
    double loss_sum = 0;
    std::size_t right = 0, seen = 0;
    for (auto& batch : loader) {
        Tensor logits = model(batch.images);
        loss_sum += cross_entropy(logits, batch.labels).item() * double(batch.size());
        Tensor pred = argmax(logits, 1);
        const auto* p = pred.data<std::int64_t>().data();
        const auto* y = batch.labels.data<std::int64_t>().data();
        for (std::size_t i = 0; i < batch.size(); ++i) right += p[i] == y[i];
        seen += batch.size();
        if (confusion) confusion->add(pred, batch.labels);
    }
    model->train();
    return {loss_sum / double(seen), double(right) / double(seen)};
}

// Under mpirun (or a scheduler that sets the MPI environment) train_cnn trains data-parallel:
// each process reads its shard of every epoch (DistributedSampler) with --batch-size samples
// per step, DistributedDataParallel averages the gradients, and rank 0 alone prints, evaluates
// and writes metrics, the chart and checkpoints. Started directly it is one process, as before.
bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(v)) return true;
    return false;
}

int main(int argc, char** argv) {
    Flags f;
    CLI::App app{"Train a CNN on Fashion-MNIST with xgrad"};
    app.add_option("--model", f.model, "cnn (conv-BN-ReLU-pool x2, dropout, linear) or lenet")
        ->check(CLI::IsMember({"cnn", "lenet"}));
    app.add_option("--epochs", f.epochs, "epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--batch-size", f.batch_size, "samples per step")->check(CLI::PositiveNumber);
    app.add_option("--lr", f.lr, "learning rate (the peak of the one-cycle schedule)")
        ->check(CLI::PositiveNumber);
    app.add_option("--optimizer", f.optimizer, "adam, adamw, sgd (nesterov 0.9) or rmsprop")
        ->check(CLI::IsMember({"adam", "adamw", "sgd", "rmsprop"}));
    app.add_option("--scheduler", f.scheduler, "onecycle (per step), step (x0.5 per epoch), none")
        ->check(CLI::IsMember({"onecycle", "step", "none"}));
    app.add_option("--seed", f.seed, "seed of initialization, dropout and batch order");
    // With conv2d and pooling split over xgrad's OpenMP pool, two threads trained an epoch in
    // 14.2-15.6 s against 16.4-18.2 s for one on a busy 2-core machine (docs/PERFORMANCE.md).
    app.add_option("--threads", f.threads, "xgrad's threads (0: the library's default, all cores)");
    app.add_option("--width", f.width, "channels of the cnn's first conv")
        ->check(CLI::PositiveNumber);
    app.add_option("--data-dir", f.data_dir,
                   "Fashion-MNIST directory (default: $XGRAD_FASHION_MNIST_DIR or Debian's)");
    app.add_option("--out-dir", f.out_dir, "where metrics, the chart and checkpoints go");
    app.add_flag("--resume", f.resume, "continue from the checkpoint in --out-dir");
    app.add_option("--export-dot", f.export_dot, "write the graph of one training step (DOT)");
    app.add_option("--train-subset", f.train_subset, "use the first N training images");
    app.add_option("--test-subset", f.test_subset, "use the first N test images");
    app.add_flag("--augment", f.augment, "random horizontal flips and crops (padding 2)");
    app.add_option("--stop-after", f.stop_after,
                   "stop after this many epochs of this run, as if interrupted (for --resume)");
    CLI11_PARSE(app, argc, argv);

    int rank = 0, world = 1;
#if defined(XGRAD_WITH_MPI)
    struct Finalize {
        ~Finalize() { distributed::finalize(); }
    };
    std::optional<Finalize> finalize;
    if (launched_by_mpi()) {
        distributed::init(&argc, &argv);
        finalize.emplace();
        rank = distributed::rank();
        world = distributed::world_size();
    }
#else
    if (launched_by_mpi())
        fmt::print(stderr, "train_cnn: built without MPI (libopenmpi-dev): one process each\n");
#endif
    const bool lead = rank == 0;  // prints, evaluates, writes files
    try {
        if (f.threads > 0) set_num_threads(f.threads);
        manual_seed(f.seed);

        // Data: bytes in memory, batches prepared ahead on a worker thread.
        auto train_set = std::make_shared<data::FashionMNIST>(data::Split::train, f.data_dir);
        auto test_set = std::make_shared<data::FashionMNIST>(data::Split::test, f.data_dir);
        std::shared_ptr<const data::Dataset> train_data = train_set, test_data = test_set;
        if (f.train_subset)
            train_data =
                std::make_shared<data::Subset>(data::Subset::first(train_data, f.train_subset));
        if (f.test_subset)
            test_data =
                std::make_shared<data::Subset>(data::Subset::first(test_data, f.test_subset));
        data::Normalize normalize({0.2860}, {0.3530});  // Fashion-MNIST's mean and std
        data::DataLoaderOptions lo;
        lo.batch_size = f.batch_size;  // per process
        lo.shuffle = world == 1;
        lo.seed = f.seed;  // the batch order depends on the seed and the epoch only
        if (world > 1) {
            lo.sampler = data::DistributedSampler(static_cast<std::size_t>(world),
                                                  static_cast<std::size_t>(rank), true, f.seed);
        }
        if (f.augment) {
            lo.transform =
                data::Compose({data::RandomHorizontalFlip(), data::RandomCrop(28, 2), normalize});
        } else {
            lo.transform = [normalize](const Tensor& x, Generator&) { return normalize(x); };
        }
        data::DataLoader train_loader(train_data, lo);
        data::DataLoaderOptions to;
        to.batch_size = 200;  // activations stay under the 32 MB mmap threshold (width 32: 20 MB)
        to.transform = [normalize](const Tensor& x, Generator&) { return normalize(x); };
        data::DataLoader test_loader(test_data, to);

        // Model, optimizer, schedule.
        nn::Sequential model = f.model == "lenet" ? nn::lenet5() : nn::small_cnn(f.width);
        if (lead) fmt::print("{}\n", nn::summary(model, {f.batch_size, 1, 28, 28}));
#if defined(XGRAD_WITH_MPI)
        // Rank 0's weights everywhere, gradients averaged over the ranks in backward.
        std::unique_ptr<distributed::DistributedDataParallel> ddp;
        if (world > 1) {
            ddp = std::make_unique<distributed::DistributedDataParallel>(model.ptr());
            if (lead)
                fmt::print("data-parallel over {} processes: {} samples per step in all\n", world,
                           world * f.batch_size);
        }
#endif
        auto opt = make_optimizer(f, model->parameters());
        std::unique_ptr<optim::LRScheduler> sched;
        auto steps = static_cast<std::int64_t>(train_loader.size());
        if (f.scheduler == "onecycle") {
            optim::OneCycleLROptions oc;
            oc.epochs = f.epochs;
            oc.steps_per_epoch = steps;
            sched = std::make_unique<optim::OneCycleLR>(*opt, f.lr, oc);
        } else if (f.scheduler == "step") {
            sched = std::make_unique<optim::StepLR>(*opt, 1, 0.5);
        }

        // Checkpoints hold everything a bitwise-exact resume needs.
        fs::create_directories(f.out_dir);
        const std::string ckpt_path = (fs::path(f.out_dir) / "checkpoint.safetensors").string();
        train::Checkpoint ckpt;
        ckpt.model(*model).optimizer(*opt).generator("global", default_generator());
        if (sched) ckpt.scheduler(*sched);
        train::TrainingProgress progress;
        progress.info = {{"model", f.model},
                         {"optimizer", f.optimizer},
                         {"scheduler", f.scheduler},
                         {"epochs", std::to_string(f.epochs)},
                         {"seed", std::to_string(f.seed)}};
        if (f.resume) {  // every rank loads the same file
            progress = ckpt.load(ckpt_path);
            if (lead)
                fmt::print("resumed from {} after epoch {} (step {})\n", ckpt_path, progress.epoch,
                           progress.step);
        }

        const auto classes = data::FashionMNIST::classes();
        train::ConfusionMatrix confusion(10, classes);
        EvalResult test{};
        int trained_this_run = 0;
        for (auto epoch = static_cast<int>(progress.epoch); epoch < f.epochs; ++epoch) {
            auto t0 = std::chrono::steady_clock::now();
            model->train();
            train_loader.set_epoch(static_cast<std::uint64_t>(epoch));
            // Each rank's dropout stream: seeded from (seed, rank, epoch) at every epoch, so a
            // resumed run continues exactly without the other ranks' generator states.
            if (world > 1) manual_seed(f.seed + 1000003ull * (epoch + 1) + 7919ull * rank);
            train::ProgressBar bar(train_loader.size(),
                                   fmt::format("epoch {}/{}", epoch + 1, f.epochs),
                                   lead ? stdout : nullptr);
            std::size_t right = 0, seen = 0;
            double comm_wait = 0;
            for (auto& batch : train_loader) {
#if defined(XGRAD_WITH_MPI)
                Tensor logits = ddp ? (*ddp)(batch.images) : model(batch.images);
#else
                Tensor logits = model(batch.images);
#endif
                Tensor loss = cross_entropy(logits, batch.labels);
                if (!f.export_dot.empty() && progress.step == 0) {
                    std::ofstream(f.export_dot) << to_dot(loss);
                    fmt::print("wrote the graph of one step to {} (dot -Tsvg)\n", f.export_dot);
                }
                opt->zero_grad();
                loss.backward();
#if defined(XGRAD_WITH_MPI)
                if (ddp) comm_wait += ddp->last_wait_seconds();
#endif
                opt->step();
                if (sched && f.scheduler == "onecycle") sched->step();
                ++progress.step;
                Tensor pred = argmax(logits.detach(), 1);
                const auto* p = pred.data<std::int64_t>().data();
                const auto* y = batch.labels.data<std::int64_t>().data();
                for (std::size_t i = 0; i < batch.size(); ++i) right += p[i] == y[i];
                seen += batch.size();
                bar.update(batch.size(), loss.item());
            }
            bar.finish();
            if (sched && f.scheduler == "step") sched->step();
            double train_loss = bar.running_loss(), train_acc = double(right) / double(seen);
            const double train_secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#if defined(XGRAD_WITH_MPI)
            if (ddp) {  // the epoch's figures over every rank's shard
                Tensor sums = tensor({train_loss, double(right), double(seen)}, float64);
                distributed::all_reduce(sums);
                auto v = sums.to_vector();
                train_loss = v[0] / world;
                train_acc = v[1] / v[2];
                if (lead)
                    fmt::print(
                        "{} processes: {:.0f} samples/s, waiting {:.2f} ms per step for "
                        "the gradient all-reduce\n",
                        world, v[2] / train_secs, 1000 * comm_wait / double(train_loader.size()));
            }
#endif
            bool last = epoch + 1 == f.epochs;
            if (!lead) {  // rank 0 evaluates and writes; the others go on to the next epoch
                progress.epoch = static_cast<std::uint64_t>(epoch + 1);
                if (++trained_this_run == f.stop_after && !last) return 0;
                continue;
            }
            if (last) confusion = train::ConfusionMatrix(10, classes);
            test = evaluate(model, test_loader, last ? &confusion : nullptr);
            double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            train::EpochMetrics m{static_cast<std::size_t>(epoch + 1),
                                  train_loss,
                                  train_acc,
                                  test.loss,
                                  test.accuracy,
                                  opt->param_groups()[0].options.lr(),
                                  secs};
            progress.metrics.add(m);
            progress.epoch = static_cast<std::uint64_t>(epoch + 1);
            fmt::print(
                "epoch {}/{}: train loss {:.4f} acc {:.2f}% | test loss {:.4f} acc {:.2f}% | "
                "{:.1f} s\n",
                epoch + 1, f.epochs, m.train_loss, 100 * m.train_acc, m.test_loss, 100 * m.test_acc,
                secs);
            progress.metrics.write_csv((fs::path(f.out_dir) / "metrics.csv").string());
            progress.metrics.write_svg((fs::path(f.out_dir) / "metrics.svg").string(),
                                       "train_cnn on Fashion-MNIST");
            ckpt.save(ckpt_path, progress);
            if (++trained_this_run == f.stop_after && !last) {
                fmt::print("stopping after epoch {} (--stop-after); continue with --resume\n",
                           epoch + 1);
                return 0;
            }
        }
        if (!lead) return 0;
        if (progress.metrics.rows().empty()) {
            fmt::print("nothing to train: the checkpoint is already at epoch {}\n", progress.epoch);
            return 0;
        }
        if (confusion.total() == 0) test = evaluate(model, test_loader, &confusion);
        fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{}\n",
                   confusion.to_string());
        fmt::print("metrics: {}/metrics.csv, chart: {}/metrics.svg, checkpoint: {}\n", f.out_dir,
                   f.out_dir, ckpt_path);
        fmt::print("test accuracy: {:.2f}%\n", 100 * test.accuracy);
    } catch (const std::exception& e) {
        fmt::print(stderr, "train_cnn{}: {}\n", world > 1 ? fmt::format(" (rank {})", rank) : "",
                   e.what());
        return 1;
    }
    return 0;
}
