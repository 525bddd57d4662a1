// ops/linalg.hpp: registry rows for bmm, baddbmm, addmm, outer and einsum (float64 gradcheck and
// gradgradcheck samples, error inputs, PyTorch fixtures from tests/parity/layout_linalg_ops.py),
// and by hand: einsum against matmul, the attention product as one gemm, int64 einsum.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/tensor_impl.hpp"
#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

void er(std::vector<ErrorCase>& e, std::string desc, std::string fragment,
        std::function<void()> call) {
    e.push_back({std::move(desc), std::move(call), std::move(fragment)});
}

TensorList rands(const std::vector<Shape>& shapes) {
    TensorList t;
    for (const auto& s : shapes) t.push_back(rand64(s));
    return t;
}

// ---- bmm, baddbmm, addmm, outer ----

std::vector<Sample> bmm_samples() {
    TensorFn f = [](const TensorList& x) { return bmm(x[0], x[1]); };
    return {{"[2,3,4] @ [2,4,5]", rands({{2, 3, 4}, {2, 4, 5}}), f},
            {"[1,1,1] @ [1,1,1]", rands({{1, 1, 1}, {1, 1, 1}}), f},
            {"[3,2,2] @ [3,2,1]", rands({{3, 2, 2}, {3, 2, 1}}), f},
            {"only mat2 requires grad", {rand64({2, 2, 3}).detach(), rand64({2, 3, 2})}, f}};
}

std::vector<ErrorCase> bmm_errors() {
    std::vector<ErrorCase> e;
    er(e, "2-D input", "input must be a 3-D tensor, got shape [2, 3]", [] {
        bmm(zeros({2, 3}), zeros({2, 3, 4}));
    });
    er(e, "4-D mat2", "mat2 must be a 3-D tensor, got shape [1, 2, 3, 4]", [] {
        bmm(zeros({2, 3, 3}), zeros({1, 2, 3, 4}));
    });
    er(e, "batch sizes", "batch sizes differ: input [2, 3, 4] has 2, mat2 [3, 4, 5] has 3", [] {
        bmm(zeros({2, 3, 4}), zeros({3, 4, 5}));
    });
    er(e, "inner dims", "cannot multiply [2, 3, 4] by [2, 5, 6] (4 != 5)", [] {
        bmm(zeros({2, 3, 4}), zeros({2, 5, 6}));
    });
    er(e, "int64", "argument 'input' must be float32 or float64, got int64", [] {
        bmm(zeros({1, 2, 2}, int64), zeros({1, 2, 2}, int64));
    });
    er(e, "mixed dtypes", "same dtype, got float32 and float64", [] {
        bmm(zeros({1, 2, 2}), zeros({1, 2, 2}, float64));
    });
    return e;
}

std::vector<Sample> baddbmm_samples() {
    auto f = [](double beta, double alpha) -> TensorFn {
        return
            [beta, alpha](const TensorList& x) { return baddbmm(x[0], x[1], x[2], beta, alpha); };
    };
    return {{"input [3,1], beta 0.5, alpha 2", rands({{3, 1}, {2, 3, 4}, {2, 4, 5}}), f(0.5, 2.0)},
            {"input [2,3,5], defaults", rands({{2, 3, 5}, {2, 3, 4}, {2, 4, 5}}), f(1.0, 1.0)},
            {"input [5] not read (beta 0), alpha 1.5",
             {rand64({5}).detach(), rand64({2, 3, 4}), rand64({2, 4, 5})},
             f(0.0, 1.5)},
            {"input [1], beta -1", rands({{1}, {1, 2, 2}, {1, 2, 3}}), f(-1.0, 1.0)}};
}

