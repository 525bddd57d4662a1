// The distributed part (distributed/), run by ctest under `mpirun -np 2` and once as a single
// process. Every rank runs every test case, in the same order; a failure on any rank fails the
// run (main all-reduces the result). Values depend on rank() and world_size(), so the same file
// checks 1 and 2 (or more) processes.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "tests/data_testing.hpp"
#include "xgrad.hpp"

using namespace xg;
using xg::testing::error_of;
namespace dist = xg::distributed;

namespace {

int R() {
    return dist::rank();
}
int N() {
    return dist::world_size();
}

// max |a - b| / max |b| over all parameters.
double relative_difference(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto va = a[i].to_vector(), vb = b[i].to_vector();
        REQUIRE(va.size() == vb.size());
        for (std::size_t k = 0; k < va.size(); ++k) {
            diff = std::max(diff, std::abs(va[k] - vb[k]));
            scale = std::max(scale, std::abs(vb[k]));
        }
    }
    return diff / std::max(scale, 1e-300);
}

// Every rank's copy of t is bitwise the same as rank 0's.
bool same_on_every_rank(const Tensor& t) {
    for (const Tensor& other : dist::all_gather(t))
        if (other.to_vector() != t.to_vector()) return false;
    return true;
}

// Rows [begin, end) of x.
Tensor rows(const Tensor& x, std::size_t begin, std::size_t end) {
    return slice(x, 0, static_cast<std::int64_t>(begin), static_cast<std::int64_t>(end));
}

}  // namespace

TEST_CASE("distributed: rank and world size") {
    CHECK(dist::is_initialized());
    CHECK(N() >= 1);
    CHECK(R() >= 0);
    CHECK(R() < N());
    dist::barrier();
}

TEST_CASE("distributed: all_reduce sum, mean, max and min against known values") {
    const double r = R(), n = N();
    for (Dtype dt : {float32, float64, int64}) {
        Tensor t = full({2, 3}, r + 1, dt);
        dist::all_reduce(t);
        for (double v : t.to_vector()) CHECK(v == n * (n + 1) / 2);
        Tensor mx = full({3}, r, dt), mn = full({3}, r, dt);
        dist::all_reduce(mx, dist::ReduceOp::max);
        dist::all_reduce(mn, dist::ReduceOp::min);
        CHECK(mx.to_vector() == std::vector<double>(3, n - 1));
        CHECK(mn.to_vector() == std::vector<double>(3, 0));
    }
    Tensor m = full({4}, R() + 1.0, float64);
    dist::all_reduce(m, dist::ReduceOp::mean);
    CHECK(m.to_vector() == std::vector<double>(4, (n + 1) / 2));
    Tensor scalar = scalar_tensor(2.0, float64);  // 0-d works too
    dist::all_reduce(scalar);
    CHECK(scalar.item() == 2 * n);
}

TEST_CASE("distributed: broadcast and all_gather") {
    Tensor t = full({2, 2}, R() + 5.0);
    dist::broadcast(t, 0);
    CHECK(t.to_vector() == std::vector<double>(4, 5.0));
    Tensor u = full({3}, 10.0 * R(), int64);
    dist::broadcast(u, N() - 1);
    CHECK(u.to_vector() == std::vector<double>(3, 10.0 * (N() - 1)));
    TensorList all = dist::all_gather(full({2}, double(R()), float64));
    REQUIRE(all.size() == static_cast<std::size_t>(N()));
    for (int r = 0; r < N(); ++r) CHECK(all[r].to_vector() == std::vector<double>(2, r));
}

TEST_CASE("distributed: mismatched shapes and dtypes throw on every rank, naming op and rank") {
    if (N() < 2) return;
    // Every rank throws (none hangs): the check all-gathers the shapes first.
    Tensor t = zeros({static_cast<std::size_t>(R() + 1)});
    CHECK(error_of([&] { dist::all_reduce(t); }) ==
          fmt::format("all_reduce: rank 1 passed a float32 tensor of shape [2], but rank 0 passed "
                      "a float32 tensor of shape [1] (every rank must pass the same dtype and "
                      "shape; this is rank {})",
                      R()));
    Tensor d = zeros({2}, R() == 0 ? float32 : float64);
    CHECK(error_of([&] { dist::broadcast(d, 0); })
              .find("broadcast: rank 1 passed a float64 tensor of shape [2], but rank 0 passed a "
                    "float32") == 0);
    CHECK(error_of([&] {
              dist::all_gather(zeros({2, static_cast<std::size_t>(R() + 1)}));
          }).find("all_gather: rank 1 passed") == 0);
    // The collectives still work afterwards.
    Tensor ok = ones({2});
    dist::all_reduce(ok);
    CHECK(ok.to_vector() == std::vector<double>(2, N()));
}

