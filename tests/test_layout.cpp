// ops/layout.hpp: registry rows (float64 gradcheck and gradgradcheck samples, error inputs,
// PyTorch fixtures from tests/parity/layout_linalg_ops.py) and values checked by hand: int64
// inputs, empty pieces, extreme arguments, copies.
#include <doctest/doctest.h>

#include <cstdint>

#include "tests/error_of.hpp"
#include "tests/op_registry.hpp"

namespace xg::testing {

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;

void un(std::vector<Sample>& s, std::string desc, const Shape& shape, UnaryFn f) {
    s.push_back({std::move(desc), {rand64(shape)}, [f](const TensorList& x) { return f(x[0]); }});
}

void er(std::vector<ErrorCase>& e, std::string desc, std::string fragment,
        std::function<void()> call) {
    e.push_back({std::move(desc), std::move(call), std::move(fragment)});
}

// Ops returning several tensors are checked through one: the pieces scaled by 1, 2, 3, ... and
// joined, so a piece's gradient cannot land in another's place unnoticed.
Tensor weighted_cat(const TensorList& pieces, std::int64_t dim) {
    TensorList scaled;
    for (std::size_t i = 0; i < pieces.size(); ++i)
        scaled.push_back(mul(pieces[i], static_cast<double>(i + 1)));
    return cat(scaled, dim);
}

Tensor weighted_stack(const TensorList& pieces) {
    TensorList scaled;
    for (std::size_t i = 0; i < pieces.size(); ++i)
        scaled.push_back(mul(pieces[i], static_cast<double>(i + 1)));
    return stack(scaled);
}

ParityCase one(std::string fixture, UnaryFn f) {
    return {"layout_" + fixture, 1, [f](const TensorList& x) { return f(x[0]); }};
}

Tensor i64(std::initializer_list<double> v) {
    return tensor(v, int64);
}

// ---- split, chunk, unbind, narrow ----

std::vector<Sample> split_samples() {
    std::vector<Sample> s;
    un(s, "[3,5] size 2 dim 1", {3, 5},
       [](const Tensor& a) { return weighted_cat(split(a, 2, 1), 1); });
    un(s, "[6,2] sizes [1,0,3,2] dim 0 (an empty piece)", {6, 2}, [](const Tensor& a) {
        return weighted_cat(split(a, std::vector<std::int64_t>{1, 0, 3, 2}, 0), 0);
    });
    un(s, "[2,3,4] size 4 dim -2 (one piece)", {2, 3, 4},
       [](const Tensor& a) { return weighted_cat(split(a, 4, -2), -2); });
    un(s, "[4,3] sizes [4] dim -2", {4, 3},
       [](const Tensor& a) { return weighted_cat(split(a, std::vector<std::int64_t>{4}, -2), 0); });
    un(s, "[2,6] size 4 dim -1, only the last piece used", {2, 6},
       [](const Tensor& a) { return mul(split(a, 4, -1)[1], 3.0); });
    return s;
}

std::vector<ErrorCase> split_errors() {
    std::vector<ErrorCase> e;
    er(e, "negative split_size", "split_size must be non-negative, got -1",
       [] { split(zeros({10}), -1); });
    er(e, "split_size 0 of a non-empty dim",
       "split_size can be 0 only if the dim is empty, but dim 0 has size 10",
       [] { split(zeros({10}), 0); });
    er(e, "sizes that do not sum to the dim",
       "sizes [3, 3] sum to 6, but dim 0 of the input [10] has size 10", [] {
           split(zeros({10}), std::vector<std::int64_t>{3, 3});
       });
    er(e, "a negative size", "sizes [3, -1, 8] has a negative entry -1", [] {
        split(zeros({10}), std::vector<std::int64_t>{3, -1, 8});
    });
    er(e, "sizes whose sum overflows", "the sum of sizes overflows int64", [] {
        split(zeros({10}), std::vector<std::int64_t>{INT64_MAX, 1});
    });
    er(e, "dim out of range", "dim 2 is out of range for a tensor of 2 dims", [] {
        split(zeros({2, 3}), 1, 2);
    });
    er(e, "0-d input", "cannot split a 0-d tensor", [] { split(scalar_tensor(1.0), 1); });
    er(e, "undefined", "undefined", [] { split(Tensor(), 1); });
    return e;
}

std::vector<Sample> chunk_samples() {
    std::vector<Sample> s;
    un(s, "[2,7] 3 chunks dim -1 (3, 3, 1)", {2, 7},
       [](const Tensor& a) { return weighted_cat(chunk(a, 3, -1), -1); });
    un(s, "[6] 4 chunks (three of 2)", {6},
       [](const Tensor& a) { return weighted_cat(chunk(a, 4), 0); });
    un(s, "[5,2] 1 chunk", {5, 2}, [](const Tensor& a) { return weighted_cat(chunk(a, 1), 0); });
    un(s, "[3,2] 5 chunks dim 0 (three of 1)", {3, 2},
       [](const Tensor& a) { return weighted_cat(chunk(a, 5, 0), 0); });
    return s;
}

std::vector<ErrorCase> chunk_errors() {
    std::vector<ErrorCase> e;
    er(e, "0 chunks", "chunks must be greater than 0, got 0", [] { chunk(zeros({5}), 0); });
    er(e, "negative chunks", "chunks must be greater than 0, got -2",
       [] { chunk(zeros({5}), -2); });
    er(e, "dim out of range", "dim -3 is out of range", [] { chunk(zeros({2, 3}), 2, -3); });
    er(e, "0-d input", "cannot split a 0-d tensor", [] { chunk(scalar_tensor(1.0), 2); });
    return e;
}

std::vector<Sample> unbind_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,4] dim 1", {2, 3, 4}, [](const Tensor& a) { return weighted_stack(unbind(a, 1)); });
    un(s, "[3] dim 0 (0-d pieces)", {3}, [](const Tensor& a) { return weighted_stack(unbind(a)); });
    un(s, "[2,3] dim -1", {2, 3}, [](const Tensor& a) { return weighted_stack(unbind(a, -1)); });
    un(s, "[1,2] dim 0", {1, 2}, [](const Tensor& a) { return weighted_stack(unbind(a, 0)); });
    un(s, "[2,3] only piece 1 used", {2, 3}, [](const Tensor& a) { return unbind(a, 1)[1]; });
    return s;
}

