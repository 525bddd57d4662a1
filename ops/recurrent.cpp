#include "ops/recurrent.hpp"

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"
#include "ops/elementwise.hpp"
#include "ops/layout.hpp"
#include "ops/shape.hpp"
#include "ops/vec_math.hpp"

namespace xg::detail {

namespace {

// Forward: act holds sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) per row, tc holds tanh(c').
template <class T>
XG_SIMD_CLONES void lstm_forward_kernel(const T* gates, const T* c, T* act, T* tc, T* h2, T* c2,
                                        std::size_t n, std::size_t hid) {
    for (std::size_t r = 0; r < n; ++r) {
        const T* a = gates + r * 4 * hid;
        T* s = act + r * 4 * hid;
        for (std::size_t j = 0; j < hid; ++j) {
            s[j] = sigmoid_of(a[j]);
            s[hid + j] = sigmoid_of(a[hid + j]);
            s[2 * hid + j] = tanh_of(a[2 * hid + j]);
            s[3 * hid + j] = sigmoid_of(a[3 * hid + j]);
        }
        const T* cr = c + r * hid;
        T* cn = c2 + r * hid;
        T* t = tc + r * hid;
        T* hn = h2 + r * hid;
        for (std::size_t j = 0; j < hid; ++j) {
            cn[j] = s[hid + j] * cr[j] + s[j] * s[2 * hid + j];
            t[j] = tanh_of(cn[j]);
            hn[j] = s[3 * hid + j] * t[j];
        }
    }
}

// Backward from gh = dL/dh', gc = dL/dc': dc = gc + gh * o * (1 - tc^2), then each gate's
// pre-activation gradient and dL/dc = dc * f.
template <class T>
XG_SIMD_CLONES void lstm_backward_kernel(const T* gh, const T* gc, const T* act, const T* tc,
                                         const T* c, T* dgates, T* dc_prev, std::size_t n,
                                         std::size_t hid) {
    const T one = 1;
    for (std::size_t r = 0; r < n; ++r) {
        const T* s = act + r * 4 * hid;
        T* d = dgates + r * 4 * hid;
        const std::size_t o = r * hid;
        for (std::size_t j = 0; j < hid; ++j) {
            const T i = s[j], f = s[hid + j], g = s[2 * hid + j], og = s[3 * hid + j];
            const T t = tc[o + j];
            const T dc = gc[o + j] + gh[o + j] * og * (one - t * t);
            d[j] = dc * g * i * (one - i);
            d[hid + j] = dc * c[o + j] * f * (one - f);
            d[2 * hid + j] = dc * i * (one - g * g);
            d[3 * hid + j] = gh[o + j] * t * og * (one - og);
            dc_prev[o + j] = dc * f;
        }
    }
}

// The same backward in ops, from the saved inputs (for create_graph).
TensorList lstm_backward_ops(const Tensor& gates, const Tensor& c, const Tensor& gh,
                             const Tensor& gc) {
    TensorList a = chunk(gates, 4, 1);
    Tensor i = sigmoid(a[0]), f = sigmoid(a[1]), g = tanh(a[2]), o = sigmoid(a[3]);
    Tensor t = tanh(f * c + i * g);
    Tensor dc = gc + gh * o * rsub(1.0, t * t);
    Tensor di = dc * g * i * rsub(1.0, i), df = dc * c * f * rsub(1.0, f);
    Tensor dg = dc * i * rsub(1.0, g * g), dout = gh * t * o * rsub(1.0, o);
    return {cat({di, df, dg, dout}, 1), dc * f};
}

}  // namespace

std::tuple<Tensor, Tensor> lstm_cell(const Tensor& gates, const Tensor& c) {
    const std::size_t n = gates.shape()[0], hid = c.shape()[1];
    Tensor act, tc, h2, c2;
    dispatch_float("lstm_cell", gates.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto sa = xg::array<T>::from_shape(gates.shape());
        auto st = xg::array<T>::from_shape(c.shape()), sh = st, sc = st;
        lstm_forward_kernel<T>(gates.data<T>().data(), c.data<T>().data(), sa.data(), st.data(),
                               sh.data(), sc.data(), n, hid);
        act = Tensor(std::move(sa)), tc = Tensor(std::move(st));
        h2 = Tensor(std::move(sh)), c2 = Tensor(std::move(sc));
    });
    if (auto node = record("LstmCellBackward", {gates, c}, {h2, c2})) {
        SavedTensor sg = gates, scell = c;
        node->set_fn([sg, scell, act, tc, n, hid](const TensorList& g) {
            Tensor gates_in = sg.unpack(), c_in = scell.unpack();
            if (GradMode::is_enabled()) return lstm_backward_ops(gates_in, c_in, g[0], g[1]);
            Tensor dgates, dc;
            dispatch_float("lstm_cell", act.dtype(), [&](auto tag) {
                using T = decltype(tag);
                auto sd = xg::array<T>::from_shape(gates_in.shape());
                auto sc = xg::array<T>::from_shape(c_in.shape());
                lstm_backward_kernel<T>(g[0].data<T>().data(), g[1].data<T>().data(),
                                        act.data<T>().data(), tc.data<T>().data(),
                                        c_in.data<T>().data(), sd.data(), sc.data(), n, hid);
                dgates = Tensor(std::move(sd)), dc = Tensor(std::move(sc));
            });
            return TensorList{dgates, dc};
        });
    }
    return {h2, c2};
}

}  // namespace xg::detail
