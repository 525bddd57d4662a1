#include "distributed/ddp.hpp"

#include <mpi.h>

#include <chrono>
#include <climits>

#include "core/dispatch.hpp"
#include "core/engine.hpp"
#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"
#include "distributed/distributed.hpp"

namespace xg::distributed {

namespace {

struct Bucket {
    Dtype dtype = Dtype::float32;
    std::vector<std::size_t> params;   // indices into State::params
    std::vector<std::size_t> offsets;  // each one's first element in `flat`
    Tensor flat;                       // the gradients, packed; all-reduced in place
    std::size_t pending = 0;           // parameters not ready yet in this backward
    bool launched = false, done = false;
    MPI_Request request = MPI_REQUEST_NULL;
};

MPI_Comm comm_of(void* c) {
    return *static_cast<MPI_Comm*>(c);
}

}  // namespace

struct DistributedDataParallel::State {
    std::vector<Tensor> params;             // those that require grad, in the module's order
    std::vector<std::size_t> module_index;  // each one's index in module->parameters()
    std::vector<std::size_t> bucket_of;
    std::vector<std::size_t> slot_of;
    std::vector<Bucket> buckets;
    std::vector<bool> ready;
    std::vector<std::size_t> hooks;
    bool active = false;  // a synchronized backward is under way (its callback is queued)
    bool sync = true;
    std::size_t next_launch = 0;
    void* comm = nullptr;
    double last_wait = 0.0;
    std::size_t last_bytes = 0;

    ~State() { detail::free_comm(comm); }

    void start() {
        active = true;
        next_launch = 0;
        std::fill(ready.begin(), ready.end(), false);
        for (auto& b : buckets) {
            b.pending = b.params.size();
            b.launched = b.done = false;
        }
    }

    // Copies parameter i's gradient (zeros if it has none) into its bucket.
    void pack(std::size_t i) {
        Bucket& b = buckets[bucket_of[i]];
        const Tensor g = params[i].grad();
        xg::detail::dispatch_float("DistributedDataParallel", b.dtype, [&](auto tag) {
            using T = decltype(tag);
            T* dst = b.flat.mutable_data<T>().data() + b.offsets[slot_of[i]];
            const std::size_t n = params[i].numel();
            if (!g.defined()) {
                std::fill(dst, dst + n, T(0));
                return 0;
            }
            XG_CHECK(!g.requires_grad(),
                     "DistributedDataParallel: backward with create_graph is not supported (the "
                     "gradient of parameter {} has history)",
                     module_index[i]);
            XG_CHECK(g.dtype() == b.dtype && g.numel() == n,
                     "DistributedDataParallel: the gradient of parameter {} is {} {}, expected "
                     "{} with {} elements",
                     module_index[i], g.dtype(), g.shape(), b.dtype, n);
            const T* src = g.data<T>().data();
            std::copy(src, src + n, dst);
            return 0;
        });
    }

    void launch(Bucket& b) {
        MPI_Datatype type = *static_cast<MPI_Datatype*>(detail::mpi_type(b.dtype));
        xg::detail::dispatch_float("DistributedDataParallel", b.dtype, [&](auto tag) {
            using T = decltype(tag);
            auto& a = b.flat.mutable_data<T>();
            detail::check_mpi("DistributedDataParallel (gradient all-reduce)",
                              MPI_Iallreduce(MPI_IN_PLACE, a.data(), static_cast<int>(a.size()),
                                             type, MPI_SUM, comm_of(comm), &b.request));
            return 0;
        });
        b.launched = true;
    }

    // Buckets start in index order on every rank (MPI needs the same order everywhere).
    void launch_ready() {
        while (next_launch < buckets.size() && buckets[next_launch].pending == 0)
            launch(buckets[next_launch++]);
    }

