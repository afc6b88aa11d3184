#include "sim/prng.h"

#include "sim/check.h"
#include "sim/hash.h"
#include "sim/types.h"

namespace crdtsim::sim {

namespace {

// 64 x 64 -> 128-bit product. __extension__ keeps -Wpedantic quiet about the
// (GCC and Clang) __int128 type; the arithmetic is exact and portable.
__extension__ using Uint128 = unsigned __int128;

}  // namespace

std::uint64_t SplitMix64::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix64(state_);
}

Prng::Prng(std::uint64_t key) : key_(key) {
  SplitMix64 seeder(key);
  for (auto& word : state_) {
    word = seeder.next();
  }
  // mix64 is a bijection and the four inputs differ, so at most one is zero.
  CRDTSIM_CHECK((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
}

Prng Prng::from_state(const std::array<std::uint64_t, 4>& state) {
  CRDTSIM_CHECK((state[0] | state[1] | state[2] | state[3]) != 0);
  Prng prng;
  prng.state_ = state;
  return prng;
}

std::uint64_t Prng::uniform(std::uint64_t bound) {
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

std::int64_t Prng::range(std::int64_t lo, std::int64_t hi) {
  CRDTSIM_CHECK(lo <= hi);
  // Two's complement arithmetic in uint64 (well defined) for the span.
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  const std::uint64_t offset = span == UINT64_MAX ? next() : uniform(span + 1);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + offset);
}

bool Prng::chance_ppm(std::uint32_t ppm) {
  CRDTSIM_CHECK(ppm <= kPpmOne);
  return uniform(kPpmOne) < ppm;
}

Prng Prng::fork(std::string_view name) const {
  return Prng(mix64(key_ ^ mix64(fnv1a64(name))));
}

}  // namespace crdtsim::sim
