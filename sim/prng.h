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

#include "sim/check.h"
#include "sim/types.h"

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
  // Inline, with the next three: the network draws several per message.
  std::uint64_t uniform(std::uint64_t bound) {
    CRDTSIM_CHECK(bound > 0);
    Uint128 product = static_cast<Uint128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(product);
    if (low < bound) [[unlikely]] {
      // (2^64 - bound) mod bound: the count of values to reject.
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = static_cast<Uint128>(next()) * bound;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64U);
  }

  // Uniform in [lo, hi], both inclusive. Requires lo <= hi. Any span,
  // including the full int64 range.
  std::int64_t range(std::int64_t lo, std::int64_t hi) {
    CRDTSIM_CHECK(lo <= hi);
    // Two's complement arithmetic in uint64 (well defined) for the span.
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    const std::uint64_t offset = span == UINT64_MAX ? next() : uniform(span + 1);
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + offset);
  }

  // True with probability ppm / 1'000'000. Requires ppm <= 1'000'000.
  // Always consumes exactly one uniform() draw (callers skip the call to
  // avoid drawing for a probability of 0).
  bool chance_ppm(std::uint32_t ppm) {
    CRDTSIM_CHECK(ppm <= kPpmOne);
    return uniform(kPpmOne) < ppm;
  }

  // An independent stream named `name`: Prng(child_key) with
  //   child_key = mix64(key ^ mix64(fnv1a64(name))).
  // Depends only on this generator's key and the name, not on its state.
  Prng fork(std::string_view name) const;

  std::uint64_t key() const { return key_; }

 private:
  // 64 x 64 -> 128-bit product. __extension__ keeps -Wpedantic quiet about
  // the (GCC and Clang) __int128 type; the arithmetic is exact and portable.
  __extension__ using Uint128 = unsigned __int128;

  Prng() = default;
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
  }

  std::array<std::uint64_t, 4> state_{};
  std::uint64_t key_ = 0;
};

}  // namespace crdtsim::sim