TEST_CASE("distributed: argument errors") {
    Tensor leaf = ones({2}).requires_grad_();
    CHECK(error_of([&] { dist::all_reduce(leaf); }).find("all_reduce: the tensor requires grad") ==
          0);
    Tensor i = ones({2}, int64);
    CHECK(error_of([&] { dist::all_reduce(i, dist::ReduceOp::mean); }) ==
          "all_reduce: ReduceOp::mean needs a floating tensor, got int64");
    Tensor t = ones({2});
    CHECK(error_of([&] { dist::broadcast(t, N()); }) ==
          fmt::format("broadcast: root {} is not a rank (world size {})", N(), N()));
    Tensor undefined;
    CHECK(error_of([&] { dist::all_reduce(undefined); }).find("all_reduce:") == 0);
    CHECK(error_of([] { dist::set_timeout(-1); }).find("set_timeout:") == 0);
}

TEST_CASE("distributed: all_reduce_autograd's gradient is the sum over ranks") {
    const double n = N();
    Tensor x = full({2}, R() + 1.0, float64).requires_grad_();
    Tensor y = dist::all_reduce_autograd(x);
    CHECK(y.to_vector() == std::vector<double>(2, n * (n + 1) / 2));
    mul(y, R() + 1.0).sum().backward();  // rank r's loss: (r + 1) * sum(y)
    CHECK(x.grad().to_vector() == std::vector<double>(2, n * (n + 1) / 2));
}

namespace {

// d(sum over ranks of loss(t)) / d(t on each rank), by central differences in float64: rank
// `who` alone perturbs one element at a time while every rank evaluates (the loss may run
// collectives). Returns this rank's part.
std::vector<double> numeric_global_grad(const std::function<Tensor(const Tensor&)>& loss,
                                        const Tensor& t, double eps = 1e-6) {
    std::vector<double> mine(t.numel());
    NoGradGuard no_grad;
    for (int who = 0; who < N(); ++who) {
        for (std::size_t i = 0; i < t.numel(); ++i) {
            double at[2];
            for (int side = 0; side < 2; ++side) {
                Tensor moved = t.detach().clone();
                if (R() == who) moved.mutable_data<double>().data()[i] += side ? eps : -eps;
                Tensor total = loss(moved).detach().clone();
                dist::all_reduce(total);
                at[side] = total.item();
            }
            if (R() == who) mine[i] = (at[1] - at[0]) / (2 * eps);
        }
    }
    return mine;
}

void check_close(const std::vector<double>& analytic, const std::vector<double>& numeric) {
    REQUIRE(analytic.size() == numeric.size());
    for (std::size_t i = 0; i < analytic.size(); ++i) {
        CAPTURE(i);
        CHECK(analytic[i] == doctest::Approx(numeric[i]).epsilon(1e-6).scale(1.0));
    }
}

}  // namespace

// The gradient of the loss summed over the ranks, checked numerically with one rank moving at
// a time (a lockstep gradcheck on every rank would count the cross-rank terms differently).
TEST_CASE("all_reduce_autograd and SyncBatchNorm: float64 gradients against differences") {
    Generator g(20 + R());  // different data and upstream weights on each rank
    Tensor x = randn({3, 2}, g, float64);
    Tensor u = randn({3, 2}, g, float64);
    auto reduced = [&](const Tensor& t) {
        return sum(mul(mul(dist::all_reduce_autograd(t), t), u));
    };
    Tensor xr = x.clone().requires_grad_();
    reduced(xr).backward();
    check_close(xr.grad().to_vector(), numeric_global_grad(reduced, x));

    for (bool affine : {true, false}) {
        manual_seed(3);
        dist::SyncBatchNorm bn(nn::BatchNormOptions(2).affine(affine));
        bn->to(float64);
        Tensor in = randn({3, 2, 2}, g, float64);
        Tensor up = randn({3, 2, 2}, g, float64);
        auto loss = [&](const Tensor& t) { return sum(mul(bn(t), up)); };
        Tensor ir = in.clone().requires_grad_();
        loss(ir).backward();
        check_close(ir.grad().to_vector(), numeric_global_grad(loss, in));
        if (affine) {
            Tensor w0 = bn->weight.detach().clone();
            auto by_weight = [&](const Tensor& w) {
                NoGradGuard no_grad;
                bn->weight.mutable_data<double>() = w.data<double>();
                Tensor l = loss(in);
                bn->weight.mutable_data<double>() = w0.data<double>();
                return l;
            };
            check_close(bn->weight.grad().to_vector(), numeric_global_grad(by_weight, w0));
        }
    }
}

