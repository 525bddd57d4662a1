// core/named_tensors.hpp: the ordered name -> tensor container of state dicts and checkpoints.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "xgrad.hpp"

namespace xg::testing {
namespace {

TEST_CASE("NamedTensors: insertion order, unique names, lookups") {
    NamedTensors d;
    d.insert("b", zeros({1}));
    d.insert("a", ones({1}));
    CHECK(d.keys() == std::vector<std::string>{"b", "a"});
    CHECK(d.size() == 2);
    CHECK(d.contains("a"));
    CHECK(d.count("c") == 0);
    CHECK(d.find("c") == d.end());
    CHECK(d.find("a")->second.item() == 1.0);
    CHECK_THROWS_WITH_AS(d.insert("a", zeros({1})), doctest::Contains("duplicate name 'a'"), Error);
    CHECK_THROWS_WITH_AS(d.at("c"), doctest::Contains("no tensor named 'c'"), Error);
    d["c"] = full({2}, 3.0);  // appended, as std::map's operator[] inserts
    CHECK(d.keys() == std::vector<std::string>{"b", "a", "c"});
    d["b"] = ones({2});  // replaced in place
    CHECK(d.keys() == std::vector<std::string>{"b", "a", "c"});
    CHECK(d.at("b").numel() == 2);
    NamedTensors l = {{"x", zeros({1})}, {"y", ones({1})}};
    CHECK(l.keys() == std::vector<std::string>{"x", "y"});
    CHECK_THROWS_WITH_AS((NamedTensors{{"x", zeros({1})}, {"x", ones({1})}}),
                         doctest::Contains("duplicate name 'x'"), Error);
}

TEST_CASE("NamedTensors: a module's state dict goes to a file and back as it is") {
    nn::Sequential net({nn::Linear(3, 4), nn::BatchNorm1d(4), nn::ReLU(), nn::Linear(4, 2)});
    const std::string path = "named_tensors_test.safetensors";
    save_safetensors(path, net->state_dict());  // the libtorch user's line, as written
    nn::Sequential other({nn::Linear(3, 4), nn::BatchNorm1d(4), nn::ReLU(), nn::Linear(4, 2)});
    other->load_state_dict(load_safetensors(path).tensors);
    for (const auto& item : net->state_dict())  // no structured binding in doctest's lambdas
        CHECK(other->state_dict().at(item.first).to_vector() == item.second.to_vector());
    std::remove(path.c_str());
}

}  // namespace
}  // namespace xg::testing
