// einsum (declared in ops/linalg.hpp): parse the equation, take the diagonals of repeated
// letters, sum letters nobody else needs, then contract the operands left to right, each pair
// with one gemm_op (batch letters as its batch dims) or, without a contraction to do, with mul.
// Everything is a differentiable op, so einsum is twice differentiable.
#include <algorithm>
#include <string>
#include <vector>

#include "core/dispatch.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/linalg.hpp"
#include "ops/matmul.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xg {

namespace {

// Labels: 0..51 for A..Z, a..z (PyTorch's order of the implicit output), then one per
// ellipsis dim.
constexpr int kLetters = 52;
using Labels = std::vector<int>;

struct Term {
    Labels letters;
    bool ellipsis = false;
    std::size_t ellipsis_at = 0;  // how many letters precede the "..."
};

std::string letter(int l) {
    return std::string(1, static_cast<char>(l < 26 ? 'A' + l : 'a' + (l - 26)));
}

std::string term_text(const Term& t) {
    std::string s;
    for (std::size_t i = 0; i <= t.letters.size(); ++i) {
        if (t.ellipsis && i == t.ellipsis_at) s += "...";
        if (i < t.letters.size()) s += letter(t.letters[i]);
    }
    return s;
}

struct Equation {
    std::vector<Term> inputs;
    Term output;
    bool explicit_output = false;
};

Equation parse(const std::string& eq) {
    Equation e;
    Term cur;
    auto where = [&] {
        return e.explicit_output ? std::string("the output")
                                 : fmt::format("operand {}", e.inputs.size());
    };
    for (std::size_t i = 0; i < eq.size(); ++i) {
        const char c = eq[i];
        if (c == ' ') continue;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            cur.letters.push_back(c <= 'Z' ? c - 'A' : c - 'a' + 26);
        } else if (c == '.') {
            XG_CHECK(eq.compare(i, 3, "...") == 0,
                     "einsum: '.' at index {} of equation '{}' is not part of an ellipsis '...'", i,
                     eq);
            XG_CHECK(!cur.ellipsis, "einsum: {} has more than one ellipsis in equation '{}'",
                     where(), eq);
            cur.ellipsis = true;
            cur.ellipsis_at = cur.letters.size();
            i += 2;
        } else if (c == ',' && !e.explicit_output) {
            e.inputs.push_back(cur);
            cur = Term();
        } else if (c == '-' && !e.explicit_output && eq.compare(i, 2, "->") == 0) {
            e.inputs.push_back(cur);
            cur = Term();
            e.explicit_output = true;
            ++i;
        } else {
            XG_CHECK(false,
                     "einsum: invalid character '{}' at index {} of equation '{}' (subscripts are "
                     "letters a-z, A-Z)",
                     c, i, eq);
        }
    }
    (e.explicit_output ? e.output : e.inputs.emplace_back()) = cur;
    return e;
}

// An operand on its way: its tensor and the label of each dim.
struct Operand {
    Tensor t;
    Labels labels;
};

std::size_t pos_of(const Labels& ls, int l) {
    return static_cast<std::size_t>(std::find(ls.begin(), ls.end(), l) - ls.begin());
}

bool has(const Labels& ls, int l) {
    return std::find(ls.begin(), ls.end(), l) != ls.end();
}

std::size_t size_of(const Operand& o, int l) {
    return o.t.shape()[pos_of(o.labels, l)];
}

Tensor permute_to(const Operand& o, const Labels& want) {
    if (o.labels == want) return o.t;
    std::vector<std::int64_t> perm;
    for (int l : want) perm.push_back(static_cast<std::int64_t>(pos_of(o.labels, l)));
    return detail::permute_copy(o.t, perm);
}

