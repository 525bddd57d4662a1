#include <algorithm>
#include <string>

#include "core/dispatch.hpp"
#include "data/example.hpp"

namespace xg::data {

Tensor detail::stack_tensors(const std::vector<Tensor>& rows, const char* field) {
    XG_CHECK(!rows.empty(), "Stack: no examples to stack");
    const Tensor& first = rows[0];
    for (std::size_t k = 0; k < rows.size(); ++k) {
        XG_CHECK(rows[k].defined(), "Stack: {} of example {} is undefined", field, k);
        XG_CHECK(rows[k].dtype() == first.dtype() && rows[k].shape() == first.shape(),
                 "Stack: {} of example {} is {} {} but example 0's is {} {}; stacking needs one "
                 "shape and dtype (pad sequences to one length, or collate them yourself)",
                 field, k, rows[k].dtype(), rows[k].shape(), first.dtype(), first.shape());
    }
    Shape shape{rows.size()};
    shape.insert(shape.end(), first.shape().begin(), first.shape().end());
    const std::size_t numel = first.numel();
    return xg::detail::dispatch_all(first.dtype(), [&](auto zero) {
        using T = decltype(zero);
        xg::array<T> out = xg::array<T>::from_shape(shape);
        for (std::size_t k = 0; k < rows.size(); ++k)
            std::copy_n(rows[k].data<T>().data(), numel, out.data() + k * numel);
        return Tensor(std::move(out));
    });
}

std::vector<Tensor> transforms::Stack<std::vector<Tensor>>::operator()(
    std::vector<std::vector<Tensor>> examples) const {
    XG_CHECK(!examples.empty(), "Stack: no examples to stack");
    const std::size_t n = examples[0].size();
    for (std::size_t k = 0; k < examples.size(); ++k)
        XG_CHECK(examples[k].size() == n, "Stack: example {} has {} tensors, example 0 has {}", k,
                 examples[k].size(), n);
    std::vector<Tensor> out;
    std::vector<Tensor> column(examples.size());
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = 0; k < examples.size(); ++k) column[k] = std::move(examples[k][j]);
        const std::string field = "tensor " + std::to_string(j);
        out.push_back(detail::stack_tensors(column, field.c_str()));
    }
    return out;
}

}  // namespace xg::data
