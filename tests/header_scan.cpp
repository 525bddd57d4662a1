#include "tests/header_scan.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <vector>

namespace xg::testing {

namespace {

// Drops // and /* */ comments and preprocessor lines (macro bodies included), keeping line
// structure irrelevant.
std::string strip(const std::string& text) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (line_start && text[i] == '#') {  // a directive, with its backslash continuations
            while (i < text.size() && (text[i] != '\n' || text[i - 1] == '\\')) ++i;
        } else if (text.compare(i, 2, "//") == 0) {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (text.compare(i, 2, "/*") == 0) {
            i = text.find("*/", i + 2);
            if (i == std::string::npos) break;
            ++i;
            continue;
        }
        if (i >= text.size()) break;
        out += text[i];
        if (text[i] == '\n')
            line_start = true;
        else if (!std::isspace(static_cast<unsigned char>(text[i])))
            line_start = false;
    }
    return out;
}

bool is_ident(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The function name of one statement at namespace scope, or "" if it declares no function.
std::string function_name(const std::string& stmt) {
    static const std::regex skip(
        R"(^\s*(using|typedef|struct|class|enum|union|template|extern|static_assert|friend|namespace)\b)");
    if (std::regex_search(stmt, skip)) return "";
    std::size_t paren = stmt.find('(');
    if (paren == std::string::npos) return "";
    std::size_t end = paren;
    while (end > 0 && std::isspace(static_cast<unsigned char>(stmt[end - 1]))) --end;
    std::size_t begin = end;
    while (begin > 0 && is_ident(stmt[begin - 1])) --begin;
    std::string name = stmt.substr(begin, end - begin);
    if (name.empty() || name == "operator" || std::isdigit(static_cast<unsigned char>(name[0])))
        return "";
    // A declaration has a return type before its name.
    if (stmt.find_first_not_of(" \t\n", 0) == begin) return "";
    return name;
}

}  // namespace

std::set<std::string> scan_declarations(const std::string& text) {
    const std::string src = strip(text);
    std::set<std::string> names;
    std::vector<std::string> scopes;  // namespace names, or "{" for any other brace
    std::string stmt;
    int parens = 0;
    auto in_xg = [&] { return scopes.size() == 1 && scopes[0] == "xg"; };
    for (char c : src) {
        if (c == '(') ++parens;
        if (c == ')') --parens;
        if (parens > 0 || (c != ';' && c != '{' && c != '}')) {
            stmt += c;
            continue;
        }
        if (c == ';') {
            if (in_xg()) {
                std::string n = function_name(stmt);
                if (!n.empty()) names.insert(n);
            }
        } else if (c == '{') {
            static const std::regex ns(R"(^\s*(?:inline\s+)?namespace\s*([\w:]*)\s*$)");
            std::smatch m;
            if (std::regex_match(stmt, m, ns)) {
                std::string path = m[1].str().empty() ? "(anonymous)" : m[1].str();
                // namespace a::b { opens two scopes; closed by one brace, so keep one entry.
                scopes.push_back(path == "xg" ? "xg" : (scopes.empty() ? path : "xg::" + path));
            } else {
                if (in_xg()) {  // an inline function defined in the header
                    std::string n = function_name(stmt);
                    if (!n.empty()) names.insert(n);
                }
                scopes.push_back("{");
            }
        } else if (!scopes.empty()) {
            scopes.pop_back();
        }
        stmt.clear();
    }
    return names;
}

std::set<std::string> declared_ops(const std::string& source_dir) {
    namespace fs = std::filesystem;
    auto read = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    std::set<std::string> ops;
    for (const char* dir : {"ops", "nn"}) {
        const fs::path d = fs::path(source_dir) / dir;
        if (!fs::is_directory(d)) continue;
        for (const auto& e : fs::directory_iterator(d)) {
            const std::string f = e.path().filename().string();
            const bool header = e.path().extension() == ".hpp";
            if (!header || (std::string(dir) == "nn" && f.rfind("functional", 0) != 0)) continue;
            for (const auto& n : scan_declarations(read(e.path()))) ops.insert(n);
        }
    }
    // Reversed-operand forms whose errors carry the name of the op they reverse: their samples
    // and error inputs live in that op's row (rsub in sub's, rdiv in div's).
    for (const char* alias : {"rsub", "rdiv"}) ops.erase(alias);
    // Tensor methods that are ops of their own (no free function in ops/): casts and copies.
    const std::string tensor_hpp = read(fs::path(source_dir) / "core" / "tensor.hpp");
    for (const char* m : {"to", "clone"}) {
        if (tensor_hpp.find(std::string("Tensor ") + m + "(") != std::string::npos) ops.insert(m);
    }
    return ops;
}

std::vector<Include> scan_includes(const std::string& text) {
    static const std::regex directive(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
    std::vector<Include> out;
    std::istringstream in(text);
    std::string line;
    bool in_comment = false;  // inside /* */ at the start of the line
    for (int n = 1; std::getline(in, line); ++n) {
        // What the line holds outside block comments (// comments need no care: a directive
        // must come first on its line).
        std::string code;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (in_comment) {
                const std::size_t end = line.find("*/", i);
                if (end == std::string::npos) break;
                in_comment = false;
                i = end + 1;
            } else if (line.compare(i, 2, "/*") == 0) {
                in_comment = true;
                ++i;
            } else if (line.compare(i, 2, "//") == 0) {
                break;
            } else {
                code += line[i];
            }
        }
        std::smatch m;
        if (std::regex_search(code, m, directive)) out.push_back({n, m[2].str()});
    }
    return out;
}

// The ladder: core < ops < {check, nn, optim, data} < train < distributed < {examples, bench};
// tests/ on everything. Siblings do not include each other, and nothing but themselves includes
// examples/, bench/ or tests/.
const std::vector<std::pair<std::string, std::vector<std::string>>>& layer_rules() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> rules = {
        {"core", {"core"}},
        {"ops", {"core", "ops"}},
        {"check", {"core", "ops", "check"}},
        {"nn", {"core", "ops", "nn"}},
        {"optim", {"core", "ops", "optim"}},
        {"data", {"core", "ops", "data"}},
        {"train", {"core", "ops", "check", "nn", "optim", "data", "train"}},
        {"distributed", {"core", "ops", "check", "nn", "optim", "data", "train", "distributed"}},
        // The umbrella: the top of the library (distributed/ only under XGRAD_WITH_MPI).
        {"xgrad.hpp", {"core", "ops", "check", "nn", "optim", "data", "train", "distributed"}},
        {"examples",
         {"core", "ops", "check", "nn", "optim", "data", "train", "distributed", "xgrad.hpp",
          "examples"}},
        {"bench",
         {"core", "ops", "check", "nn", "optim", "data", "train", "distributed", "xgrad.hpp",
          "bench"}},
        {"tests",
         {"core", "ops", "check", "nn", "optim", "data", "train", "distributed", "xgrad.hpp",
          "tests"}},
    };
    return rules;
}