std::vector<ErrorCase> baddbmm_errors() {
    std::vector<ErrorCase> e;
    er(e, "input does not broadcast",
       "input of shape [4, 5] does not broadcast to the product's shape [2, 3, 5]", [] {
           baddbmm(zeros({4, 5}), zeros({2, 3, 4}), zeros({2, 4, 5}));
       });
    er(e, "batch sizes", "batch sizes differ: batch1 [2, 3, 4] has 2, batch2 [1, 4, 5] has 1", [] {
        baddbmm(zeros({3, 5}), zeros({2, 3, 4}), zeros({1, 4, 5}));
    });
    er(e, "2-D batch1", "batch1 must be a 3-D tensor, got shape [3, 4]", [] {
        baddbmm(zeros({3, 5}), zeros({3, 4}), zeros({2, 4, 5}));
    });
    er(e, "input dtype", "same dtype, got float64 and float32", [] {
        baddbmm(zeros({3, 5}, float64), zeros({2, 3, 4}), zeros({2, 4, 5}));
    });
    er(e, "undefined input", "argument 'input' is an undefined tensor", [] {
        baddbmm(Tensor(), zeros({2, 3, 4}), zeros({2, 4, 5}));
    });
    return e;
}

std::vector<Sample> addmm_samples() {
    auto f = [](double beta, double alpha) -> TensorFn {
        return [beta, alpha](const TensorList& x) { return addmm(x[0], x[1], x[2], beta, alpha); };
    };
    return {{"input [5], beta -1, alpha 0.5", rands({{5}, {3, 4}, {4, 5}}), f(-1.0, 0.5)},
            {"input [3,5], defaults", rands({{3, 5}, {3, 4}, {4, 5}}), f(1.0, 1.0)},
            {"0-d input", rands({{}, {2, 3}, {3, 2}}), f(2.0, 1.0)},
            {"input [3,1], only mat2 requires grad",
             {rand64({3, 1}).detach(), rand64({3, 2}).detach(), rand64({2, 4})},
             f(1.0, -2.0)}};
}

std::vector<ErrorCase> addmm_errors() {
    std::vector<ErrorCase> e;
    er(e, "1-D mat1", "mat1 must be a matrix (2-D), got shape [4]", [] {
        addmm(zeros({5}), zeros({4}), zeros({4, 5}));
    });
    er(e, "3-D mat2", "mat2 must be a matrix (2-D), got shape [1, 4, 5]", [] {
        addmm(zeros({5}), zeros({3, 4}), zeros({1, 4, 5}));
    });
    er(e, "inner dims", "mat1 and mat2 shapes cannot be multiplied (3x4 and 5x5)", [] {
        addmm(zeros({5}), zeros({3, 4}), zeros({5, 5}));
    });
    er(e, "input does not broadcast",
       "input of shape [4] does not broadcast to the product's shape [3, 5]", [] {
           addmm(zeros({4}), zeros({3, 4}), zeros({4, 5}));
       });
    er(e, "int64", "argument 'mat1' must be float32 or float64, got int64", [] {
        addmm(zeros({2}, int64), zeros({2, 2}, int64), zeros({2, 2}, int64));
    });
    return e;
}

std::vector<Sample> outer_samples() {
    TensorFn f = [](const TensorList& x) { return outer(x[0], x[1]); };
    return {{"[3] x [4]", rands({{3}, {4}}), f},
            {"[1] x [2]", rands({{1}, {2}}), f},
            {"only vec2 requires grad", {rand64({2}).detach(), rand64({3})}, f},
            {"[4] x itself", {rand64({4})}, [](const TensorList& x) { return outer(x[0], x[0]); }}};
}

std::vector<ErrorCase> outer_errors() {
    std::vector<ErrorCase> e;
    er(e, "2-D input", "input must be 1-D, got shape [2, 2]", [] {
        outer(zeros({2, 2}), zeros({2}));
    });
    er(e, "0-d vec2", "vec2 must be 1-D, got shape []",
       [] { outer(zeros({2}), scalar_tensor(1.0)); });
    er(e, "mixed dtypes", "same dtype, got float32 and float64",
       [] { outer(zeros({2}), zeros({2}, float64)); });
    er(e, "int64", "argument 'input' must be float32 or float64, got int64",
       [] { outer(zeros({2}, int64), zeros({2}, int64)); });
    er(e, "undefined", "argument 'vec2' is an undefined tensor",
       [] { outer(zeros({2}), Tensor()); });
    return e;
}

// ---- einsum ----

struct EinsumCase {
    std::string fixture;  // linalg_einsum_<fixture>, or "" when PyTorch has no fixture for it
    std::string equation;
    std::vector<Shape> shapes;
};

