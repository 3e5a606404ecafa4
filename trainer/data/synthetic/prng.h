// Portable pseudo-random numbers and sampling routines for the synthetic dataset generator.
// Invariant: every value here is a pure function of the seed computed with integer arithmetic and
// IEEE-754 double +, -, *, / (no std::*_distribution, no libm), so the same seed gives the same
// stream, bit for bit, with any compiler and standard library on any IEEE-754 machine. Checked:
// gcc 12 and clang 14, -O2 and -O3 -march=native with FMA contraction allowed, same dataset
// bytes. Callers: one draw per statement (C++ leaves the order of calls in one expression open).
#pragma once

#include <cstdint>
#include <vector>

namespace seller::data::synthetic {

__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet

// SplitMix64 (Steele, Lea, Flood 2014): seeds the generators and derives independent streams.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Stream `stream` of seed `seed`: distinct (seed, stream) pairs give unrelated generators, which
// lets each user be generated from its own stream independently of the others.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
  splitmix64(s);
  return splitmix64(s);
}

// xoshiro256** 1.0 (Blackman, Vigna): fast, 256-bit state, passes BigCrush.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for n < 2^32).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<Uint128>(next()) * n) >> 64);
  }

  bool bernoulli(double p) { return uniform() < p; }

  // Approximately standard normal: the Irwin-Hall sum of four 16-bit uniforms, rescaled to unit
  // variance. Bounded by +-3.46, which is what a random walk of preferences wants anyway.
  double normal() {
    const uint64_t x = next();
    const double sum = static_cast<double>((x & 0xFFFF) + ((x >> 16) & 0xFFFF) +
                                           ((x >> 32) & 0xFFFF) + (x >> 48)) *
                       (1.0 / 65536.0);
    return (sum - 2.0) * 1.7320508075688772;  // sqrt(12 / 4)
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// exp(x) with only +, *, / and exact scaling by powers of two, so that it is the same on every
// machine (libm's exp may differ in the last bit between libraries). Relative error < 1e-15 on
// [-700, 700]; the argument is clamped to that range.
double portable_exp(double x);

// Walker/Vose alias table: O(n) build, O(1) draw from a discrete distribution given by weights.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  bool empty() const { return prob_.empty(); }
  uint64_t size() const { return prob_.size(); }
  uint32_t sample(Rng& rng) const {
    const uint64_t column = rng.below(prob_.size());
    return rng.uniform() < prob_[column] ? static_cast<uint32_t>(column) : alias_[column];
  }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

}  // namespace seller::data::synthetic
