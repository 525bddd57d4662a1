// nn::Module: registration, traversal, train/eval, state_dict/load_state_dict, to(), hooks,
// printing and summary.
#include <doctest/doctest.h>

#include <sstream>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {

struct BlockImpl : nn::UnaryModule {
    BlockImpl() : nn::UnaryModule("Block") {
        fc = register_module("fc", nn::Linear(3, 4));
        bn = register_module("bn", nn::BatchNorm1d(nn::BatchNormOptions(4)));
        scale = register_parameter("scale", ones({4}));
    }
    Tensor forward(const Tensor& x) override { return mul(bn(fc(x)), scale); }
    nn::Linear fc{nullptr};
    nn::BatchNorm1d bn{nullptr};
    Tensor scale;
};
XG_MODULE(Block);

nn::Sequential small_net() {
    return nn::Sequential(
        {nn::Linear(3, 4), nn::BatchNorm1d(nn::BatchNormOptions(4)), nn::ReLU(), nn::Linear(4, 2)});
}

// Every value of every state_dict entry, flattened, to compare whole modules.
std::vector<double> all_values(const nn::Module& m) {
    std::vector<double> v;
    for (const auto& [k, t] : m.state_dict()) {
        auto x = t.to_vector();
        v.insert(v.end(), x.begin(), x.end());
    }
    return v;
}

}  // namespace

TEST_CASE("Module: registration and recursive names in PyTorch's order") {
    Block b;
    auto names = b->named_parameters().keys();
    CHECK(names ==
          std::vector<std::string>{"scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"});
    CHECK(b->named_buffers().keys() ==
          std::vector<std::string>{"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"});
    // state_dict: per module its parameters then its buffers, then the children, as PyTorch.
    CHECK(b->state_dict().keys() ==
          std::vector<std::string>{"scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias",
                                   "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"});
    CHECK(b->state_dict().at("bn.num_batches_tracked").dtype() == int64);
    CHECK(b->parameters(false).size() == 1);
    CHECK(b->children().size() == 2);
    auto mods = b->named_modules();
    REQUIRE(mods.size() == 3);
    CHECK(mods[1].first == "fc");
    CHECK(mods[2].first == "bn");
    CHECK(b->num_parameters() == 4 + 12 + 4 + 4 + 4);
    for (auto& p : b->parameters()) CHECK(p.requires_grad());
    for (auto& t : b->buffers()) CHECK_FALSE(t.requires_grad());
    // Parameters carry their dotted names (shown by to_dot).
    CHECK(b->fc->weight.name() == "fc.weight");
    CHECK(b->scale.name() == "scale");
    // Nested one more level, the names grow.
    nn::Sequential s({b});
    CHECK(b->fc->weight.name() == "0.fc.weight");
    CHECK(s->state_dict().contains("0.bn.running_var"));
}

TEST_CASE("Module: registration errors") {
    Block b;
    CHECK_THROWS_WITH_AS(b->register_parameter("scale", ones({1})),
                         doctest::Contains("already has an attribute named 'scale'"), Error);
    CHECK_THROWS_WITH_AS(b->register_buffer("a.b", ones({1})), doctest::Contains("no '.'"), Error);
    CHECK_THROWS_WITH_AS(b->register_buffer("g", ones({1}).requires_grad_()),
                         doctest::Contains("must not require grad"), Error);
    CHECK_THROWS_WITH_AS(b->register_parameter("i", zeros({1}, int64)),
                         doctest::Contains("must be floating-point"), Error);
    CHECK_THROWS_WITH_AS(nn::Sequential({nn::Linear(2, 2), nn::MSELoss()}),
                         doctest::Contains("'1' (MSELoss) does not map a Tensor to a Tensor"),
                         Error);
}

