// PyTorch parity for the core ops: each case replays the fixture written by
// tests/parity/core_ops.py (core_<case>.*.npy) and compares output and input gradients.
#include <doctest/doctest.h>

#include <exception>
#include <string>
#include <vector>

#include "tests/parity.hpp"

namespace xg::testing {
namespace {

struct Case {
    const char* name;  // fixture name without the "core_" prefix
    std::size_t n_inputs;
    TensorFn fn;
};

void run(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        const std::string name = std::string("core_") + c.name;
        CAPTURE(name);
        // A throwing case (e.g. a wrong output shape reaching grad) must not hide the others.
        try {
            ParityResult r = check_parity(name, c.n_inputs, c.fn);
            CHECK_MESSAGE(r, r.log);
        } catch (const std::exception& e) {
            FAIL_CHECK(name << " threw: " << e.what());
        }
    }
}

using L = const TensorList&;

std::vector<Case> elementwise_cases() {
    return {
        {"add_2x3_3", 2, [](L x) { return add(x[0], x[1]); }},
        {"add_2x1_1x3", 2, [](L x) { return x[0] + x[1]; }},
        {"sub_2x3_3", 2, [](L x) { return sub(x[0], x[1]); }},
        {"sub_2x1_1x3", 2, [](L x) { return x[0] - x[1]; }},
        {"mul_2x3_3", 2, [](L x) { return mul(x[0], x[1]); }},
        {"mul_2x1_1x3", 2, [](L x) { return x[0] * x[1]; }},
        {"div_2x3_3", 2, [](L x) { return div(x[0], x[1]); }},
        {"div_2x1_1x3", 2, [](L x) { return x[0] / x[1]; }},
        {"neg", 1, [](L x) { return neg(x[0]); }},
        {"pow_scalar", 1, [](L x) { return pow(x[0], 3.0); }},
        {"pow_scalar_frac", 1, [](L x) { return pow(x[0], 0.5); }},
        {"pow_tensor", 2, [](L x) { return pow(x[0], x[1]); }},
        {"exp", 1, [](L x) { return exp(x[0]); }},
        {"log", 1, [](L x) { return log(x[0]); }},
        {"sqrt", 1, [](L x) { return sqrt(x[0]); }},
        {"abs", 1, [](L x) { return abs(x[0]); }},
        {"tanh", 1, [](L x) { return tanh(x[0]); }},
        {"sigmoid", 1, [](L x) { return sigmoid(x[0]); }},
        {"relu", 1, [](L x) { return relu(x[0]); }},
        {"leaky_relu", 1, [](L x) { return leaky_relu(x[0], 0.1); }},
        {"clamp", 1, [](L x) { return clamp(x[0], -0.5, 0.5); }},
        {"clamp_min", 1, [](L x) { return clamp(x[0], -0.2, std::nullopt); }},
        {"clamp_max", 1, [](L x) { return clamp(x[0], std::nullopt, 0.3); }},
    };
}

std::vector<Case> reduction_cases() {
    return {
        {"sum_all", 1, [](L x) { return sum(x[0]); }},
        {"sum_dim1", 1, [](L x) { return sum(x[0], {1}); }},
        {"sum_dims02_keepdim", 1,
         [](L x) {
             return sum(x[0], {0, 2}, true);
         }},
        {"sum_dimneg1_keepdim", 1, [](L x) { return sum(x[0], {-1}, true); }},
        {"mean_all", 1, [](L x) { return mean(x[0]); }},
        {"mean_dim0", 1, [](L x) { return mean(x[0], {0}); }},
        {"mean_dims12_keepdim", 1,
         [](L x) {
             return mean(x[0], {1, 2}, true);
         }},
    };
}

std::vector<Case> max_var_cases() {
    return {
        {"max_all", 1, [](L x) { return max(x[0]); }},
        {"min_all", 1, [](L x) { return min(x[0]); }},
        {"amax_dim1", 1, [](L x) { return max(x[0], {1}); }},
        {"amax_dim2_keepdim", 1, [](L x) { return max(x[0], {2}, true); }},
        {"amin_dim0", 1, [](L x) { return min(x[0], {0}); }},
        {"amin_dimneg1_keepdim", 1, [](L x) { return min(x[0], {-1}, true); }},
        {"var_all", 1, [](L x) { return var(x[0]); }},
        {"var_all_c0", 1, [](L x) { return var(x[0], {}, 0); }},
        {"var_dim1", 1, [](L x) { return var(x[0], {1}, 1); }},
        {"var_dim2_c0_keepdim", 1, [](L x) { return var(x[0], {2}, 0, true); }},
        {"var_dims01", 1,
         [](L x) {
             return var(x[0], {0, 1}, 1);
         }},
    };
}

std::vector<Case> matmul_cases() {
    return {
        {"matmul_2d", 2, [](L x) { return matmul(x[0], x[1]); }},
        {"matmul_batched", 2, [](L x) { return matmul(x[0], x[1]); }},
        {"matmul_bcast_batch", 2, [](L x) { return matmul(x[0], x[1]); }},
        {"matmul_1d_2d", 2, [](L x) { return matmul(x[0], x[1]); }},
        {"matmul_2d_1d", 2, [](L x) { return matmul(x[0], x[1]); }},
        {"mlp_sigmoid", 3, [](L x) { return sigmoid(matmul(x[0], x[1]) + x[2]); }},
    };
}

std::vector<Case> view_cases() {
    return {
        {"reshape", 1,
         [](L x) {
             return reshape(x[0], {4, -1});
         }},
        {"flatten", 1, [](L x) { return flatten(x[0]); }},
        {"flatten_1_2", 1, [](L x) { return flatten(x[0], 1, 2); }},
        {"squeeze_all", 1, [](L x) { return squeeze(x[0]); }},
        {"squeeze_dim1", 1, [](L x) { return squeeze(x[0], 1); }},
        {"unsqueeze_dim1", 1, [](L x) { return unsqueeze(x[0], 1); }},
        {"unsqueeze_dimneg1", 1, [](L x) { return unsqueeze(x[0], -1); }},
    };
}

std::vector<Case> movement_cases() {
    return {
        {"transpose", 1, [](L x) { return transpose(x[0], 0, 2); }},
        {"permute", 1,
         [](L x) {
             return permute(x[0], {1, 2, 0});
         }},
        {"slice_step", 1, [](L x) { return slice(x[0], 1, 1, 5, 2); }},
        {"slice_narrow", 1, [](L x) { return slice(x[0], 0, 1, 3); }},
        {"slice_neg", 1, [](L x) { return slice(x[0], 1, -4, 7); }},
        {"cat_dim0", 2,
         [](L x) {
             return cat({x[0], x[1]}, 0);
         }},
        {"cat_dim1", 3,
         [](L x) {
             return cat({x[0], x[1], x[2]}, 1);
         }},
        {"stack_dim0", 2,
         [](L x) {
             return stack({x[0], x[1]}, 0);
         }},
        {"stack_dim2", 3,
         [](L x) {
             return stack({x[0], x[1], x[2]}, 2);
         }},
        {"pad_last", 1,
         [](L x) {
             return pad(x[0], {1, 2});
         }},
        {"pad_two_dims", 1,
         [](L x) {
             return pad(x[0], {2, 0, 1, 1}, 0.5);
         }},
        {"pad_3d", 1,
         [](L x) {
             return pad(x[0], {0, 1, 1, 0}, -1.0);
         }},
    };
}

}  // namespace

TEST_CASE("parity core: elementwise ops with broadcasting") {
    run(elementwise_cases());
}
TEST_CASE("parity core: sum and mean") {
    run(reduction_cases());
}
TEST_CASE("parity core: max, min and var") {
    run(max_var_cases());
}
TEST_CASE("parity core: matmul and an MLP layer") {
    run(matmul_cases());
}
TEST_CASE("parity core: reshape, flatten, squeeze, unsqueeze") {
    run(view_cases());
}
TEST_CASE("parity core: transpose, permute, slice, cat, stack, pad") {
    run(movement_cases());
}

TEST_CASE("parity: load_fixture throws xg::Error for a missing fixture") {
    CHECK_THROWS_AS(load_fixture("core_no_such_case", "in0"), xg::Error);
    CHECK_THROWS_WITH(load_fixture("core_no_such_case", "out"),
                      doctest::Contains("load_fixture: missing fixture"));
}

}  // namespace xg::testing
