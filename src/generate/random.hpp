#pragma once
/// The generator's randomness: splitmix64 seeding, the xoshiro256** generator and Walker/Vose
/// alias tables (O(1) sampling, Zipf laws). Deterministic for a seed on every host. A Rng or
/// AliasTable is not thread-safe; a built AliasTable may be sampled from many threads.

#include <cmath>
#include <cstdint>
#include <vector>

namespace vpcflow::generate {

// splitmix64: seeds the per-object generators so objects can be generated in any order, on any
// thread, and still come out byte-identical.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);
  return SplitMix64(s);
}

// xoshiro256**.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the tiny bias does not matter here).
  uint32_t Below(uint32_t n) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  // Uniform in (0, 1].
  double Unit() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() <= p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Walker/Vose alias table: O(1) sampling from a fixed discrete distribution.
class AliasTable {
 public:
  void Build(const std::vector<double>& weights) {
    const size_t n = weights.size();
    prob_.assign(n, 1.0f);
    alias_.resize(n);
    double total = 0;
    for (double w : weights) total += w;
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * static_cast<double>(n) / total;
      alias_[i] = static_cast<uint32_t>(i);
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = static_cast<float>(scaled[s]);
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }
  // Zipf weights 1/(rank+1)^exponent over `n` ranks.
  void BuildZipf(size_t n, double exponent) {
    std::vector<double> w(n);
    for (size_t i = 0; i < n; ++i) w[i] = std::pow(static_cast<double>(i + 1), -exponent);
    Build(w);
  }
  size_t size() const { return prob_.size(); }
  uint32_t Sample(Rng& rng) const {
    uint64_t r = rng.Next();
    uint32_t i = static_cast<uint32_t>(((r >> 32) * prob_.size()) >> 32);
    float u = static_cast<float>(r & 0xffffff) * 0x1.0p-24f;
    return u < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<float> prob_;
  std::vector<uint32_t> alias_;
};

}  // namespace vpcflow::generate