const std::vector<EinsumCase>& einsum_cases() {
    static const std::vector<EinsumCase> cases = {
        {"matmul", "ij,jk->ik", {{2, 3}, {3, 4}}},
        {"implicit", "ij,kj", {{2, 3}, {4, 3}}},
        {"trace", "ii", {{3, 3}}},
        {"diag", "ii->i", {{3, 3}}},
        {"attention", "bhqd,bhkd->bhqk", {{2, 2, 3, 4}, {2, 2, 5, 4}}},
        {"ellipsis", "...ij,...jk->...ik", {{2, 1, 3, 4}, {3, 4, 2}}},
        {"three", "ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 2}}},
        {"sum", "ijk->j", {{2, 3, 4}}},
        {"outer", "i,j->ij", {{3}, {4}}},
        {"bilinear", "bn,anm,bm->ba", {{2, 3}, {4, 3, 5}, {2, 5}}},
        {"batch_broadcast", "bij,bjk->bik", {{1, 2, 3}, {2, 3, 4}}},
        {"transpose", "ij->ji", {{2, 3}}},
        {"diag_matmul", "iij,jk->ik", {{3, 3, 2}, {2, 4}}},
        {"dot", "i,i->", {{5}, {5}}},
        {"permuted_batch", "bqhd,bkhd->bhqk", {{2, 3, 2, 4}, {2, 5, 2, 4}}},
        {"ellipsis_summed", "...ij->ij (the ellipsis dims summed)", {{2, 3, 2, 3}}},
        {"broadcast_one", "i,i->i (size-1 broadcast)", {{1}, {3}}},
        {"contract_one", "ij,j->i (contracted against size 1)", {{2, 3}, {1}}},
        {"diag_ellipsis", "i...i->... (diagonal around an ellipsis)", {{3, 2, 3}}},
        {"", "...->", {{2, 3}}},
        {"", "b i j , b j k -> b k i (spaces, transposed output)", {{2, 2, 3}, {2, 3, 2}}},
        {"", "i,->i (a 0-d operand)", {{3}, {}}},
    };
    return cases;
}

// The equation of a case: its text up to a parenthesised remark.
std::string equation_of(const EinsumCase& c) {
    return c.equation.substr(0, c.equation.find(" ("));
}

std::vector<Sample> einsum_samples() {
    std::vector<Sample> s;
    for (const auto& c : einsum_cases()) {
        std::string eq = equation_of(c);
        s.push_back(
            {c.equation, rands(c.shapes), [eq](const TensorList& x) { return einsum(eq, x); }});
    }
    return s;
}

std::vector<ErrorCase> einsum_errors() {
    std::vector<ErrorCase> e;
    Tensor a = zeros({2, 3}), b = zeros({3, 4});
    er(e, "too few operands", "equation 'ij,jk' has 2 operand terms, but 1 operands were given",
       [a] { einsum("ij,jk", {a}); });
    er(e, "too many operands", "equation 'ij' has 1 operand terms, but 2 operands were given",
       [a, b] {
           einsum("ij", {a, b});
       });
    er(e, "digit", "invalid character '1' at index 1 of equation 'i1->i'",
       [a] { einsum("i1->i", {a}); });
    er(e, "second arrow", "invalid character '-' at index 5 of equation 'ij->i->j'",
       [a] { einsum("ij->i->j", {a}); });
    er(e, "comma in the output", "invalid character ',' at index 9 of equation 'ij,jk->ik,'",
       [a, b] {
           einsum("ij,jk->ik,", {a, b});
       });
    er(e, "lone dot", "'.' at index 1 of equation 'i.j->i' is not part of an ellipsis",
       [a] { einsum("i.j->i", {a}); });
    er(e, "two ellipses", "operand 0 has more than one ellipsis in equation '......ij'",
       [a] { einsum("......ij", {a}); });
    er(e, "too many subscripts",
       "operand 0 has 2 dims (shape [2, 3]), but its subscripts 'ijk' name 3 (equation 'ijk')",
       [a] { einsum("ijk", {a}); });
    er(e, "ellipsis and too many subscripts",
       "operand 0 has 2 dims (shape [2, 3]), but its subscripts 'ijk...' name 3 and more",
       [a] { einsum("ijk...", {a}); });
    er(e, "sizes differ",
       "letter 'j' has size 4 in operand 1 (shape [4, 5]) but size 3 in operand 0 (equation "
       "'ij,jk')",
       [a] {
           einsum("ij,jk", {a, zeros({4, 5})});
       });
    er(e, "diagonal of unequal sizes",
       "letter 'i' is repeated in operand 0 with sizes 2 and 3 (equation 'ii->i')",
       [a] { einsum("ii->i", {a}); });
    er(e, "ellipsis dims that do not broadcast",
       "an ellipsis dim has size 3 in operand 1 (shape [3, 4]) but size 2 in operand 0", [] {
           einsum("...i,...i", {zeros({2, 4}), zeros({3, 4})});
       });
    er(e, "output letter not in the inputs",
       "output letter 'k' does not appear in any operand (equation 'ij->k')",
       [a] { einsum("ij->k", {a}); });
    er(e, "repeated output letter", "output letter 'i' appears more than once (equation 'ij->ii')",
       [a] { einsum("ij->ii", {a}); });
    er(e, "dtypes", "operand 1 has dtype float64, operand 0 has float32", [a] {
        einsum("ij,jk", {a, zeros({3, 4}, float64)});
    });
    er(e, "int64 operand", "operand 0 must be float32 or float64, got int64 (equation 'ii')", [] {
        einsum("ii", {zeros({2, 2}, int64)});
    });
    er(e, "undefined operand", "operand 1 is an undefined tensor", [a] {
        einsum("ij,jk", {a, Tensor()});
    });
    return e;
}

Parity einsum_parity() {
    Parity p;
    for (const auto& c : einsum_cases()) {
        if (c.fixture.empty()) continue;
        std::string eq = equation_of(c);
        p.cases.push_back({"linalg_einsum_" + c.fixture, c.shapes.size(),
                           [eq](const TensorList& x) { return einsum(eq, x); }});
    }
    return p;
}

// ---- by hand ----

TEST_CASE("einsum: agrees with matmul, sum and diagonal on larger inputs") {
    Tensor a = rand({3, 17, 9}, float64), b = rand({3, 9, 11}, float64);
    CHECK(max_abs_diff(einsum("bij,bjk->bik", {a, b}), matmul(a, b)) < 1e-12);
    CHECK(max_abs_diff(einsum("bij,bkj->bik", {a, transpose(b, 1, 2)}), matmul(a, b)) < 1e-12);
    CHECK(max_abs_diff(einsum("bji,bjk->bik", {transpose(a, 1, 2), b}), matmul(a, b)) < 1e-12);
    CHECK(max_abs_diff(einsum("bij->j", {a}), sum(a, {0, 1})) < 1e-12);
    Tensor s = rand({4, 4}, float64);
    CHECK(std::abs(einsum("ii", {s}).item() - sum(diagonal(s)).item()) < 1e-12);
    // The implicit output sorts its letters (A-Z before a-z): "ba" is the transpose.
    Tensor m = rand({2, 5}, float64), n = rand({5, 3}, float64);
    CHECK(max_abs_diff(einsum("ba", {m}), transpose(m, 0, 1)) == 0.0);
    CHECK(max_abs_diff(einsum("aB", {m}), transpose(m, 0, 1)) == 0.0);
    CHECK(max_abs_diff(einsum("cA,Ab", {m, n}), transpose(matmul(m, n), 0, 1)) < 1e-12);
    // A plain copy of its single operand returns the operand itself, as PyTorch's view.
    Tensor same = einsum("ij->ij", {m});
    CHECK(same.impl()->storage == m.impl()->storage);
}

TEST_CASE("einsum: the attention score bhqd,bhkd->bhqk is one batched gemm, nothing copied") {
    Tensor q = rand64({2, 4, 16, 8}), k = rand64({2, 4, 32, 8});
    Tensor s = einsum("bhqd,bhkd->bhqk", {q, k});
    CHECK(s.shape() == Shape{2, 4, 16, 32});
    REQUIRE(s.grad_fn());
    CHECK(s.grad_fn()->name() == "BmmBackward");
    // Its inputs are the leaves themselves: no permute, reshape or expand in between.
    for (const auto& edge : s.grad_fn()->next_edges())
        CHECK(dynamic_cast<AccumulateGrad*>(edge.fn.get()) != nullptr);
    CHECK(max_abs_diff(s, matmul(q, transpose(k, 2, 3))) < 1e-12);
    // The common (b, seq, heads, d) layout permutes its operands once each, then one gemm.
    Tensor q2 = rand64({2, 16, 4, 8}), k2 = rand64({2, 32, 4, 8});
    Tensor s2 = einsum("bqhd,bkhd->bhqk", {q2, k2});
    CHECK(s2.grad_fn()->name() == "BmmBackward");
    CHECK(max_abs_diff(s2, matmul(permute(q2, {0, 2, 1, 3}), permute(k2, {0, 2, 3, 1}))) < 1e-12);
}

TEST_CASE("einsum: float32 operands") {
    Tensor f = rand({3, 4}), g = rand({4, 2});
    Tensor h = einsum("ij,jk", {f, g});
    CHECK(h.dtype() == float32);
    CHECK(max_abs_diff(h, matmul(f, g)) < 1e-5);
    CHECK(max_abs_diff(einsum("i,i->", {f.reshape({-1}), f.reshape({-1})}), sum(mul(f, f))) < 1e-5);
}

TEST_CASE("einsum: empty dims give empty or zero results") {
    CHECK(einsum("ij,jk->ik", {zeros({2, 0}), zeros({0, 3})}).to_vector() ==
          std::vector<double>(6, 0.0));
    CHECK(einsum("ij,ij->", {zeros({2, 0}), zeros({2, 0})}).item() == 0.0);
    CHECK(einsum("iij->ij", {zeros({2, 2, 0})}).shape() == Shape{2, 0});
}

TEST_CASE("linalg: baddbmm and addmm ignore input when beta is 0") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor input = full({2, 2}, nan, float64);
    Tensor p = ones({1, 2, 3}, float64), q = ones({1, 3, 2}, float64);
    CHECK(baddbmm(input, p, q, 0.0, 2.0).to_vector() == std::vector<double>(4, 6.0));
    CHECK(addmm(input, ones({2, 3}, float64), ones({3, 2}, float64), 0.0).to_vector() ==
          std::vector<double>(4, 3.0));
    Tensor o = outer(arange(1.0, 3.0, 1.0, float64), arange(3.0, float64));
    CHECK(o.to_vector() == std::vector<double>{0, 1, 2, 0, 2, 4});
    CHECK(bmm(p, q).to_vector() == std::vector<double>(4, 3.0));
}

}  // namespace