std::vector<ErrorCase> unbind_errors() {
    std::vector<ErrorCase> e;
    er(e, "dim out of range", "dim 2 is out of range", [] { unbind(zeros({2, 3}), 2); });
    er(e, "0-d input", "cannot split a 0-d tensor", [] { unbind(scalar_tensor(1.0)); });
    er(e, "undefined", "undefined", [] { unbind(Tensor()); });
    return e;
}

std::vector<Sample> narrow_samples() {
    std::vector<Sample> s;
    un(s, "[4,5] dim 1 start -3 length 2", {4, 5},
       [](const Tensor& a) { return narrow(a, 1, -3, 2); });
    un(s, "[5] all", {5}, [](const Tensor& a) { return narrow(a, 0, 0, 5); });
    un(s, "[3,4] dim -2 start 1 length 2", {3, 4},
       [](const Tensor& a) { return narrow(a, -2, 1, 2); });
    un(s, "[2,3,4] dim 2 start 1 length 3", {2, 3, 4},
       [](const Tensor& a) { return narrow(a, 2, 1, 3); });
    return s;
}

std::vector<ErrorCase> narrow_errors() {
    std::vector<ErrorCase> e;
    er(e, "start past the end", "start 11 is out of range for dim 0 of size 10",
       [] { narrow(zeros({10}), 0, 11, 0); });
    er(e, "start too negative", "start -11 is out of range for dim 0 of size 10",
       [] { narrow(zeros({10}), 0, -11, 1); });
    er(e, "start + length past the end", "start (9) + length (2) exceeds dim 0 of size 10",
       [] { narrow(zeros({10}), 0, 9, 2); });
    er(e, "negative length", "length must be non-negative, got -1",
       [] { narrow(zeros({10}), 0, 2, -1); });
    er(e, "length INT64_MAX", "start (1) + length (9223372036854775807) exceeds",
       [] { narrow(zeros({10}), 0, 1, INT64_MAX); });
    er(e, "0-d input", "cannot narrow a 0-d tensor", [] { narrow(scalar_tensor(1.0), 0, 0, 1); });
    er(e, "dim out of range", "dim 1 is out of range", [] { narrow(zeros({3}), 1, 0, 1); });
    return e;
}

// ---- repeat, tile, repeat_interleave ----

std::vector<Sample> repeat_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] by [2,1,3]", {2, 3}, [](const Tensor& a) { return repeat(a, {2, 1, 3}); });
    un(s, "[3] by [2]", {3}, [](const Tensor& a) { return repeat(a, {2}); });
    un(s, "[2,1] by [1,3]", {2, 1}, [](const Tensor& a) { return repeat(a, {1, 3}); });
    un(s, "0-d by [2,2]", {}, [](const Tensor& a) { return repeat(a, {2, 2}); });
    un(s, "[2,2] by [1,1]", {2, 2}, [](const Tensor& a) { return repeat(a, {1, 1}); });
    return s;
}

