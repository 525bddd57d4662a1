#pragma once
// The seeded global generator behind randn, rand, dropout masks and shuffles. Its own
// uniform/normal transforms (not <random>'s distributions) so a seed gives the same numbers
// with every standard library.
#include <cstdint>
#include <random>
#include <string>

namespace xg {

class Generator {
  public:
    explicit Generator(std::uint64_t seed = 5489u) { manual_seed(seed); }
    void manual_seed(std::uint64_t seed);
    std::uint64_t seed() const { return seed_; }
    std::uint64_t next_u64() { return engine_(); }
    double uniform();           // [0, 1), 53 random bits
    double normal();            // N(0, 1), Box-Muller
    std::string state() const;  // full state, for checkpoints
    void set_state(const std::string& s);

  private:
    std::mt19937_64 engine_;
    std::uint64_t seed_ = 0;
    bool has_spare_ = false;
    double spare_ = 0.0;
};

Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace xg
