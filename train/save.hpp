#pragma once
// torch::save / torch::load for xgrad: a module, an optimizer, a tensor or a vector of tensors
// to one file and back.
//
//   xg::save(net, "model.safetensors");    // net->state_dict() under PyTorch's keys
//   xg::load(net, "model.safetensors");    // into a module of the same architecture
//   xg::save(optimizer, "optim.safetensors");
//   xg::save(tensor, "t.safetensors");     xg::load(tensor, "t.safetensors");
//
// The files are safetensors (core/serialize.hpp) with xgrad's checksums, written atomically (a
// crash leaves the old file or the new one). A module's file is its state dict, so Python's
// safetensors.torch.load_file(path) gives a dict that model.load_state_dict accepts. Tensors are
// stored as "0", "1", ... (libtorch's keys for a vector). Every load checks the whole file
// first and throws xg::Error naming the file and the problem (for a module of another
// architecture: the key and both shapes); the target is then unchanged.
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/tensor.hpp"
#include "nn/module.hpp"
#include "optim/optimizer.hpp"

namespace xg {

void save(const nn::Module& module, const std::string& path);
// Strict, as torch::load: the file must hold exactly the module's keys, shapes and dtypes.
// A file written by another tool (no xgrad metadata) is accepted when its tensors fit.
void load(nn::Module& module, const std::string& path);

template <class Impl>
void save(const nn::ModuleHolder<Impl>& module, const std::string& path) {
    save(*module, path);
}
template <class Impl>
void load(const nn::ModuleHolder<Impl>& module, const std::string& path) {
    load(*module, path);
}
template <class M, class = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void save(const std::shared_ptr<M>& module, const std::string& path) {
    save(*module, path);
}
template <class M, class = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void load(const std::shared_ptr<M>& module, const std::string& path) {
    load(*module, path);
}

// The optimizer's state dict (buffers, step counts, every group's options); loads into an
// optimizer of the same type over parameters of the same shapes in the same groups.
void save(const optim::Optimizer& optimizer, const std::string& path);
void load(optim::Optimizer& optimizer, const std::string& path);

// A tensor's values (detached); load replaces the handle with a new tensor, as torch::load.
void save(const Tensor& tensor, const std::string& path);
void load(Tensor& tensor, const std::string& path);
void save(const std::vector<Tensor>& tensors, const std::string& path);
void load(std::vector<Tensor>& tensors, const std::string& path);

}  // namespace xg