std::vector<ErrorCase> repeat_errors() {
    std::vector<ErrorCase> e;
    er(e, "fewer repeats than dims", "repeats [2] has 1 entries, fewer than the 2 dims of [2, 5]",
       [] {
           repeat(zeros({2, 5}), {2});
       });
    er(e, "negative repeat", "repeats [2, -1] has a negative entry -1", [] {
        repeat(zeros({2, 5}), {2, -1});
    });
    er(e, "size overflow", "the repeated size overflows int64",
       [] { repeat(zeros({2}), {INT64_MAX}); });
    er(e, "too large", "has too many elements", [] {
        repeat(zeros({2, 2}), {std::int64_t{1} << 40, std::int64_t{1} << 20});
    });
    return e;
}

std::vector<Sample> tile_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] by [2] (padded to [1,2])", {2, 3}, [](const Tensor& a) { return tile(a, {2}); });
    un(s, "[2,3] by [2,1,2]", {2, 3}, [](const Tensor& a) { return tile(a, {2, 1, 2}); });
    un(s, "[3] by [] (a copy)", {3}, [](const Tensor& a) { return tile(a, {}); });
    un(s, "[2,1] by [3,2]", {2, 1}, [](const Tensor& a) { return tile(a, {3, 2}); });
    return s;
}

std::vector<ErrorCase> tile_errors() {
    std::vector<ErrorCase> e;
    er(e, "negative rep", "reps [-1] has a negative entry -1", [] { tile(zeros({2, 5}), {-1}); });
    er(e, "size overflow", "the repeated size overflows int64",
       [] { tile(zeros({3}), {INT64_MAX}); });
    er(e, "undefined", "undefined", [] { tile(Tensor(), {2}); });
    return e;
}

std::vector<Sample> repeat_interleave_samples() {
    std::vector<Sample> s;
    un(s, "[2,3] 2 dim 1", {2, 3}, [](const Tensor& a) { return repeat_interleave(a, 2, 1); });
    un(s, "[2,3] 3 flattened", {2, 3}, [](const Tensor& a) { return repeat_interleave(a, 3); });
    un(s, "[3,2] counts [2,0,3] dim 0", {3, 2}, [](const Tensor& a) {
        return repeat_interleave(a, i64({2, 0, 3}), 0);
    });
    un(s, "[2,3] counts [2] dim -1", {2, 3},
       [](const Tensor& a) { return repeat_interleave(a, i64({2}), -1); });
    un(s, "0-d 2 flattened", {}, [](const Tensor& a) { return repeat_interleave(a, 2); });
    un(s, "[2,2] 0-d count 3 dim 0", {2, 2},
       [](const Tensor& a) { return repeat_interleave(a, scalar_tensor(3.0, int64), 0); });
    return s;
}

std::vector<ErrorCase> repeat_interleave_errors() {
    std::vector<ErrorCase> e;
    er(e, "negative count", "repeats must be non-negative, got -2", [] {
        repeat_interleave(zeros({2, 5}), -2);
    });
    er(e, "negative entry", "repeats has a negative entry -2 at index 1", [] {
        repeat_interleave(zeros({2, 5}), i64({1, -2}), 0);
    });
    er(e, "float repeats", "repeats must be an int64 tensor, got float32", [] {
        repeat_interleave(zeros({2, 5}), ones({2}), 0);
    });
    er(e, "2-D repeats", "repeats must be 0-d or 1-D, got shape [1, 2]", [] {
        repeat_interleave(zeros({2, 5}), zeros({1, 2}, int64), 0);
    });
    er(e, "wrong count", "repeats has 3 entries, but the input [2, 5] has size 2 along dim 0", [] {
        repeat_interleave(zeros({2, 5}), i64({1, 2, 3}), 0);
    });
    er(e, "dim of a 0-d input", "dim 0 given for a 0-d tensor",
       [] { repeat_interleave(scalar_tensor(1.0), 2, 0); });
    er(e, "dim out of range", "dim 2 is out of range", [] {
        repeat_interleave(zeros({2, 5}), 2, 2);
    });
    er(e, "size overflow", "the repeated size overflows int64",
       [] { repeat_interleave(zeros({4}), INT64_MAX); });
    return e;
}

// ---- flip, roll, tril, triu, diagonal ----

std::vector<Sample> flip_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,4] dims [0,2]", {2, 3, 4}, [](const Tensor& a) { return flip(a, {0, 2}); });
    un(s, "[5] dim -1", {5}, [](const Tensor& a) { return flip(a, {-1}); });
    un(s, "[2,3] no dims (a copy)", {2, 3}, [](const Tensor& a) { return flip(a, {}); });
    un(s, "0-d dim 0", {}, [](const Tensor& a) { return flip(a, {0}); });
    un(s, "[2,3] dims [1,0]", {2, 3}, [](const Tensor& a) { return flip(a, {1, 0}); });
    return s;
}

std::vector<ErrorCase> flip_errors() {
    std::vector<ErrorCase> e;
    er(e, "repeated dim", "dim 0 appears more than once in [0, -2]", [] {
        flip(zeros({2, 3}), {0, -2});
    });
    er(e, "dim out of range", "dim 3 is out of range for a tensor of 2 dims", [] {
        flip(zeros({2, 3}), {3});
    });
    er(e, "undefined", "undefined", [] { flip(Tensor(), {0}); });
    return e;
}

