// Trains a CNN on Fashion-MNIST: the main job (`make run`). Read it top to bottom as a tutorial
// of the API, one step per function: the data, the model, the optimizer and its schedule, one
// epoch of training, the evaluation, the report; main() strings them together.
//
//   ./build/train_cnn                      # defaults: the small CNN, 5 epochs, Adam + one-cycle
//   ./build/train_cnn --model lenet --epochs 10 --optimizer sgd --lr 0.05
//   ./build/train_cnn --resume             # continue from runs/train_cnn/checkpoint.safetensors
//   mpirun -np 2 ./build/train_cnn         # data-parallel, one process per rank (with MPI)
//
// Outputs in --out-dir: metrics.csv, metrics.svg (loss and accuracy per epoch), a checkpoint per
// epoch, report.html at the end (curves, confusion heat map, the most wrong test images), and
// (with --export-dot) the graph of one training step as Graphviz DOT.
#include <xgrad.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "train/checkpoint.hpp"
#include "train/confusion.hpp"
#include "train/metrics.hpp"
#include "train/processes.hpp"
#include "train/progress.hpp"
#include "train/report.hpp"
#include "train/signal_guard.hpp"
#include "train/startup.hpp"
#include "train/worst_examples.hpp"

// Under mpirun, one process per rank: each reads its shard of every epoch, gradients are
// averaged in backward, rank 0 alone prints, evaluates and writes. Otherwise one process.
#if defined(XGRAD_WITH_MPI)
#include "distributed/launch.hpp"
std::unique_ptr<xg::train::Processes> processes(int* argc, char*** argv) {
    return xg::distributed::launch(argc, argv);
}
#else
std::unique_ptr<xg::train::Processes> processes(int*, char***) {
    if (xg::train::launched_by_mpi())
        fmt::print(stderr, "train_cnn: built without MPI (libopenmpi-dev): one process each\n");
    return std::make_unique<xg::train::Processes>();
}
#endif

using namespace xg;
namespace fs = std::filesystem;

struct Flags {
    std::string model = "cnn", optimizer = "adam", scheduler = "onecycle", on_nonfinite = "stop";
    int epochs = 5, threads = 0, width = 16, stop_after = 0;
    std::size_t batch_size = 64, train_subset = 0, test_subset = 0;
    double lr = 2e-3;
    std::uint64_t seed = 0;
    std::string data_dir, out_dir = "runs/train_cnn", export_dot;
    bool resume = false, augment = false;
    std::set<std::string> given;  // the flags on the command line (e.g. "lr", "batch_size")
};

void add_flags(CLI::App& app, Flags& f) {
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
    app.add_option("--on-nonfinite", f.on_nonfinite,
                   "a NaN or inf loss: stop (exit 1, the last finite checkpoint kept) or skip "
                   "the step")
        ->check(CLI::IsMember({"stop", "skip"}));
    app.add_option("--stop-after", f.stop_after,
                   "stop after this many epochs of this run, as if interrupted (for --resume)");
}

// Which flags the command line gave (a resume refuses those that disagree with the checkpoint).
void note_given_flags(const CLI::App& app, Flags& f) {
    for (const CLI::Option* o : app.get_options()) {
        if (o->count() == 0 || o->get_lnames().empty()) continue;
        std::string name = o->get_lnames().front();
        std::replace(name.begin(), name.end(), '-', '_');
        f.given.insert(name);
    }
}

// ---- 1. Data: bytes in memory, batches prepared ahead on a worker thread ----

struct Data {
    data::DataLoader<> train, test;
};

std::shared_ptr<const data::ImageDataset> fashion_mnist(data::Split split, const Flags& f,
                                                        std::size_t subset) {
    auto set = std::make_shared<data::FashionMNIST>(split, f.data_dir);
    if (!subset) return set;
    return std::make_shared<data::Subset>(data::Subset::first(set, subset));
}

const double kMean = 0.2860, kStd = 0.3530;  // Fashion-MNIST's mean and std

