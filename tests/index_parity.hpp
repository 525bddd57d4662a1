#pragma once
// Parity cases for ops that return (values, indices): the values (and their gradient) as any
// case, and the indices against <fixture>.idx.npy (written by tests/parity/reduce_sort_ops.py).
#include <functional>
#include <string>
#include <tuple>

#include "tests/op_registry.hpp"

namespace xg::testing {

using TupleFn = std::function<std::tuple<Tensor, Tensor>(const TensorList&)>;

inline ParityCase indexed_case(const std::string& fixture, std::size_t n_inputs, TupleFn f) {
    auto indices = [fixture, n_inputs, f]() -> std::string {
        TensorList in;
        for (std::size_t i = 0; i < n_inputs; ++i)
            in.push_back(load_fixture(fixture, fmt::format("in{}", i)));
        Tensor got = std::get<1>(f(in)), want = load_fixture(fixture, "idx");
        if (got.dtype() != int64) return fmt::format("{}: indices are {}", fixture, got.dtype());
        if (got.shape() != want.shape() || got.to_vector() != want.to_vector())
            return fmt::format("{}: indices {}, PyTorch gives {}", fixture, got, want);
        return "";
    };
    return ParityCase{fixture, n_inputs, [f](const TensorList& x) { return std::get<0>(f(x)); },
                      indices};
}

}  // namespace xg::testing