std::vector<Sample> roll_samples() {
    std::vector<Sample> s;
    un(s, "[3,4] shifts [1,-5] dims [0,1]", {3, 4}, [](const Tensor& a) {
        return roll(a, {1, -5}, {0, 1});
    });
    un(s, "[3,4] flattened by 5", {3, 4}, [](const Tensor& a) { return roll(a, {5}); });
    un(s, "[2,3,2] -1 along dim -2", {2, 3, 2},
       [](const Tensor& a) { return roll(a, {-1}, {-2}); });
    un(s, "[5] by INT64_MIN", {5}, [](const Tensor& a) { return roll(a, {INT64_MIN}, {0}); });
    un(s, "[4] dim 0 twice (2 + 3)", {4}, [](const Tensor& a) { return roll(a, {2, 3}, {0, 0}); });
    un(s, "0-d flattened", {}, [](const Tensor& a) { return roll(a, {3}); });
    return s;
}

std::vector<ErrorCase> roll_errors() {
    std::vector<ErrorCase> e;
    er(e, "lengths differ", "shifts [1, 2] and dims [0] must have the same length (2 vs 1)", [] {
        roll(zeros({2, 3}), {1, 2}, {0});
    });
    er(e, "two shifts without dims", "without dims, shifts must have one entry, got [1, 2]", [] {
        roll(zeros({2, 3}), {1, 2});
    });
    er(e, "0-d with a dim", "cannot roll a 0-d tensor along dims [0]",
       [] { roll(scalar_tensor(1.0), {1}, {0}); });
    er(e, "dim out of range", "dim 2 is out of range", [] { roll(zeros({2, 3}), {1}, {2}); });
    return e;
}

OpInfo triangle_info(std::string name, Tensor (*op)(const Tensor&, std::int64_t, Site)) {
    auto samples = [op, name] {
        std::vector<Sample> s;
        auto add = [&](std::string desc, const Shape& shape, std::int64_t k) {
            un(s, std::move(desc), shape, [op, k](const Tensor& a) { return op(a, k, Site()); });
        };
        add("[4,3] k 0", {4, 3}, 0);
        add("[2,4,3] k -1", {2, 4, 3}, -1);
        add("[3,5] k 2", {3, 5}, 2);
        add("[3,3] k 100 / -100 (all or none of the main part)", {3, 3},
            name == "tril" ? 100 : -100);
        add("[2,1,2,3] k 1", {2, 1, 2, 3}, 1);
        return s;
    };
    auto errors = [op, name] {
        std::vector<ErrorCase> e;
        er(e, "1-D input", "input must have at least 2 dims, got shape [10]",
           [op] { op(zeros({10}), 0, Site()); });
        er(e, "undefined", "undefined", [op] { op(Tensor(), 0, Site()); });
        return e;
    };
    auto parity = [op, name] {
        const std::int64_t k = name == "tril" ? -1 : 1;
        return Parity{{one(name, [op, k](const Tensor& x) { return op(x, k, Site()); })}};
    };
    return OpInfo{std::move(name), samples, errors, parity};
}

std::vector<Sample> diagonal_samples() {
    std::vector<Sample> s;
    un(s, "[3,4] offset 1", {3, 4}, [](const Tensor& a) { return diagonal(a, 1); });
    un(s, "[2,3,4] offset -1 dims 2,0", {2, 3, 4},
       [](const Tensor& a) { return diagonal(a, -1, 2, 0); });
    un(s, "[4,3] dims -1,-2", {4, 3}, [](const Tensor& a) { return diagonal(a, 0, -1, -2); });
    un(s, "[3,3] offset -2", {3, 3}, [](const Tensor& a) { return diagonal(a, -2); });
    un(s, "[2,2,2] dims 1,2", {2, 2, 2}, [](const Tensor& a) { return diagonal(a, 0, 1, 2); });
    return s;
}

std::vector<ErrorCase> diagonal_errors() {
    std::vector<ErrorCase> e;
    er(e, "same dims", "dim1 (1) and dim2 (-1) are both dim 1; they must differ", [] {
        diagonal(zeros({2, 5}), 0, 1, -1);
    });
    er(e, "1-D input", "input must have at least 2 dims, got shape [10]",
       [] { diagonal(zeros({10})); });
    er(e, "dim out of range", "dim 2 is out of range", [] { diagonal(zeros({2, 3}), 0, 0, 2); });
    return e;
}

// ---- movedim, swapaxes, expand_as, broadcast_to, meshgrid ----

