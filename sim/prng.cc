#include "sim/prng.h"

#include "sim/check.h"
#include "sim/hash.h"
#include "sim/types.h"

namespace crdtsim::sim {

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

Prng Prng::fork(std::string_view name) const {
  return Prng(mix64(key_ ^ mix64(fnv1a64(name))));
}

}  // namespace crdtsim::sim
