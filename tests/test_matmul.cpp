// matmul and gemm_op: OpInfos for the registry walk, and forward values checked by hand.
#include <doctest/doctest.h>

#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

void mm(std::vector<Sample>& s, std::string desc, Tensor a, Tensor b) {
    s.push_back({std::move(desc), {a, b}, [](const TensorList& x) { return matmul(x[0], x[1]); }});
}

void gemm(std::vector<Sample>& s, std::string desc, Tensor a, Tensor b, bool ta, bool tb) {
    s.push_back({std::move(desc), {a, b}, [ta, tb](const TensorList& x) {
                     return gemm_op(x[0], x[1], ta, tb);
                 }});
}

void er(std::vector<ErrorCase>& e, std::string desc, std::string fragment,
        std::function<void()> call) {
    e.push_back({std::move(desc), std::move(call), std::move(fragment)});
}

std::vector<double> values(const Tensor& t) {
    return t.to_vector();
}

std::vector<Sample> matmul_samples() {
    std::vector<Sample> s;
    mm(s, "2-D [2,3] @ [3,4]", rand64({2, 3}), rand64({3, 4}));
    mm(s, "size-1 dims [1,3] @ [3,1]", rand64({1, 3}), rand64({3, 1}));
    mm(s, "dot [3] . [3]", rand64({3}), rand64({3}));
    mm(s, "1-D @ 2-D [3] @ [3,2]", rand64({3}), rand64({3, 2}));
    mm(s, "2-D @ 1-D [2,3] @ [3]", rand64({2, 3}), rand64({3}));
    mm(s, "batched @ 2-D [2,3,4] @ [4,2]", rand64({2, 3, 4}), rand64({4, 2}));
    mm(s, "broadcast batch [2,1,2,3] @ [3,3,2]", rand64({2, 1, 2, 3}), rand64({3, 3, 2}));
    mm(s, "2-D @ batched [2,3] @ [2,3,2]", rand64({2, 3}), rand64({2, 3, 2}));
    mm(s, "1-D @ batched [3] @ [2,3,2]", rand64({3}), rand64({2, 3, 2}));
    mm(s, "batched @ 1-D [2,2,3] @ [3]", rand64({2, 2, 3}), rand64({3}));
    mm(s, "only b requires grad", rand64({2, 3}).detach(), rand64({3, 2}));
    return s;
}

std::vector<ErrorCase> matmul_errors() {
    std::vector<ErrorCase> e;
    er(e, "inner dims", "cannot multiply [4, 3] by [2, 2] (3 != 2)", [] {
        matmul(zeros({4, 3}), zeros({2, 2}));
    });
    er(e, "dot of different lengths", "cannot multiply [3] by [4] (3 != 4)",
       [] { matmul(zeros({3}), zeros({4})); });
    er(e, "batched inner dims", "cannot multiply [2, 3, 4] by [2, 3, 4] (4 != 3)", [] {
        matmul(zeros({2, 3, 4}), zeros({2, 3, 4}));
    });
    er(e, "0-d operand", "got [] and [3]", [] { matmul(scalar_tensor(1.0), zeros({3})); });
    er(e, "batch dims", "batch dims of [2, 3, 4] and [5, 4, 2] cannot be broadcast", [] {
        matmul(zeros({2, 3, 4}), zeros({5, 4, 2}));
    });
    e.push_back({"mixed dtypes",
                 [] {
                     matmul(zeros({2, 2}), zeros({2, 2}, float64));
                 },
                 "same dtype",
                 {"float32 and float64"}});
    er(e, "int64", "must be float32 or float64", [] {
        matmul(zeros({2, 2}, int64), zeros({2, 2}, int64));
    });
    er(e, "undefined", "undefined", [] { matmul(Tensor(), zeros({2})); });
    return e;
}