std::vector<Sample> movedim_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,4] 0 -> 2", {2, 3, 4}, [](const Tensor& a) { return movedim(a, 0, 2); });
    un(s, "[2,3,4] [0,1] -> [2,0]", {2, 3, 4}, [](const Tensor& a) {
        return movedim(a, std::vector<std::int64_t>{0, 1}, std::vector<std::int64_t>{2, 0});
    });
    un(s, "[2,3] -1 -> 0", {2, 3}, [](const Tensor& a) { return movedim(a, -1, 0); });
    un(s, "[2,3,4] nothing moved", {2, 3, 4}, [](const Tensor& a) {
        return movedim(a, std::vector<std::int64_t>{}, std::vector<std::int64_t>{});
    });
    un(s, "0-d 0 -> 0", {}, [](const Tensor& a) { return movedim(a, 0, 0); });
    return s;
}

std::vector<ErrorCase> movedim_errors() {
    std::vector<ErrorCase> e;
    er(e, "lengths differ", "source [0] and destination [1, 0] must have the same length (1 vs 2)",
       [] {
           movedim(zeros({2, 5}), std::vector<std::int64_t>{0}, std::vector<std::int64_t>{1, 0});
       });
    er(e, "repeated source", "source [0, -2] repeats dim 0", [] {
        movedim(zeros({2, 5}), std::vector<std::int64_t>{0, -2}, std::vector<std::int64_t>{1, 0});
    });
    er(e, "repeated destination", "destination [1, 1] repeats dim 1", [] {
        movedim(zeros({2, 5}), std::vector<std::int64_t>{0, 1}, std::vector<std::int64_t>{1, 1});
    });
    er(e, "dim out of range", "dim 2 is out of range", [] { movedim(zeros({2, 5}), 2, 0); });
    return e;
}

std::vector<Sample> swapaxes_samples() {
    std::vector<Sample> s;
    un(s, "[2,3,4] 0,-1", {2, 3, 4}, [](const Tensor& a) { return swapaxes(a, 0, -1); });
    un(s, "[2,3] 1,1", {2, 3}, [](const Tensor& a) { return swapaxes(a, 1, 1); });
    un(s, "[2,3] 0,1", {2, 3}, [](const Tensor& a) { return swapaxes(a, 0, 1); });
    un(s, "[3] 0,0", {3}, [](const Tensor& a) { return swapaxes(a, 0, -1); });
    return s;
}

std::vector<ErrorCase> swapaxes_errors() {
    std::vector<ErrorCase> e;
    er(e, "dim out of range", "dim 2 is out of range for a tensor of 2 dims", [] {
        swapaxes(zeros({2, 5}), 2, 0);
    });
    er(e, "undefined", "undefined", [] { swapaxes(Tensor(), 0, 1); });
    return e;
}

std::vector<Sample> expand_as_samples() {
    std::vector<Sample> s;
    auto to = [](const Shape& shape) {
        Tensor other = zeros(shape, float64);
        return [other](const Tensor& a) { return expand_as(a, other); };
    };
    un(s, "[3,1] as [2,3,4]", {3, 1}, to({2, 3, 4}));
    un(s, "[1] as [3]", {1}, to({3}));
    un(s, "[2,3] as [2,3]", {2, 3}, to({2, 3}));
    un(s, "0-d as [2,2]", {}, to({2, 2}));
    return s;
}

std::vector<ErrorCase> expand_as_errors() {
    std::vector<ErrorCase> e;
    er(e, "no broadcast", "cannot broadcast the input's shape [10] to other's shape [3]",
       [] { expand_as(zeros({10}), zeros({3})); });
    er(e, "other with fewer dims", "cannot broadcast the input's shape [1, 3] to other's shape [3]",
       [] {
           expand_as(zeros({1, 3}), zeros({3}));
       });
    er(e, "undefined other", "argument 'other' is an undefined tensor",
       [] { expand_as(zeros({3}), Tensor()); });
    return e;
}

std::vector<Sample> broadcast_to_samples() {
    std::vector<Sample> s;
    un(s, "[3,1] to [2,-1,4]", {3, 1}, [](const Tensor& a) { return broadcast_to(a, {2, -1, 4}); });
    un(s, "[1] to [3]", {1}, [](const Tensor& a) { return broadcast_to(a, {3}); });
    un(s, "[2,3] to [2,3]", {2, 3}, [](const Tensor& a) { return broadcast_to(a, {2, 3}); });
    un(s, "0-d to [2]", {}, [](const Tensor& a) { return broadcast_to(a, {2}); });
    return s;
}

