#include "core/dispatch.hpp"

namespace xg::detail {

void check_representable(const char* op, double value, Dtype dtype) {
    if (dtype == int64) value_cast<std::int64_t>(op, value);
    if (dtype == int32) value_cast<std::int32_t>(op, value);
}

void check_defined(const char* op, const Tensor& t, const char* arg) {
    XG_CHECK(t.defined(), "{}: argument '{}' is an undefined tensor", op, arg);
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    XG_CHECK(a.dtype() == b.dtype(),
             "{}: expected both operands to have the same dtype, got {} and {} (use .to())", op,
             a.dtype(), b.dtype());
}

void check_floating(const char* op, const Tensor& t, const char* arg) {
    XG_CHECK(is_floating(t.dtype()), "{}: argument '{}' must be float32 or float64, got {}", op,
             arg, t.dtype());
}

std::size_t wrap_dim(const char* op, std::int64_t dim, std::size_t ndim) {
    auto n = static_cast<std::int64_t>(ndim);
    std::int64_t lo = ndim == 0 ? -1 : -n, hi = ndim == 0 ? 0 : n - 1;
    XG_CHECK(dim >= lo && dim <= hi, "{}: dim {} is out of range for a tensor of {} dims", op, dim,
             ndim);
    return static_cast<std::size_t>(dim < 0 ? dim + std::max<std::int64_t>(n, 1) : dim);
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    std::size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        XG_CHECK(da == db || da == 1 || db == 1,
                 "{}: shapes {} and {} cannot be broadcast (dim {}: {} vs {})", op, a, b, i, da,
                 db);
        out[i] = da == 1 ? db : da;
    }
    return out;
}

bool is_broadcastable_to(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    std::size_t off = to.size() - from.size();
    for (std::size_t i = 0; i < from.size(); ++i) {
        if (from[i] != 1 && from[i] != to[i + off]) return false;
    }
    return true;
}

}  // namespace xg::detail
