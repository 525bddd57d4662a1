// Printing a tensor the way PyTorch's repr does (aligned columns, 4 decimals or scientific
// notation, summarized beyond 1000 elements), with braces so the text pastes into xg::tensor().
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "core/tensor.hpp"

namespace xg {

namespace {

constexpr std::size_t kSummarizeOver = 1000;  // torch's default threshold
constexpr std::size_t kEdgeItems = 3;

struct Style {
    bool integral = true;  // every value a whole number: print "2." (floats) or "2" (int64)
    bool sci = false;
    bool is_int = false;
    bool is_bool = false;
    std::size_t width = 0;
};

std::string format_value(double v, const Style& st) {
    if (st.is_bool) return v != 0 ? "true" : "false";
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (st.sci) return fmt::format("{:.4e}", v);
    if (st.integral) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.4f}", v);
}

// The indices of a dim of size n that are shown: all, or the first and last kEdgeItems.
std::vector<std::size_t> shown(std::size_t n, bool summarize) {
    std::vector<std::size_t> idx;
    if (!summarize || n <= 2 * kEdgeItems) {
        for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
        for (std::size_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
        idx.push_back(n);  // marks the "..." gap
        for (std::size_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    }
    return idx;
}

struct Printer {
    const std::vector<double>& v;
    const Shape& shape;
    bool summarize;
    Style st;
    std::vector<std::int64_t> ints = {};  // integer tensors: exact values (a double rounds them)

    std::string cell(std::size_t i) const {
        if (st.is_int && !st.is_bool) return fmt::format("{}", ints[i]);
        return format_value(v[i], st);
    }

    // Visits the shown elements, calling f on each one's flat index.
    template <class F>
    void each_index(std::size_t dim, std::size_t offset, F&& f) const {
        if (dim == shape.size()) return f(offset);
        std::size_t stride = 1;
        for (std::size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
        for (std::size_t i : shown(shape[dim], summarize)) {
            if (i < shape[dim]) each_index(dim + 1, offset + i * stride, f);
        }
    }
    template <class F>
    void each(std::size_t dim, std::size_t offset, F&& f) const {
        each_index(dim, offset, [&](std::size_t i) { f(v[i]); });
    }

    std::string block(std::size_t dim, std::size_t offset, std::size_t indent) const {
        if (dim == shape.size()) {
            std::string s = cell(offset);
            return std::string(st.width - std::min(st.width, s.size()), ' ') + s;
        }
        std::size_t stride = 1;
        for (std::size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
        const bool last = dim + 1 == shape.size();
        // Rows of the innermost dim sit side by side; outer dims go one per line, with a blank
        // line between blocks of 3-D and higher.
        std::string sep =
            last ? ", "
                 : ",\n" + std::string(shape.size() - dim - 2, '\n') + std::string(indent + 1, ' ');
        std::string out = "{";
        bool first = true;
        for (std::size_t i : shown(shape[dim], summarize)) {
            if (!first) out += sep;
            first = false;
            out += i == shape[dim] ? std::string("...")
                                   : block(dim + 1, offset + i * stride, indent + 1);
        }
        return out + "}";
    }
};

}  // namespace

std::string to_string(const Tensor& t) {
    if (!t.defined()) return "tensor(undefined)";
    const std::vector<double> v = t.to_vector();
    const Shape& shape = t.shape();
    Printer p{v, shape, v.size() > kSummarizeOver, {}};
    p.st.is_int = is_integral(t.dtype(), true);
    p.st.is_bool = t.dtype() == Dtype::bool_;
    if (p.st.is_int && !p.st.is_bool) {
        const Tensor l = t.detach().to(int64);
        p.ints.assign(l.data<std::int64_t>().begin(), l.data<std::int64_t>().end());
    }
    double max_abs = 0, min_abs = HUGE_VAL;
    p.each(0, 0, [&](double x) {
        if (!std::isfinite(x)) return;
        if (x != std::floor(x)) p.st.integral = false;
        max_abs = std::max(max_abs, std::abs(x));
        if (x != 0) min_abs = std::min(min_abs, std::abs(x));
    });
    // As torch: scientific when the magnitudes span too much or fall outside 4 decimals' reach.
    if (!p.st.is_int) {
        p.st.sci = p.st.integral ? max_abs >= 1e8
                                 : (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3);
    }
    p.each_index(0, 0, [&](std::size_t i) { p.st.width = std::max(p.st.width, p.cell(i).size()); });

    std::string s = "tensor(";
    if (shape.empty()) {
        s += p.cell(0);
    } else if (v.empty()) {
        s += fmt::format("{{}}, size={}", shape);  // as torch: tensor([], size=(2, 0))
    } else {
        s += p.block(0, 0, 7);  // 7 = strlen("tensor(")
    }
    if (t.dtype() != Dtype::float32) s += fmt::format(", dtype={}", t.dtype());
    if (t.grad_fn()) {
        s += fmt::format(", grad_fn={}", t.grad_fn()->name());
    } else if (t.requires_grad()) {
        s += ", requires_grad=true";
    }
    return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    return os << to_string(t);
}

}  // namespace xg