std::vector<ErrorCase> broadcast_to_errors() {
    std::vector<ErrorCase> e;
    er(e, "fewer dims", "shape [3] has fewer dims than the input [2, 3]", [] {
        broadcast_to(zeros({2, 3}), {3});
    });
    er(e, "-1 in a new dim", "size -1 of the new leading dim 0 must be >= 0", [] {
        broadcast_to(zeros({10}), {-1, 10});
    });
    er(e, "size mismatch",
       "the input [10] has size 10 at dim 0, which cannot broadcast to size 3 (shape [2, 3])", [] {
           broadcast_to(zeros({10}), {2, 3});
       });
    er(e, "negative size", "cannot broadcast to size -2", [] { broadcast_to(zeros({1}), {-2}); });
    er(e, "too large", "has too many elements", [] {
        broadcast_to(zeros({1}), {std::int64_t{1} << 40, std::int64_t{1} << 30});
    });
    return e;
}

std::vector<Sample> meshgrid_samples() {
    std::vector<Sample> s;
    auto grid = [](std::string indexing) {
        return [indexing](const TensorList& x) { return weighted_stack(meshgrid(x, indexing)); };
    };
    s.push_back({"ij of [3], [2], [4]", {rand64({3}), rand64({2}), rand64({4})}, grid("ij")});
    s.push_back({"xy of [3], [2], [4]", {rand64({3}), rand64({2}), rand64({4})}, grid("xy")});
    s.push_back({"xy of one [3]", {rand64({3})}, grid("xy")});
    s.push_back({"ij of 0-d and [2]", {rand64({}), rand64({2})}, grid("ij")});
    s.push_back({"xy of [2] and a constant [3]", {rand64({2}), rand64({3}).detach()}, grid("xy")});
    return s;
}

std::vector<ErrorCase> meshgrid_errors() {
    std::vector<ErrorCase> e;
    er(e, "bad indexing", "indexing must be 'ij' or 'xy', got 'foo'",
       [] { meshgrid({zeros({2})}, "foo"); });
    er(e, "empty list", "expected a non-empty list of tensors", [] { meshgrid({}); });
    er(e, "2-D tensor", "tensor 1 has shape [2, 2]; expected 0-d or 1-D", [] {
        meshgrid({zeros({2}), zeros({2, 2})});
    });
    er(e, "dtypes", "tensor 1 has dtype int64, tensor 0 has float32", [] {
        meshgrid({zeros({2}), zeros({2}, int64)});
    });
    er(e, "undefined", "tensor 0 in the list is undefined", [] { meshgrid({Tensor()}); });
    return e;
}

// ---- by hand ----

std::vector<double> v(const Tensor& t) {
    return t.to_vector();
}