Data load_data(const Flags& f, const train::Processes& procs) {
    auto train_set = fashion_mnist(data::Split::train, f, f.train_subset);
    auto test_set = fashion_mnist(data::Split::test, f, f.test_subset);
    data::Normalize normalize({kMean}, {kStd});
    data::Transform plain = [normalize](const Tensor& x, Generator&) { return normalize(x); };
    // The batch order depends on the seed and the epoch only; each process takes its shard.
    auto train_options = data::DataLoaderOptions(f.batch_size).seed(f.seed);
    if (procs.world_size() == 1) {
        train_options.shuffle(true);
    } else {
        train_options.sampler(data::DistributedSampler(std::size_t(procs.world_size()),
                                                       std::size_t(procs.rank()), true, f.seed));
    }
    train_options.transform(f.augment ? data::Compose({data::RandomHorizontalFlip(),
                                                       data::RandomCrop(28, 2), normalize})
                                      : plain);
    // Test batches of 200: activations stay under the 32 MB mmap threshold (width 32: 20 MB).
    return {data::DataLoader(train_set, train_options),
            data::DataLoader(test_set, data::DataLoaderOptions(200).transform(plain))};
}

// ---- 2. The model ----

nn::Sequential make_model(const Flags& f, bool print) {
    nn::Sequential model = f.model == "lenet" ? nn::lenet5() : nn::small_cnn(f.width);
    if (print) fmt::print("{}\n", nn::summary(model, {f.batch_size, 1, 28, 28}));
    return model;
}

// ---- 3. The optimizer and its schedule ----

struct Optimization {
    std::unique_ptr<optim::Optimizer> optimizer;
    std::unique_ptr<optim::LRScheduler> scheduler;  // none, per step or per epoch
    bool per_step = false;
};

Optimization make_optimization(const Flags& f, nn::Sequential& model, std::size_t steps) {
    Optimization o;
    auto params = model->parameters();
    if (f.optimizer == "adam") o.optimizer = std::make_unique<optim::Adam>(params, f.lr);
    if (f.optimizer == "adamw") o.optimizer = std::make_unique<optim::AdamW>(params, f.lr);
    if (f.optimizer == "rmsprop") o.optimizer = std::make_unique<optim::RMSprop>(params, f.lr);
    if (f.optimizer == "sgd")
        o.optimizer = std::make_unique<optim::SGD>(
            params, optim::SGDOptions(f.lr).momentum(0.9).nesterov(true));
    if (f.scheduler == "onecycle") {
        auto cycle =
            optim::OneCycleLROptions().epochs(f.epochs).steps_per_epoch(std::int64_t(steps));
        o.scheduler = std::make_unique<optim::OneCycleLR>(*o.optimizer, f.lr, cycle);
        o.per_step = true;
    } else if (f.scheduler == "step") {
        o.scheduler = std::make_unique<optim::StepLR>(*o.optimizer, 1, 0.5);
    }
    return o;
}

// ---- 4. One epoch of training ----

struct Figures {
    double loss = 0, accuracy = 0;
};

