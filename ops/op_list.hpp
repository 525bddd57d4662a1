#pragma once
// The names of every public op. The test registry (tests/op_registry.hpp) must hold samples for
// each one, so adding an op here without tests fails the suite.
#include <string>
#include <vector>

namespace xg {

struct OpDecl {
    std::string name;
    bool differentiable;
};

const std::vector<OpDecl>& op_list();

}  // namespace xg
