// Trains an LSTM that reads Fashion-MNIST row by row: each 28x28 image is a sequence of 28 steps
// of 28 pixels, and a linear layer classifies the last step's hidden state (`make
// run-seq-mnist`). Built like train_cnn: the data, the model, the optimizer and its schedule, one
// epoch, the evaluation, the report; main() strings them together.
//
//   ./build/train_seq_mnist                  # defaults: LSTM 128 wide, 1 layer, Adam + one-cycle
//   ./build/train_seq_mnist --layers 2 --hidden 64 --epochs 5
//   ./build/train_seq_mnist --resume         # continue from runs/train_seq_mnist/checkpoint...
//
// Outputs in --out-dir: metrics.csv, metrics.svg (loss and accuracy per epoch) and a checkpoint
// written atomically after every epoch.
#include <xgrad.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "train/checkpoint.hpp"
#include "train/confusion.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"

using namespace xg;
namespace fs = std::filesystem;

struct Flags {
    std::string optimizer = "adam", scheduler = "onecycle";
    int epochs = 3, threads = 0, stop_after = 0;
    std::int64_t hidden = 128, layers = 1;
    std::size_t batch_size = 100, train_subset = 0, test_subset = 0;
    double lr = 5e-3, clip = 1.0;
    std::uint64_t seed = 0;
    std::string data_dir, out_dir = "runs/train_seq_mnist";
    bool resume = false;
    std::set<std::string> given;  // the flags on the command line (e.g. "lr", "batch_size")
};

