// xg::save / xg::load (train/save.hpp) for modules, optimizers, tensors and vectors of tensors,
// as torch::save / torch::load: round trips, the exact lines a libtorch user writes, errors for
// a module of another architecture or a file of another kind, atomic writes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/data_testing.hpp"
#include "tests/error_of.hpp"
#include "xgrad.hpp"

namespace xg::testing {
namespace {

nn::Sequential small_net(std::int64_t hidden = 4) {
    return nn::Sequential({nn::Linear(3, hidden), nn::ReLU(), nn::Linear(hidden, 2)});
}

void check_same(const NamedTensors& a, const NamedTensors& b) {
    REQUIRE(a.keys() == b.keys());
    for (const std::string& k : a.keys()) {
        CAPTURE(k);
        const Tensor& t = a.at(k);
        CHECK(t.dtype() == b.at(k).dtype());
        CHECK(t.shape() == b.at(k).shape());
        CHECK(t.to_vector() == b.at(k).to_vector());
    }
}

TEST_CASE("save: a module round-trips through xg::save and xg::load") {
    ScratchDir dir;
    const std::string path = dir.file("model.safetensors");
    nn::Sequential net = small_net();
    xg::save(net, path);
    nn::Sequential other = small_net();  // another random init
    CHECK(other->state_dict().at("0.weight").to_vector() !=
          net->state_dict().at("0.weight").to_vector());
    xg::load(other, path);
    check_same(net->state_dict(), other->state_dict());
    Tensor x = randn({5, 3});
    CHECK(net(x).to_vector() == other(x).to_vector());
    // PyTorch's keys, as the file holds them.
    CHECK(load_safetensors(path).tensors.keys() ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
}

TEST_CASE("save: the issue's line save_safetensors(path, net->state_dict()) compiles and loads") {
    ScratchDir dir;
    const std::string path = dir.file("net.safetensors");
    nn::Sequential net = small_net();
    save_safetensors(path, net->state_dict());
    nn::Sequential other = small_net();
    other->load_state_dict(load_safetensors(path).tensors);
    check_same(net->state_dict(), other->state_dict());
    xg::load(other, path);  // a file without xg::save's tag loads into a module too
}

TEST_CASE("save: a shared_ptr to a user's module and buffers") {
    ScratchDir dir;
    const std::string path = dir.file("bn.safetensors");
    auto bn = std::make_shared<nn::BatchNorm2dImpl>(nn::BatchNormOptions(3));
    bn->forward(randn({4, 3, 2, 2}));  // running stats move off their init
    xg::save(bn, path);
    auto other = std::make_shared<nn::BatchNorm2dImpl>(nn::BatchNormOptions(3));
    xg::load(other, path);
    check_same(bn->state_dict(), other->state_dict());
}

TEST_CASE("save: loading into another architecture names the key and both shapes") {
    ScratchDir dir;
    const std::string path = dir.file("model.safetensors");
    xg::save(small_net(4), path);
    nn::Sequential wider = small_net(5);
    const auto before = wider->state_dict().at("0.bias").to_vector();
    std::string msg = error_of([&] { xg::load(wider, path); });
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("'0.weight'") != std::string::npos);
    CHECK(msg.find(fmt::format("{}", Shape{5, 3})) != std::string::npos);
    CHECK(msg.find(fmt::format("{}", Shape{4, 3})) != std::string::npos);
    CHECK(wider->state_dict().at("0.bias").to_vector() == before);  // nothing changed

    nn::Sequential deeper({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2), nn::Linear(2, 2)});
    msg = error_of([&] { xg::load(deeper, path); });
    CHECK(msg.find("missing key '3.weight'") != std::string::npos);
    nn::Sequential shallower({nn::Linear(3, 4)});
    msg = error_of([&] { xg::load(shallower, path); });
    CHECK(msg.find("unexpected key '2.weight'") != std::string::npos);
}

TEST_CASE("save: an optimizer's state round-trips and the next steps agree") {
    ScratchDir dir;
    const std::string path = dir.file("optim.safetensors");
    nn::Sequential net = small_net();
    optim::SGD opt(net->parameters(), optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-2));
    Tensor x = randn({6, 3});
    auto step = [&](nn::Sequential& m, optim::SGD& o) {
        o.zero_grad();
        m(x).pow(2).mean().backward();
        o.step();
    };
    step(net, opt);
    step(net, opt);
    xg::save(opt, path);
    xg::save(net, dir.file("net.safetensors"));

