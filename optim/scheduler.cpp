#include "optim/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace xg::optim {

namespace {
constexpr double kPi = 3.14159265358979323846;

std::vector<double> group_lrs(const Optimizer& opt) {
    std::vector<double> lrs;
    for (const auto& g : opt.param_groups()) lrs.push_back(g.options().get_lr());
    return lrs;
}

double scalar_of(const StateDict& d, const std::string& type, const std::string& key) {
    auto it = d.scalars.find(key);
    XG_CHECK(it != d.scalars.end(), "{}: load_state_dict: missing '{}'", type, key);
    return it->second;
}

void check_type(const StateDict& d, const std::string& type) {
    auto it = d.strings.find("type");
    XG_CHECK(it != d.strings.end() && it->second == type,
             "{}: load_state_dict: the state dict is of scheduler '{}'", type,
             it == d.strings.end() ? std::string("(none)") : it->second);
}
}  // namespace

// ---- LRScheduler ----

LRScheduler::LRScheduler(Optimizer& optimizer, std::string type)
    : opt_(optimizer), type_(std::move(type)), base_lrs_(group_lrs(optimizer)) {}

void LRScheduler::initial_step() {
    step();
}

void LRScheduler::step() {
    ++last_epoch_;
    std::vector<double> lrs;
    try {
        lrs = get_lr();
    } catch (...) {
        --last_epoch_;  // a refused step leaves the schedule where it was
        throw;
    }
    ++step_count_;
    auto& groups = opt_.param_groups();
    XG_CHECK(lrs.size() == groups.size(),
             "{}: the optimizer has {} parameter groups, the scheduler was made for {}", type_,
             groups.size(), lrs.size());
    for (std::size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lrs[i]);
    last_lr_ = std::move(lrs);
}

StateDict LRScheduler::state_dict() const {
    StateDict d;
    d.strings["type"] = type_;
    d.scalars["last_epoch"] = static_cast<double>(last_epoch_);
    d.scalars["step_count"] = static_cast<double>(step_count_);
    for (std::size_t i = 0; i < base_lrs_.size(); ++i) {
        d.scalars[fmt::format("base_lrs.{}", i)] = base_lrs_[i];
        d.scalars[fmt::format("last_lr.{}", i)] = last_lr_[i];
    }
    return d;
}

void LRScheduler::load_state_dict(const StateDict& d) {
    check_type(d, type_);
    std::vector<double> base(base_lrs_.size()), last(base_lrs_.size());
    for (std::size_t i = 0; i < base.size(); ++i) {
        base[i] = scalar_of(d, type_, fmt::format("base_lrs.{}", i));
        last[i] = scalar_of(d, type_, fmt::format("last_lr.{}", i));
    }
    XG_CHECK(!d.scalars.count(fmt::format("base_lrs.{}", base.size())),
             "{}: load_state_dict: the state dict has more than {} parameter groups", type_,
             base.size());
    const auto epoch = static_cast<std::int64_t>(scalar_of(d, type_, "last_epoch"));
    const auto count = static_cast<std::int64_t>(scalar_of(d, type_, "step_count"));
    base_lrs_ = std::move(base);
    last_lr_ = std::move(last);
    last_epoch_ = epoch;
    step_count_ = count;
}

// ---- StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR ----

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
    XG_CHECK(step_size > 0, "StepLR: step_size must be positive, got {}", step_size);
    initial_step();
}