    // Lets MPI progress the all-reduces under way while backward goes on.
    void progress() {
        for (auto& b : buckets) {
            if (!b.launched || b.done) continue;
            int flag = 0;
            detail::check_mpi("DistributedDataParallel (gradient all-reduce)",
                              MPI_Test(&b.request, &flag, MPI_STATUS_IGNORE));
            b.done = flag != 0;
        }
    }

    void on_ready(std::size_t i, std::weak_ptr<State> self) {
        if (!sync || !in_backward()) return;
        if (!active) {
            start();
            queue_callback([self] {
                if (auto s = self.lock()) s->finish();
            });
        }
        if (ready[i]) return;
        ready[i] = true;
        pack(i);
        --buckets[bucket_of[i]].pending;
        launch_ready();
        progress();
    }

    // End of backward: the rest of the buckets (parameters no gradient reached count as zero),
    // then wait and write the averages into .grad.
    void finish() {
        struct Reset {
            State& s;
            ~Reset() { s.active = false; }
        } reset{*this};
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (ready[i]) continue;
            ready[i] = true;
            pack(i);
            --buckets[bucket_of[i]].pending;
        }
        launch_ready();
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t bytes = 0;
        for (auto& b : buckets) {
            if (!b.done) detail::wait("DistributedDataParallel (gradient all-reduce)", &b.request);
            b.done = true;
            bytes += b.flat.numel() * dtype_size(b.dtype);
        }
        last_wait = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        last_bytes = bytes;
        const double n = world_size();
        NoGradGuard no_grad;
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Bucket& b = buckets[bucket_of[i]];
            Tensor p = params[i];
            xg::detail::dispatch_float("DistributedDataParallel", b.dtype, [&](auto tag) {
                using T = decltype(tag);
                const T* src = b.flat.data<T>().data() + b.offsets[slot_of[i]];
                Tensor g = p.grad();
                // In place into a .grad nobody else shares, as PyTorch's DDP; else a new one.
                if (!g.defined() || g.impl()->storage.use_count() != 1) {
                    g = Tensor(xg::array<T>::from_shape(p.shape()));
                    p.set_grad(g);
                }
                T* dst = g.mutable_data<T>().data();
                for (std::size_t k = 0, m = p.numel(); k < m; ++k) dst[k] = src[k] / T(n);
                return 0;
            });
        }
    }
};

