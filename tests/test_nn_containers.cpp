// nn::ModuleList and nn::ModuleDict (nn/containers.hpp): as submodules their parameters get
// PyTorch's state_dict keys ("layers.0.weight", "heads.out.bias") and a PyTorch-written state
// dict gives PyTorch's outputs and gradients (tests/parity/nn_modules_more.py); indexing,
// iteration, insertion order, printing, a float64 gradient check and bad inputs.
#include <doctest/doctest.h>

#include "tests/error_of.hpp"
#include "tests/module_parity.hpp"
#include "tests/nn_check.hpp"
#include "xgrad.hpp"

using namespace xg;
using namespace xg::testing;

namespace {

// The Net of tests/parity/nn_modules_more.py.
class NetImpl : public nn::UnaryModule {
  public:
    NetImpl() : nn::UnaryModule("Net") {
        embed = register_module("embed", nn::Embedding(nn::EmbeddingOptions(6, 3).padding_idx(0)));
        layers = register_module(
            "layers",
            nn::ModuleList({nn::Linear(3, 3), nn::Linear(nn::LinearOptions(3, 3).bias(false))}));
        heads = register_module(
            "heads", nn::ModuleDict({{"out", nn::Linear(3, 2)}, {"aux", nn::Linear(3, 2)}}));
        act = register_module("act", nn::GELU());
    }
    Tensor forward(const Tensor& x) override {
        Tensor h = embed(x);
        for (const auto& m : *layers) h = act(dynamic_cast<nn::LinearImpl&>(*m)(h));
        return add(heads->at<nn::LinearImpl>("out")->forward(h),
                   mul(heads->at<nn::LinearImpl>("aux")->forward(h), 0.5));
    }
    nn::Embedding embed{nullptr};
    nn::ModuleList layers{nullptr};
    nn::ModuleDict heads{nullptr};
    nn::GELU act{nullptr};
};
XG_MODULE(Net);

}  // namespace

TEST_CASE("containers parity: ModuleList and ModuleDict submodules match PyTorch") {
    check_module_parity(Net(), "nn/nn_containers");
}

TEST_CASE("ModuleList: push_back, size, indexing, iteration and names") {
    nn::ModuleList list;
    CHECK(list->is_empty());
    CHECK(list->repr() == "ModuleList()");
    list->push_back(nn::Linear(2, 3));
    list->push_back(nn::ReLU());
    list->push_back(std::make_shared<nn::LinearImpl>(3, 1));
    CHECK(list->size() == 3);
    CHECK((*list)[1]->type_name() == "ReLU");
    CHECK(list->at<nn::LinearImpl>(2)->options.in_features() == 3);
    std::vector<std::string> types;
    for (const auto& m : *list) types.push_back(m->type_name());
    CHECK(types == std::vector<std::string>{"Linear", "ReLU", "Linear"});
    CHECK(list->named_parameters().keys() ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    nn::ModuleList more({nn::Tanh()});
    more->extend(*list);
    CHECK(more->size() == 4);
    CHECK(more->at<nn::LinearImpl>(1) == list->at<nn::LinearImpl>(0));  // shared, as PyTorch
    CHECK(more->named_parameters().keys()[0] == "1.weight");
    CHECK(fmt::format("{}", *list) ==
          "ModuleList(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n"
          "  (2): Linear(in_features=3, out_features=1, bias=True)\n)");
}

TEST_CASE("ModuleDict: insertion order, keys, lookup and names") {
    nn::ModuleDict d({{"b", nn::Linear(2, 2)}, {"a", nn::Tanh()}});
    d->insert("c", nn::Linear(nn::LinearOptions(2, 1).bias(false)));
    CHECK(d->size() == 3);
    CHECK(d->keys() == std::vector<std::string>{"b", "a", "c"});
    CHECK(d->contains("a"));
    CHECK_FALSE(d->contains("z"));
    CHECK((*d)["a"]->type_name() == "Tanh");
    CHECK(d->values().size() == 3);
    std::vector<std::string> keys;
    for (const auto& [k, m] : *d) keys.push_back(k);
    CHECK(keys == d->keys());
    CHECK(d->named_parameters().keys() ==
          std::vector<std::string>{"b.weight", "b.bias", "c.weight"});
    std::ostringstream os;
    os << *d;
    CHECK(os.str() ==
          "ModuleDict(\n  (b): Linear(in_features=2, out_features=2, bias=True)\n  (a): Tanh()\n"
          "  (c): Linear(in_features=2, out_features=1, bias=False)\n)");
}

TEST_CASE("containers: state_dict round trip and train/eval reach the children") {
    Net a, b;
    b->load_state_dict(a->state_dict());
    Tensor x = tensor(std::vector<std::int64_t>{1, 0, 5, 3}, Shape{2, 2});
    CHECK(a(x).to_vector() == b(x).to_vector());
    a->eval();
    CHECK_FALSE((*a->layers)[1]->is_training());
    CHECK_FALSE((*a->heads)["aux"]->is_training());
}

TEST_CASE("gradcheck: Net with a ModuleList and a ModuleDict, float64, every parameter") {
    manual_seed(17);
    Net net;
    net->to(float64);
    // Not the padding id 0: the row is read but gets no gradient, so differences would see it.
    Tensor x = tensor(std::vector<std::int64_t>{1, 4, 5, 3, 3, 2}, Shape{2, 3});
    Tensor gout = randn({2, 3, 2}, float64);
    check_model_gradients(*net, [&] { return mul(net(x), gout).sum(); });
}

TEST_CASE("containers: bad inputs name the container and the values") {
    nn::ModuleList list({nn::ReLU()});
    nn::ModuleDict d({{"a", nn::ReLU()}});
    check_error_rows({
        {"list index", [&] { (*list)[3]; }, {"ModuleList:", "index 3", "1 modules"}},
        {"list type", [&] { list->at<nn::LinearImpl>(0); }, {"ModuleList:", "ReLU"}},
        {"list null",
         [&] { list->push_back(std::shared_ptr<nn::LinearImpl>()); },
         {"ModuleList:", "null"}},
        {"dict missing", [&] { (*d)["b"]; }, {"ModuleDict:", "'b'"}},
        {"dict duplicate", [&] { d->insert("a", nn::Tanh()); }, {"ModuleDict:", "'a'", "already"}},
        {"dict dotted", [&] { d->insert("x.y", nn::Tanh()); }, {"ModuleDict:", "'x.y'"}},
        {"dict empty key", [&] { d->insert("", nn::Tanh()); }, {"ModuleDict:", "''"}},
        {"dict type", [&] { d->at<nn::LinearImpl>("a"); }, {"ModuleDict:", "'a'", "ReLU"}},
    });
}