std::vector<double> StepLR::get_lr() {
    std::vector<double> lrs = group_lrs(opt_);
    if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
    for (auto& lr : lrs) lr *= gamma_;
    return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma)
    : LRScheduler(optimizer, "MultiStepLR"), milestones_(std::move(milestones)), gamma_(gamma) {
    for (auto m : milestones_) XG_CHECK(m >= 0, "MultiStepLR: milestones must be >= 0, got {}", m);
    initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
    std::vector<double> lrs = group_lrs(opt_);
    const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
    if (hits == 0) return lrs;
    for (auto& lr : lrs) lr *= std::pow(gamma_, static_cast<double>(hits));
    return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer, "ExponentialLR"), gamma_(gamma) {
    initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
    std::vector<double> lrs = group_lrs(opt_);
    if (last_epoch_ == 0) return lrs;
    for (auto& lr : lrs) lr *= gamma_;
    return lrs;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler(optimizer, "CosineAnnealingLR"), t_max_(T_max), eta_min_(eta_min) {
    XG_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got {}", T_max);
    initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() {
    std::vector<double> lrs = group_lrs(opt_);
    if (last_epoch_ == 0) return lrs;
    const auto e = static_cast<double>(last_epoch_), t = static_cast<double>(t_max_);
    std::int64_t r = (last_epoch_ - 1 - t_max_) % (2 * t_max_);  // Python's modulo: r >= 0
    if (r < 0) r += 2 * t_max_;
    for (std::size_t i = 0; i < lrs.size(); ++i) {
        if (r == 0) {
            lrs[i] += (base_lrs_[i] - eta_min_) * (1 - std::cos(kPi / t)) / 2;
        } else {
            lrs[i] = (1 + std::cos(kPi * e / t)) / (1 + std::cos(kPi * (e - 1) / t)) *
                         (lrs[i] - eta_min_) +
                     eta_min_;
        }
    }
    return lrs;
}

// ---- OneCycleLR ----

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, OneCycleLROptions options)
    : OneCycleLR(optimizer, std::vector<double>(optimizer.param_groups().size(), max_lr),
                 std::move(options)) {}

OneCycleLR::OneCycleLR(Optimizer& optimizer, std::vector<double> max_lr, OneCycleLROptions o)
    : LRScheduler(optimizer, "OneCycleLR"), o_(std::move(o)) {
    if (o_.total_steps() != 0) {
        XG_CHECK(o_.total_steps() > 0, "OneCycleLR: expected a positive total_steps, got {}",
                 o_.total_steps());
        total_steps_ = o_.total_steps();
    } else {
        XG_CHECK(o_.epochs() > 0 && o_.steps_per_epoch() > 0,
                 "OneCycleLR: give total_steps or positive epochs and steps_per_epoch (got "
                 "epochs {}, steps_per_epoch {})",
                 o_.epochs(), o_.steps_per_epoch());
        total_steps_ = o_.epochs() * o_.steps_per_epoch();
    }
    XG_CHECK(o_.pct_start() >= 0.0 && o_.pct_start() <= 1.0,
             "OneCycleLR: expected pct_start between 0 and 1, got {}", o_.pct_start());
    XG_CHECK(o_.anneal_strategy() == "cos" || o_.anneal_strategy() == "linear",
             "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got '{}'",
             o_.anneal_strategy());
    const auto& groups = opt_.param_groups();
    XG_CHECK(max_lr.size() == groups.size(), "OneCycleLR: expected {} values for max_lr, got {}",
             groups.size(), max_lr.size());
    const double n = static_cast<double>(total_steps_), pct = o_.pct_start();
    if (o_.three_phase()) {
        phases_ = {{pct * n - 1, 0, 1, 1, 0}, {2 * pct * n - 2, 1, 0, 0, 1}, {n - 1, 0, 2, 1, 1}};
    } else {
        phases_ = {{pct * n - 1, 0, 1, 1, 0}, {n - 1, 1, 2, 0, 1}};
    }
    if (o_.cycle_momentum()) {
        cycles_momentum_ = opt_.defaults().get_cycled_momentum().has_value();
        XG_CHECK(cycles_momentum_,
                 "OneCycleLR: the optimizer ({}) has no momentum to cycle; set cycle_momentum = "
                 "false",
                 opt_.type());
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const double initial = max_lr[i] / o_.div_factor();
        lrs_.push_back({initial, max_lr[i], initial / o_.final_div_factor()});
        base_lrs_[i] = initial;
    }
    if (cycles_momentum_)
        for (auto& g : opt_.param_groups()) g.options().set_cycled_momentum(o_.max_momentum());
    initial_step();
}

std::vector<double> OneCycleLR::get_lr() {
    const std::int64_t step_num = last_epoch_;
    XG_CHECK(step_num <= total_steps_,
             "OneCycleLR: tried to step {} times; the specified number of total steps is {}",
             step_num, total_steps_);
    auto anneal = [this](double start, double end, double pct) {
        if (o_.anneal_strategy() == "cos")
            return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1);
        return (end - start) * pct + start;
    };
    const double momenta[2] = {o_.base_momentum(), o_.max_momentum()};
    std::vector<double> lrs;
    auto& groups = opt_.param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        double start_step = 0, lr = 0, m = 0;
        for (std::size_t i = 0; i < phases_.size(); ++i) {
            const Phase& ph = phases_[i];
            if (static_cast<double>(step_num) <= ph.end_step || i + 1 == phases_.size()) {
                const double pct =
                    (static_cast<double>(step_num) - start_step) / (ph.end_step - start_step);
                lr = anneal(lrs_[g][ph.start_lr], lrs_[g][ph.end_lr], pct);
                m = anneal(momenta[ph.start_m], momenta[ph.end_m], pct);
                break;
            }
            start_step = ph.end_step;
        }
        lrs.push_back(lr);
        if (cycles_momentum_) groups[g].options().set_cycled_momentum(m);
    }
    return lrs;
}