std::vector<Sample> gemm_op_samples() {
    std::vector<Sample> s;
    gemm(s, "NN [2,3] [3,4]", rand64({2, 3}), rand64({3, 4}), false, false);
    gemm(s, "NT [2,3] [4,3]", rand64({2, 3}), rand64({4, 3}), false, true);
    gemm(s, "TN [3,2] [3,4]", rand64({3, 2}), rand64({3, 4}), true, false);
    gemm(s, "TT [3,2] [4,3]", rand64({3, 2}), rand64({4, 3}), true, true);
    gemm(s, "batched NN [2,2,3] [2,3,2]", rand64({2, 2, 3}), rand64({2, 3, 2}), false, false);
    gemm(s, "batched NT [2,2,3] [2,4,3]", rand64({2, 2, 3}), rand64({2, 4, 3}), false, true);
    gemm(s, "batched TN [2,3,2] [2,3,2]", rand64({2, 3, 2}), rand64({2, 3, 2}), true, false);
    gemm(s, "batched TT [2,1,3,2] [2,1,2,3]", rand64({2, 1, 3, 2}), rand64({2, 1, 2, 3}), true,
         true);
    gemm(s, "size-1 TT [1,3] [1,1]", rand64({1, 3}), rand64({1, 1}), true, true);
    gemm(s, "only a requires grad, TN", rand64({3, 2}), rand64({3, 2}).detach(), true, false);
    return s;
}

std::vector<ErrorCase> gemm_op_errors() {
    std::vector<ErrorCase> e;
    er(e, "1-D operand", "need at least 2 dims", [] {
        gemm_op(zeros({3}), zeros({3, 2}), false, false);
    });
    er(e, "inner dims with flags", "cannot multiply [2, 3] by [3, 2] (transposed) (3 != 2)", [] {
        gemm_op(zeros({2, 3}), zeros({3, 2}), false, true);
    });
    er(e, "batch dims differ", "batch dims of [2, 2, 3] and [3, 3, 2] must be identical", [] {
        gemm_op(zeros({2, 2, 3}), zeros({3, 3, 2}), false, false);
    });
    er(e, "ndim differs", "must be identical", [] {
        gemm_op(zeros({2, 3}), zeros({1, 3, 2}), false, false);
    });
    er(e, "mixed dtypes", "same dtype", [] {
        gemm_op(zeros({2, 2}), zeros({2, 2}, float64), false, false);
    });
    return e;
}

}  // namespace

XG_REGISTER_OP_INFO(
    matmul_info,
    {"matmul", matmul_samples, matmul_errors, [] {
         return Parity{
             {{"core_matmul_2d", 2, [](const TensorList& x) { return matmul(x[0], x[1]); }},
              {"core_matmul_batched", 2, [](const TensorList& x) { return matmul(x[0], x[1]); }},
              {"core_matmul_bcast_batch", 2,
               [](const TensorList& x) { return matmul(x[0], x[1]); }},
              {"core_matmul_1d_2d", 2, [](const TensorList& x) { return matmul(x[0], x[1]); }},
              {"core_matmul_2d_1d", 2, [](const TensorList& x) { return matmul(x[0], x[1]); }},
              {"core_mlp_sigmoid", 3,
               [](const TensorList& x) { return sigmoid(matmul(x[0], x[1]) + x[2]); }}}};
     }});
XG_REGISTER_OP_INFO(gemm_op_info,
                    {"gemm_op", gemm_op_samples, gemm_op_errors, [] {
                         return no_parity(
                             "matmul's building block: every matmul parity case runs through it");
                     }});

TEST_CASE("matmul: 2-D values by hand") {
    Tensor a = tensor({{1, 2}, {3, 4}}), b = tensor({{5, 6}, {7, 8}});
    Tensor c = matmul(a, b);
    CHECK(c.shape() == Shape{2, 2});
    CHECK(values(c) == std::vector<double>{19, 22, 43, 50});
    CHECK(values(a.matmul(b)) == values(c));
    Tensor r = matmul(tensor({{1, 0, 2}}, float64), tensor({{1, 2}, {3, 4}, {5, 6}}, float64));
    CHECK(r.shape() == Shape{1, 2});
    CHECK(values(r) == std::vector<double>{11, 14});
}

TEST_CASE("matmul: 1-D operands drop their dim") {
    Tensor d = matmul(tensor({1, 2, 3}), tensor({4, 5, 6}));
    CHECK(d.dim() == 0);
    CHECK(d.item() == 32.0);
    Tensor m = tensor({{1, 2}, {3, 4}, {5, 6}});
    Tensor vm = matmul(tensor({1, 1, 1}), m);
    CHECK(vm.shape() == Shape{2});
    CHECK(values(vm) == std::vector<double>{9, 12});
    Tensor mv = matmul(m, tensor({1, -1}));
    CHECK(mv.shape() == Shape{3});
    CHECK(values(mv) == std::vector<double>{-1, -1, -1});
    Tensor bv = matmul(stack({m, mul(m, 2.0)}), tensor({1, 0}));
    CHECK(bv.shape() == Shape{2, 3});
    CHECK(values(bv) == std::vector<double>{1, 3, 5, 2, 6, 10});
}

