// Trains a character-level language model on a text corpus (by default Debian's fortunes, about
// 2.6 MB of English) and writes text with it: `make run-lm`. The same pieces as train_cnn (flags,
// progress bar, metrics CSV + SVG chart, an atomic checkpoint per epoch, exact --resume), with a
// GPT or an LSTM from nn/char_lm.hpp and a sampler with temperature and top-k.
//
//   ./build/train_lm                         # the default GPT: 4 layers, width 128, 4 heads
//   ./build/train_lm --model lstm --layers 2 --width 256
//   ./build/train_lm --resume                # continue from runs/train_lm/checkpoint.safetensors
//   ./build/train_lm --sample-only --prompt "The " --sample-chars 500 --temperature 0.8
//
// An epoch is --steps optimizer steps on random windows of the training text (the first 90% of
// the corpus); after each, the loss on a fixed set of validation windows (the last 10%), in
// nats per character, and its perplexity.
#include <xgrad.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "data/text.hpp"
#include "nn/char_lm.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"

using namespace xg;
namespace lm = xg::nn::lm;
namespace fs = std::filesystem;

struct Flags {
    lm::Config model;
    int epochs = 4, steps = 125, threads = 0, stop_after = 0, val_windows = 256;
    std::size_t batch = 32, sample_chars = 300;
    double lr = 2e-3, temperature = 0.8;
    std::int64_t top_k = 20;
    std::uint64_t seed = 0;
    std::string data, out_dir = "runs/train_lm", prompt = "The ";
    bool resume = false, sample_only = false;
    std::set<std::string> given;  // the flags on the command line
};

void add_flags(CLI::App& app, Flags& f) {
    app.add_option("--model", f.model.model, "gpt (pre-norm Transformer) or lstm")
        ->check(CLI::IsMember({"gpt", "lstm"}));
    app.add_option("--epochs", f.epochs, "epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--steps", f.steps, "optimizer steps per epoch")->check(CLI::PositiveNumber);
    app.add_option("--batch", f.batch, "windows per step")->check(CLI::PositiveNumber);
    app.add_option("--context", f.model.context, "characters of context (T)")
        ->check(CLI::PositiveNumber);
    app.add_option("--layers", f.model.layers, "Transformer blocks or LSTM layers")
        ->check(CLI::PositiveNumber);
    app.add_option("--width", f.model.width, "d_model (gpt) or hidden size (lstm)")
        ->check(CLI::PositiveNumber);
    app.add_option("--heads", f.model.heads, "attention heads (gpt)")->check(CLI::PositiveNumber);
    app.add_option("--dropout", f.model.dropout,
                   "dropout on attention weights (gpt) or "
                   "between LSTM layers")
        ->check(CLI::Range(0.0, 0.9));
    app.add_option("--lr", f.lr, "peak learning rate of AdamW's one-cycle schedule")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", f.seed, "seed of initialization, batches and sampling");
    app.add_option("--threads", f.threads, "xgrad's threads (0: the library's default)");
    app.add_option("--data", f.data,
                   "a text file or a directory of them (default: $XGRAD_TEXT_CORPUS or "
                   "/usr/share/games/fortunes)");
    app.add_option("--out-dir,--out", f.out_dir, "where metrics, the chart and checkpoints go");
    app.add_flag("--resume", f.resume, "continue from the checkpoint in --out-dir");
    app.add_option("--stop-after", f.stop_after,
                   "stop after this many epochs of this run, as if interrupted (for --resume)");
    app.add_option("--val-windows", f.val_windows, "validation windows, evenly spaced")
        ->check(CLI::PositiveNumber);
    app.add_option("--prompt", f.prompt, "the text the samples start from");
    app.add_option("--temperature", f.temperature, "sampling temperature (> 0)")
        ->check(CLI::PositiveNumber);
    app.add_option("--top-k", f.top_k, "sample among the k likeliest characters (0: all)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--sample-chars", f.sample_chars, "characters to sample after training");
    app.add_flag("--sample-only", f.sample_only,
                 "load the checkpoint in --out-dir (model and vocabulary) and only write text");
}

