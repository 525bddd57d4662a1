#include "train/checkpoint.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/grad_mode.hpp"
#include "core/serialize.hpp"

namespace xg::train {

namespace {

constexpr const char* kFormat = "xgrad.training-checkpoint/1";

// Scalars go into JSON as hex floats ("0x1.8p+1"): exact, and inf/NaN survive (JSON has none).
std::string hex(double v) {
    return fmt::format("{:a}", v);
}

}  // namespace

namespace detail {

std::string encode_state(const optim::StateDict& sd) {
    nlohmann::ordered_json j;
    for (const auto& [k, v] : sd.scalars) j["scalars"][k] = hex(v);
    for (const auto& [k, v] : sd.strings) j["strings"][k] = v;
    return j.dump();
}

optim::StateDict decode_state(const char* op, const std::string& path, const std::string& what,
                              const std::string& text, const NamedTensors& tensors) {
    optim::StateDict sd;
    try {
        auto j = nlohmann::json::parse(text);
        XG_CHECK(j.is_object(), "not a JSON object");
        if (j.contains("scalars")) {
            for (const auto& [k, v] : j.at("scalars").items()) {
                const std::string s = v.get<std::string>();
                char* end = nullptr;
                double d = std::strtod(s.c_str(), &end);
                XG_CHECK(end && *end == '\0' && !s.empty(), "scalar '{}' is not a number: '{}'", k,
                         s);
                sd.scalars[k] = d;
            }
        }
        if (j.contains("strings")) {
            for (const auto& [k, v] : j.at("strings").items()) sd.strings[k] = v.get<std::string>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(fmt::format("{}: {}: the {} state is malformed: {}", op, path, what, e.what()));
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}: the {} state is malformed: {}", op, path, what, e.what()));
    }
    sd.tensors = tensors;
    return sd;
}

}  // namespace detail

namespace {

NamedTensors with_prefix(const std::string& group, const NamedTensors& m) {
    NamedTensors out;
    for (const auto& [k, t] : m) out.insert(group + "." + k, t);
    return out;
}

std::string metadata_at(const SafetensorsFile& f, const std::string& path, const std::string& key) {
    auto it = f.metadata.find(key);
    XG_CHECK(it != f.metadata.end(),
             "load_checkpoint: {}: missing '{}' (not a training checkpoint?)", path, key);
    return it->second;
}

std::uint64_t parse_count(const std::string& path, const std::string& key, const std::string& s) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    XG_CHECK(!s.empty() && end && *end == '\0' && s[0] != '-',
             "load_checkpoint: {}: '{}' is not a count: '{}'", path, key, s);
    return v;
}

std::string encode_position(const EpochPosition& e) {
    nlohmann::ordered_json j;
    j["batch"] = e.batch;
    j["samples"] = e.samples;
    j["skipped"] = e.skipped;
    j["loss_sum"] = hex(e.loss_sum);
    j["correct"] = hex(e.correct);
    return j.dump();
}

EpochPosition decode_position(const std::string& path, const std::string& text) {
    try {
        auto j = nlohmann::json::parse(text);
        auto number = [&](const char* key) {
            const std::string s = j.at(key).get<std::string>();
            char* end = nullptr;
            double d = std::strtod(s.c_str(), &end);
            XG_CHECK(!s.empty() && end && *end == '\0' && std::isfinite(d),
                     "'{}' is not a finite number: '{}'", key, s);
            return d;
        };
        EpochPosition e;
        e.batch = j.at("batch").get<std::uint64_t>();
        e.samples = j.at("samples").get<std::uint64_t>();
        e.skipped = j.at("skipped").get<std::uint64_t>();
        e.loss_sum = number("loss_sum");
        e.correct = number("correct");
        return e;
    } catch (const std::exception& e) {
        throw Error(fmt::format("load_checkpoint: {}: the mid-epoch position is malformed: {}",
                                path, e.what()));
    }
}

// Deep copies of a module's state, for putting it back if a later part of a load fails.
nn::StateDict snapshot(const nn::Module& m) {
    nn::StateDict out;
    NoGradGuard no_grad;
    for (const auto& [k, t] : m.state_dict()) out.insert(k, t.clone());
    return out;
}

optim::StateDict snapshot(const optim::StateDict& sd) {
    optim::StateDict out = sd;
    NoGradGuard no_grad;
    for (auto& [k, t] : out.tensors) t = t.clone();
    return out;
}

}  // namespace

Checkpoint& Checkpoint::model(nn::Module& m) {
    model_ = &m;
    return *this;
}
Checkpoint& Checkpoint::optimizer(optim::Optimizer& o) {
    optimizer_ = &o;
    return *this;
}
Checkpoint& Checkpoint::scheduler(optim::LRScheduler& s) {
    scheduler_ = &s;
    return *this;
}
Checkpoint& Checkpoint::scheduler(optim::ReduceLROnPlateau& s) {
    plateau_ = &s;
    return *this;
}
Checkpoint& Checkpoint::generator(const std::string& name, Generator& g) {
    XG_CHECK(!name.empty() && name.find('.') == std::string::npos,
             "Checkpoint: generator name '{}' must be non-empty without '.'", name);
    for (const auto& [n, _] : generators_) {
        XG_CHECK(n != name, "Checkpoint: generator '{}' registered twice", name);
    }
    generators_.emplace_back(name, &g);
    return *this;
}

