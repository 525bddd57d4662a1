#include "distributed/distributed.hpp"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/dispatch.hpp"
#include "core/grad_mode.hpp"
#include "core/node.hpp"

namespace xg::distributed {

namespace {

bool we_initialized = false;
std::atomic<double> timeout_seconds{300.0};

std::string mpi_error(int rc) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) return fmt::format("error code {}", rc);
    return std::string(text, static_cast<std::size_t>(len));
}

using detail::check_mpi;

void require_init(const char* op) {
    XG_CHECK(is_initialized(),
             "{}: xg::distributed::init() has not been called (or finalize() has)", op);
}

MPI_Comm comm_of(void* c) {
    return *static_cast<MPI_Comm*>(c);
}

MPI_Comm world_handle = MPI_COMM_NULL;

// MPI counts are int: larger buffers go in pieces.
constexpr std::size_t max_count = INT_MAX;

}  // namespace

void init(int* argc, char*** argv) {
    int done = 0;
    MPI_Finalized(&done);
    XG_CHECK(!done, "init: MPI was already finalized in this process (it cannot restart)");
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        check_mpi("init", MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
        we_initialized = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    world_handle = MPI_COMM_WORLD;
    if (const char* env = std::getenv("XGRAD_DIST_TIMEOUT")) {
        char* end = nullptr;
        const double s = std::strtod(env, &end);
        XG_CHECK(end != env && *end == '\0' && s >= 0,
                 "init: XGRAD_DIST_TIMEOUT must be a number of seconds >= 0, got '{}'", env);
        set_timeout(s);
    }
}

void finalize() {
    if (!is_initialized()) return;
    if (we_initialized) MPI_Finalize();
    we_initialized = false;
}

bool is_initialized() {
    int inited = 0, done = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&done);
    return inited && !done;
}