Figures train_one_epoch(const Flags& f, int epoch, nn::Sequential& model,
                        data::DataLoader<>& loader, Optimization& o, train::Processes& procs,
                        train::TrainingProgress& run) {
    model->train();
    loader.set_epoch(static_cast<std::uint64_t>(epoch));
    // Each rank's dropout stream is seeded from (seed, rank, epoch) at every epoch, so a resumed
    // run continues exactly without the other ranks' generator states.
    if (procs.world_size() > 1)
        manual_seed(f.seed + 1000003ull * (epoch + 1) + 7919ull * procs.rank());
    train::ProgressBar bar(loader.size(), fmt::format("epoch {}/{}", epoch + 1, f.epochs),
                           procs.lead() ? stdout : nullptr);
    double right = 0, seen = 0, waited = 0;
    std::size_t skipped = 0, batches = 0;
    if (run.mid_epoch) {  // resumed after a signal: the epoch goes on where it stopped
        const train::EpochPosition at = *run.mid_epoch;
        loader.set_start_batch(at.batch);
        bar.resume(at.batch, at.samples, at.loss_sum);
        batches = at.batch, skipped = at.skipped, right = at.correct, seen = double(at.samples);
        run.mid_epoch.reset();
    }
    for (auto& batch : loader) {
        if (train::SignalGuard::received()) {  // SIGINT/SIGTERM: main saves where we stopped
            run.mid_epoch =
                train::EpochPosition{batches, bar.samples(), skipped, bar.loss_sum(), right};
            return {};
        }
        ++batches;
        Tensor logits = procs.forward(batch.images);
        Tensor loss = cross_entropy(logits, batch.labels);
        const double value = loss.item();
        if (!std::isfinite(value)) {  // diverged: stop before the update, or skip it
            // (A skipped step would leave the other processes waiting in the all-reduce.)
            XG_CHECK(f.on_nonfinite == "skip" && procs.world_size() == 1,
                     "the loss is {} at epoch {}, step {}: training diverged (the last finite "
                     "checkpoint stays on disk; lower --lr, or --on-nonfinite skip in one process)",
                     value, epoch + 1, run.step + 1);
            ++skipped;
            continue;
        }
        if (!f.export_dot.empty() && run.step == 0) {
            std::ofstream(f.export_dot) << to_dot(loss);
            fmt::print("wrote the graph of one step to {} (dot -Tsvg)\n", f.export_dot);
        }
        o.optimizer->zero_grad();
        loss.backward();
        waited += procs.last_wait_seconds();
        o.optimizer->step();
        if (o.per_step) o.scheduler->step();
        ++run.step;
        right += eq(argmax(logits.detach(), 1), batch.labels).sum().item();
        seen += double(batch.size());
        bar.update(batch.size(), value);
    }
    bar.finish();
    if (skipped && procs.lead())
        fmt::print("epoch {}: skipped {} steps with a non-finite loss (--on-nonfinite skip)\n",
                   epoch + 1, skipped);
    if (o.scheduler && !o.per_step) o.scheduler->step();
    if (procs.world_size() == 1) return {bar.running_loss(), right / seen};
    // The epoch's figures over every rank's shard.
    auto all = procs.sum({bar.running_loss(), right, seen});
    if (procs.lead())
        fmt::print(
            "{} processes: {:.0f} samples/s, waiting {:.2f} ms per step for the gradient "
            "all-reduce\n",
            procs.world_size(), all[2] / bar.elapsed_s(), 1000 * waited / double(loader.size()));
    return {all[0] / procs.world_size(), all[1] / all[2]};
}

// ---- 5. Evaluation: mean loss and accuracy, without recording, in eval mode ----

Figures evaluate(nn::Sequential& model, data::DataLoader<>& loader,
                 train::ConfusionMatrix* confusion, train::WorstExamples* worst = nullptr) {
    NoGradGuard no_grad;
    model->eval();
    double loss_sum = 0, right = 0, seen = 0;
    for (auto& batch : loader) {
        Tensor logits = model(batch.images);
        Tensor pred = argmax(logits, 1);
        loss_sum += cross_entropy(logits, batch.labels).item() * double(batch.size());
        right += eq(pred, batch.labels).sum().item();
        seen += double(batch.size());
        if (confusion) confusion->add(pred, batch.labels);
        if (worst) worst->add(batch.images, logits, batch.labels);
    }
    model->train();
    return {loss_sum / seen, right / seen};
}

// ---- 6. The report: a line per epoch, the CSV and the chart, the final test figures ----

void report_epoch(const Flags& f, train::TrainingProgress& run, const train::EpochMetrics& m) {
    run.metrics.add(m);
    fmt::print(
        "epoch {}/{}: train loss {:.4f} acc {:.2f}% | test loss {:.4f} acc {:.2f}% | {:.1f} s\n",
        m.epoch, f.epochs, m.train_loss, 100 * m.train_acc, m.test_loss, 100 * m.test_acc,
        m.seconds);
    run.metrics.write_csv((fs::path(f.out_dir) / "metrics.csv").string());
    run.metrics.write_svg((fs::path(f.out_dir) / "metrics.svg").string(),
                          "train_cnn on Fashion-MNIST");
}

void report_end(const Flags& f, const Figures& test, const train::ConfusionMatrix& confusion,
                const std::string& checkpoint) {
    fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{}\n",
               confusion.to_string());
    fmt::print("metrics: {}/metrics.csv, chart: {}/metrics.svg, checkpoint: {}\n", f.out_dir,
               f.out_dir, checkpoint);
    fmt::print("test accuracy: {:.2f}%\n", 100 * test.accuracy);
}

