#pragma once
// Naive loop references of conv2d and conv_transpose2d (the cs231n conv_forward_naive shape):
// no im2col, no gemm, no autograd. The tests check xgrad's kernels against them.
#include <cstdint>

#include "xgrad.hpp"

namespace xg::testing {

namespace naive {
using idx = std::int64_t;

template <class T>
Tensor conv2d_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Conv2dFuncOptions& o) {
    const auto &X = x.data<T>(), &W = weight.data<T>();
    const idx n_ = idx(x.size(0)), c_ = idx(x.size(1)), h = idx(x.size(2)), w = idx(x.size(3));
    const idx f_ = idx(weight.size(0)), cg = idx(weight.size(1)), kh = idx(weight.size(2)),
              kw = idx(weight.size(3)), groups = o.groups(), fg = f_ / groups;
    const auto [sh, sw] = o.stride();
    const auto [ph, pw] = o.padding();
    const auto [dh, dw] = o.dilation();
    const idx oh_ = conv_out_size("conv2d_naive", "height", h, kh, sh, ph, dh);
    const idx ow_ = conv_out_size("conv2d_naive", "width", w, kw, sw, pw, dw);
    (void)c_;
    xg::array<T> y =
        xt::zeros<T>({std::size_t(n_), std::size_t(f_), std::size_t(oh_), std::size_t(ow_)});
    for (idx n = 0; n < n_; ++n)
        for (idx f = 0; f < f_; ++f)
            for (idx oh = 0; oh < oh_; ++oh)
                for (idx ow = 0; ow < ow_; ++ow) {
                    T acc = bias.defined() ? bias.data<T>()(f) : T(0);
                    const idx c0 = (f / fg) * cg;
                    for (idx c = 0; c < cg; ++c)
                        for (idx i = 0; i < kh; ++i)
                            for (idx j = 0; j < kw; ++j) {
                                const idx ih = oh * sh + i * dh - ph, iw = ow * sw + j * dw - pw;
                                if (ih < 0 || iw < 0 || ih >= h || iw >= w) continue;
                                acc += X(n, c0 + c, ih, iw) * W(f, c, i, j);
                            }
                    y(n, f, oh, ow) = acc;
                }
    return Tensor(std::move(y));
}

// Scatters every input element through the kernel into the output.
template <class T>
Tensor conv_transpose2d_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const ConvTranspose2dFuncOptions& o) {
    const auto &X = x.data<T>(), &W = weight.data<T>();
    const idx n_ = idx(x.size(0)), cin = idx(x.size(1)), ih_ = idx(x.size(2)), iw_ = idx(x.size(3));
    const idx cog = idx(weight.size(1)), kh = idx(weight.size(2)), kw = idx(weight.size(3));
    const idx groups = o.groups(), cig = cin / groups, cout = cog * groups;
    const auto [sh, sw] = o.stride();
    const auto [ph, pw] = o.padding();
    const auto [dh, dw] = o.dilation();
    const auto [oph, opw] = o.output_padding();
    const idx h = (ih_ - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
    const idx w = (iw_ - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
    xg::array<T> y =
        xt::zeros<T>({std::size_t(n_), std::size_t(cout), std::size_t(h), std::size_t(w)});
    for (idx n = 0; n < n_; ++n)
        for (idx ci = 0; ci < cin; ++ci)
            for (idx i_h = 0; i_h < ih_; ++i_h)
                for (idx i_w = 0; i_w < iw_; ++i_w)
                    for (idx co = 0; co < cog; ++co)
                        for (idx i = 0; i < kh; ++i)
                            for (idx j = 0; j < kw; ++j) {
                                const idx oh = i_h * sh + i * dh - ph, ow = i_w * sw + j * dw - pw;
                                if (oh < 0 || ow < 0 || oh >= h || ow >= w) continue;
                                const idx c = (ci / cig) * cog + co;
                                y(n, c, oh, ow) += X(n, ci, i_h, i_w) * W(ci, co, i, j);
                            }
    if (bias.defined())
        for (idx n = 0; n < n_; ++n)
            for (idx c = 0; c < cout; ++c)
                for (idx k = 0; k < h * w; ++k)
                    y.data()[(n * cout + c) * h * w + k] += bias.data<T>()(c);
    return Tensor(std::move(y));
}
}  // namespace naive

inline Tensor conv2d_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Conv2dFuncOptions& o = {}) {
    return x.dtype() == float32 ? naive::conv2d_naive<float>(x, weight, bias, o)
                                : naive::conv2d_naive<double>(x, weight, bias, o);
}

inline Tensor conv_transpose2d_naive(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                     const ConvTranspose2dFuncOptions& o = {}) {
    return x.dtype() == float32 ? naive::conv_transpose2d_naive<float>(x, weight, bias, o)
                                : naive::conv_transpose2d_naive<double>(x, weight, bias, o);
}

}  // namespace xg::testing
