#include "ops/dropout.hpp"

#include "core/dispatch.hpp"
#include "core/node.hpp"
#include "core/random.hpp"
#include "ops/elementwise.hpp"
#include "ops/shape.hpp"

namespace xg {

Tensor dropout(const Tensor& x, double p, bool training, Site site) {
    detail::SiteScope at(site);
    return dropout(x, p, training, default_generator());
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen, Site site) {
    detail::SiteScope at(site);
    detail::check_defined("dropout", x, "input");
    detail::check_floating("dropout", x, "input");
    XG_CHECK(p >= 0.0 && p < 1.0,
             "dropout: p is the probability of dropping an element and must be in [0, 1), got {}"
             "{}",
             p, p == 1.0 ? " (a keep probability of 1 means p = 0 here)" : "");
    if (!training || p == 0.0) return detail::alias("DropoutBackward", x);
    const double keep = 1.0 - p;
    Tensor mask, out;
    detail::dispatch_float("dropout", x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T scale = static_cast<T>(1.0 / keep);
        xg::array<T> m = xg::array<T>::from_shape(x.shape());
        for (auto& v : m) v = gen.uniform() < keep ? scale : T(0);
        out = Tensor(xg::array<T>(x.data<T>() * m));
        mask = Tensor(std::move(m));
    });
    if (auto node = record("DropoutBackward", {x}, {out}))
        node->set_fn([mask](const TensorList& g) { return TensorList{mul(g[0], mask)}; });
    return out;
}

}  // namespace xg
