#include <doctest/doctest.h>

#include "xgrad.hpp"

using namespace xg;

TEST_CASE("to_dot: one node per op with shape and dtype, leaves by name") {
    auto x = tensor({{1.0, 2.0, 3.0}}, float64).requires_grad_().set_name("x");
    auto w = tensor({0.5, 0.5, 0.5}, float64).requires_grad_().set_name("w");
    auto y = tanh(x * w).sum();
    std::string dot = to_dot(y);
    CHECK(dot.rfind("digraph xgrad {", 0) == 0);
    CHECK(dot.find("SumBackward\\n[] float64") != std::string::npos);
    CHECK(dot.find("TanhBackward\\n[1, 3] float64") != std::string::npos);
    CHECK(dot.find("MulBackward\\n[1, 3] float64") != std::string::npos);
    CHECK(dot.find("label=\"x\\n[1, 3] float64\"") != std::string::npos);
    CHECK(dot.find("label=\"w\\n[3] float64\"") != std::string::npos);
    // 5 nodes and 4 edges; the same graph prints the same text every time.
    CHECK(std::count(dot.begin(), dot.end(), '>') == 4);
    CHECK(to_dot(y) == dot);
    CHECK(to_dot(x).find("label=\"x") != std::string::npos);
    CHECK_THROWS_AS(to_dot(Tensor()), Error);
}