XG_REGISTER_OP_INFO(
    bmm_info,
    {"bmm", bmm_samples, bmm_errors, [] {
         return Parity{{{"linalg_bmm", 2, [](const TensorList& x) { return bmm(x[0], x[1]); }}}};
     }});
XG_REGISTER_OP_INFO(baddbmm_info,
                    {"baddbmm", baddbmm_samples, baddbmm_errors, [] {
                         return Parity{{{"linalg_baddbmm", 3, [](const TensorList& x) {
                                             return baddbmm(x[0], x[1], x[2], 0.5, 2.0);
                                         }}}};
                     }});
XG_REGISTER_OP_INFO(addmm_info, {"addmm", addmm_samples, addmm_errors, [] {
                                     return Parity{{{"linalg_addmm", 3, [](const TensorList& x) {
                                                         return addmm(x[0], x[1], x[2], -1.0, 0.5);
                                                     }}}};
                                 }});
XG_REGISTER_OP_INFO(outer_info, {"outer", outer_samples, outer_errors, [] {
                                     return Parity{{{"linalg_outer", 2, [](const TensorList& x) {
                                                         return outer(x[0], x[1]);
                                                     }}}};
                                 }});
XG_REGISTER_OP_INFO(einsum_info, {"einsum", einsum_samples, einsum_errors, einsum_parity});

}  // namespace xg::testing