TEST_CASE("layout: values on int64 inputs (every op moves elements of any dtype)") {
    Tensor x = reshape(arange(6.0, int64), {2, 3});  // [[0 1 2] [3 4 5]]
    auto pieces = split(x, 2, 1);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[1].dtype() == int64);
    CHECK(v(pieces[1]) == std::vector<double>{2, 5});
    CHECK(v(chunk(x, 2, 1)[0]) == std::vector<double>{0, 1, 3, 4});
    CHECK(v(unbind(x, 0)[1]) == std::vector<double>{3, 4, 5});
    CHECK(v(narrow(x, 1, 1, 2)) == std::vector<double>{1, 2, 4, 5});
    CHECK(v(repeat(x, {1, 2})) == std::vector<double>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
    CHECK(v(tile(x, {2, 1})) == std::vector<double>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
    CHECK(v(repeat_interleave(x, 2, 0)) == std::vector<double>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
    CHECK(v(repeat_interleave(x, i64({1, 0, 2}), 1)) == std::vector<double>{0, 2, 2, 3, 5, 5});
    CHECK(v(flip(x, {0, 1})) == std::vector<double>{5, 4, 3, 2, 1, 0});
    CHECK(v(roll(x, {1}, {1})) == std::vector<double>{2, 0, 1, 5, 3, 4});
    CHECK(v(roll(x, {-1})) == std::vector<double>{1, 2, 3, 4, 5, 0});
    CHECK(v(tril(x)) == std::vector<double>{0, 0, 0, 3, 4, 0});
    CHECK(v(triu(x, 1)) == std::vector<double>{0, 1, 2, 0, 0, 5});
    CHECK(v(diagonal(x, 1)) == std::vector<double>{1, 5});
    CHECK(movedim(x, 0, 1).shape() == Shape{3, 2});
    CHECK(v(swapaxes(x, 0, 1)) == std::vector<double>{0, 3, 1, 4, 2, 5});
    Tensor b = broadcast_to(arange(3.0, int64), {2, 3});
    CHECK(b.dtype() == int64);
    CHECK(v(b) == std::vector<double>{0, 1, 2, 0, 1, 2});
    CHECK(v(expand_as(arange(2.0, int64).reshape({2, 1}), x)) ==
          std::vector<double>{0, 0, 0, 1, 1, 1});
    auto g = meshgrid({arange(2.0, int64), arange(3.0, int64)}, "xy");
    CHECK(g[0].shape() == Shape{3, 2});
    CHECK(v(g[0]) == std::vector<double>{0, 1, 0, 1, 0, 1});
    CHECK(v(g[1]) == std::vector<double>{0, 0, 1, 1, 2, 2});
}

TEST_CASE("layout: empty pieces and empty dims, as PyTorch") {
    CHECK(split(zeros({0}), 0).size() == 1);
    CHECK(split(zeros({0}), 3).size() == 1);
    auto sized = split(zeros({10}), std::vector<std::int64_t>{0, 10, 0});
    REQUIRE(sized.size() == 3);
    CHECK(sized[0].shape() == Shape{0});
    CHECK(sized[1].shape() == Shape{10});
    CHECK(split(zeros({0}), std::vector<std::int64_t>{}).empty());
    CHECK(chunk(zeros({0, 2}), 3).size() == 3);  // torch.chunk(empty(0, 2), 3): three empties
    CHECK(chunk(zeros({6}), 4).size() == 3);
    CHECK(unbind(zeros({0, 3})).empty());
    CHECK(narrow(zeros({10}), 0, 10, 0).shape() == Shape{0});
    CHECK(repeat(zeros({2, 3}), {2, 0}).shape() == Shape{4, 0});
    CHECK(repeat_interleave(zeros({0, 3}), 4, 0).shape() == Shape{0, 3});
    CHECK(roll(zeros({0, 2}), {1}, {0}).shape() == Shape{0, 2});
    CHECK(diagonal(zeros({2, 5}), 10).shape() == Shape{0});
    CHECK(diagonal(zeros({2, 5}), INT64_MIN).shape() == Shape{0});
    CHECK(diagonal(zeros({2, 5}), INT64_MAX).shape() == Shape{0});
    // An empty tensor with a dim of 2^40: nothing is looped over or allocated per element.
    Tensor e = reshape(zeros({0}, float64), {0, std::int64_t{1} << 40}).requires_grad_();
    Tensor r = repeat_interleave(e, 2, 1);
    CHECK(r.shape() == Shape{0, std::size_t{1} << 41});
    r.sum().backward();
    CHECK(e.grad().shape() == e.shape());
    CHECK(flip(e, {1}).shape() == e.shape());
    CHECK(tril(e).shape() == e.shape());
}

TEST_CASE("layout: gradients of pieces nobody used are zero; the results are copies") {
    Tensor x = arange(6.0, float64).requires_grad_();
    auto p = split(x, 4);
    mul(p[1], 2.0).sum().backward();
    CHECK(v(x.grad()) == std::vector<double>{0, 0, 0, 0, 2, 2});
    Tensor y = arange(4.0, float64);
    Tensor n = narrow(y, 0, 1, 2);
    n.mutable_data<double>()(0) = 100.0;
    CHECK(v(y) == std::vector<double>{0, 1, 2, 3});
    Tensor f = flip(y, {0});
    f.mutable_data<double>()(0) = 100.0;
    CHECK(v(y) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("layout: tril and triu with extreme diagonals") {
    Tensor x = ones({2, 3}, float64);
    CHECK(v(tril(x, INT64_MAX)) == std::vector<double>(6, 1.0));
    CHECK(v(tril(x, INT64_MIN)) == std::vector<double>(6, 0.0));
    CHECK(v(triu(x, INT64_MIN)) == std::vector<double>(6, 1.0));
    CHECK(v(triu(x, INT64_MAX)) == std::vector<double>(6, 0.0));
    CHECK(v(tril(x, -1)) == std::vector<double>{0, 0, 0, 1, 0, 0});
    CHECK(v(triu(x, -1)) == std::vector<double>{1, 1, 1, 1, 1, 1});
}

TEST_CASE("layout: roll and flip undo themselves; repeat_interleave's gradient sums the runs") {
    Tensor x = rand({3, 4}, float64);
    CHECK(max_abs_diff(roll(roll(x, {7, -3}, {0, 1}), {-7, 3}, {0, 1}), x) == 0.0);
    CHECK(max_abs_diff(flip(flip(x, {0, 1}), {1, 0}), x) == 0.0);
    Tensor a = arange(3.0, float64).requires_grad_();
    Tensor r = repeat_interleave(a, i64({2, 0, 3}));
    CHECK(v(r) == std::vector<double>{0, 0, 2, 2, 2});
    mul(r, arange(5.0, float64)).sum().backward();
    CHECK(v(a.grad()) == std::vector<double>{0 + 1, 0, 2 + 3 + 4});
}

}  // namespace

XG_REGISTER_OP_INFO(
    split_info,
    {"split", split_samples, split_errors, [] {
         return Parity{
             {one("split_2_dim1", [](const Tensor& x) { return weighted_cat(split(x, 2, 1), 1); }),
              one("split_sizes_dim0", [](const Tensor& x) {
                  return weighted_cat(split(x, std::vector<std::int64_t>{1, 0, 3, 2}), 0);
              })}};
     }});
XG_REGISTER_OP_INFO(chunk_info, {"chunk", chunk_samples, chunk_errors, [] {
                                     return Parity{{one("chunk_3_dim_m1", [](const Tensor& x) {
                                         return weighted_cat(chunk(x, 3, -1), -1);
                                     })}};
                                 }});
XG_REGISTER_OP_INFO(unbind_info, {"unbind", unbind_samples, unbind_errors, [] {
                                      return Parity{{one("unbind_dim1", [](const Tensor& x) {
                                          return weighted_stack(unbind(x, 1));
                                      })}};
                                  }});
XG_REGISTER_OP_INFO(narrow_info, {"narrow", narrow_samples, narrow_errors, [] {
                                      return Parity{{one("narrow", [](const Tensor& x) {
                                          return narrow(x, 1, -3, 2);
                                      })}};
                                  }});
XG_REGISTER_OP_INFO(repeat_info, {"repeat", repeat_samples, repeat_errors, [] {
                                      return Parity{{one("repeat", [](const Tensor& x) {
                                          return repeat(x, {2, 1, 3});
                                      })}};
                                  }});
XG_REGISTER_OP_INFO(tile_info,
                    {"tile", tile_samples, tile_errors, [] {
                         return Parity{{one("tile", [](const Tensor& x) { return tile(x, {2}); })}};
                     }});
XG_REGISTER_OP_INFO(repeat_interleave_info,
                    {"repeat_interleave", repeat_interleave_samples, repeat_interleave_errors, [] {
                         return Parity{
                             {one("repeat_interleave_dim1",
                                  [](const Tensor& x) { return repeat_interleave(x, 2, 1); }),
                              one("repeat_interleave_flat",
                                  [](const Tensor& x) { return repeat_interleave(x, 3); }),
                              {"layout_repeat_interleave_tensor", 2, [](const TensorList& x) {
                                   return repeat_interleave(x[0], x[1], 0);
                               }}}};
                     }});
XG_REGISTER_OP_INFO(flip_info, {"flip", flip_samples, flip_errors, [] {
                                    return Parity{{one("flip", [](const Tensor& x) {
                                        return flip(x, {0, 2});
                                    })}};
                                }});
XG_REGISTER_OP_INFO(roll_info, {"roll", roll_samples, roll_errors, [] {
                                    return Parity{{one("roll",
                                                       [](const Tensor& x) {
                                                           return roll(x, {1, -5}, {0, 1});
                                                       }),
                                                   one("roll_flat", [](const Tensor& x) {
                                                       return roll(x, {5});
                                                   })}};
                                }});
static Register tril_info{triangle_info("tril", tril)};
static Register triu_info{triangle_info("triu", triu)};
XG_REGISTER_OP_INFO(diagonal_info,
                    {"diagonal", diagonal_samples, diagonal_errors, [] {
                         return Parity{
                             {one("diagonal", [](const Tensor& x) { return diagonal(x, 1); }),
                              one("diagonal_dims_2_0",
                                  [](const Tensor& x) { return diagonal(x, -1, 2, 0); })}};
                     }});
XG_REGISTER_OP_INFO(
    movedim_info,
    {"movedim", movedim_samples, movedim_errors, [] {
         return Parity{{one("movedim", [](const Tensor& x) {
             return movedim(x, std::vector<std::int64_t>{0, 1}, std::vector<std::int64_t>{2, 0});
         })}};
     }});
XG_REGISTER_OP_INFO(swapaxes_info, {"swapaxes", swapaxes_samples, swapaxes_errors, [] {
                                        return Parity{{one("swapaxes", [](const Tensor& x) {
                                            return swapaxes(x, 0, -1);
                                        })}};
                                    }});
XG_REGISTER_OP_INFO(expand_as_info, {"expand_as", expand_as_samples, expand_as_errors, [] {
                                         return Parity{{one("expand_as", [](const Tensor& x) {
                                             return expand_as(x, zeros({2, 3, 4}, float64));
                                         })}};
                                     }});
XG_REGISTER_OP_INFO(broadcast_to_info,
                    {"broadcast_to", broadcast_to_samples, broadcast_to_errors, [] {
                         return Parity{{one("broadcast_to", [](const Tensor& x) {
                             return broadcast_to(x, {2, -1, 4});
                         })}};
                     }});
XG_REGISTER_OP_INFO(meshgrid_info, {"meshgrid", meshgrid_samples, meshgrid_errors, [] {
                                        auto grid = [](std::string indexing) {
                                            return [indexing](const TensorList& x) {
                                                return weighted_stack(meshgrid(x, indexing));
                                            };
                                        };
                                        return Parity{{{"layout_meshgrid_ij", 3, grid("ij")},
                                                       {"layout_meshgrid_xy", 3, grid("xy")}}};
                                    }});

}  // namespace xg::testing
