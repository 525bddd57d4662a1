// Module::replace_module (nn/module.hpp), as libtorch's: the child is swapped under the same
// name and position, containers run the new module, and bad calls change nothing.
#include <doctest/doctest.h>

#include <string>

#include "tests/error_of.hpp"
#include "xgrad.hpp"

namespace xg::testing {
namespace {

TEST_CASE("replace_module: Sequential and ModuleList run the new child under the old name") {
    nn::Sequential net({nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)});
    nn::Linear fresh(3, 4);
    net->replace_module("0", fresh.ptr());
    CHECK((*net)[0] == fresh.ptr());
    CHECK(net->state_dict().keys() ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    CHECK(fresh->weight.name() == "0.weight");
    Tensor x = randn({5, 3});
    nn::Linear last = net->at<nn::LinearImpl>(2);
    CHECK(net(x).to_vector() == last(relu(fresh(x))).to_vector());

    nn::ModuleList list({nn::Linear(2, 2)});
    nn::Linear other(2, 2);
    list->replace_module("0", other.ptr());
    CHECK((*list)[0] == other.ptr());
}

TEST_CASE("replace_module: refusals name the module and change nothing") {
    nn::Sequential net({nn::Linear(3, 4), nn::ReLU()});
    auto before = (*net)[0];
    CHECK(error_of([&] { net->replace_module("5", nn::ReLU().ptr()); }).find("has no child '5'") !=
          std::string::npos);
    CHECK(error_of([&] {
              net->replace_module("0", nn::CrossEntropyLoss().ptr());
          }).find("does not map a Tensor to a Tensor") != std::string::npos);
    CHECK(error_of([&] { net->replace_module("0", nullptr); }).find("null") != std::string::npos);
    CHECK((*net)[0] == before);
    CHECK(net(randn({2, 3})).shape() == Shape{2, 4});
}

}  // namespace
}  // namespace xg::testing
