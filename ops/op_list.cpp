#include "ops/op_list.hpp"

namespace xg {

const std::vector<OpDecl>& op_list() {
    static const std::vector<OpDecl> ops = {
        // elementwise (ops/elementwise.cpp)
        {"add", true},
        {"sub", true},
        {"mul", true},
        {"div", true},
        {"neg", true},
        {"pow", true},
        {"exp", true},
        {"log", true},
        {"sqrt", true},
        {"abs", true},
        {"tanh", true},
        {"sigmoid", true},
        {"relu", true},
        {"leaky_relu", true},
        {"clamp", true},
        {"where", true},
        {"sign", false},
        {"eq", false},
        {"ne", false},
        {"lt", false},
        {"le", false},
        {"gt", false},
        {"ge", false},

        // reductions (ops/reduce.cpp)
        {"sum", true},
        {"mean", true},
        {"max", true},
        {"min", true},
        {"var", true},
        {"sum_to", true},
        {"expand", true},
        {"argmax", false},
        {"argmin", false},

        // matmul (ops/matmul.cpp)
        {"matmul", true},
        {"gemm_op", true},
        {"linear", true},

        // shape (ops/shape.cpp)
        {"reshape", true},
        {"view", true},
        {"flatten", true},
        {"transpose", true},
        {"permute", true},
        {"squeeze", true},
        {"unsqueeze", true},
        {"slice", true},
        {"cat", true},
        {"stack", true},
        {"pad", true},

        // casts (core/tensor.cpp)
        {"to", true},
        {"clone", true},

        // convolution and pooling (ops/conv.cpp, ops/pool.cpp)
        {"conv2d", true},
        {"conv_transpose2d", true},
        {"max_pool2d", true},
        {"avg_pool2d", true},
        {"adaptive_avg_pool2d", true},

        // normalization and dropout (ops/norm.cpp, ops/dropout.cpp)
        {"batch_norm", true},
        {"layer_norm", true},
        {"group_norm", true},
        {"dropout", true},

        // softmax and losses (ops/loss.cpp)
        {"softmax", true},
        {"log_softmax", true},
        {"cross_entropy", true},
        {"nll_loss", true},
        {"mse_loss", true},
        {"l1_loss", true},
        {"binary_cross_entropy_with_logits", true},
        {"multi_margin_loss", true},
    };
    return ops;
}

}  // namespace xg
