#include "train/save.hpp"

#include <map>

#include <fmt/format.h>

#include "core/grad_mode.hpp"
#include "core/serialize.hpp"
#include "train/checkpoint.hpp"

namespace xg {

namespace {

// Which of save's overloads wrote a file ("format": "pt" is what Python's safetensors writes).
const char* const kContent = "content";

std::map<std::string, std::string> meta_for(const char* content) {
    return {{"format", "pt"}, {kContent, content}};
}

// Reads path and checks that it was saved as `content` (a file without xgrad's tag, from
// another tool, passes only when a module is expected).
SafetensorsFile read(const std::string& path, const char* content) {
    SafetensorsFile f = load_safetensors(path);
    auto it = f.metadata.find(kContent);
    if (it == f.metadata.end()) {
        XG_CHECK(std::string(content) == "module",
                 "load: {}: not a file of xg::save (no '{}' entry); expected a saved {}", path,
                 kContent, content);
    } else {
        XG_CHECK(it->second == content, "load: {}: the file holds a saved {}, not a {}", path,
                 it->second, content);
    }
    return f;
}

// Runs f; an xg::Error from it is prefixed with "load: <path>: " unless it names the file.
template <class F>
void prefixed(const std::string& path, F&& f) {
    try {
        f();
    } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.find(path) != std::string::npos) throw;
        throw Error(fmt::format("load: {}: {}", path, msg));
    }
}

NamedTensors numbered(const std::vector<Tensor>& tensors) {
    NamedTensors out;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        XG_CHECK(tensors[i].defined(), "save: tensor {} is undefined", i);
        out.insert(std::to_string(i), tensors[i].detach());
    }
    return out;
}

std::vector<Tensor> unnumbered(const std::string& path, const NamedTensors& tensors) {
    std::vector<Tensor> out;
    std::size_t i = 0;
    for (const auto& [name, t] : tensors) {
        XG_CHECK(name == std::to_string(i), "load: {}: tensor {} is named '{}', expected '{}'",
                 path, i, name, i);
        out.push_back(t);
        ++i;
    }
    return out;
}

}  // namespace

void save(const nn::Module& module, const std::string& path) {
    save_safetensors(path, module.state_dict(), meta_for("module"));
}

void load(nn::Module& module, const std::string& path) {
    SafetensorsFile f = read(path, "module");
    prefixed(path, [&] { module.load_state_dict(f.tensors, /*strict=*/true); });
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
    optim::StateDict sd = optimizer.state_dict();
    auto meta = meta_for("optimizer");
    meta["optimizer.state"] = train::detail::encode_state(sd);
    save_safetensors(path, sd.tensors, meta);
}

void load(optim::Optimizer& optimizer, const std::string& path) {
    SafetensorsFile f = read(path, "optimizer");
    auto it = f.metadata.find("optimizer.state");
    XG_CHECK(it != f.metadata.end(), "load: {}: no 'optimizer.state' entry", path);
    optim::StateDict sd =
        train::detail::decode_state("load", path, "optimizer", it->second, f.tensors);
    prefixed(path, [&] { optimizer.load_state_dict(sd); });
}

void save(const Tensor& tensor, const std::string& path) {
    XG_CHECK(tensor.defined(), "save: {}: the tensor is undefined", path);
    save_safetensors(path, numbered({tensor}), meta_for("tensor"));
}

void load(Tensor& tensor, const std::string& path) {
    SafetensorsFile f = read(path, "tensor");
    std::vector<Tensor> ts = unnumbered(path, f.tensors);
    XG_CHECK(ts.size() == 1, "load: {}: holds {} tensors, expected 1", path, ts.size());
    tensor = ts[0];
}

void save(const std::vector<Tensor>& tensors, const std::string& path) {
    save_safetensors(path, numbered(tensors), meta_for("tensors"));
}

void load(std::vector<Tensor>& tensors, const std::string& path) {
    SafetensorsFile f = read(path, "tensors");
    tensors = unnumbered(path, f.tensors);
}

}  // namespace xg