// Sums o over the dims whose labels pred picks.
template <class P>
void sum_out(Operand& o, P&& pred) {
    std::vector<std::int64_t> dims;
    Labels rest;
    for (std::size_t i = 0; i < o.labels.size(); ++i) {
        if (pred(o.labels[i]))
            dims.push_back(static_cast<std::int64_t>(i));
        else
            rest.push_back(o.labels[i]);
    }
    if (dims.empty()) return;  // sum over {} would sum everything
    o.t = sum(o.t, dims);
    o.labels = rest;
}

// A letter repeated within one operand: its diagonal, as the last dim.
void take_diagonals(Operand& o) {
    for (std::size_t i = 0; i < o.labels.size(); ++i) {
        for (std::size_t j = i + 1; j < o.labels.size(); ++j) {
            if (o.labels[i] != o.labels[j]) continue;
            const int l = o.labels[i];
            o.t = diagonal(o.t, 0, static_cast<std::int64_t>(i), static_cast<std::int64_t>(j));
            o.labels.erase(o.labels.begin() + static_cast<std::ptrdiff_t>(j));
            o.labels.erase(o.labels.begin() + static_cast<std::ptrdiff_t>(i));
            o.labels.push_back(l);
            take_diagonals(o);
            return;
        }
    }
}

std::vector<std::int64_t> sizes_of(const Operand& o, const Labels& ls) {
    std::vector<std::int64_t> s;
    for (int l : ls) s.push_back(static_cast<std::int64_t>(size_of(o, l)));
    return s;
}

std::int64_t product(const std::vector<std::int64_t>& s) {
    std::int64_t p = 1;
    for (auto v : s) p = checked_mul("einsum", "the size of a group of dims", p, v);
    return p;
}

// reshape, without even an alias node when the shape is already right.
Tensor reshaped(const Tensor& t, const std::vector<std::int64_t>& shape) {
    return std::equal(shape.begin(), shape.end(), t.shape().begin(), t.shape().end())
               ? t
               : reshape(t, shape);
}

template <class V, class... Vs>
V concat(V out, const Vs&... parts) {
    (out.insert(out.end(), parts.begin(), parts.end()), ...);
    return out;
}

// l (a batch or contracted letter) and r side by side: `b` batch letters, `m` only in l,
// `n` only in r, `k` contracted. Without a contraction, or with nothing but the contraction (a
// batch of dot products), it is a broadcast mul (and a sum); otherwise one gemm_op over the
// batch letters.
Operand contract(Operand l, Operand r, const Labels& b, const Labels& m, const Labels& n,
                 const Labels& k) {
    if (k.empty() || (m.empty() && n.empty())) {
        Tensor lt = permute_to(l, concat(b, m, k)), rt = permute_to(r, concat(b, n, k));
        auto ls = sizes_of(l, b), rs = sizes_of(r, b);
        auto lm = sizes_of(l, m), rn = sizes_of(r, n), lk = sizes_of(l, k), rk = sizes_of(r, k);
        ls.insert(ls.end(), lm.begin(), lm.end());
        ls.insert(ls.end(), n.size(), 1);
        ls.insert(ls.end(), lk.begin(), lk.end());
        rs.insert(rs.end(), m.size(), 1);
        rs.insert(rs.end(), rn.begin(), rn.end());
        rs.insert(rs.end(), rk.begin(), rk.end());
        Operand out{mul(reshaped(lt, ls), reshaped(rt, rs)), concat(b, m, n, k)};
        sum_out(out, [&](int x) { return has(k, x); });
        return out;
    }
    // Each side in one of its two gemm layouts as it stands, else permuted to the first.
    const bool ta = l.labels != concat(b, m, k) && l.labels == concat(b, k, m);
    const bool tb = r.labels != concat(b, k, n) && r.labels == concat(b, n, k);
    Tensor lt = permute_to(l, ta ? concat(b, k, m) : concat(b, m, k));
    Tensor rt = permute_to(r, tb ? concat(b, n, k) : concat(b, k, n));
    Shape batch;
    for (int x : b) batch.push_back(size_of(l, x) == 1 ? size_of(r, x) : size_of(l, x));
    auto as_matrix = [&](Tensor t, const Operand& o, const Labels& rows, const Labels& cols) {
        auto rs = sizes_of(o, rows), cs = sizes_of(o, cols);
        Shape full = batch;
        for (auto s : concat(rs, cs)) full.push_back(static_cast<std::size_t>(s));
        if (t.shape() != full) t = expand(t, full);  // batch dims of size 1 broadcast
        std::vector<std::int64_t> mat(batch.begin(), batch.end());
        mat.push_back(product(rs));
        mat.push_back(product(cs));
        return reshaped(t, mat);
    };
    lt = ta ? as_matrix(lt, l, k, m) : as_matrix(lt, l, m, k);
    rt = tb ? as_matrix(rt, r, n, k) : as_matrix(rt, r, k, n);
    Tensor p = gemm_op(lt, rt, ta, tb);
    std::vector<std::int64_t> out_shape(batch.begin(), batch.end());
    for (auto s : concat(sizes_of(l, m), sizes_of(r, n))) out_shape.push_back(s);
    return {reshaped(p, out_shape), concat(b, m, n)};
}

}  // namespace

