#include "core/graphviz.hpp"

#include <map>

#include "core/node.hpp"
#include "core/tensor_impl.hpp"

namespace xg {

namespace {
std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string meta_str(const std::vector<TensorMeta>& metas) {
    std::string s;
    for (const auto& m : metas) s += fmt::format("\\n{} {}", m.shape, m.dtype);
    return s;
}
}  // namespace

std::string to_dot(const Tensor& root) {
    XG_CHECK(root.defined(), "to_dot: the tensor is undefined");
    std::string out = "digraph xgrad {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
    if (!root.grad_fn()) {
        out += fmt::format("  n0 [shape=ellipse, label=\"{}\\n{} {}\"];\n}}\n",
                           escape(root.name().empty() ? "tensor" : root.name()), root.shape(),
                           root.dtype());
        return out;
    }
    // Ids in first-visit order (a std::map keyed by address is only looked up): the same graph
    // always prints the same text.
    std::map<const Node*, std::size_t> ids;
    std::vector<const Node*> stack{root.grad_fn().get()};
    ids[stack.back()] = 0;
    std::string edges;
    while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        std::size_t id = ids[n];
        if (auto* acc = dynamic_cast<const AccumulateGrad*>(n)) {
            const auto& name = acc->variable()->name;
            out += fmt::format(
                "  n{} [shape=ellipse, style=filled, fillcolor=lightblue, "
                "label=\"{}{}\"];\n",
                id, escape(name.empty() ? "leaf" : name), meta_str(acc->output_meta()));
        } else {
            out += fmt::format("  n{} [shape=box, label=\"{}{}\"];\n", id, escape(n->name()),
                               meta_str(n->output_meta()));
        }
        for (const auto& e : n->next_edges()) {
            if (!e.fn) continue;
            auto [it, inserted] = ids.try_emplace(e.fn.get(), ids.size());
            if (inserted) stack.push_back(e.fn.get());
            edges += fmt::format("  n{} -> n{};\n", it->second, id);
        }
    }
    return out + edges + "}\n";
}

}  // namespace xg
