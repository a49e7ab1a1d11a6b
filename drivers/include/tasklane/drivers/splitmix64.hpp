// SplitMix64: the simulation's seeded generator. Written out here rather than taken from <random>
// so that a seed gives the same run on every standard library (the distributions in <random> are
// implementation-defined), which is what makes a failing soak seed reproducible anywhere.
//
//   tasklane::sim::SplitMix64 rng(42);
//   std::uint64_t x = rng.next();
//   std::uint64_t die = rng.below(6);   // 0..5
#pragma once

#include <cstdint>

namespace tasklane::sim {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n is 0. The modulo bias is irrelevant for test workloads.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  // True with probability `percent` / 100.
  bool chance(std::uint64_t percent) { return below(100) < percent; }
  // Uniform in [0, 1), from the top 53 bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  std::uint64_t state() const { return state_; }

 private:
  std::uint64_t state_;
};

}  // namespace tasklane::sim