TEST_CASE("Module: train/eval through the tree; zero_grad") {
    auto net = small_net();
    CHECK(net->is_training());
    net->eval();
    for (auto& m : net->modules()) CHECK_FALSE(m->is_training());
    net->train();
    for (auto& m : net->modules()) CHECK(m->is_training());
    manual_seed(3);
    net(randn({5, 3})).sum().backward();
    for (auto& p : net->parameters()) CHECK(p.grad().defined());
    net->zero_grad();
    for (auto& p : net->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("Module: state_dict round trip into a fresh module gives identical outputs") {
    manual_seed(1);
    auto a = small_net();
    a(randn({6, 3}));  // one train step moves the running statistics and the batch counter
    CHECK(a->state_dict().at("1.num_batches_tracked").item<std::int64_t>() == 1);
    a->eval();
    auto b = small_net();
    b->eval();
    Tensor x = randn({4, 3});
    CHECK(max_abs_diff(a(x), b(x)) > 1e-3);  // different random init
    b->load_state_dict(a->state_dict());
    CHECK(all_values(*a) == all_values(*b));
    CHECK(a(x).to_vector() == b(x).to_vector());
    // The state dict shares data with the module (as PyTorch's), and b's copies do not.
    CHECK(a->state_dict().at("0.weight").to_vector() == (*a)[0]->parameters()[0].to_vector());
}

TEST_CASE("Module: load_state_dict refusals change nothing") {
    manual_seed(2);
    auto net = small_net();
    auto before = all_values(*net);
    auto other = small_net();
    auto good = other->state_dict();

    auto without = [&](const std::string& drop) {
        nn::StateDict d;
        for (const auto& [k, t] : good)
            if (k != drop) d.insert(k, t);
        return d;
    };
    // The missing key comes last, so a loader that wrote as it went would have written the rest.
    CHECK_THROWS_WITH_AS(net->load_state_dict(without("3.bias")),
                         doctest::Contains("missing key '3.bias'"), Error);
    CHECK(all_values(*net) == before);

    nn::StateDict extra = good;
    extra.insert("4.weight", zeros({1}));
    CHECK_THROWS_WITH_AS(net->load_state_dict(extra),
                         doctest::Contains("unexpected key '4.weight'"), Error);
    CHECK(all_values(*net) == before);
    net->load_state_dict(extra, /*strict=*/false);  // extra keys are fine when not strict
    CHECK(all_values(*net) == all_values(*other));
}

TEST_CASE("Module: load_state_dict refuses a wrong shape or dtype, naming the key") {
    manual_seed(4);
    auto net = small_net();
    auto before = all_values(*net);
    auto other = small_net()->state_dict();
    nn::StateDict bad_shape, bad_dtype;
    for (const auto& [k, t] : other) {
        bad_shape.insert(k, k == "3.weight" ? zeros({2, 5}) : t);
        bad_dtype.insert(k, k == "1.running_var" ? t.to(float64) : t);
    }
    CHECK_THROWS_WITH_AS(
        net->load_state_dict(bad_shape),
        doctest::Contains("size mismatch for '3.weight': expected shape [2, 4], got [2, 5]"),
        Error);
    CHECK(all_values(*net) == before);
    CHECK_THROWS_WITH_AS(
        net->load_state_dict(bad_dtype),
        doctest::Contains("dtype mismatch for '1.running_var': expected float32, got float64"),
        Error);
    CHECK(all_values(*net) == before);
    // A parameter (not only a buffer) of the wrong dtype, and an undefined tensor.
    nn::StateDict param_dtype, undefined;
    for (const auto& [k, t] : other) {
        param_dtype.insert(k, k == "3.bias" ? t.to(float64) : t);
        undefined.insert(k, k == "0.weight" ? Tensor() : t);
    }
    std::string msg = error_of([&] { net->load_state_dict(param_dtype); });
    CHECK(msg.find("load_state_dict:") != std::string::npos);
    CHECK(msg.find("3.bias") != std::string::npos);
    CHECK(all_values(*net) == before);
    msg = error_of([&] { net->load_state_dict(undefined); });
    CHECK(msg.find("load_state_dict:") != std::string::npos);
    CHECK(msg.find("0.weight") != std::string::npos);
    CHECK(all_values(*net) == before);
}

TEST_CASE("Module: to(float64) converts parameters and float buffers in place") {
    auto net = small_net();
    Tensor w = net->at<nn::LinearImpl>(0)->weight;  // a handle taken before the cast
    auto v32 = w.to_vector();
    net->to(float64);
    CHECK(w.dtype() == float64);
    CHECK(w.requires_grad());
    CHECK(w.to_vector() == v32);  // float -> double is exact
    for (const auto& [k, t] : net->state_dict())
        CHECK(t.dtype() == (k == "1.num_batches_tracked" ? int64 : float64));
    Tensor y = net(randn({3, 3}, float64));
    CHECK(y.dtype() == float64);
    CHECK_THROWS_WITH_AS(net->to(int64), doctest::Contains("must be float32 or float64"), Error);
}

TEST_CASE("Module: forward pre- and post-hooks") {
    nn::Linear fc(2, 2);
    std::vector<std::string> log;
    auto h1 = fc->register_forward_pre_hook([&](nn::Module& m, const Tensor&) {
        log.push_back("pre " + m.type_name());
        return Tensor();
    });
    auto h2 = fc->register_forward_hook([&](nn::Module&, const Tensor& in, const Tensor& out) {
        log.push_back("post");
        CHECK(in.shape() == Shape{1, 2});
        return mul(out, 0.0);  // replaces the output
    });
    Tensor y = fc(ones({1, 2}));
    CHECK(log == std::vector<std::string>{"pre Linear", "post"});
    CHECK(y.to_vector() == std::vector<double>{0, 0});
    fc->remove_hook(h2);
    fc->remove_hook(h1);
    CHECK(fc(ones({1, 2})).to_vector() != std::vector<double>{0, 0});
    CHECK(log.size() == 2);
}

TEST_CASE("Module: printing like PyTorch's repr") {
    nn::Conv2d c(nn::Conv2dOptions(1, 6, 5).padding(2));
    CHECK(c->repr() == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
    nn::Linear fc(nn::LinearOptions(3, 4).bias(false));
    const nn::Module& m = *fc;
    CHECK(fmt::format("{}", m) == "Linear(in_features=3, out_features=4, bias=False)");
    auto s = nn::Sequential({nn::Sequential({nn::ReLU()}), nn::Dropout(0.5)});
    CHECK(s->repr() ==
          "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n  (1): Dropout(p=0.5, "
          "inplace=False)\n)");
    CHECK(nn::MultiMarginLoss()->repr() == "MultiMarginLoss()");
}

TEST_CASE("summary: layers with options, output shapes and parameter counts") {
    nn::Sequential net({nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(),
                        nn::Linear(6 * 14 * 14, 10)});
    std::string s = nn::summary(net, {2, 1, 28, 28});
    CHECK(s.find("0: Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))") !=
          std::string::npos);
    CHECK(s.find("[2, 6, 28, 28]") != std::string::npos);
    CHECK(s.find("[2, 6, 14, 14]") != std::string::npos);
    CHECK(s.find("[2, 1176]") != std::string::npos);
    CHECK(s.find("[2, 10]") != std::string::npos);
    const std::size_t total = 6 * 25 + 6 + 1176 * 10 + 10;
    CHECK(s.find(fmt::format("Total params: {}", total)) != std::string::npos);
    CHECK(s.find(" 156\n") != std::string::npos);  // the conv row's own count
    CHECK(net->is_training());                     // mode restored
    CHECK_THROWS_WITH_AS(
        nn::summary(net, {2, 3, 28, 28}),
        doctest::Contains("summary: the forward pass on input shape [2, 3, 28, 28] "
                          "failed: conv2d"),
        Error);
}

// ---- The first hour of a libtorch user: their lines, as they write them ----

struct PairSumImpl : nn::Module {
    PairSumImpl() : nn::Module("PairSum") {}
    Tensor forward(const Tensor& a, const Tensor& b) { return add(a, b); }
};
XG_MODULE(PairSum);

TEST_CASE("libtorch idioms: fmt and << print any module, a two-input forward through the holder") {
    nn::Sequential net({nn::Linear(3, 4), nn::ReLU()});
    CHECK(fmt::format("{}", *net) == net->repr());  // fmt::print("{}", *net) as README shows
    nn::Linear fc(2, 2);
    CHECK(fmt::format("{}", *fc) == "Linear(in_features=2, out_features=2, bias=True)");
    std::ostringstream os;
    os << *net;
    CHECK(os.str() == net->repr());
    PairSum m;
    CHECK(m(ones({2}), ones({2})).to_vector() == std::vector<double>{2, 2});  // m(a, b)
}

TEST_CASE(
    "libtorch idioms: load_state_dict(d, /*strict=*/false) returns the missing and unexpected "
    "keys") {
    nn::Sequential net({nn::Linear(3, 4), nn::Linear(4, 2)});
    nn::StateDict d;
    d.insert("0.weight", full({4, 3}, 0.5));
    d.insert("extra", ones({1}));
    const Tensor bias_before = net->state_dict().at("0.bias").clone();
    auto r = net->load_state_dict(d, /*strict=*/false);
    CHECK(r.missing_keys == std::vector<std::string>{"0.bias", "1.weight", "1.bias"});
    CHECK(r.unexpected_keys == std::vector<std::string>{"extra"});
    CHECK(net->state_dict().at("0.weight").to_vector() == std::vector<double>(12, 0.5));
    CHECK(net->state_dict().at("0.bias").to_vector() == bias_before.to_vector());  // kept
    CHECK_THROWS_WITH_AS(net->load_state_dict(d), doctest::Contains("missing key '0.bias'"), Error);
}

TEST_CASE("load_state_dict: a one-element [1] tensor loads into a 0-d buffer, as in PyTorch") {
    nn::BatchNorm1d bn(2);
    nn::StateDict d = bn->state_dict();
    d["num_batches_tracked"] = tensor({7}, int64);  // shape [1], as older PyTorch files have it
    bn->load_state_dict(d);
    CHECK(bn->num_batches_tracked.shape() == Shape{});
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 7);
    d["num_batches_tracked"] = tensor({7, 8}, int64);  // two elements: still a size mismatch
    CHECK_THROWS_WITH_AS(bn->load_state_dict(d),
                         doctest::Contains("size mismatch for 'num_batches_tracked'"), Error);
}
