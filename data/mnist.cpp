#include "data/mnist.hpp"

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"

namespace xg::data {

namespace {

std::string root_or_env(const std::string& root, const char* env, const char* fallback) {
    if (!root.empty()) return root;
    const char* v = std::getenv(env);
    if (v != nullptr && *v != '\0') return v;
    return fallback;
}

// "<dir>/<base>" if it exists, else "<dir>/<base>.gz", else an error saying how to get the data.
std::string find_file(const char* dataset, const std::string& dir, const std::string& base,
                      const std::string& how_to_get) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const std::string& name : {base, base + ".gz"}) {
        fs::path p = fs::path(dir) / name;
        if (fs::exists(p, ec)) return p.string();
    }
    throw Error(fmt::format("{}: neither {} nor {}.gz found in {}; {}", dataset, base, base, dir,
                            how_to_get));
}

ByteImageDataset load_split(const char* dataset, const std::string& dir, Split split,
                            const std::string& how_to_get) {
    const std::string prefix = split == Split::train ? "train" : "t10k";
    std::string images = find_file(dataset, dir, prefix + "-images-idx3-ubyte", how_to_get);
    std::string labels = find_file(dataset, dir, prefix + "-labels-idx1-ubyte", how_to_get);
    ByteImageDataset ds = load_idx_dataset(images, labels, 10);
    Shape s = ds.image_shape();
    XG_CHECK(s[1] == 28 && s[2] == 28, "{}: expected 28x28 images, {} holds {}x{}", dataset, images,
             s[1], s[2]);
    return ds;
}

}  // namespace

ByteImageDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                  std::size_t num_classes) {
    IdxImagesLabels raw = read_idx_images_labels(images_path, labels_path);
    const std::size_t n = raw.images.dims[0], h = raw.images.dims[1], w = raw.images.dims[2];
    xg::array<std::int64_t> labels = xg::array<std::int64_t>::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t v = raw.labels.data[i];
        XG_CHECK(v < num_classes, "read_idx: {}: label {} at index {} is not below {} classes",
                 labels_path, v, i, num_classes);
        labels.data()[i] = v;
    }
    return ByteImageDataset(std::move(raw.images.data), Shape{n, 1, h, w},
                            Tensor(std::move(labels)));
}

FashionMNIST::FashionMNIST(Split split, const std::string& root)
    : root_(root_or_env(root, "XGRAD_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")) {
    static_cast<ByteImageDataset&>(*this) =
        load_split("FashionMNIST", root_, split,
                   "install it with `apt-get install dataset-fashion-mnist` (Debian), or set "
                   "XGRAD_FASHION_MNIST_DIR (or pass a directory) to where the four IDX files are");
}

const std::vector<std::string>& FashionMNIST::classes() {
    static const std::vector<std::string> names = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

std::string FashionMNIST::default_root() {
    return root_or_env("", "XGRAD_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist");
}

MNIST::MNIST(Split split, const std::string& root)
    : root_(root_or_env(root, "XGRAD_MNIST_DIR", "/usr/share/datasets/mnist")) {
    static_cast<ByteImageDataset&>(*this) = load_split(
        "MNIST", root_, split,
        "Debian has no package for it: download train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
        "from the MNIST site into a directory and set XGRAD_MNIST_DIR (or pass the directory)");
}

std::string MNIST::default_root() {
    return root_or_env("", "XGRAD_MNIST_DIR", "/usr/share/datasets/mnist");
}

}  // namespace xg::data
