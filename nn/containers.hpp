#pragma once
// nn::ModuleList and nn::ModuleDict, as torch.nn's: modules held in order under the names "0",
// "1", ... (a list) or under their keys (a dict, in insertion order), so a model holding one as
// a submodule "layers" has PyTorch's state_dict keys ("layers.0.weight"). Neither has a forward.
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.hpp"
#include "nn/sequential.hpp"

namespace xg::nn {

class ModuleListImpl : public Module {
  public:
    ModuleListImpl() : Module("ModuleList") {}
    ModuleListImpl(std::initializer_list<AnyModule> modules);
    void push_back(const AnyModule& m);
    void extend(const ModuleListImpl& other);  // appends other's modules (shared, not copied)
    std::size_t size() const { return named_children().size(); }
    bool is_empty() const { return size() == 0; }
    ModulePtr operator[](std::size_t i) const;  // throws when out of range
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto p = std::dynamic_pointer_cast<M>((*this)[i]);
        XG_CHECK(p != nullptr, "ModuleList: module {} is a {}, not the requested type", i,
                 (*this)[i]->type_name());
        return p;
    }
    // for (const ModulePtr& m : *list), in order.
    std::vector<ModulePtr>::const_iterator begin() const { return items_.begin(); }
    std::vector<ModulePtr>::const_iterator end() const { return items_.end(); }

  protected:
    void child_replaced(std::size_t index, const ModulePtr& m) override { items_[index] = m; }

  private:
    std::vector<ModulePtr> items_;
};

class ModuleList : public ModuleHolder<ModuleListImpl> {
  public:
    using ModuleHolder<ModuleListImpl>::ModuleHolder;
    ModuleList() : ModuleHolder<ModuleListImpl>(std::make_shared<ModuleListImpl>()) {}
    ModuleList(std::initializer_list<AnyModule> modules)
        : ModuleHolder<ModuleListImpl>(std::make_shared<ModuleListImpl>(modules)) {}
};

class ModuleDictImpl : public Module {
  public:
    ModuleDictImpl() : Module("ModuleDict") {}
    ModuleDictImpl(std::initializer_list<std::pair<std::string, AnyModule>> modules);
    // A new key (non-empty, without '.'); an existing key is an error naming it.
    void insert(const std::string& key, const AnyModule& m);
    std::size_t size() const { return named_children().size(); }
    bool is_empty() const { return size() == 0; }
    bool contains(const std::string& key) const;
    ModulePtr operator[](const std::string& key) const;  // throws naming a missing key
    template <class M>
    std::shared_ptr<M> at(const std::string& key) const {
        auto p = std::dynamic_pointer_cast<M>((*this)[key]);
        XG_CHECK(p != nullptr, "ModuleDict: module '{}' is a {}, not the requested type", key,
                 (*this)[key]->type_name());
        return p;
    }
    std::vector<std::string> keys() const;
    std::vector<ModulePtr> values() const { return children(); }
    // for (const auto& [key, m] : *dict), in insertion order.
    auto begin() const { return named_children().begin(); }
    auto end() const { return named_children().end(); }
};

class ModuleDict : public ModuleHolder<ModuleDictImpl> {
  public:
    using ModuleHolder<ModuleDictImpl>::ModuleHolder;
    ModuleDict() : ModuleHolder<ModuleDictImpl>(std::make_shared<ModuleDictImpl>()) {}
    ModuleDict(std::initializer_list<std::pair<std::string, AnyModule>> modules)
        : ModuleHolder<ModuleDictImpl>(std::make_shared<ModuleDictImpl>(modules)) {}
};

}  // namespace xg::nn