TEST_CASE("matmul: batch dims broadcast like torch.matmul") {
    manual_seed(1);
    Tensor a = randn({2, 1, 3, 4}, float64), b = randn({3, 4, 2}, float64);
    Tensor c = matmul(a, b);
    REQUIRE(c.shape() == Shape{2, 3, 3, 2});
    for (std::int64_t i = 0; i < 2; ++i) {
        for (std::int64_t j = 0; j < 3; ++j) {
            Tensor ai = reshape(slice(a, 0, i, i + 1), {3, 4});
            Tensor bj = reshape(slice(b, 0, j, j + 1), {4, 2});
            Tensor cij = reshape(slice(slice(c, 0, i, i + 1), 1, j, j + 1), {3, 2});
            CHECK(rel_error(cij, matmul(ai, bj)) < 1e-12);
        }
    }
    // A batched left operand times a matrix folds into one gemm; same values as broadcasting.
    Tensor x = randn({2, 3, 4}, float64), w = randn({4, 5}, float64);
    CHECK(rel_error(matmul(x, w), matmul(x, expand(w, {2, 4, 5}))) < 1e-12);
}

TEST_CASE("matmul: empty inner dim gives zeros") {
    Tensor c = matmul(zeros({2, 0}, float64), zeros({0, 3}, float64));
    CHECK(c.shape() == Shape{2, 3});
    CHECK(values(c) == std::vector<double>(6, 0.0));
    CHECK(values(matmul(zeros({2, 0}), zeros({0, 3}))) == std::vector<double>(6, 0.0));  // float32
    CHECK(matmul(zeros({0, 2}), zeros({2, 3})).shape() == Shape{0, 3});
    CHECK(matmul(zeros({2, 2, 0}), zeros({0, 3})).shape() == Shape{2, 2, 3});
}

TEST_CASE("matmul: float32 agrees with float64") {
    manual_seed(2);
    Tensor a = randn({17, 33}, float64), b = randn({33, 9}, float64);
    Tensor c64 = matmul(a, b);
    Tensor c32 = matmul(a.to(float32), b.to(float32));
    CHECK(c32.dtype() == float32);
    CHECK(rel_error(c32.to(float64), c64) < 1e-4);
    Tensor g64 = matmul(randn({3, 5, 7}, float64), randn({3, 7, 2}, float64));
    CHECK(g64.shape() == Shape{3, 5, 2});
}

TEST_CASE("gemm_op: flags transpose the stored operands") {
    manual_seed(3);
    Tensor a = randn({2, 3, 4}, float64), b = randn({2, 4, 5}, float64);
    Tensor ref = matmul(a, b);
    Tensor at = transpose(a, -1, -2), bt = transpose(b, -1, -2);
    CHECK(rel_error(gemm_op(a, b, false, false), ref) < 1e-12);
    CHECK(rel_error(gemm_op(at, b, true, false), ref) < 1e-12);
    CHECK(rel_error(gemm_op(a, bt, false, true), ref) < 1e-12);
    CHECK(rel_error(gemm_op(at, bt, true, true), ref) < 1e-12);
    Tensor m = tensor({{1, 2}, {3, 4}});
    CHECK(values(gemm_op(m, m, true, false)) == std::vector<double>{10, 14, 14, 20});
}

TEST_CASE("gemm_op: node names and second derivatives") {
    Tensor a = tensor({{1, 2}, {3, 4}}, float64).requires_grad_();
    Tensor b = tensor({{0, 1}, {1, 0}}, float64).requires_grad_();
    CHECK(gemm_op(a, b, false, false).grad_fn()->name() == "MmBackward");
    CHECK(gemm_op(unsqueeze(a, 0), unsqueeze(b, 0), false, false).grad_fn()->name() ==
          "BmmBackward");
    // d/da sum(a @ b) = ones @ b^T; its gradient w.r.t. b under create_graph is recorded.
    Tensor y = sum(matmul(a, b));
    TensorList g = grad({y}, {a}, {}, true, true);
    CHECK(values(g[0]) == std::vector<double>{1, 1, 1, 1});
    CHECK(g[0].requires_grad());
}

}  // namespace xg::testing
