// train/checkpoint: a whole training state in one file. Exact resume (bitwise), all-or-nothing
// loads, every layer type through a file, and weights trained in PyTorch.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "test_paths.hpp"
#include "tests/data_testing.hpp"
#include "tests/op_registry.hpp"
#include "train/checkpoint.hpp"
#include "xgrad.hpp"

using namespace xg;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
    return (fs::temp_directory_path() / ("xgrad_test_ckpt_" + name)).string();
}

nn::Sequential small_net() {
    return nn::Sequential({nn::Conv2d(nn::Conv2dOptions(1, 3, 3).padding(1)), nn::BatchNorm2d(3),
                           nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(),
                           nn::Dropout(0.3), nn::Linear(3 * 4 * 4, 4)});
}

data::TensorDataset random_data(std::size_t n) {
    Generator g(123);
    Tensor x = randn({n, 1, 8, 8}, g);
    xt::xarray<std::int64_t> y = xt::xarray<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = static_cast<std::int64_t>(g.next_u64() % 4);
    return data::TensorDataset(x, Tensor(y));
}

// Everything a run owns, made fresh: model, optimizer, one-cycle schedule, loader.
struct Run {
    nn::Sequential net;
    std::unique_ptr<optim::Adam> opt;
    std::unique_ptr<optim::OneCycleLR> sched;
    data::DataLoader<std::vector<Tensor>> loader;  // rows of (images, labels)
    train::Checkpoint ckpt;
    train::TrainingProgress progress;

    Run(std::uint64_t init_seed, int epochs)
        : net((manual_seed(init_seed), small_net())), loader(random_data(40), [] {
              data::DataLoaderOptions o;
              o.batch_size(8);
              o.shuffle(true);
              o.seed(7);
              return o;
          }()) {
        opt = std::make_unique<optim::Adam>(net->parameters(), optim::AdamOptions(1e-2));
        optim::OneCycleLROptions oc;
        oc.epochs(epochs);
        oc.steps_per_epoch(static_cast<std::int64_t>(loader.size()));
        sched = std::make_unique<optim::OneCycleLR>(*opt, 1e-2, oc);
        ckpt.model(*net).optimizer(*opt).scheduler(*sched).generator("global", default_generator());
    }

    void train_epochs(int from, int to) {
        for (int e = from; e < to; ++e) {
            loader.set_epoch(static_cast<std::uint64_t>(e));
            double sum = 0;
            for (auto& b : loader) {
                Tensor loss = cross_entropy(net(b[0]), b[1]);
                opt->zero_grad();
                loss.backward();
                opt->step();
                sched->step();
                sum += loss.item();
                ++progress.step;
            }
            progress.epoch = static_cast<std::uint64_t>(e + 1);
            progress.metrics.add({progress.epoch, sum, 0, 0, 0, sched->get_last_lr()[0], 0});
        }
    }
};

void check_bitwise_equal(nn::Module& a, nn::Module& b) {
    auto sa = a.state_dict(), sb = b.state_dict();
    REQUIRE(sa.keys() == sb.keys());
    for (const auto& [key, t] : sa) {
        const auto& k = key;  // doctest's CAPTURE makes a lambda: no structured binding in C++17
        CAPTURE(k);
        auto x = t.to_vector(), y = sb.at(k).to_vector();
        CHECK(x == y);  // exact, not approximate
    }
}