// The learning rate of every step, from a fresh optimizer and schedule like the run's.
std::vector<double> lr_per_step(const Flags& f, std::size_t steps) {
    nn::Sequential fresh = make_model(f, false);
    Optimization o = make_optimization(f, fresh, steps);
    std::vector<double> lr;
    for (std::size_t i = 0, total = steps * std::size_t(f.epochs); i < total; ++i) {
        lr.push_back(o.optimizer->param_groups()[0].options().get_lr());
        if (o.scheduler && i + 1 < total && (o.per_step || (i + 1) % steps == 0))
            o.scheduler->step();
    }
    return lr;
}

// report.html: the curves, the lr schedule, the test set's heat map and worst images, settings.
void write_report(const Flags& f, const train::TrainingProgress& run,
                  const train::ConfusionMatrix& confusion, const train::WorstExamples& worst,
                  std::size_t steps) {
    train::Report report("train_cnn on Fashion-MNIST");
    report.add_metrics(run.metrics, false);
    std::vector<double> lr = lr_per_step(f, steps), xs;
    for (std::size_t i = 0; i < lr.size(); ++i) xs.push_back(double(i) / double(steps));
    report.add_curve("Learning-rate schedule (per step)", "epoch", "learning rate", xs,
                     {{f.scheduler, "#2ca02c", lr}});
    report.add_confusion(confusion, data::FashionMNIST::classes());
    report.add_image_grid("The test images it got most wrong (highest loss)",
                          worst.images(data::FashionMNIST::classes(), kMean, kStd));
    train::Report::Rows settings(run.info.begin(), run.info.end()), timings;
    settings.push_back({"test images", std::to_string(confusion.total())});
    double total = 0;
    for (const auto& m : run.metrics.rows()) total += m.seconds;
    timings.push_back({"epochs in this report", std::to_string(run.metrics.rows().size())});
    timings.push_back({"training and evaluation (s)", fmt::format("{:.1f}", total)});
    timings.push_back({"steps per epoch", std::to_string(steps)});
    report.add_settings(settings).add_table("Timings", timings);
    const std::string path = (fs::path(f.out_dir) / "report.html").string();
    report.write(path);
    fmt::print("report: {}\n", path);
}

// The settings a checkpoint records, under the names of their flags (with _ for -).
std::map<std::string, std::string> settings(const Flags& f) {
    return {{"model", f.model},
            {"width", std::to_string(f.width)},
            {"optimizer", f.optimizer},
            {"scheduler", f.scheduler},
            {"lr", fmt::format("{}", f.lr)},
            {"batch_size", std::to_string(f.batch_size)},
            {"seed", std::to_string(f.seed)},
            {"epochs", std::to_string(f.epochs)}};
}

// A resumed run continues the saved one. A flag that disagrees with the checkpoint is refused,
// naming both values: the architecture always, the other settings when given on the command
// line (the checkpoint's optimizer state would silently win over them). --epochs may grow.
void check_resume(const Flags& f, const std::string& path) {
    const auto saved = read_safetensors_header(path).metadata;
    for (const auto& [key, value] : settings(f)) {
        auto it = saved.find("info." + key);
        const bool architecture = key == "model" || (key == "width" && f.model == "cnn");
        if (key == "epochs" || it == saved.end() || it->second == value) continue;
        if (!architecture && !f.given.count(key)) continue;
        std::string flag = "--" + key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        throw Error(
            fmt::format("{} {} conflicts with the checkpoint {}, trained with {} {}: a "
                        "resumed run continues the saved one (start a new --out-dir to "
                        "change it)",
                        flag, value, path, flag, it->second));
    }
}

// Checkpoints hold everything a bitwise-exact resume needs; every rank loads the same file.
train::TrainingProgress start_or_resume(const Flags& f, train::Checkpoint& ckpt,
                                        const std::string& path, bool print) {
    train::TrainingProgress run;
    run.info = settings(f);
    if (!f.resume) return run;
    check_resume(f, path);
    run = ckpt.load(path);
    run.info["epochs"] = std::to_string(f.epochs);
    if (print) fmt::print("resumed from {} after epoch {} (step {})\n", path, run.epoch, run.step);
    return run;
}