namespace {
bool all_finite(const Tensor& t) {
    if (!is_floating(t.dtype())) return true;
    for (double v : t.to_vector())
        if (!std::isfinite(v)) return false;
    return true;
}

// A diverged run must not replace the last good checkpoint with NaN weights.
void check_finite(const std::string& path, const char* what, const NamedTensors& tensors) {
    for (const auto& [name, t] : tensors)
        XG_CHECK(all_finite(t),
                 "save_checkpoint: {}: {} tensor '{}' holds non-finite values (the training "
                 "diverged?); the file on disk was left as it was",
                 path, what, name);
}
}  // namespace

void Checkpoint::save(const std::string& path, const TrainingProgress& p) const {
    if (model_) check_finite(path, "model", model_->state_dict());
    if (optimizer_) check_finite(path, "optimizer", optimizer_->state_dict().tensors);
    std::vector<std::pair<std::string, NamedTensors>> groups;
    std::map<std::string, std::string> meta;
    meta["checkpoint.format"] = kFormat;
    meta["checkpoint.epoch"] = std::to_string(p.epoch);
    meta["checkpoint.step"] = std::to_string(p.step);
    meta["checkpoint.metrics"] = p.metrics.csv();
    for (const auto& [k, v] : p.info) meta["info." + k] = v;
    if (p.mid_epoch) meta["checkpoint.mid_epoch"] = encode_position(*p.mid_epoch);
    if (model_) {
        groups.emplace_back("model", model_->state_dict());
    }
    if (optimizer_) {
        optim::StateDict sd = optimizer_->state_dict();
        groups.emplace_back("optim", with_prefix("t", sd.tensors));
        meta["optim.state"] = detail::encode_state(sd);
    }
    if (scheduler_ || plateau_) {
        optim::StateDict sd = scheduler_ ? scheduler_->state_dict() : plateau_->state_dict();
        groups.emplace_back("sched", with_prefix("t", sd.tensors));
        meta["sched.state"] = detail::encode_state(sd);
    }
    for (const auto& [name, g] : generators_) meta["rng." + name] = g->state();
    save_safetensors(path, flatten_groups(groups), meta);
}

TrainingProgress Checkpoint::load(const std::string& path) {
    SafetensorsFile f = load_safetensors(path);  // checksums and structure
    std::string format = metadata_at(f, path, "checkpoint.format");
    XG_CHECK(format == kFormat, "load_checkpoint: {}: format '{}', expected '{}'", path, format,
             kFormat);
    TrainingProgress p;
    p.epoch = parse_count(path, "checkpoint.epoch", metadata_at(f, path, "checkpoint.epoch"));
    p.step = parse_count(path, "checkpoint.step", metadata_at(f, path, "checkpoint.step"));
    p.metrics = MetricsLog::parse_csv(metadata_at(f, path, "checkpoint.metrics"), path);
    for (const auto& [k, v] : f.metadata) {
        if (k.rfind("info.", 0) == 0) p.info[k.substr(5)] = v;
    }
    if (f.metadata.count("checkpoint.mid_epoch"))
        p.mid_epoch = decode_position(path, f.metadata.at("checkpoint.mid_epoch"));
    // Everything is parsed before anything changes.
    nn::StateDict model_sd;
    if (model_) model_sd = select_group(f.tensors, "model");
    std::optional<optim::StateDict> opt_sd, sched_sd;
    if (optimizer_) {
        NamedTensors ts = select_group(select_group(f.tensors, "optim"), "t");
        opt_sd = detail::decode_state("load_checkpoint", path, "optimizer",
                                      metadata_at(f, path, "optim.state"), ts);
    }
    if (scheduler_ || plateau_) {
        NamedTensors ts = select_group(select_group(f.tensors, "sched"), "t");
        sched_sd = detail::decode_state("load_checkpoint", path, "scheduler",
                                        metadata_at(f, path, "sched.state"), ts);
    }
    std::vector<std::string> rng;
    for (const auto& [name, g] : generators_) rng.push_back(metadata_at(f, path, "rng." + name));

    // Apply in order; if one part refuses, put back what was already changed.
    std::optional<nn::StateDict> old_model;
    std::optional<optim::StateDict> old_opt, old_sched;
    std::vector<std::string> old_rng;
    if (model_) old_model = snapshot(*model_);
    if (optimizer_) old_opt = snapshot(optimizer_->state_dict());
    if (scheduler_) old_sched = scheduler_->state_dict();
    if (plateau_) old_sched = plateau_->state_dict();
    for (const auto& [name, g] : generators_) old_rng.push_back(g->state());
    std::size_t rng_done = 0;
    bool model_done = false, opt_done = false, sched_done = false;
    try {
        if (model_) model_->load_state_dict(model_sd), model_done = true;
        if (optimizer_) optimizer_->load_state_dict(*opt_sd), opt_done = true;
        if (scheduler_) scheduler_->load_state_dict(*sched_sd), sched_done = true;
        if (plateau_) plateau_->load_state_dict(*sched_sd), sched_done = true;
        for (; rng_done < generators_.size(); ++rng_done)
            generators_[rng_done].second->set_state(rng[rng_done]);
    } catch (const std::exception& e) {
        if (model_done) model_->load_state_dict(*old_model);
        if (opt_done) optimizer_->load_state_dict(*old_opt);
        if (sched_done && scheduler_) scheduler_->load_state_dict(*old_sched);
        if (sched_done && plateau_) plateau_->load_state_dict(*old_sched);
        for (std::size_t i = 0; i < rng_done; ++i) generators_[i].second->set_state(old_rng[i]);
        std::string msg = e.what();
        if (msg.rfind("load_checkpoint", 0) == 0) throw;
        throw Error(fmt::format("load_checkpoint: {}: {}", path, msg));
    }
    return p;
}

}  // namespace xg::train