int rank() {
    if (!is_initialized()) return 0;
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int world_size() {
    if (!is_initialized()) return 1;
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

void set_timeout(double seconds) {
    XG_CHECK(seconds >= 0, "set_timeout: seconds must be >= 0 (0 waits forever), got {}", seconds);
    timeout_seconds.store(seconds, std::memory_order_relaxed);
}

double timeout() {
    return timeout_seconds.load(std::memory_order_relaxed);
}

namespace detail {

void check_mpi(const char* op, int rc) {
    XG_CHECK(rc == MPI_SUCCESS, "{}: MPI failed on rank {}: {}", op, rank(), mpi_error(rc));
}

void* world_comm() {
    return &world_handle;
}

void* duplicate_comm() {
    require_init("duplicate_comm");
    auto* c = new MPI_Comm(MPI_COMM_NULL);
    const int rc = MPI_Comm_dup(MPI_COMM_WORLD, c);
    if (rc != MPI_SUCCESS) {
        delete c;
        check_mpi("duplicate_comm", rc);
    }
    MPI_Comm_set_errhandler(*c, MPI_ERRORS_RETURN);
    return c;
}

void free_comm(void* comm) {
    auto* c = static_cast<MPI_Comm*>(comm);
    if (!c) return;
    if (is_initialized() && *c != MPI_COMM_NULL) MPI_Comm_free(c);
    delete c;
}

void* mpi_type(Dtype d) {
    // bool is one byte (sizeof(bool) == 1 on every platform MPI and xgrad build on).
    static MPI_Datatype f = MPI_FLOAT, g = MPI_DOUBLE, i = MPI_INT64_T, i32 = MPI_INT32_T,
                        b = MPI_C_BOOL;
    switch (d) {
        case Dtype::float32:
            return &f;
        case Dtype::float64:
            return &g;
        case Dtype::int32:
            return &i32;
        case Dtype::bool_:
            return &b;
        default:
            return &i;
    }
}

void wait(const char* op, void* request) {
    auto* req = static_cast<MPI_Request*>(request);
    const double limit = timeout();
    const auto start = std::chrono::steady_clock::now();
    for (long spins = 0;; ++spins) {
        int flag = 0;
        check_mpi(op, MPI_Test(req, &flag, MPI_STATUS_IGNORE));
        if (flag) return;
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (limit > 0 && waited > limit) {
            throw Error(fmt::format(
                "{}: rank {} waited {:.0f} s for the other ranks (xg::distributed::timeout()): a "
                "rank may have died, or the ranks called different collectives",
                op, rank(), waited));
        }
        // MPI progresses a collective only inside MPI calls (no progress thread): keep testing,
        // yielding the core, for the first second; then back off to 1 ms sleeps. (Sleeping
        // 50 us between tests from the start made a 64 MB all-reduce 0.22 GB/s.)
        if (waited > 1.0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        else if (spins > 100)
            std::this_thread::yield();
    }
}

void check_agreement(const char* op, const Tensor& t, void* comm) {
    require_init(op);
    constexpr int slots = 10;  // dtype, ndim, up to 8 sizes (a longer shape: a hash in the last)
    std::int64_t mine[slots] = {};
    mine[0] = static_cast<std::int64_t>(t.dtype());
    mine[1] = static_cast<std::int64_t>(t.dim());
    std::uint64_t hash = 1469598103934665603ull;
    for (std::size_t d = 0; d < t.dim(); ++d) {
        if (d < 8) mine[2 + d] = static_cast<std::int64_t>(t.shape()[d]);
        hash = (hash ^ t.shape()[d]) * 1099511628211ull;
    }
    if (t.dim() > 8) mine[slots - 1] = static_cast<std::int64_t>(hash);
    const int n = world_size();
    std::vector<std::int64_t> all(static_cast<std::size_t>(slots) * n);
    MPI_Request req;
    check_mpi(op, MPI_Iallgather(mine, slots, MPI_INT64_T, all.data(), slots, MPI_INT64_T,
                                 comm_of(comm), &req));
    wait(op, &req);
    auto describe = [&](int r) {
        const std::int64_t* s = all.data() + static_cast<std::size_t>(slots) * r;
        Shape shape;
        for (std::int64_t d = 0; d < std::min<std::int64_t>(s[1], 8); ++d)
            shape.push_back(static_cast<std::size_t>(s[2 + d]));
        return fmt::format("a {} tensor of shape {}{}", static_cast<Dtype>(s[0]), shape,
                           s[1] > 8 ? " (first 8 of its dims)" : "");
    };
    for (int r = 1; r < n; ++r) {
        if (!std::equal(all.begin(), all.begin() + slots, all.begin() + slots * r)) {
            throw Error(fmt::format(
                "{}: rank {} passed {}, but rank 0 passed {} (every rank must pass the same dtype "
                "and shape; this is rank {})",
                op, r, describe(r), describe(0), rank()));
        }
    }
}

}  // namespace detail

namespace {

MPI_Op mpi_op(ReduceOp op) {
    switch (op) {
        case ReduceOp::max:
            return MPI_MAX;
        case ReduceOp::min:
            return MPI_MIN;
        default:
            return MPI_SUM;
    }
}

void check_writable(const char* op, const Tensor& t) {
    xg::detail::check_defined(op, t, "tensor");
    XG_CHECK(!(t.requires_grad() && GradMode::is_enabled()),
             "{}: the tensor requires grad: collectives write in place and are not recorded (use "
             "xg::NoGradGuard, or all_reduce_autograd)",
             op);
}

// Runs a non-blocking collective in place over t's buffer, in pieces of at most INT_MAX
// elements (MPI counts are int), waiting for each one within the timeout.
template <class Start>
void in_place(const char* op, Tensor& t, Start start) {
    MPI_Datatype type = *static_cast<MPI_Datatype*>(detail::mpi_type(t.dtype()));
    xg::detail::dispatch_all(t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto& a = t.mutable_data<T>();
        for (std::size_t off = 0; off < a.size(); off += max_count) {
            MPI_Request req;
            check_mpi(op, start(a.data() + off,
                                static_cast<int>(std::min(max_count, a.size() - off)), type, &req));
            detail::wait(op, &req);
        }
    });
}

}  // namespace

void all_reduce(Tensor& t, ReduceOp op) {
    const char* name = "all_reduce";
    require_init(name);
    check_writable(name, t);
    XG_CHECK(op != ReduceOp::mean || is_floating(t.dtype()),
             "all_reduce: ReduceOp::mean needs a floating tensor, got {}", t.dtype());
    XG_CHECK(t.dtype() != bool_, "all_reduce: not supported for bool tensors (convert to int64)");
    detail::check_agreement(name, t, detail::world_comm());
    in_place(name, t, [&](void* data, int count, MPI_Datatype type, MPI_Request* req) {
        return MPI_Iallreduce(MPI_IN_PLACE, data, count, type, mpi_op(op), MPI_COMM_WORLD, req);
    });
    if (op == ReduceOp::mean) t.div_(static_cast<double>(world_size()));
}

void broadcast(Tensor& t, int root) {
    const char* name = "broadcast";
    require_init(name);
    check_writable(name, t);
    XG_CHECK(root >= 0 && root < world_size(), "broadcast: root {} is not a rank (world size {})",
             root, world_size());
    detail::check_agreement(name, t, detail::world_comm());
    in_place(name, t, [&](void* data, int count, MPI_Datatype type, MPI_Request* req) {
        return MPI_Ibcast(data, count, type, root, MPI_COMM_WORLD, req);
    });
}

TensorList all_gather(const Tensor& t) {
    const char* name = "all_gather";
    require_init(name);
    xg::detail::check_defined(name, t, "tensor");
    detail::check_agreement(name, t, detail::world_comm());
    const auto n = static_cast<std::size_t>(world_size());
    XG_CHECK(t.numel() <= max_count, "all_gather: tensors over {} elements are not supported",
             max_count);
    return xg::detail::dispatch_all(t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const auto& a = t.data<T>();
        auto all = xg::array<T>::from_shape({a.size() * n});  // not std::vector<bool>: packed
        MPI_Datatype type = *static_cast<MPI_Datatype*>(detail::mpi_type(t.dtype()));
        MPI_Request req;
        const int count = static_cast<int>(a.size());
        check_mpi(name, MPI_Iallgather(a.data(), count, type, all.data(), count, type,
                                       MPI_COMM_WORLD, &req));
        detail::wait(name, &req);
        TensorList out;
        for (std::size_t r = 0; r < n; ++r) {
            auto part = xg::array<T>::from_shape(t.shape());
            std::copy_n(all.data() + r * a.size(), a.size(), part.data());
            out.emplace_back(std::move(part));
        }
        return out;
    });
}

void barrier() {
    require_init("barrier");
    MPI_Request req;
    check_mpi("barrier", MPI_Ibarrier(MPI_COMM_WORLD, &req));
    detail::wait("barrier", &req);
}

Tensor all_reduce_autograd(const Tensor& t) {
    require_init("all_reduce_autograd");
    xg::detail::check_defined("all_reduce_autograd", t, "tensor");
    xg::detail::check_floating("all_reduce_autograd", t, "tensor");
    Tensor out = t.detach().clone();
    {
        NoGradGuard no_grad;
        all_reduce(out, ReduceOp::sum);
    }
    if (auto node = record("AllReduceBackward", {t}, {out})) {
        // d(sum over ranks of L_r) / d t_r = the sum over ranks of each rank's dL/d out.
        node->set_fn([](const TensorList& g) {
            Tensor sum = g[0].detach().clone();
            NoGradGuard no_grad;
            all_reduce(sum, ReduceOp::sum);
            return TensorList{sum};
        });
    }
    return out;
}

}  // namespace xg::distributed