void note_given_flags(const CLI::App& app, Flags& f) {
    for (const CLI::Option* o : app.get_options()) {
        if (o->count() == 0 || o->get_lnames().empty()) continue;
        std::string name = o->get_lnames().front();
        std::replace(name.begin(), name.end(), '-', '_');
        f.given.insert(name);
    }
}

// ---- The settings a checkpoint records, under their flags' names ----

std::map<std::string, std::string> settings(const Flags& f) {
    return {{"model", f.model.model},
            {"context", std::to_string(f.model.context)},
            {"layers", std::to_string(f.model.layers)},
            {"width", std::to_string(f.model.width)},
            {"heads", std::to_string(f.model.heads)},
            {"dropout", fmt::format("{}", f.model.dropout)},
            {"lr", fmt::format("{}", f.lr)},
            {"batch", std::to_string(f.batch)},
            {"steps", std::to_string(f.steps)},
            {"seed", std::to_string(f.seed)},
            {"epochs", std::to_string(f.epochs)}};
}

bool is_architecture(const std::string& key) {
    return key == "model" || key == "context" || key == "layers" || key == "width" ||
           key == "heads";
}

// A resumed run continues the saved one: the architecture must agree, and the other settings
// when given on the command line (--epochs may grow). The vocabulary must be the corpus's.
void check_resume(const Flags& f, const std::map<std::string, std::string>& saved,
                  const std::string& vocab, const std::string& path) {
    for (const auto& kv : settings(f)) {
        auto it = saved.find("info." + kv.first);
        if (kv.first == "epochs" || it == saved.end() || it->second == kv.second) continue;
        if (!is_architecture(kv.first) && !f.given.count(kv.first)) continue;
        throw Error(
            fmt::format("--{} {} conflicts with the checkpoint {}, trained with --{} {}: "
                        "a resumed run continues the saved one (start a new --out-dir "
                        "to change it)",
                        kv.first, kv.second, path, kv.first, it->second));
    }
    auto v = saved.find("info.vocab");
    XG_CHECK(v != saved.end() && v->second == vocab,
             "the corpus's vocabulary differs from the checkpoint {}'s: resume on the "
             "same --data",
             path);
}

// ---- Batches: random windows of the training text; fixed validation windows ----

// The batch order depends on the seed and the epoch only, so a resumed run draws the same.
Generator batch_generator(const Flags& f, int epoch) {
    return Generator(f.seed * 1000003ull + std::uint64_t(epoch) + 1);
}

data::TextBatch random_batch(const data::TextDataset& set, std::size_t batch, Generator& gen) {
    Tensor idx = randint(0, std::int64_t(set.windows()), {batch}, gen);
    std::vector<std::size_t> indices;
    for (double d : idx.to_vector()) indices.push_back(std::size_t(d));
    return set.get_batch(indices);
}

// n windows spread evenly over the validation text (the same ones every epoch and in
// bench/lm_torch.py: window j starts at j * (size - 1) / (n - 1)).
std::vector<std::size_t> validation_windows(const data::TextDataset& set, std::size_t n) {
    n = std::min(n, set.windows());
    std::vector<std::size_t> starts;
    for (std::size_t j = 0; j < n; ++j)
        starts.push_back(n == 1 ? 0 : j * (set.windows() - 1) / (n - 1));
    return starts;
}

struct Figures {
    double loss = 0, accuracy = 0;
};

double correct(const Tensor& logits, const Tensor& target) {
    return eq(argmax(logits.detach(), 2), target).sum().item();
}

Figures evaluate(lm::LanguageModel& model, const data::TextDataset& set,
                 const std::vector<std::size_t>& windows, std::size_t batch) {
    NoGradGuard no_grad;
    model.eval();
    double loss_sum = 0, right = 0, seen = 0;
    for (std::size_t i = 0; i < windows.size(); i += batch) {
        std::vector<std::size_t> part(
            windows.begin() + std::ptrdiff_t(i),
            windows.begin() + std::ptrdiff_t(std::min(i + batch, windows.size())));
        data::TextBatch b = set.get_batch(part);
        Tensor logits = model.forward(b.context);
        const double n = double(b.target.numel());
        loss_sum += lm::lm_loss(logits, b.target).item() * n;
        right += correct(logits, b.target);
        seen += n;
    }
    model.train();
    return {loss_sum / seen, right / seen};
}