DistributedDataParallel::DistributedDataParallel(nn::ModulePtr module, DDPOptions options)
    : module_(std::move(module)), state_(std::make_shared<State>()) {
    XG_CHECK(module_ != nullptr, "DistributedDataParallel: the module is null");
    XG_CHECK(is_initialized(),
             "DistributedDataParallel: xg::distributed::init() has not been called");
    XG_CHECK(options.bucket_cap_mb() > 0,
             "DistributedDataParallel: bucket_cap_mb must be positive, got {}",
             options.bucket_cap_mb());
    State& s = *state_;
    s.comm = detail::duplicate_comm();
    auto named = module_->named_parameters();
    auto buffers = module_->named_buffers();
    {
        // The same architecture everywhere: counts first, then each tensor by name.
        Tensor counts = zeros({named.size(), buffers.size() + 1}, int64);
        detail::check_agreement("DistributedDataParallel (parameter and buffer counts)", counts,
                                detail::world_comm());
        NoGradGuard no_grad;
        for (auto* dict : {&named, &buffers}) {
            for (auto& [name, t] : *dict) {
                const std::string what = "DistributedDataParallel (" + name + ")";
                detail::check_agreement(what.c_str(), t, detail::world_comm());
                Tensor v = t;
                broadcast(v, 0);
            }
        }
    }
    std::size_t index = 0;
    for (auto& [name, t] : named) {
        if (t.requires_grad()) {
            XG_CHECK(is_floating(t.dtype()),
                     "DistributedDataParallel: parameter {} requires grad but is {}", name,
                     t.dtype());
            s.params.push_back(t);
            s.module_index.push_back(index);
        }
        ++index;
    }
    // Buckets from the last parameter to the first, one dtype each, about bucket_cap_mb each.
    const auto cap = static_cast<std::size_t>(options.bucket_cap_mb() * 1024 * 1024);
    s.bucket_of.resize(s.params.size());
    s.slot_of.resize(s.params.size());
    std::vector<std::size_t> bucket_bytes;
    for (std::size_t k = s.params.size(); k-- > 0;) {
        const Tensor& p = s.params[k];
        const std::size_t bytes = p.numel() * dtype_size(p.dtype());
        if (s.buckets.empty() || s.buckets.back().dtype != p.dtype() ||
            (bucket_bytes.back() > 0 && bucket_bytes.back() + bytes > cap)) {
            s.buckets.emplace_back();
            s.buckets.back().dtype = p.dtype();
            bucket_bytes.push_back(0);
        }
        Bucket& b = s.buckets.back();
        s.bucket_of[k] = s.buckets.size() - 1;
        s.slot_of[k] = b.params.size();
        b.offsets.push_back(bucket_bytes.back() / dtype_size(p.dtype()));
        b.params.push_back(k);
        bucket_bytes.back() += bytes;
    }
    for (std::size_t b = 0; b < s.buckets.size(); ++b) {
        const std::size_t n = bucket_bytes[b] / dtype_size(s.buckets[b].dtype);
        XG_CHECK(n <= std::size_t(INT_MAX),
                 "DistributedDataParallel: a parameter of {} elements is over MPI's count limit "
                 "({})",
                 n, INT_MAX);
    }
    for (std::size_t b = 0; b < s.buckets.size(); ++b)
        s.buckets[b].flat =
            zeros({bucket_bytes[b] / dtype_size(s.buckets[b].dtype)}, s.buckets[b].dtype);
    s.ready.assign(s.params.size(), false);
    std::weak_ptr<State> weak = state_;
    for (std::size_t i = 0; i < s.params.size(); ++i) {
        s.hooks.push_back(s.params[i].register_post_accumulate_grad_hook([weak, i](Tensor&) {
            if (auto st = weak.lock()) st->on_ready(i, weak);
        }));
    }
    broadcast_buffers_ = options.broadcast_buffers();
}

DistributedDataParallel::~DistributedDataParallel() {
    for (std::size_t i = 0; i < state_->params.size(); ++i)
        state_->params[i].remove_post_accumulate_grad_hook(state_->hooks[i]);
}

Tensor DistributedDataParallel::operator()(const Tensor& x) {
    auto* unary = dynamic_cast<nn::UnaryModule*>(module_.get());
    XG_CHECK(unary != nullptr,
             "DistributedDataParallel: the module ({}) is not a Tensor -> Tensor module; call it "
             "directly (the gradients are averaged all the same)",
             module_->type_name());
    if (broadcast_buffers_ && world_size() > 1) {
        NoGradGuard no_grad;
        for (Tensor b : module_->buffers()) broadcast(b, 0);
    }
    return (*unary)(x);
}

DistributedDataParallel::NoSyncGuard::NoSyncGuard(DistributedDataParallel& ddp)
    : ddp_(ddp), previous_(ddp.state_->sync) {
    ddp_.state_->sync = false;
}

DistributedDataParallel::NoSyncGuard::~NoSyncGuard() {
    ddp_.state_->sync = previous_;
}

std::vector<std::vector<std::size_t>> DistributedDataParallel::buckets() const {
    std::vector<std::vector<std::size_t>> out;
    for (const auto& b : state_->buckets) {
        out.emplace_back();
        for (std::size_t k : b.params) out.back().push_back(state_->module_index[k]);
    }
    return out;
}

double DistributedDataParallel::last_wait_seconds() const {
    return state_->last_wait;
}

std::size_t DistributedDataParallel::last_bytes() const {
    return state_->last_bytes;
}

}  // namespace xg::distributed
