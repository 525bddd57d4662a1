#include "core/random.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace xg {

void Generator::manual_seed(std::uint64_t seed) {
    seed_ = seed;
    engine_.seed(seed);
    has_spare_ = false;
}

double Generator::uniform() {
    return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = uniform();  // log(0) would be -inf
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double theta = 2.0 * M_PI * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
}

std::string Generator::state() const {
    std::ostringstream os;
    os.precision(17);
    os << seed_ << ' ' << has_spare_ << ' ' << spare_ << ' ' << engine_;
    return os.str();
}

void Generator::set_state(const std::string& s) {
    std::istringstream is(s);
    Generator g;
    is >> g.seed_ >> g.has_spare_ >> g.spare_ >> g.engine_;
    XG_CHECK(!is.fail(), "Generator::set_state: malformed state string ({} characters)", s.size());
    *this = g;
}

Generator& default_generator() {
    static Generator gen(0);
    return gen;
}

void manual_seed(std::uint64_t seed) {
    default_generator().manual_seed(seed);
}

}  // namespace xg