    nn::Sequential net2 = small_net();
    xg::load(net2, dir.file("net.safetensors"));
    optim::SGD opt2(net2->parameters(), optim::SGDOptions(0.5));
    xg::load(opt2, path);
    CHECK(static_cast<const optim::SGDOptions&>(opt2.param_groups()[0].options()).momentum() ==
          0.9);
    step(net, opt);
    step(net2, opt2);
    check_same(net->state_dict(), net2->state_dict());

    optim::Adam adam(net2->parameters(), optim::AdamOptions(1e-3));
    CHECK(error_of([&] { xg::load(adam, path); }).find("SGD") != std::string::npos);
    CHECK(error_of([&] { xg::load(net2, path); }).find("holds a saved optimizer, not a module") !=
          std::string::npos);
}

TEST_CASE("save: tensors of every dtype and vectors of them round-trip") {
    ScratchDir dir;
    std::vector<Tensor> ts{
        randn({2, 3}),    randn({4}, float64),    arange(6, int64).reshape({2, 3}),
        arange(5, int32), gt(randn({3, 2}), 0.0), scalar_tensor(2.5)};
    for (std::size_t i = 0; i < ts.size(); ++i) {
        CAPTURE(i);
        const std::string path = dir.file(fmt::format("t{}.safetensors", i));
        xg::save(ts[i], path);
        Tensor back;
        xg::load(back, path);
        CHECK(back.dtype() == ts[i].dtype());
        CHECK(back.shape() == ts[i].shape());
        CHECK(back.to_vector() == ts[i].to_vector());
    }
    const std::string vpath = dir.file("v.safetensors");
    xg::save(ts, vpath);
    std::vector<Tensor> back;
    xg::load(back, vpath);
    REQUIRE(back.size() == ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) CHECK(back[i].to_vector() == ts[i].to_vector());
    std::vector<Tensor> none;
    xg::save(none, dir.file("empty.safetensors"));
    xg::load(back, dir.file("empty.safetensors"));
    CHECK(back.empty());

    // A leaf that requires grad is saved by value.
    Tensor w = randn({2, 2}).requires_grad_();
    xg::save(w, dir.file("w.safetensors"));
    Tensor w2;
    xg::load(w2, dir.file("w.safetensors"));
    CHECK(!w2.requires_grad());
    CHECK(w2.to_vector() == w.to_vector());

    Tensor t;
    CHECK(error_of([&] { xg::load(t, vpath); }).find("holds a saved tensors, not a tensor") !=
          std::string::npos);
    CHECK(error_of([&] { xg::save(Tensor(), dir.file("u.safetensors")); }).find("undefined") !=
          std::string::npos);
    CHECK(error_of([&] { xg::load(t, dir.file("absent.safetensors")); }) != "");
}

TEST_CASE("save: a failed save leaves the old file as it was") {
    ScratchDir dir;
    const std::string path = dir.file("model.safetensors");
    nn::Sequential net = small_net();
    xg::save(net, path);
    const auto before = read_bytes(path);
    detail::set_save_fault_hook([](const char* step) { return std::string(step) == "rename"; });
    std::string msg = error_of([&] { xg::save(small_net(), path); });
    detail::set_save_fault_hook(nullptr);
    CHECK(msg.find("rename") != std::string::npos);
    CHECK(read_bytes(path) == before);
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.exists();
    CHECK(files == 1);  // no temporary left behind
}

}  // namespace
}  // namespace xg::testing
