// Determinism of whole runs: same seed => same trace hash, in one process and
// across builds (golden file), and a deliberately non-deterministic process is
// caught.
//
// Golden hashes: tests/sim/golden_hashes.txt holds "seed hash" lines produced
// by a Release g++ build. To regenerate (after an intended change to the
// kernel, the toy workload or the trace encoding):
//   CRDTSIM_REGENERATE_GOLDEN=$PWD/tests/sim/golden_hashes.txt
//     build/tests/sim/sim_determinism_test --gtest_filter='*GoldenHashes*'
// (one command line; run from the repository root with a Release g++ build).

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "sim/trace.h"
#include "tests/sim/toy_gossip.h"

namespace crdtsim::sim {
namespace {

constexpr std::uint64_t kGoldenSeeds = 50;

std::uint64_t toy_hash(std::uint64_t seed) {
  return toy::run_toy_gossip(toy::ToyOptions(seed)).trace_hash;
}

TEST(Determinism, SameSeedTwiceGivesSameHash) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    ASSERT_EQ(toy_hash(seed), toy_hash(seed)) << "seed " << seed;
  }
}

TEST(Determinism, DifferentSeedsGiveDifferentHashes) {
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    hashes.insert(toy_hash(seed));
  }
  EXPECT_EQ(hashes.size(), 100U);
}

TEST(Determinism, RunningAnotherSeedInBetweenChangesNothing) {
  const std::uint64_t first_a = toy_hash(7);
  const std::uint64_t b = toy_hash(8);
  const std::uint64_t second_a = toy_hash(7);
  EXPECT_EQ(first_a, second_a);
  EXPECT_NE(first_a, b);
}

TEST(Determinism, TwoSimulationsSideBySideDoNotInterfere) {
  // Interleave two runs step by step in one thread: no shared state.
  const toy::ToyOptions options_a(11);
  const toy::ToyOptions options_b(12);
  Simulation a(toy::toy_config(options_a));
  Simulation b(toy::toy_config(options_b));
  for (int i = 0; i < 5; ++i) {
    a.add_process([](ProcessId) { return std::make_unique<toy::GossipProcess>(); });
    b.add_process([](ProcessId) { return std::make_unique<toy::GossipProcess>(); });
  }
  for (TimeUs t = 0; t <= 2'000'000; t += 10'000) {
    a.run_until(t);
    b.run_until(t);
  }
  Simulation alone(toy::toy_config(options_a));
  for (int i = 0; i < 5; ++i) {
    alone.add_process([](ProcessId) { return std::make_unique<toy::GossipProcess>(); });
  }
  alone.run_until(2'000'000);
  EXPECT_EQ(a.trace_hash(), alone.trace_hash());
}

TEST(Determinism, RunExercisesEveryFaultKind) {
  // Over a handful of seeds the nemesis and the link faults produce every
  // kind of fault; otherwise the determinism tests would prove little.
  RunStats total;
  std::map<std::string, std::uint64_t> coverage;
  std::uint64_t fault_fires = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const RunResult result = toy::run_toy_gossip(toy::ToyOptions(seed));
    ASSERT_EQ(result.outcome, Outcome::ok) << result.failure;
    total.messages.messages_dropped += result.stats.messages.messages_dropped;
    total.messages.messages_duplicated += result.stats.messages.messages_duplicated;
    total.crashes += result.stats.crashes;
    total.restarts += result.stats.restarts;
    total.pauses += result.stats.pauses;
    for (const auto& [name, hits] : result.coverage) {
      coverage[name] += hits;
    }
    for (const auto& [name, stats] : result.fault_points) {
      fault_fires += stats.fires;
    }
  }
  EXPECT_GT(total.messages.messages_dropped, 0U);
  EXPECT_GT(total.messages.messages_duplicated, 0U);
  EXPECT_GT(total.crashes, 0U);
  EXPECT_GT(total.restarts, 0U);
  EXPECT_GT(total.pauses, 0U);
  EXPECT_GT(fault_fires, 0U);
  for (const char* name :
       {"toy.tick", "toy.merge_changed", "toy.restart_with_state", "toy.clock_went_backwards",
        "toy.spare_cancelled", "toy.spare_timer_fired", "toy.sync_skipped"}) {
    EXPECT_GT(coverage[name], 0U) << name;
  }
}

TEST(Determinism, TraceSinkDoesNotChangeTheHash) {
  std::ostringstream lines;
  JsonLinesSink sink(lines);
  toy::ToyOptions options(5);
  const RunResult without = toy::run_toy_gossip(options);
  options.sink = &sink;
  const RunResult with_sink = toy::run_toy_gossip(options);
  EXPECT_EQ(with_sink.trace_hash, without.trace_hash);
  EXPECT_FALSE(lines.str().empty());
}

TEST(Determinism, NonDeterministicProcessIsDetected) {
  // The processes mix a counter that lives outside the simulation into their
  // messages: the second run starts where the first left it, so its payloads
  // (and the trace hash) differ. The determinism check must catch that.
  std::uint64_t leaked_counter = 0;
  toy::ToyOptions options(3);
  options.leak = &leaked_counter;
  const std::uint64_t first = toy::run_toy_gossip(options).trace_hash;
  const std::uint64_t second = toy::run_toy_gossip(options).trace_hash;
  EXPECT_NE(first, second);
}

std::map<std::uint64_t, std::string> read_golden(const std::string& path) {
  std::map<std::uint64_t, std::string> golden;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::uint64_t seed = 0;
    std::string hash;
    fields >> seed >> hash;
    golden.emplace(seed, hash);
  }
  return golden;
}

TEST(Determinism, GoldenHashesMatchTheReleaseBuild) {
  if (const char* out_path = std::getenv("CRDTSIM_REGENERATE_GOLDEN"); out_path != nullptr) {
    std::ofstream out(out_path);
    out << "# seed trace_hash of tests/sim/toy_gossip.h run_toy_gossip (all faults on),\n"
        << "# recorded by a Release g++ build; see determinism_test.cc to regenerate.\n";
    for (std::uint64_t seed = 1; seed <= kGoldenSeeds; ++seed) {
      out << seed << ' ' << hash_hex(toy_hash(seed)) << '\n';
    }
    GTEST_SKIP() << "wrote " << out_path;
  }
  const auto golden = read_golden(CRDTSIM_SIM_GOLDEN_FILE);
  ASSERT_EQ(golden.size(), kGoldenSeeds) << "missing or short " << CRDTSIM_SIM_GOLDEN_FILE;
  for (const auto& [seed, hash] : golden) {
    EXPECT_EQ(hash_hex(toy_hash(seed)), hash) << "seed " << seed;
  }
}

}  // namespace
}  // namespace crdtsim::sim