// ---- One epoch of training ----

Figures train_one_epoch(const Flags& f, int epoch, lm::LanguageModel& model,
                        const data::TextDataset& set, optim::Optimizer& opt,
                        optim::LRScheduler& sched, train::TrainingProgress& run) {
    model.train();
    Generator gen = batch_generator(f, epoch);
    train::ProgressBar bar(std::size_t(f.steps), fmt::format("epoch {}/{}", epoch + 1, f.epochs));
    double right = 0, seen = 0;
    for (int s = 0; s < f.steps; ++s) {
        data::TextBatch b = random_batch(set, f.batch, gen);
        Tensor logits = model.forward(b.context);
        Tensor loss = lm::lm_loss(logits, b.target);
        const double value = loss.item();
        XG_CHECK(std::isfinite(value),
                 "the loss is {} at epoch {}, step {}: training diverged (the last finite "
                 "checkpoint stays on disk; lower --lr)",
                 value, epoch + 1, run.step + 1);
        opt.zero_grad();
        loss.backward();
        opt.step();
        sched.step();
        ++run.step;
        right += correct(logits, b.target);
        seen += double(b.target.numel());
        bar.update(b.size(), value);
    }
    bar.finish();
    return {bar.running_loss(), right / seen};
}

// ---- Sampling ----

std::string generate(const Flags& f, lm::LanguageModel& model, const data::CharVocab& vocab) {
    for (char c : f.prompt)
        XG_CHECK(vocab.contains(c),
                 "the prompt's character '{}' (byte {}) is not in the vocabulary",
                 std::string(1, c), int(static_cast<unsigned char>(c)));
    Generator gen(f.seed);
    auto ids =
        lm::sample(model, vocab.encode(f.prompt), f.sample_chars, f.temperature, f.top_k, gen);
    return vocab.decode(ids);
}

void print_sample(const Flags& f, const std::string& text) {
    fmt::print("\n--- sample (temperature {}, top-k {}, seed {}) ---\n{}\n---\n", f.temperature,
               f.top_k, f.seed, text);
}

// --sample-only: the model's settings and vocabulary come from the checkpoint.
int sample_only(Flags f, const std::string& path) {
    XG_CHECK(fs::exists(path), "no checkpoint at {} (train first, or pass --out-dir)", path);
    const auto meta = read_safetensors_header(path).metadata;
    auto get = [&](const std::string& key) {
        auto it = meta.find("info." + key);
        XG_CHECK(it != meta.end(), "the checkpoint {} has no '{}' setting", path, key);
        return it->second;
    };
    const data::CharVocab vocab = data::CharVocab::parse(get("vocab"));
    f.model.model = get("model");
    f.model.context = std::stoll(get("context"));
    f.model.layers = std::stoll(get("layers"));
    f.model.width = std::stoll(get("width"));
    f.model.heads = std::stoll(get("heads"));
    f.model.vocab = std::int64_t(vocab.size());
    auto model = lm::make_model(f.model);
    train::Checkpoint ckpt;
    ckpt.model(*model);
    ckpt.load(path);
    const std::string text = generate(f, *model, vocab);
    fmt::print("{}\n", text);
    return 0;
}