namespace {

nn::Sequential mlp(bool batch_norm) {
    if (batch_norm) {
        return nn::Sequential(
            {nn::Linear(6, 8), dist::SyncBatchNorm(8), nn::ReLU(), nn::Linear(8, 3)});
    }
    return nn::Sequential({nn::Linear(6, 8), nn::ReLU(), nn::Linear(8, 3)});
}

nn::Sequential reference_mlp(bool batch_norm) {
    if (batch_norm) {
        return nn::Sequential({nn::Linear(6, 8), nn::BatchNorm1d(8), nn::ReLU(), nn::Linear(8, 3)});
    }
    return mlp(false);
}

struct Data {
    Tensor x, y;
};

// The same batches on every rank: the full batch of each step.
std::vector<Data> batches(std::size_t steps, std::size_t batch) {
    Generator g(7);
    std::vector<Data> out;
    for (std::size_t s = 0; s < steps; ++s) {
        xt::xarray<std::int64_t> y = xt::zeros<std::int64_t>({batch});
        for (auto& v : y) v = static_cast<std::int64_t>(g.next_u64() % 3);
        out.push_back({randn({batch, 6}, g, float64), Tensor(std::move(y))});
    }
    return out;
}

// Trains with DDP on this rank's share of each batch and, in the same process, a reference
// model on the whole batch; returns {ddp params + buffers, reference params + buffers}.
std::pair<std::vector<Tensor>, std::vector<Tensor>> train_both(bool batch_norm, double bucket_mb) {
    const std::size_t batch = 4 * static_cast<std::size_t>(N()), steps = 20;
    manual_seed(100 + R());  // different weights per rank: DDP must broadcast rank 0's
    nn::Sequential net = mlp(batch_norm);
    net->to(float64);
    manual_seed(100);  // rank 0's weights
    nn::Sequential ref = reference_mlp(batch_norm);
    ref->to(float64);
    dist::DDPOptions o;
    o.bucket_cap_mb(bucket_mb);
    dist::DistributedDataParallel ddp(net.ptr(), o);
    optim::SGD opt(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::SGD ref_opt(ref->parameters(), optim::SGDOptions(0.1).momentum(0.9));
    const std::size_t share = batch / static_cast<std::size_t>(N());
    for (const Data& d : batches(steps, batch)) {
        const std::size_t b0 = share * R(), b1 = b0 + share;
        opt.zero_grad();
        cross_entropy(ddp(rows(d.x, b0, b1)), rows(d.y, b0, b1)).backward();
        opt.step();
        ref_opt.zero_grad();
        cross_entropy(ref(d.x), d.y).backward();
        ref_opt.step();
    }
    auto state = [](nn::Sequential& m) {
        std::vector<Tensor> v = m->parameters();
        for (const Tensor& b : m->buffers())
            if (is_floating(b.dtype())) v.push_back(b);
        return v;
    };
    return {state(net), state(ref)};
}

}  // namespace

TEST_CASE("DistributedDataParallel: N ranks with B/N samples = 1 process with B, 20 SGD steps") {
    auto [ddp, ref] = train_both(false, 25.0);
    const double diff = relative_difference(ddp, ref);
    MESSAGE("rank " << R() << " of " << N() << ": largest relative difference " << diff);
    CHECK(diff <= 1e-6);
    for (const Tensor& p : ddp) CHECK(same_on_every_rank(p));  // bitwise the same everywhere
    // One bucket per parameter gives the same bits as one bucket for all (each element is the
    // same sum either way).
    auto [small, unused] = train_both(false, 1e-6);
    for (std::size_t i = 0; i < ddp.size(); ++i) CHECK(small[i].to_vector() == ddp[i].to_vector());
}

TEST_CASE("SyncBatchNorm: N ranks with B/N samples = BatchNorm on B, 20 SGD steps") {
    auto [ddp, ref] = train_both(true, 25.0);
    REQUIRE(ddp.size() == ref.size());  // parameters, then running mean and variance
    const double diff = relative_difference(ddp, ref);
    MESSAGE("rank " << R() << " of " << N() << ": largest relative difference " << diff);
    CHECK(diff <= 1e-6);
    for (const Tensor& p : ddp) CHECK(same_on_every_rank(p));
}

TEST_CASE("DistributedDataParallel: buckets, no_sync accumulation, unused parameters") {
    manual_seed(5);
    nn::Sequential net({nn::Linear(3, 4), nn::Linear(4, 2)});
    net->to(float64);
    dist::DDPOptions o;
    o.bucket_cap_mb(1e-6);  // one parameter per bucket
    dist::DistributedDataParallel ddp(net.ptr(), o);
    auto buckets = ddp.buckets();
    REQUIRE(buckets.size() == 4);
    CHECK(buckets[0] == std::vector<std::size_t>{3});  // the last parameter first
    CHECK(buckets[3] == std::vector<std::size_t>{0});

    // Two micro-batches per rank, the first under no_sync: the averaged gradient is the mean
    // over ranks of each rank's summed gradient.
    Generator g(11);
    std::vector<Tensor> xs;
    for (int k = 0; k < 2 * N(); ++k) xs.push_back(randn({2, 3}, g, float64));
    {
        auto guard = ddp.no_sync();
        ddp(xs[2 * R()]).sum().backward();
    }
    Tensor local = net->parameters()[0].grad().clone();  // not averaged yet
    ddp(xs[2 * R() + 1]).sum().backward();
    CHECK(ddp.last_bytes() == net->num_parameters() * sizeof(double));
    // The expectation, computed here from every rank's inputs with a copy of the model.
    nn::Sequential copy({nn::Linear(3, 4), nn::Linear(4, 2)});
    copy->to(float64);
    copy->load_state_dict(net->state_dict());
    for (const Tensor& x : xs) copy(x).sum().backward();
    for (std::size_t i = 0; i < 4; ++i) {
        auto got = net->parameters()[i].grad().to_vector();
        auto want = copy->parameters()[i].grad().to_vector();
        for (std::size_t k = 0; k < got.size(); ++k)
            CHECK(got[k] == doctest::Approx(want[k] / N()));
    }
    if (N() > 1) CHECK(local.to_vector() != net->parameters()[0].grad().to_vector());

    // A parameter no gradient reaches on this backward counts as zero, on every rank alike.
    net->zero_grad();
    Tensor h = net->at<nn::LinearImpl>(0)->forward(xs[0]);
    h.sum().backward();  // only the first layer is used
    for (const Tensor& p : net->parameters()) {
        REQUIRE(p.grad().defined());
        CHECK(same_on_every_rank(p.grad()));
    }
    CHECK(net->parameters()[3].grad().to_vector() == std::vector<double>(2, 0.0));
}

TEST_CASE("DistributedDataParallel: a different architecture on some rank is an error") {
    if (N() < 2) return;
    nn::Sequential net =
        R() == 0 ? nn::Sequential({nn::Linear(3, 4)}) : nn::Sequential({nn::Linear(3, 5)});
    CHECK(error_of([&] { dist::DistributedDataParallel ddp(net.ptr()); })
              .find("DistributedDataParallel (0.weight): rank 1 passed a float32 tensor of shape "
                    "[5, 3], but rank 0 passed a float32 tensor of shape [4, 3]") == 0);
}

TEST_CASE("DistributedSampler: across the ranks, every sample exactly once per epoch") {
    for (std::size_t size : {10, 11, 3}) {
        for (bool drop_last : {false, true}) {
            data::DistributedSampler s(N(), R(), true, 3, drop_last);
            for (std::uint64_t epoch : {0, 1}) {
                auto mine = s.indices(size, epoch);
                CHECK(mine.size() == s.num_samples(size));
                xt::xarray<std::int64_t> a = xt::zeros<std::int64_t>({mine.size()});
                for (std::size_t k = 0; k < mine.size(); ++k) a(k) = std::int64_t(mine[k]);
                std::multiset<std::int64_t> seen;
                for (const Tensor& t : dist::all_gather(Tensor(a)))
                    for (double v : t.to_vector()) seen.insert(std::int64_t(v));
                const std::size_t total = s.num_samples(size) * N();
                CHECK(seen.size() == total);
                std::set<std::int64_t> distinct(seen.begin(), seen.end());
                if (drop_last) {
                    CHECK(distinct.size() == total);  // no sample twice, size - total dropped
                } else {
                    CHECK(distinct.size() == size);  // every sample, total - size twice
                }
            }
        }
    }
}

int main(int argc, char** argv) {
    dist::init(&argc, &argv);
    dist::set_timeout(60);  // a diverged test fails in a minute rather than hang
    doctest::Context context(argc, argv);
    int failed = context.run();
    Tensor any = full({1}, failed ? 1.0 : 0.0, int64);
    try {
        dist::all_reduce(any, dist::ReduceOp::max);  // a failure on any rank fails every rank
    } catch (const Error& e) {
        std::fprintf(stderr, "rank %d: %s\n", R(), e.what());
        return 1;
    }
    dist::finalize();
    return any.item<std::int64_t>() != 0 ? 1 : 0;
}

namespace {
// A user's module that calls its batch norm through a member.
struct HeldImpl : nn::Module {
    HeldImpl() : bn(register_module("bn", nn::BatchNorm2d(2))) {}
    Tensor forward(const Tensor& x) { return bn(x); }
    nn::BatchNorm2d bn;
};
XG_MODULE(Held);
}  // namespace

TEST_CASE("convert_sync_batchnorm: every BatchNorm in containers, parameters kept") {
    manual_seed(3);
    nn::Sequential net({nn::Conv2d(nn::Conv2dOptions(1, 2, 3)), nn::BatchNorm2d(2), nn::ReLU(),
                        nn::Flatten(), nn::Linear(8, 4), nn::BatchNorm1d(4)});
    nn::ModuleList list({nn::BatchNorm1d(4)});
    nn::ModuleDict root({{"net", net}, {"list", list}});
    Tensor x = randn({6, 1, 4, 4});
    net(x.index({indexing::Slice(0, 4)}));  // running statistics move off their init
    {
        NoGradGuard no_grad;
        net->at<nn::BatchNorm2dImpl>(1)->weight.fill_(1.5);
    }
    const NamedTensors before = net->state_dict();
    nn::Sequential reference({nn::Conv2d(nn::Conv2dOptions(1, 2, 3)), nn::BatchNorm2d(2),
                              nn::ReLU(), nn::Flatten(), nn::Linear(8, 4), nn::BatchNorm1d(4)});
    reference->load_state_dict(before);

    nn::ModulePtr out = dist::convert_sync_batchnorm(root);
    CHECK(out == root.ptr());
    CHECK((*net)[1]->type_name() == "SyncBatchNorm");
    CHECK((*net)[5]->type_name() == "SyncBatchNorm");
    CHECK((*list)[0]->type_name() == "SyncBatchNorm");
    CHECK((*net)[4]->type_name() == "Linear");
    const NamedTensors after = net->state_dict();
    REQUIRE(after.keys() == before.keys());
    for (const std::string& k : before.keys())
        CHECK(after.at(k).to_vector() == before.at(k).to_vector());

    // Eval mode normalizes by the running statistics on any number of ranks; one process in
    // training mode is plain batch norm.
    net->eval();
    reference->eval();
    CHECK(net(x).to_vector() == reference(x).to_vector());
    if (N() == 1) {
        net->train();
        reference->train();
        CHECK(net(x).to_vector() == reference(x).to_vector());
    }

    // A root batch norm comes back as a new module.
    nn::BatchNorm2d bn(2);
    nn::ModulePtr synced = dist::convert_sync_batchnorm(bn);
    CHECK(synced != bn.ptr());
    CHECK(synced->type_name() == "SyncBatchNorm");

    // A member that the module calls itself is refused by name, with nothing changed.
    Held held;
    std::string msg = error_of([&] { dist::convert_sync_batchnorm(held); });
    CHECK(msg.find("'bn' (BatchNorm2d)") != std::string::npos);
    CHECK(held->named_children()[0].second->type_name() == "BatchNorm2d");
}
