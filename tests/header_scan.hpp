#pragma once
// Reads the public op declarations from the headers, so the op registry cannot drift from them,
// and the #includes of every source file, so the layers cannot point upward.
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xg::testing {

// The names of the functions declared or defined directly in namespace xg of a C++ header's
// text: not in xg::detail (or any nested or anonymous namespace), not members, not operators,
// not types. Comments and preprocessor lines are ignored.
std::set<std::string> scan_declarations(const std::string& text);

// Every public op: the functions scanned from <source_dir>/ops/*.hpp (and nn/functional*.hpp
// once it exists), plus the Tensor methods that are ops in their own right (kept in a short
// list in tests/header_scan.cpp, each checked against core/tensor.hpp).
std::set<std::string> declared_ops(const std::string& source_dir);

// One #include line of a file: its line number (from 1) and the path as written.
struct Include {
    int line;
    std::string path;
};

// The #include directives of a C++ file's text ("..." and <...>), in order; commented-out ones
// are skipped.
std::vector<Include> scan_includes(const std::string& text);

// The layer ladder, one row per folder (and the root umbrella xgrad.hpp): the folders (or
// "xgrad.hpp") that its files may include. Defined in tests/header_scan.cpp.
const std::vector<std::pair<std::string, std::vector<std::string>>>& layer_rules();

// The includes of one file that break layer_rules(), one message each, naming file:line, the
// include and the rule. `file` is the path from the source root ("nn/layers.cpp", "xgrad.hpp").
// An include counts when it starts with a folder of the table or is xgrad.hpp; a quoted one that
// does not (or starts with ..) is taken relative to the file's folder; others are third-party.
std::vector<std::string> layer_violations(const std::string& file,
                                          const std::vector<Include>& includes);

// The files layer_rules() covers: xgrad.hpp and every .hpp/.cpp under its folders, as sorted
// paths from the source root.
std::vector<std::string> layered_files(const std::string& source_dir);

}  // namespace xg::testing
