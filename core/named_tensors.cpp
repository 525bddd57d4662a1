#include "core/named_tensors.hpp"

#include "core/error.hpp"

namespace xg {

NamedTensors::NamedTensors(std::initializer_list<Item> items) {
    for (const auto& [k, v] : items) insert(k, v);
}

void NamedTensors::insert(std::string key, Tensor value) {
    XG_CHECK(!contains(key), "NamedTensors: duplicate name '{}'", key);
    items_.emplace_back(key, std::move(value));
    try {  // the index never points past the items, even when its insertion throws
        index_.emplace(std::move(key), items_.size() - 1);
    } catch (...) {
        items_.pop_back();
        throw;
    }
}

Tensor& NamedTensors::operator[](const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
        insert(key, Tensor());
        return items_.back().second;
    }
    return items_[it->second].second;
}

const Tensor& NamedTensors::at(const std::string& key) const {
    auto it = index_.find(key);
    XG_CHECK(it != index_.end(), "NamedTensors: no tensor named '{}'", key);
    return items_[it->second].second;
}

NamedTensors::const_iterator NamedTensors::find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? items_.end() : items_.begin() + std::ptrdiff_t(it->second);
}

std::vector<std::string> NamedTensors::keys() const {
    std::vector<std::string> k;
    for (const auto& it : items_) k.push_back(it.first);
    return k;
}

std::vector<Tensor> NamedTensors::values() const {
    std::vector<Tensor> v;
    for (const auto& it : items_) v.push_back(it.second);
    return v;
}

}  // namespace xg
