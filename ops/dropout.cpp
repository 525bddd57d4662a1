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
        // Kept where uniform() < keep, with uniform() = (u >> 11) * 2^-53 for u = next_u64():
        // the same test on the integer, without the call (the same mask, bit for bit, as
        // before), in raw loops (xtensor's iterators and expressions do not vectorize).
        const double threshold = keep * 0x1.0p53;  // exact: a power-of-two scaling
        xg::array<T> m = xg::array<T>::from_shape(x.shape());
        T* mp = m.data();
        for (std::size_t i = 0; i < m.size(); ++i)
            mp[i] = static_cast<double>(gen.next_u64() >> 11) < threshold ? scale : T(0);
        xg::array<T> y = xg::array<T>::from_shape(x.shape());
        const T* xp = x.data<T>().data();
        T* yp = y.data();
        for (std::size_t i = 0; i < y.size(); ++i) yp[i] = xp[i] * mp[i];
        out = Tensor(std::move(y));
        mask = Tensor(std::move(m));
    });
    if (auto node = record("DropoutBackward", {x}, {out}))
        node->set_fn([mask](const TensorList& g) { return TensorList{mul(g[0], mask)}; });
    return out;
}

}  // namespace xg