// After SIGINT or SIGTERM (the step in progress finished): save where the run is, exit 128+sig.
int stop_on_signal(const train::Checkpoint& ckpt, const std::string& path,
                   const train::TrainingProgress& run) {
    ckpt.save(path, run);
    fmt::print(
        "stopped by signal {} in epoch {} after batch {}: saved {}; continue with --resume\n",
        train::SignalGuard::received(), run.epoch + 1, run.mid_epoch ? run.mid_epoch->batch : 0,
        path);
    return train::SignalGuard::exit_status();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main(int argc, char** argv) {
    train::prepare_for_faults(argv);  // out of memory: an error and exit 1, never a hang
    Flags f;
    CLI::App app{"Train a CNN on Fashion-MNIST with xgrad"};
    add_flags(app, f);
    CLI11_PARSE(app, argc, argv);
    note_given_flags(app, f);
    auto procs = processes(&argc, &argv);
    const bool lead = procs->lead();
    // One process: a signal ends the run after the current step. (Ranks would stop at
    // different steps and wait for each other in the all-reduce: mpirun's own handling stays.)
    std::optional<train::SignalGuard> signals;
    if (procs->world_size() == 1) signals.emplace();
    try {
        if (f.threads > 0) set_num_threads(f.threads);
        manual_seed(f.seed);
        Data data = load_data(f, *procs);
        nn::Sequential model = make_model(f, lead);
        procs->prepare(model.ptr());
        Optimization o = make_optimization(f, model, data.train.size());
        fs::create_directories(f.out_dir);
        const std::string ckpt_path = (fs::path(f.out_dir) / "checkpoint.safetensors").string();
        train::Checkpoint ckpt;
        ckpt.model(*model).optimizer(*o.optimizer).generator("global", default_generator());
        if (o.scheduler) ckpt.scheduler(*o.scheduler);
        train::TrainingProgress run = start_or_resume(f, ckpt, ckpt_path, lead);
        train::ConfusionMatrix confusion(10, data::FashionMNIST::classes());
        train::WorstExamples worst(24);
        Figures test{};
        for (int epoch = int(run.epoch), done = 0; epoch < f.epochs; ++epoch) {
            auto t0 = std::chrono::steady_clock::now();
            Figures tr = train_one_epoch(f, epoch, model, data.train, o, *procs, run);
            if (run.mid_epoch) return stop_on_signal(ckpt, ckpt_path, run);
            run.epoch = static_cast<std::uint64_t>(epoch + 1);
            const bool last = epoch + 1 == f.epochs, stop = ++done == f.stop_after && !last;
            if (!lead) {  // rank 0 evaluates and writes; the others go on to the next epoch
                if (stop) return 0;
                continue;
            }
            test = evaluate(model, data.test, last ? &confusion : nullptr, last ? &worst : nullptr);
            report_epoch(f, run,
                         {std::size_t(epoch + 1), tr.loss, tr.accuracy, test.loss, test.accuracy,
                          o.optimizer->param_groups()[0].options().get_lr(), seconds_since(t0)});
            ckpt.save(ckpt_path, run);
            if (train::SignalGuard::received() && !last)
                return stop_on_signal(ckpt, ckpt_path, run);
            if (stop) {
                fmt::print("stopping after epoch {} (--stop-after); continue with --resume\n",
                           epoch + 1);
                return 0;
            }
        }
        if (!lead) return 0;
        if (run.metrics.rows().empty()) {
            fmt::print("nothing to train: the checkpoint is already at epoch {}\n", run.epoch);
            return 0;
        }
        if (confusion.total() == 0) test = evaluate(model, data.test, &confusion, &worst);
        report_end(f, test, confusion, ckpt_path);
        write_report(f, run, confusion, worst, data.train.size());
    } catch (const std::exception& e) {
        fmt::print(stderr, "train_cnn{}: {}\n",
                   procs->world_size() > 1 ? fmt::format(" (rank {})", procs->rank()) : "",
                   train::failure_message(e));
        return 1;
    }
    return 0;
}
