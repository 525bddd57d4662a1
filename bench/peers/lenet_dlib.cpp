// dlib's side of `bench_steps --peers`: LeNet-5, one Fashion-MNIST epoch, trained as dlib's
// dnn_introduction_ex.cpp trains (dnn_trainer with sgd, train() over the whole set), then the
// test set through the trained net. Prints `result <train s> <test s> <accuracy %>`.
//   lenet_dlib   (its BLAS's threads: OPENBLAS_NUM_THREADS, set by bench_steps --peers)
#include <dlib/dnn.h>

#include <cstdio>

#include "bench/peers/fashion_idx.hpp"

namespace {

using dlib::fc, dlib::input, dlib::loss_multiclass_log, dlib::matrix, dlib::max_pool, dlib::relu;

// dlib's con<> alias fixes the padding at half the kernel: this one takes it.
template <long filters, long k, int pad, class SUBNET>
using conv = dlib::add_layer<dlib::con_<filters, k, k, 1, 1, pad, pad>, SUBNET>;

// conv 6@5x5 pad 2, ReLU, maxpool 2, conv 16@5x5 (no padding), ReLU, maxpool 2, fc 120, 84, 10.
using net_type = loss_multiclass_log<fc<
    10,
    relu<fc<84,
            relu<fc<120,
                    max_pool<2, 2, 2, 2,
                             relu<conv<16, 5, 0,
                                       max_pool<2, 2, 2, 2,
                                                relu<conv<6, 5, 2, input<matrix<float>>>>>>>>>>>>>>;

std::vector<matrix<float>> images(const xg::bench::FashionSplit& s) {
    std::vector<matrix<float>> out(s.n);
    for (std::size_t i = 0; i < s.n; ++i) {
        out[i].set_size(28, 28);
        std::copy_n(s.pixels.data() + i * 784, 784, &out[i](0, 0));
    }
    return out;
}

}  // namespace

int main() {
    auto t0 = std::chrono::steady_clock::now();
    auto train = xg::bench::load_fashion(xg::data::Split::train);
    std::vector<matrix<float>> x = images(train);
    net_type net;
    dlib::dnn_trainer<net_type> trainer(net, dlib::sgd(0, 0.9));  // no weight decay
    trainer.set_learning_rate(0.05);
    trainer.set_mini_batch_size(64);
    trainer.set_max_num_epochs(1);
    trainer.train(x, train.labels);
    net.clean();
    const double train_s = xg::bench::seconds_since(t0);

    auto t1 = std::chrono::steady_clock::now();
    auto test = xg::bench::load_fashion(xg::data::Split::test);
    std::vector<unsigned long> pred = net(images(test));
    std::size_t right = 0;
    for (std::size_t i = 0; i < test.n; ++i) right += pred[i] == test.labels[i];
    const double test_s = xg::bench::seconds_since(t1);
    std::printf("result %.6f %.6f %.4f\n", train_s, test_s, 100.0 * double(right) / double(test.n));
    return 0;
}