void report_epoch(const Flags& f, train::TrainingProgress& run, const train::EpochMetrics& m) {
    run.metrics.add(m);
    fmt::print(
        "epoch {}/{}: train {:.4f} nats/char (perplexity {:.2f}) | validation {:.4f} nats/char "
        "(perplexity {:.2f}, accuracy {:.1f}%) | {:.1f} s\n",
        m.epoch, f.epochs, m.train_loss, std::exp(m.train_loss), m.test_loss, std::exp(m.test_loss),
        100 * m.test_acc, m.seconds);
    run.metrics.write_csv((fs::path(f.out_dir) / "metrics.csv").string());
    run.metrics.write_svg(
        (fs::path(f.out_dir) / "metrics.svg").string(),
        fmt::format("train_lm ({}) on {}", f.model.model, fs::path(f.data).filename().string()));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(Flags& f) {
    if (f.threads > 0) set_num_threads(f.threads);
    const std::string ckpt_path = (fs::path(f.out_dir) / "checkpoint.safetensors").string();
    if (f.sample_only) return sample_only(f, ckpt_path);

    data::TextFile corpus(f.data);
    f.data = corpus.path();
    const data::TextDataset train_set = corpus.train(f.model.context);
    const data::TextDataset val_set = corpus.validation(f.model.context);
    const auto windows = validation_windows(val_set, std::size_t(f.val_windows));
    fmt::print("corpus {}: {} characters, vocabulary {}, {} train / {} validation\n", f.data,
               corpus.tokens().size(), corpus.vocab().size(), corpus.split(),
               corpus.tokens().size() - corpus.split());

    manual_seed(f.seed);
    f.model.vocab = std::int64_t(corpus.vocab().size());
    auto model = lm::make_model(f.model);
    fmt::print("{} with {} parameters\n", f.model.model, model->num_parameters());
    optim::AdamW opt(model->parameters(), f.lr);
    optim::OneCycleLR sched(opt, f.lr,
                            optim::OneCycleLROptions().epochs(f.epochs).steps_per_epoch(f.steps));

    fs::create_directories(f.out_dir);
    train::Checkpoint ckpt;
    ckpt.model(*model).optimizer(opt).scheduler(sched).generator("global", default_generator());
    train::TrainingProgress run;
    if (f.resume) {
        check_resume(f, read_safetensors_header(ckpt_path).metadata, corpus.vocab().serialize(),
                     ckpt_path);
        run = ckpt.load(ckpt_path);
        fmt::print("resumed from {} after epoch {} (step {})\n", ckpt_path, run.epoch, run.step);
    }
    run.info = settings(f);
    run.info["vocab"] = corpus.vocab().serialize();

    Figures val{};
    auto t_train = std::chrono::steady_clock::now();
    for (int epoch = int(run.epoch), done = 0; epoch < f.epochs; ++epoch) {
        auto t0 = std::chrono::steady_clock::now();
        Figures tr = train_one_epoch(f, epoch, *model, train_set, opt, sched, run);
        const double train_s = seconds_since(t0);
        val = evaluate(*model, val_set, windows, f.batch);
        run.epoch = std::uint64_t(epoch + 1);
        report_epoch(f, run,
                     {std::size_t(epoch + 1), tr.loss, tr.accuracy, val.loss, val.accuracy,
                      opt.param_groups()[0].options().get_lr(), seconds_since(t0)});
        fmt::print("  {:.2f} steps/s, {:.0f} characters/s\n", f.steps / train_s,
                   f.steps * double(f.batch * std::size_t(f.model.context)) / train_s);
        ckpt.save(ckpt_path, run);
        if (++done == f.stop_after && epoch + 1 < f.epochs) {
            fmt::print("stopping after epoch {} (--stop-after); continue with --resume\n",
                       epoch + 1);
            return 0;
        }
    }
    if (run.metrics.rows().empty()) {
        fmt::print("nothing to train: the checkpoint is already at epoch {}\n", run.epoch);
        val = evaluate(*model, val_set, windows, f.batch);
    } else {
        fmt::print("trained in {:.1f} s\n", seconds_since(t_train));
    }
    fmt::print("metrics: {}/metrics.csv, chart: {}/metrics.svg, checkpoint: {}\n", f.out_dir,
               f.out_dir, ckpt_path);
    fmt::print("validation loss: {:.4f} nats/char (perplexity {:.2f})\n", val.loss,
               std::exp(val.loss));
    if (f.sample_chars > 0) print_sample(f, generate(f, *model, corpus.vocab()));
    return 0;
}

int main(int argc, char** argv) {
    Flags f;
    CLI::App app{"Train a character-level language model with xgrad"};
    add_flags(app, f);
    CLI11_PARSE(app, argc, argv);
    note_given_flags(app, f);
    try {
        return run(f);
    } catch (const std::exception& e) {
        fmt::print(stderr, "train_lm: {}\n", e.what());
        return 1;
    }
}