Tensor einsum(const std::string& equation, const TensorList& operands, Site site) {
    detail::SiteScope at(site);
    const std::string& eq = equation;
    Equation e = parse(eq);
    XG_CHECK(e.inputs.size() == operands.size(),
             "einsum: equation '{}' has {} operand terms, but {} operands were given", eq,
             e.inputs.size(), operands.size());
    // Labels of every dim, with the ellipsis dims right-aligned across operands.
    std::size_t ell = 0;
    for (std::size_t i = 0; i < operands.size(); ++i) {
        const Tensor& t = operands[i];
        const Term& term = e.inputs[i];
        XG_CHECK(t.defined(), "einsum: operand {} is an undefined tensor", i);
        XG_CHECK(is_floating(t.dtype()),
                 "einsum: operand {} must be float32 or float64, got {} (equation '{}')", i,
                 t.dtype(), eq);
        XG_CHECK(t.dtype() == operands[0].dtype(),
                 "einsum: operand {} has dtype {}, operand 0 has {} (equation '{}')", i, t.dtype(),
                 operands[0].dtype(), eq);
        const std::size_t nl = term.letters.size();
        XG_CHECK(term.ellipsis ? nl <= t.dim() : nl == t.dim(),
                 "einsum: operand {} has {} dims (shape {}), but its subscripts '{}' name {}{} "
                 "(equation '{}')",
                 i, t.dim(), t.shape(), term_text(term), nl, term.ellipsis ? " and more" : "", eq);
        if (term.ellipsis) ell = std::max(ell, t.dim() - nl);
    }
    std::vector<Operand> ops;
    std::vector<std::size_t> size(kLetters + ell, 0);
    std::vector<int> seen_in(kLetters + ell, -1);
    for (std::size_t i = 0; i < operands.size(); ++i) {
        const Term& term = e.inputs[i];
        Operand o{operands[i], {}};
        const std::size_t own = o.t.dim() - term.letters.size();
        for (std::size_t j = 0; j <= term.letters.size(); ++j) {
            if (term.ellipsis && j == term.ellipsis_at)
                for (std::size_t d = 0; d < own; ++d)
                    o.labels.push_back(static_cast<int>(kLetters + ell - own + d));
            if (j < term.letters.size()) o.labels.push_back(term.letters[j]);
        }
        for (std::size_t d = 0; d < o.labels.size(); ++d) {
            const int l = o.labels[d];
            const std::size_t s = o.t.shape()[d], first = size_of(o, l);
            const std::string what =
                l < kLetters ? fmt::format("letter '{}'", letter(l)) : "an ellipsis dim";
            XG_CHECK(s == first,
                     "einsum: {} is repeated in operand {} with sizes {} and {} (equation '{}'); "
                     "its diagonal needs equal sizes",
                     what, i, first, s, eq);
            if (seen_in[l] >= 0 && static_cast<std::size_t>(seen_in[l]) != i)
                XG_CHECK(s == size[l] || s == 1 || size[l] == 1,
                         "einsum: {} has size {} in operand {} (shape {}) but size {} in operand "
                         "{} (equation '{}')",
                         what, s, i, o.t.shape(), size[l], seen_in[l], eq);
            if (seen_in[l] < 0 || size[l] == 1) size[l] = s;
            if (seen_in[l] < 0) seen_in[l] = static_cast<int>(i);
        }
        ops.push_back(o);
    }
    // The output's labels: as written, or the ellipsis dims then the letters seen once.
    Labels out;
    if (e.explicit_output) {
        const Term& term = e.output;
        for (std::size_t j = 0; j <= term.letters.size(); ++j) {
            if (term.ellipsis && j == term.ellipsis_at)
                for (std::size_t d = 0; d < ell; ++d) out.push_back(static_cast<int>(kLetters + d));
            if (j == term.letters.size()) break;
            const int l = term.letters[j];
            XG_CHECK(seen_in[l] >= 0,
                     "einsum: output letter '{}' does not appear in any operand (equation '{}')",
                     letter(l), eq);
            XG_CHECK(!has(out, l),
                     "einsum: output letter '{}' appears more than once (equation "
                     "'{}')",
                     letter(l), eq);
            out.push_back(l);
        }
    } else {
        std::vector<int> count(kLetters, 0);
        for (const auto& term : e.inputs)
            for (int l : term.letters) ++count[l];
        for (std::size_t d = 0; d < ell; ++d) out.push_back(static_cast<int>(kLetters + d));
        for (int l = 0; l < kLetters; ++l)
            if (count[l] == 1) out.push_back(l);
    }
    // Diagonals, then the letters only one operand has and the output lacks are summed away.
    std::vector<int> holders(kLetters + ell, 0);
    for (auto& o : ops) {
        take_diagonals(o);
        for (int l : o.labels) ++holders[l];
    }
    for (auto& o : ops) sum_out(o, [&](int l) { return holders[l] == 1 && !has(out, l); });
    Operand cur = ops[0];
    for (std::size_t i = 1; i < ops.size(); ++i) {
        Labels kept = out;  // needed after this pair: by the output or a later operand
        for (std::size_t j = i + 1; j < ops.size(); ++j) kept = concat(kept, ops[j].labels);
        Operand& r = ops[i];
        auto needed = [&](const Operand& other) {
            return [&](int l) { return !has(other.labels, l) && !has(kept, l); };
        };
        sum_out(cur, needed(r));
        sum_out(r, needed(cur));
        Labels ones;  // contracted against a size-1 dim: sum the other side, drop the 1
        for (int l : cur.labels)
            if (has(r.labels, l) && !has(kept, l) && size_of(cur, l) != size_of(r, l))
                ones.push_back(l);
        for (int l : ones) {
            Operand& big = size_of(cur, l) == 1 ? r : cur;
            Operand& one = size_of(cur, l) == 1 ? cur : r;
            const std::size_t at = pos_of(one.labels, l);
            sum_out(big, [l](int x) { return x == l; });
            one.t = squeeze(one.t, static_cast<std::int64_t>(at));
            one.labels.erase(one.labels.begin() + static_cast<std::ptrdiff_t>(at));
        }
        Labels b, m, n, k;
        for (int l : cur.labels) {
            if (!has(r.labels, l))
                m.push_back(l);
            else
                (has(kept, l) ? b : k).push_back(l);
        }
        for (int l : r.labels)
            if (!has(cur.labels, l)) n.push_back(l);
        cur = contract(cur, r, b, m, n, k);
    }
    sum_out(cur, [&](int l) { return !has(out, l); });
    Tensor result = permute_to(cur, out);
    return result.is_same(operands[0]) ? detail::alias("AliasBackward", result) : result;
}

}  // namespace xg
