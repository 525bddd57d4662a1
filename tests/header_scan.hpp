#pragma once
// Reads the public op declarations from the headers, so the op registry cannot drift from them.
#include <set>
#include <string>

namespace xg::testing {

// The names of the functions declared or defined directly in namespace xg of a C++ header's
// text: not in xg::detail (or any nested or anonymous namespace), not members, not operators,
// not types. Comments and preprocessor lines are ignored.
std::set<std::string> scan_declarations(const std::string& text);

// Every public op: the functions scanned from <source_dir>/ops/*.hpp (and nn/functional*.hpp
// once it exists), plus the Tensor methods that are ops in their own right (kept in a short
// list in tests/header_scan.cpp, each checked against core/tensor.hpp).
std::set<std::string> declared_ops(const std::string& source_dir);

}  // namespace xg::testing