// ---- ReduceLROnPlateau ----

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : opt_(optimizer), o_(std::move(options)) {
    const std::size_t n = opt_.param_groups().size();
    XG_CHECK(o_.factor() < 1.0, "ReduceLROnPlateau: factor should be < 1.0, got {}", o_.factor());
    XG_CHECK(o_.mode() == "min" || o_.mode() == "max",
             "ReduceLROnPlateau: mode must be 'min' or 'max', got '{}'", o_.mode());
    XG_CHECK(o_.threshold_mode() == "rel" || o_.threshold_mode() == "abs",
             "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got '{}'",
             o_.threshold_mode());
    XG_CHECK(o_.min_lr().size() == 1 || o_.min_lr().size() == n,
             "ReduceLROnPlateau: expected 1 or {} min_lrs, got {}", n, o_.min_lr().size());
    min_lrs_ = o_.min_lr().size() == 1 ? std::vector<double>(n, o_.min_lr()[0]) : o_.min_lr();
    best_ = o_.mode() == "min" ? std::numeric_limits<double>::infinity()
                               : -std::numeric_limits<double>::infinity();
    last_lr_ = group_lrs(opt_);
}

bool ReduceLROnPlateau::is_better(double a) const {
    if (o_.mode() == "min")
        return o_.threshold_mode() == "rel" ? a < best_ * (1. - o_.threshold())
                                            : a < best_ - o_.threshold();
    return o_.threshold_mode() == "rel" ? a > best_ * (o_.threshold() + 1.)
                                        : a > best_ + o_.threshold();
}

void ReduceLROnPlateau::step(double metric) {
    ++last_epoch_;
    if (is_better(metric)) {
        best_ = metric;
        num_bad_epochs_ = 0;
    } else {
        ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
        --cooldown_counter_;
        num_bad_epochs_ = 0;
    }
    if (num_bad_epochs_ > o_.patience()) {
        auto& groups = opt_.param_groups();
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const double old_lr = groups[i].options().get_lr();
            const double new_lr = std::max(old_lr * o_.factor(), min_lrs_[i]);
            if (old_lr - new_lr > o_.eps()) groups[i].options().set_lr(new_lr);
        }
        cooldown_counter_ = o_.cooldown();
        num_bad_epochs_ = 0;
    }
    last_lr_ = group_lrs(opt_);
}

StateDict ReduceLROnPlateau::state_dict() const {
    StateDict d;
    d.strings["type"] = "ReduceLROnPlateau";
    d.scalars["best"] = best_;
    d.scalars["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
    d.scalars["cooldown_counter"] = static_cast<double>(cooldown_counter_);
    d.scalars["last_epoch"] = static_cast<double>(last_epoch_);
    return d;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& d) {
    const std::string t = "ReduceLROnPlateau";
    check_type(d, t);
    const double best = scalar_of(d, t, "best");
    const auto bad = static_cast<std::int64_t>(scalar_of(d, t, "num_bad_epochs"));
    const auto cool = static_cast<std::int64_t>(scalar_of(d, t, "cooldown_counter"));
    const auto epoch = static_cast<std::int64_t>(scalar_of(d, t, "last_epoch"));
    best_ = best;
    num_bad_epochs_ = bad;
    cooldown_counter_ = cool;
    last_epoch_ = epoch;
    last_lr_ = group_lrs(opt_);
}

}  // namespace xg::optim
