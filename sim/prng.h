#pragma once
// The simulator's only source of randomness.
//
// Algorithm: xoshiro256** 1.0 (Blackman & Vigna, 2018), state seeded from four
// successive outputs of SplitMix64 (Steele, Lea & Flood; Vigna's splitmix64.c),
// exactly as the reference code recommends. Bounded integers use Lemire's
// nearly-divisionless multiply-shift with rejection (unbiased); probabilities
// are integer parts per million. No floating point anywhere.
//
// Streams: every subsystem (network, workload, faults, each process) draws
// from its own stream made by fork(name). A fork depends only on the key this
// generator was created from and the name, never on how many numbers have been
// drawn, so adding a draw in one subsystem never shifts another's choices.

#include <array>
#include <cstdint>
#include <string_view>

namespace crdtsim::sim {

// SplitMix64: a 64-bit counter passed through mix64. Used for seeding.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();

 private:
  std::uint64_t state_;
};

class Prng {
 public:
  // Seeds the xoshiro256** state with SplitMix64(key) x 4. `key` is also what
  // fork() derives children from.
  explicit Prng(std::uint64_t key);

  // For known-answer tests: start from an explicit state (must not be all 0).
  static Prng from_state(const std::array<std::uint64_t, 4>& state);

  // The next raw 64-bit output of xoshiro256**.
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5U, 7) * 9U;
    const std::uint64_t t = state_[1] << 17U;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). Requires bound > 0. Unbiased (Lemire 2019,
  // "Fast Random Integer Generation in an Interval", with rejection).
  std::uint64_t uniform(std::uint64_t bound);

  // Uniform in [lo, hi], both inclusive. Requires lo <= hi. Any span,
  // including the full int64 range.
  std::int64_t range(std::int64_t lo, std::int64_t hi);

  // True with probability ppm / 1'000'000. Requires ppm <= 1'000'000.
  // Always consumes exactly one uniform() draw (callers skip the call to
  // avoid drawing for a probability of 0).
  bool chance_ppm(std::uint32_t ppm);

  // An independent stream named `name`: Prng(child_key) with
  //   child_key = mix64(key ^ mix64(fnv1a64(name))).
  // Depends only on this generator's key and the name, not on its state.
  Prng fork(std::string_view name) const;

  std::uint64_t key() const { return key_; }

 private:
  Prng() = default;
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
  }

  std::array<std::uint64_t, 4> state_{};
  std::uint64_t key_ = 0;
};

}  // namespace crdtsim::sim