void add_flags(CLI::App& app, Flags& f) {
    app.add_option("--hidden", f.hidden, "the LSTM's hidden size")->check(CLI::PositiveNumber);
    app.add_option("--layers", f.layers, "stacked LSTM layers")->check(CLI::PositiveNumber);
    app.add_option("--epochs", f.epochs, "epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--batch-size", f.batch_size, "samples per step")->check(CLI::PositiveNumber);
    app.add_option("--lr", f.lr, "learning rate (the peak of the one-cycle schedule)")
        ->check(CLI::PositiveNumber);
    app.add_option("--optimizer", f.optimizer, "adam, adamw or rmsprop")
        ->check(CLI::IsMember({"adam", "adamw", "rmsprop"}));
    app.add_option("--scheduler", f.scheduler, "onecycle (per step), step (x0.5 per epoch), none")
        ->check(CLI::IsMember({"onecycle", "step", "none"}));
    app.add_option("--clip", f.clip, "clip the gradients' total 2-norm to this (0: no clipping)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--seed", f.seed, "seed of initialization and batch order");
    // The library's default adapts to load (core/threads.hpp): on a busy 2-core machine two fixed
    // threads took 16.6 s for 10 steps against 1.6 s for one.
    app.add_option("--threads", f.threads,
                   "xgrad's threads (0: the library's default, all cores, one while the machine "
                   "is busy)");
    app.add_option("--data-dir", f.data_dir,
                   "Fashion-MNIST directory (default: $XGRAD_FASHION_MNIST_DIR or Debian's)");
    app.add_option("--out-dir", f.out_dir, "where metrics, the chart and checkpoints go");
    app.add_flag("--resume", f.resume, "continue from the checkpoint in --out-dir");
    app.add_option("--train-subset", f.train_subset, "use the first N training images");
    app.add_option("--test-subset", f.test_subset, "use the first N test images");
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

// ---- 1. Data: the images in memory, batches prepared ahead on a worker thread ----

struct Data {
    data::DataLoader<> train, test;
};

std::shared_ptr<const data::ImageDataset> fashion_mnist(data::Split split, const Flags& f,
                                                        std::size_t subset) {
    auto set = std::make_shared<data::FashionMNIST>(split, f.data_dir);
    if (!subset) return set;
    return std::make_shared<data::Subset>(data::Subset::first(set, subset));
}

Data load_data(const Flags& f) {
    data::Normalize normalize({0.2860}, {0.3530});  // Fashion-MNIST's mean and std
    data::Transform plain = [normalize](const Tensor& x, Generator&) { return normalize(x); };
    // The batch order depends on the seed and the epoch only.
    auto train_options = data::DataLoaderOptions(f.batch_size).seed(f.seed).shuffle(true);
    train_options.transform(plain);
    return {data::DataLoader<>(fashion_mnist(data::Split::train, f, f.train_subset), train_options),
            data::DataLoader<>(fashion_mnist(data::Split::test, f, f.test_subset),
                               data::DataLoaderOptions(500).transform(plain))};
}

// ---- 2. The model: the rows of an image are the time steps ----

class RowLSTMImpl : public nn::UnaryModule {
  public:
    RowLSTMImpl(std::int64_t hidden, std::int64_t layers) : nn::UnaryModule("RowLSTM") {
        lstm = register_module(
            "lstm", nn::LSTM(nn::LSTMOptions(28, hidden).num_layers(layers).batch_first(true)));
        fc = register_module("fc", nn::Linear(hidden, 10));
    }
    // x (N, 1, 28, 28) -> scores (N, 10).
    Tensor forward(const Tensor& x) override {
        const auto n = std::int64_t(x.size(0));
        Tensor out = std::get<0>(lstm->forward(x.reshape({n, 28, 28})));  // (N, 28, hidden)
        return fc(out.narrow(1, 27, 1).squeeze(1));
    }
    nn::LSTM lstm{nullptr};
    nn::Linear fc{nullptr};
};
XG_MODULE(RowLSTM);

// ---- 3. The optimizer and its schedule ----

struct Optimization {
    std::unique_ptr<optim::Optimizer> optimizer;
    std::unique_ptr<optim::LRScheduler> scheduler;  // none, per step or per epoch
    bool per_step = false;
};

Optimization make_optimization(const Flags& f, RowLSTM& model, std::size_t steps) {
    Optimization o;
    auto params = model->parameters();
    if (f.optimizer == "adam") o.optimizer = std::make_unique<optim::Adam>(params, f.lr);
    if (f.optimizer == "adamw") o.optimizer = std::make_unique<optim::AdamW>(params, f.lr);
    if (f.optimizer == "rmsprop") o.optimizer = std::make_unique<optim::RMSprop>(params, f.lr);
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

Figures train_one_epoch(const Flags& f, int epoch, RowLSTM& model, data::DataLoader<>& loader,
                        Optimization& o, train::TrainingProgress& run) {
    model->train();
    loader.set_epoch(static_cast<std::uint64_t>(epoch));
    train::ProgressBar bar(loader.size(), fmt::format("epoch {}/{}", epoch + 1, f.epochs));
    double right = 0, seen = 0;
    for (auto& batch : loader) {
        Tensor logits = model(batch.images);
        Tensor loss = cross_entropy(logits, batch.labels);
        const double value = loss.item();
        XG_CHECK(std::isfinite(value),
                 "the loss is {} at epoch {}, step {}: training diverged (the last finite "
                 "checkpoint stays on disk; lower --lr or --clip)",
                 value, epoch + 1, run.step + 1);
        o.optimizer->zero_grad();
        loss.backward();
        if (f.clip > 0) optim::clip_grad_norm_(model->parameters(), f.clip);
        o.optimizer->step();
        if (o.per_step) o.scheduler->step();
        ++run.step;
        right += eq(argmax(logits.detach(), 1), batch.labels).sum().item();
        seen += double(batch.size());
        bar.update(batch.size(), value);
    }
    bar.finish();
    if (o.scheduler && !o.per_step) o.scheduler->step();
    return {bar.running_loss(), right / seen};
}

// ---- 5. Evaluation: mean loss and accuracy, without recording, in eval mode ----

Figures evaluate(RowLSTM& model, data::DataLoader<>& loader, train::ConfusionMatrix* confusion) {
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
    }
    model->train();
    return {loss_sum / seen, right / seen};
}

// ---- 6. The report, and the checkpoint's settings ----

void report_epoch(const Flags& f, train::TrainingProgress& run, const train::EpochMetrics& m) {
    run.metrics.add(m);
    fmt::print(
        "epoch {}/{}: train loss {:.4f} acc {:.2f}% | test loss {:.4f} acc {:.2f}% | {:.1f} s\n",
        m.epoch, f.epochs, m.train_loss, 100 * m.train_acc, m.test_loss, 100 * m.test_acc,
        m.seconds);
    run.metrics.write_csv((fs::path(f.out_dir) / "metrics.csv").string());
    run.metrics.write_svg((fs::path(f.out_dir) / "metrics.svg").string(),
                          "train_seq_mnist: a row-by-row LSTM on Fashion-MNIST");
}

// The settings a checkpoint records, under the names of their flags (with _ for -).
std::map<std::string, std::string> settings(const Flags& f) {
    return {{"hidden", std::to_string(f.hidden)},
            {"layers", std::to_string(f.layers)},
            {"optimizer", f.optimizer},
            {"scheduler", f.scheduler},
            {"lr", fmt::format("{}", f.lr)},
            {"clip", fmt::format("{}", f.clip)},
            {"batch_size", std::to_string(f.batch_size)},
            {"seed", std::to_string(f.seed)},
            {"epochs", std::to_string(f.epochs)}};
}

// A resumed run continues the saved one: the architecture must match, and a flag given on the
// command line that disagrees with the checkpoint is refused, naming both values.
void check_resume(const Flags& f, const std::string& path) {
    const auto saved = read_safetensors_header(path).metadata;
    for (const auto& [key, value] : settings(f)) {
        auto it = saved.find("info." + key);
        const bool architecture = key == "hidden" || key == "layers";
        if (key == "epochs" || it == saved.end() || it->second == value) continue;
        if (!architecture && !f.given.count(key)) continue;
        std::string flag = "--" + key;
        std::replace(flag.begin(), flag.end(), '_', '-');
        throw Error(
            fmt::format("{} {} conflicts with the checkpoint {}, trained with {} {} (start "
                        "a new --out-dir to change it)",
                        flag, value, path, flag, it->second));
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main(int argc, char** argv) {
    Flags f;
    CLI::App app{"Train a row-by-row LSTM on Fashion-MNIST with xgrad"};
    add_flags(app, f);
    CLI11_PARSE(app, argc, argv);
    note_given_flags(app, f);
    try {
        if (f.threads > 0) set_num_threads(f.threads);
        manual_seed(f.seed);
        Data data = load_data(f);
        RowLSTM model(f.hidden, f.layers);
        fmt::print("{}\n{} parameters\n", model->repr(), model->num_parameters());
        Optimization o = make_optimization(f, model, data.train.size());
        fs::create_directories(f.out_dir);
        const std::string ckpt_path = (fs::path(f.out_dir) / "checkpoint.safetensors").string();
        train::Checkpoint ckpt;
        ckpt.model(*model).optimizer(*o.optimizer).generator("global", default_generator());
        if (o.scheduler) ckpt.scheduler(*o.scheduler);
        train::TrainingProgress run;
        run.info = settings(f);
        if (f.resume) {
            check_resume(f, ckpt_path);
            run = ckpt.load(ckpt_path);
            run.info["epochs"] = std::to_string(f.epochs);
            fmt::print("resumed from {} after epoch {} (step {})\n", ckpt_path, run.epoch,
                       run.step);
        }
        Figures test{};
        for (int epoch = int(run.epoch), done = 0; epoch < f.epochs; ++epoch) {
            auto t0 = std::chrono::steady_clock::now();
            Figures tr = train_one_epoch(f, epoch, model, data.train, o, run);
            run.epoch = static_cast<std::uint64_t>(epoch + 1);
            test = evaluate(model, data.test, nullptr);
            report_epoch(f, run,
                         {std::size_t(epoch + 1), tr.loss, tr.accuracy, test.loss, test.accuracy,
                          o.optimizer->param_groups()[0].options().get_lr(), seconds_since(t0)});
            ckpt.save(ckpt_path, run);
            if (++done == f.stop_after && epoch + 1 < f.epochs) {
                fmt::print("stopping after epoch {} (--stop-after); continue with --resume\n",
                           epoch + 1);
                return 0;
            }
        }
        if (run.metrics.rows().empty()) {
            fmt::print("nothing to train: the checkpoint is already at epoch {}\n", run.epoch);
            return 0;
        }
        train::ConfusionMatrix confusion(10, data::FashionMNIST::classes());
        test = evaluate(model, data.test, &confusion);
        fmt::print("\nconfusion matrix (rows: true class, columns: predicted)\n{}\n",
                   confusion.to_string());
        fmt::print("metrics: {}/metrics.csv, chart: {}/metrics.svg, checkpoint: {}\n", f.out_dir,
                   f.out_dir, ckpt_path);
        fmt::print("test accuracy: {:.2f}%\n", 100 * test.accuracy);
    } catch (const std::exception& e) {
        fmt::print(stderr, "train_seq_mnist: {}\n", e.what());
        return 1;
    }
    return 0;
}
