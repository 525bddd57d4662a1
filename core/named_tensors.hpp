#pragma once
// NamedTensors: names to tensors in insertion order, each name once. The one container for
// state dicts (nn::Module::state_dict, the optimizers' and schedulers' tensors) and for the
// tensors of a checkpoint file, so save_safetensors(path, net->state_dict()) just works.
#include <cstddef>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace xg {

class NamedTensors {
  public:
    using Item = std::pair<const std::string, Tensor>;
    using iterator = std::vector<Item>::iterator;
    using const_iterator = std::vector<Item>::const_iterator;

    NamedTensors() = default;
    NamedTensors(std::initializer_list<Item> items);  // throws on a repeated name
    NamedTensors(const NamedTensors&) = default;
    NamedTensors(NamedTensors&&) noexcept = default;
    // By swapping: the names are const, so the items cannot be assigned one by one.
    NamedTensors& operator=(NamedTensors other) noexcept {
        items_.swap(other.items_);
        index_.swap(other.index_);
        return *this;
    }

    void insert(std::string key, Tensor value);  // throws xg::Error on a repeated name
    // The tensor under key, appended (undefined) first if absent, as std::map's.
    Tensor& operator[](const std::string& key);
    bool contains(const std::string& key) const { return index_.count(key) != 0; }
    std::size_t count(const std::string& key) const { return index_.count(key); }
    const Tensor& at(const std::string& key) const;     // throws xg::Error naming the key
    const_iterator find(const std::string& key) const;  // end() if absent

    std::size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    std::vector<std::string> keys() const;
    std::vector<Tensor> values() const;
    // Iteration in insertion order; the tensors may be replaced, the names not.
    iterator begin() { return items_.begin(); }
    iterator end() { return items_.end(); }
    const_iterator begin() const { return items_.begin(); }
    const_iterator end() const { return items_.end(); }

  private:
    std::vector<Item> items_;
    std::map<std::string, std::size_t> index_;  // name -> position in items_
};

}  // namespace xg
