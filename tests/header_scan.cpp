#include "tests/header_scan.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
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

}  // namespace xg::testing