namespace {

const std::vector<std::string>* allowed_for(const std::string& layer) {
    for (const auto& [name, allowed] : layer_rules())
        if (name == layer) return &allowed;
    return nullptr;
}

// "nn" for "nn/layers.cpp", "xgrad.hpp" for "xgrad.hpp".
std::string first_component(const std::string& path) {
    return path.substr(0, path.find('/'));
}

// The table entry an include reaches, or "" for a third-party header.
std::string included_layer(const std::string& file, const std::string& inc) {
    namespace fs = std::filesystem;
    std::string top = first_component(inc);
    if (allowed_for(top) != nullptr) return top;
    // Relative to the including file, as the compiler looks first for a quoted include.
    const std::string rel =
        (fs::path(file).parent_path() / inc).lexically_normal().generic_string();
    top = first_component(rel);
    return allowed_for(top) != nullptr ? top : "";
}

std::string layer_of(const std::string& file) {
    return file == "xgrad.hpp" ? file : first_component(file);
}

std::string describe(const std::string& layer) {
    return layer == "xgrad.hpp" ? layer : layer + "/";
}

}  // namespace

std::vector<std::string> layer_violations(const std::string& file,
                                          const std::vector<Include>& includes) {
    const std::string layer = layer_of(file);
    const std::vector<std::string>* allowed = allowed_for(layer);
    if (allowed == nullptr) return {file + ": no layer rule for " + describe(layer)};
    std::string rule = describe(layer) + " may include only";
    for (const auto& a : *allowed) rule += " " + describe(a);
    std::vector<std::string> out;
    for (const auto& inc : includes) {
        const std::string target = included_layer(file, inc.path);
        if (target.empty() || std::find(allowed->begin(), allowed->end(), target) != allowed->end())
            continue;
        out.push_back(file + ":" + std::to_string(inc.line) + ": #include \"" + inc.path +
                      "\" reaches " + describe(target) + ", but " + rule);
    }
    return out;
}

std::vector<std::string> layered_files(const std::string& source_dir) {
    namespace fs = std::filesystem;
    const fs::path root(source_dir);
    std::vector<std::string> files;
    for (const auto& rule : layer_rules()) {
        const fs::path p = root / rule.first;
        if (fs::is_regular_file(p)) {  // xgrad.hpp
            files.push_back(rule.first);
            continue;
        }
        if (!fs::is_directory(p)) continue;
        for (const auto& e : fs::recursive_directory_iterator(p)) {
            const auto ext = e.path().extension();
            if (e.is_regular_file() && (ext == ".hpp" || ext == ".cpp"))
                files.push_back(e.path().lexically_relative(root).generic_string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace xg::testing