std::vector<char> read_bytes(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& p, const std::vector<char>& b) {
    std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE("checkpoint: train N epochs == train k, save, load into fresh objects, train N-k") {
    int threads = get_num_threads();
    set_num_threads(1);  // bitwise equality is promised for a fixed thread count
    const int N = 3, k = 1;
    const std::string path = temp_path("resume.safetensors");

    Run straight(1, N);
    straight.train_epochs(0, N);

    Run first(1, N);
    first.train_epochs(0, k);
    first.ckpt.save(path, first.progress);
    // A fresh process: different initial weights, generator elsewhere, nothing shared.
    manual_seed(999);
    Run resumed(2, N);
    resumed.progress = resumed.ckpt.load(path);
    CHECK(resumed.progress.epoch == static_cast<std::uint64_t>(k));
    CHECK(resumed.progress.step == first.progress.step);
    CHECK(resumed.progress.metrics.rows().size() == 1);
    CHECK(resumed.sched->get_last_lr() == first.sched->get_last_lr());
    resumed.train_epochs(k, N);

    check_bitwise_equal(*straight.net, *resumed.net);
    CHECK(default_generator().state() == [&] {
        // The global generator (dropout masks) also ends where the straight run's did.
        Run again(1, N);
        again.train_epochs(0, N);
        return default_generator().state();
    }());
    CHECK(resumed.progress.metrics.rows().size() == static_cast<std::size_t>(N));
    std::remove(path.c_str());
    set_num_threads(threads);
}

TEST_CASE(
    "checkpoint: a failed load leaves model, optimizer, scheduler and generator as they were") {
    const std::string path = temp_path("fail.safetensors");
    Run a(3, 2);
    a.train_epochs(0, 1);
    a.ckpt.save(path, a.progress);

    Run b(4, 2);
    b.train_epochs(0, 1);
    auto before_model = b.net->state_dict();
    std::vector<std::vector<double>> model_values;
    for (const auto& [k, t] : before_model) model_values.push_back(t.to_vector());
    auto before_opt = b.opt->state_dict();
    std::vector<double> lr_before = b.sched->get_last_lr();
    std::string rng_before = default_generator().state();
    auto unchanged = [&] {
        std::size_t i = 0;
        for (const auto& [key, t] : b.net->state_dict()) {
            const auto& k = key;  // CAPTURE makes a lambda: no structured binding in C++17
            CAPTURE(k);
            CHECK(t.to_vector() == model_values[i++]);
        }
        auto now = b.opt->state_dict();
        CHECK(now.scalars == before_opt.scalars);
        for (const auto& [key, t] : now.tensors) {
            const auto& k = key;  // CAPTURE makes a lambda: no structured binding in C++17
            CAPTURE(k);
            CHECK(t.to_vector() == before_opt.tensors.at(k).to_vector());
        }
        CHECK(b.sched->get_last_lr() == lr_before);
        CHECK(default_generator().state() == rng_before);
    };

    const auto good = read_bytes(path);
    SUBCASE("truncated file") {
        for (std::size_t len : {std::size_t(0), std::size_t(7), good.size() / 2, good.size() - 1}) {
            write_bytes(path, std::vector<char>(good.begin(), good.begin() + long(len)));
            CHECK_THROWS_AS(b.ckpt.load(path), Error);
            unchanged();
        }
    }
    SUBCASE("flipped bytes across the file") {
        for (std::size_t pos = 0; pos < good.size(); pos += 97) {
            auto bad = good;
            bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
            write_bytes(path, bad);
            CAPTURE(pos);
            CHECK_THROWS_AS(b.ckpt.load(path), Error);
        }
        unchanged();
    }
    SUBCASE("a model of another shape is refused by tensor name") {
        nn::Sequential other({nn::Conv2d(nn::Conv2dOptions(1, 5, 3).padding(1))});
        train::Checkpoint c;
        c.model(*other);
        CHECK_THROWS_WITH_AS(c.load(path), doctest::Contains("0.weight"), Error);
    }
    SUBCASE("the optimizer refuses after the model was loaded: the model is put back") {
        optim::SGD sgd(b.net->parameters(), optim::SGDOptions(0.1));
        train::Checkpoint c;
        c.model(*b.net).optimizer(sgd).generator("global", default_generator());
        CHECK_THROWS_AS(c.load(path), Error);
        unchanged();
    }
    SUBCASE("a file that is not a training checkpoint") {
        save_safetensors(path, {{"w", zeros({2})}});
        CHECK_THROWS_WITH_AS(b.ckpt.load(path), doctest::Contains("not a training checkpoint"),
                             Error);
        unchanged();
    }
    std::remove(path.c_str());
}

// Damaged or foreign checkpoint files: the error names the file, and a refused load changes
// neither the model nor the optimizer nor the generator.
TEST_CASE("checkpoint: a refused load names the file and changes nothing") {
    xg::testing::ScratchDir dir;
    auto snapshot = [](const nn::Module& m) {
        std::vector<std::vector<double>> r;
        for (const auto& kv : m.state_dict()) r.push_back(kv.second.to_vector());
        return r;
    };
    // Saves a trained model, optimizer and generator to `name`, spoils the bytes, and loads them
    // into a fresh model (of another shape when other_model) that has taken a step of its own.
    auto refused = [&dir, snapshot](const std::string& name,
                                    std::function<void(std::vector<char>&)> spoil,
                                    bool other_model) {
        return [&dir, snapshot, name, spoil, other_model] {
            Generator g(3);
            nn::Sequential saved({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
            optim::Adam saved_opt(saved->parameters(), optim::AdamOptions(0.01));
            sum(saved->forward(ones({2, 3}))).backward();
            saved_opt.step();
            const std::string path = dir.file(name);
            train::Checkpoint ck;
            ck.model(*saved).optimizer(saved_opt).generator("g", g);
            ck.save(path, {});
            auto b = read_bytes(path);
            spoil(b);
            write_bytes(path, b);

            nn::Sequential net =
                other_model ? nn::Sequential({nn::Linear(3, 5), nn::ReLU(), nn::Linear(5, 2)})
                            : nn::Sequential({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
            optim::Adam opt(net->parameters(), optim::AdamOptions(0.02));
            sum(net->forward(ones({1, 3}))).backward();
            opt.step();
            Generator g2(99);
            const std::string g2_state = g2.state();
            auto before = snapshot(*net);
            auto opt_before = opt.state_dict();
            train::Checkpoint load;
            load.model(*net).optimizer(opt).generator("g", g2);
            try {
                load.load(path);
            } catch (...) {
                CHECK(snapshot(*net) == before);
                auto opt_after = opt.state_dict();
                CHECK(opt_after.scalars == opt_before.scalars);
                for (const auto& [k, v] : opt_before.tensors) {
                    CHECK(opt_after.tensors.at(k).shape() == v.shape());
                    CHECK(opt_after.tensors.at(k).to_vector() == v.to_vector());
                }
                CHECK(g2.state() == g2_state);
                throw;
            }
        };
    };
    xg::testing::check_error_rows({
        {"another model's file",
         refused(
             "other.ckpt", [](std::vector<char>&) {}, true),
         {"other.ckpt"}},
        {"a truncated file",
         refused(
             "trunc.ckpt", [](std::vector<char>& b) { b.resize(b.size() - 5); }, false),
         {"trunc.ckpt"}},
        {"a bit flip in the data",
         refused(
             "flip.ckpt", [](std::vector<char>& b) { b[b.size() - 2] ^= 0x20; }, false),
         {"flip.ckpt", "checksum mismatch"}},
        {"an empty file",
         refused(
             "empty.ckpt", [](std::vector<char>& b) { b.clear(); }, false),
         {"empty.ckpt"}},
    });
}

TEST_CASE("checkpoint: every layer type through a file into a fresh module, identical outputs") {
    auto make = [] {
        return nn::Sequential(
            {nn::Conv2d(nn::Conv2dOptions(2, 4, 3).padding(1)), nn::BatchNorm2d(4),
             nn::LeakyReLU(0.1), nn::ConvTranspose2d(nn::ConvTranspose2dOptions(4, 4, 2).stride(2)),
             nn::GroupNorm(2, 4), nn::Tanh(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
             nn::AvgPool2d(nn::AvgPool2dOptions(2)), nn::AdaptiveAvgPool2d(Pair2(2, 2)),
             nn::Flatten(), nn::LayerNorm(nn::LayerNormOptions({16})), nn::Linear(16, 8),
             nn::BatchNorm1d(8), nn::Sigmoid(), nn::Dropout(0.5), nn::ReLU(), nn::Linear(8, 3)});
    };
    manual_seed(11);
    auto a = make();
    Tensor x = randn({5, 2, 8, 8});
    a(x).sum().backward();  // a training step's side effects: running statistics move
    a->eval();
    Tensor ya = a(x);
    const std::string path = temp_path("layers.safetensors");
    train::Checkpoint ca;
    ca.model(*a);
    ca.save(path, {});
    manual_seed(12);
    auto b = make();
    b->eval();
    CHECK(b(x).to_vector() != ya.to_vector());
    train::Checkpoint cb;
    cb.model(*b);
    cb.load(path);
    CHECK(b(x).to_vector() == ya.to_vector());
    std::remove(path.c_str());
}

TEST_CASE("checkpoint: weights trained in PyTorch load into the same xgrad model, same outputs") {
    // tests/parity/trained_cnn_fixture.py: the same layers, trained 20 Adam steps in PyTorch.
    nn::Sequential net({nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4),
                        nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Conv2d(4, 6, 3),
                        nn::ReLU(), nn::Flatten(), nn::Dropout(0.25), nn::Linear(6 * 2 * 2, 5)});
    auto file =
        load_safetensors(std::string(XGRAD_FIXTURE_DIR) + "/checkpoints/trained_cnn.safetensors");
    CHECK(!file.checksummed);  // written as another tool writes it
    nn::StateDict sd;
    for (const auto& [k, t] : file.tensors) sd.insert(k, t);
    net->load_state_dict(sd);
    net->to(float64);
    net->eval();
    Tensor x = testing::load_fixture("checkpoints/trained_cnn", "x");
    Tensor y = testing::load_fixture("checkpoints/trained_cnn", "y");
    CHECK(testing::max_abs_diff(net(x), y) < 1e-10);
}

TEST_CASE("checkpoint: a model or optimizer state with NaN or inf is refused, the old file kept") {
    xg::testing::ScratchDir dir;
    nn::Sequential net({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
    optim::SGD opt(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    sum(net->forward(ones({2, 3}))).backward();
    opt.step();
    train::Checkpoint ck;
    ck.model(*net).optimizer(opt);
    const std::string path = dir.file("ck.safetensors");
    ck.save(path, {});
    const std::vector<char> before = read_bytes(path);
    {
        NoGradGuard no_grad;
        Tensor(net->state_dict().at("2.bias")).fill_(std::numeric_limits<double>::quiet_NaN());
    }
    std::string msg = xg::testing::error_of([&] { ck.save(path, {}); });
    CHECK(msg.find("model tensor '2.bias' holds non-finite values") != std::string::npos);
    CHECK(read_bytes(path) == before);
    {
        NoGradGuard no_grad;
        Tensor(net->state_dict().at("2.bias")).fill_(0.0);
        Tensor buf = opt.state(net->parameters().front())->buffers.at("momentum_buffer");
        buf.fill_(std::numeric_limits<double>::infinity());
    }
    msg = xg::testing::error_of([&] { ck.save(path, {}); });
    CHECK(msg.find("optimizer tensor 'state.0.momentum_buffer' holds non-finite") !=
          std::string::npos);
    CHECK(read_bytes(path) == before);
}
