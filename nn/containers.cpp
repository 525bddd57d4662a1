#include "nn/containers.hpp"

#include <algorithm>

namespace xg::nn {

ModuleListImpl::ModuleListImpl(std::initializer_list<AnyModule> modules) : ModuleListImpl() {
    for (const auto& m : modules) push_back(m);
}

void ModuleListImpl::push_back(const AnyModule& m) {
    XG_CHECK(m.ptr != nullptr, "ModuleList: module {} is null", size());
    add_child(std::to_string(size()), m.ptr);
    items_.push_back(m.ptr);
}

void ModuleListImpl::extend(const ModuleListImpl& other) {
    const std::vector<ModulePtr> items = other.items_;  // other may be *this
    for (const auto& m : items) push_back(m);
}

ModulePtr ModuleListImpl::operator[](std::size_t i) const {
    XG_CHECK(i < size(), "ModuleList: index {} is out of range for {} modules", i, size());
    return items_[i];
}

ModuleDictImpl::ModuleDictImpl(std::initializer_list<std::pair<std::string, AnyModule>> modules)
    : ModuleDictImpl() {
    for (const auto& [k, m] : modules) insert(k, m);
}

void ModuleDictImpl::insert(const std::string& key, const AnyModule& m) {
    XG_CHECK(m.ptr != nullptr, "ModuleDict: module '{}' is null", key);
    XG_CHECK(!key.empty() && key.find('.') == std::string::npos,
             "ModuleDict: key '{}' must be non-empty and contain no '.'", key);
    XG_CHECK(!contains(key), "ModuleDict: key '{}' is already present", key);
    add_child(key, m.ptr);
}

bool ModuleDictImpl::contains(const std::string& key) const {
    const auto& c = named_children();
    return std::any_of(c.begin(), c.end(), [&](const auto& p) { return p.first == key; });
}

ModulePtr ModuleDictImpl::operator[](const std::string& key) const {
    for (const auto& [k, m] : named_children())
        if (k == key) return m;
    XG_CHECK(false, "ModuleDict: no module under key '{}' ({} keys)", key, size());
    return nullptr;
}

std::vector<std::string> ModuleDictImpl::keys() const {
    std::vector<std::string> out;
    for (const auto& [k, m] : named_children()) out.push_back(k);
    return out;
}

}  // namespace xg::nn
