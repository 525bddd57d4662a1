// DistributedSampler without MPI: every rank's shard computed in one process, and the
// DataLoader reading through it. (tests/mpi/test_distributed.cpp checks it across real ranks.)
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "tests/data_testing.hpp"
#include "xgrad.hpp"

using namespace xg;
using data::DistributedSampler;
using xg::testing::error_of;

TEST_CASE(
    "DistributedSampler: shards are disjoint, equal and cover the dataset (PyTorch's rules)") {
    for (std::size_t replicas : {1, 2, 3, 4}) {
        for (std::size_t size : {0, 1, 5, 10, 11, 12}) {
            for (bool drop_last : {false, true}) {
                std::multiset<std::size_t> all;
                for (std::size_t r = 0; r < replicas; ++r) {
                    DistributedSampler s(replicas, r, true, 42, drop_last);
                    auto idx = s.indices(size, 3);
                    CAPTURE(replicas);
                    CAPTURE(size);
                    CAPTURE(drop_last);
                    // PyTorch: ceil(n / R) without drop_last, floor(n / R) with it.
                    CHECK(idx.size() ==
                          (drop_last ? size / replicas : (size + replicas - 1) / replicas));
                    for (auto i : idx) CHECK(i < size);
                    all.insert(idx.begin(), idx.end());
                }
                std::set<std::size_t> distinct(all.begin(), all.end());
                if (drop_last) {
                    CHECK(distinct.size() == all.size());  // nothing twice
                } else {
                    CHECK(distinct.size() == size);  // everything, padding repeats a few
                }
            }
        }
    }
}

TEST_CASE("DistributedSampler: the order depends on seed and epoch only; no shuffle keeps it") {
    DistributedSampler a(2, 0, true, 7), b(2, 0, true, 7), c(2, 0, true, 8);
    CHECK(a.indices(100, 1) == b.indices(100, 1));
    CHECK(a.indices(100, 1) != a.indices(100, 2));
    CHECK(a.indices(100, 1) != c.indices(100, 1));
    DistributedSampler plain(3, 1, false);
    CHECK(plain.indices(7, 0) == std::vector<std::size_t>{1, 4, 0});  // padded with 0, 1
    DistributedSampler cut(3, 2, false, 0, true);
    CHECK(cut.indices(7, 0) == std::vector<std::size_t>{2, 5});
}

TEST_CASE("DistributedSampler: errors") {
    CHECK(error_of([] { DistributedSampler(0, 0); }) ==
          "DistributedSampler: num_replicas must be at least 1, got 0");
    CHECK(error_of([] { DistributedSampler(2, 2); }) ==
          "DistributedSampler: invalid rank 2, rank should be in the interval [0, 1]");
    data::DataLoaderOptions o;
    o.shuffle(true);
    o.sampler(DistributedSampler(2, 0));
    auto ds = std::make_shared<data::TensorDataset>(zeros({4, 1, 2, 2}), zeros({4}, int64));
    CHECK(error_of([&] { data::DataLoader(ds, o); })
              .find("DataLoader: sampler option is mutually "
                    "exclusive with shuffle") == 0);
}

TEST_CASE("DataLoader with a DistributedSampler: each rank's batches hold its shard") {
    const std::size_t n = 10;
    xt::xarray<std::int64_t> labels = xt::arange<std::int64_t>(0, static_cast<std::int64_t>(n));
    auto ds = std::make_shared<data::TensorDataset>(zeros({n, 1, 2, 2}), Tensor(labels));
    std::multiset<std::int64_t> seen;
    for (std::size_t r = 0; r < 3; ++r) {
        data::DataLoaderOptions o;
        o.batch_size(2);
        o.sampler(DistributedSampler(3, r, true, 5));
        data::DataLoader loader(ds, o);
        CHECK(loader.size() == 2);  // ceil(10 / 3) = 4 samples in batches of 2
        loader.set_epoch(4);
        const auto want = o.sampler()->indices(n, 4);
        std::vector<std::size_t> got;
        for (auto& b : loader)
            for (double v : b[1].to_vector()) got.push_back(static_cast<std::size_t>(v));
        CHECK(got == want);
        seen.insert(got.begin(), got.end());
    }
    CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == n);
}
