// The 1,000-seed determinism sweep over the toy gossip workload with every
// fault enabled: each seed twice gives the same hash, all seeds give distinct
// hashes, and a seed rerun after all the others still reproduces.

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "tests/sim/toy_gossip.h"

namespace crdtsim::sim {
namespace {

constexpr std::uint64_t kSeeds = 1'000;

TEST(DeterminismSweep, ThousandSeedsEachReproduceAndAllDiffer) {
  std::vector<std::uint64_t> first(kSeeds + 1, 0);
  std::set<std::uint64_t> distinct;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const RunResult a = toy::run_toy_gossip(toy::ToyOptions(seed));
    const RunResult b = toy::run_toy_gossip(toy::ToyOptions(seed));
    ASSERT_EQ(a.outcome, Outcome::ok) << "seed " << seed << ": " << a.failure;
    ASSERT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    first[seed] = a.trace_hash;
    distinct.insert(a.trace_hash);
  }
  EXPECT_EQ(distinct.size(), kSeeds);
  // A, then every other seed, then A again.
  EXPECT_EQ(toy::run_toy_gossip(toy::ToyOptions(1)).trace_hash, first[1]);
}

}  // namespace
}  // namespace crdtsim::sim
