// tiny-dnn's side of `bench_steps --peers`: LeNet-5, one Fashion-MNIST epoch, trained as
// tiny-dnn's MNIST example trains (network<sequential>, train<loss>(optimizer, images, labels,
// batch, epochs), its AVX backend as its CMake build defaults to), then net.test() on the test set.
// tiny-dnn runs its parallel_for on std::thread::hardware_concurrency() threads and feeds the set
// in order (its train<> does not shuffle). Prints `result <train s> <test s> <accuracy %>`.
#include <tiny_dnn/tiny_dnn.h>

#include <cstdio>

#include "bench/peers/fashion_idx.hpp"

namespace {

void to_tiny_dnn(const xg::bench::FashionSplit& s, std::vector<tiny_dnn::vec_t>& x,
                 std::vector<tiny_dnn::label_t>& y) {
    x.resize(s.n);
    y.resize(s.n);
    for (std::size_t i = 0; i < s.n; ++i) {
        x[i].assign(s.pixels.begin() + long(i * 784), s.pixels.begin() + long((i + 1) * 784));
        y[i] = static_cast<tiny_dnn::label_t>(s.labels[i]);
    }
}

}  // namespace

int main() {
    using namespace tiny_dnn;
    using namespace tiny_dnn::activation;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<vec_t> x;
    std::vector<label_t> y;
    to_tiny_dnn(xg::bench::load_fashion(xg::data::Split::train), x, y);
    // conv 6@5x5 pad 2 + ReLU, maxpool 2, conv 16@5x5 + ReLU, maxpool 2, fc 120, 84, 10 (softmax
    // here, with the multiclass cross-entropy: PyTorch's cross_entropy).
    network<sequential> net;
    net << convolutional_layer<relu>(28, 28, 5, 1, 6, padding::same)
        << max_pooling_layer<identity>(28, 28, 6, 2) << convolutional_layer<relu>(14, 14, 5, 6, 16)
        << max_pooling_layer<identity>(10, 10, 16, 2) << fully_connected_layer<relu>(400, 120)
        << fully_connected_layer<relu>(120, 84) << fully_connected_layer<softmax>(84, 10);
    momentum opt;
    opt.alpha = float_t(0.05);
    opt.mu = float_t(0.9);
    net.train<cross_entropy_multiclass>(opt, x, y, 64, 1);
    const double train_s = xg::bench::seconds_since(t0);

    auto t1 = std::chrono::steady_clock::now();
    to_tiny_dnn(xg::bench::load_fashion(xg::data::Split::test), x, y);
    result r = net.test(x, y);
    const double test_s = xg::bench::seconds_since(t1);
    std::printf("result %.6f %.6f %.4f\n", train_s, test_s,
                100.0 * double(r.num_success) / double(r.num_total));
    return 0;
}
