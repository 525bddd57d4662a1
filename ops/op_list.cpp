#include "ops/op_list.hpp"

namespace xg {

const std::vector<OpDecl>& op_list() {
    static const std::vector<OpDecl> ops = {
        // elementwise (ops/elementwise.cpp)
        {"add", true}, {"sub", true}, {"mul", true}, {"div", true}, {"neg", true},
        {"pow", true}, {"exp", true}, {"log", true}, {"sqrt", true}, {"abs", true},
        {"tanh", true}, {"sigmoid", true}, {"relu", true}, {"leaky_relu", true},
        {"clamp", true}, {"where", true}, {"sign", false}, {"eq", false}, {"ne", false},
        {"lt", false}, {"le", false}, {"gt", false}, {"ge", false},

        // reductions (ops/reduce.cpp)
        {"sum", true}, {"mean", true}, {"max", true}, {"min", true}, {"var", true},
        {"sum_to", true}, {"expand", true}, {"argmax", false}, {"argmin", false},

        // matmul (ops/matmul.cpp)
        {"matmul", true}, {"gemm_op", true},

        // shape (ops/shape.cpp)
        {"reshape", true}, {"view", true}, {"flatten", true}, {"transpose", true},
        {"permute", true}, {"squeeze", true}, {"unsqueeze", true}, {"slice", true},
        {"cat", true}, {"stack", true}, {"pad", true},

        // casts (core/tensor.cpp)
        {"to", true}, {"clone", true},
    };
    return ops;
}

}  // namespace xg
