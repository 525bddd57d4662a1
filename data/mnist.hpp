#pragma once
// MNIST and Fashion-MNIST from their IDX files (plain or .gz): images (N, 1, 28, 28), kept as
// bytes and read as float32 in [0, 1] (byte / 255, as torchvision's ToTensor), labels int64 (N)
// in [0, 10).
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/idx.hpp"

namespace xg::data {

enum class Split { train, test };

// Loads an images file (idx3) and a labels file (idx1) of the same count as (N, 1, H, W)
// images (read as float32 in [0, 1]) and int64 labels, which must be below num_classes.
ByteImageDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                  std::size_t num_classes = 10);

// Fashion-MNIST (Zalando): 60,000 train and 10,000 test images of 10 kinds of clothing.
// The directory is `root` if given, else $XGRAD_FASHION_MNIST_DIR, else where Debian's
// dataset-fashion-mnist package puts it (/usr/share/datasets/fashion-mnist).
class FashionMNIST : public ByteImageDataset {
  public:
    explicit FashionMNIST(Split split = Split::train, const std::string& root = "");
    static const std::vector<std::string>& classes();  // "T-shirt/top", "Trouser", ...
    static std::string default_root();
    const std::string& root() const { return root_; }

  private:
    std::string root_;
};

// MNIST handwritten digits: 60,000 train and 10,000 test images. Debian has no package for it:
// the directory is `root` if given, else $XGRAD_MNIST_DIR, else /usr/share/datasets/mnist.
class MNIST : public ByteImageDataset {
  public:
    explicit MNIST(Split split = Split::train, const std::string& root = "");
    static std::string default_root();
    const std::string& root() const { return root_; }

  private:
    std::string root_;
};

}  // namespace xg::data
