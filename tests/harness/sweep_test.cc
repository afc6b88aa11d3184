// Sweeps: results independent of the worker count, shards that partition the
// seed range, resume after an interruption, and planted store bugs caught by
// the right checker while the real store passes the same seeds.
#include "harness/sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace crdtsim::harness {
namespace {

Scenario small_scenario() {
  Scenario scenario;
  scenario.name = "sweep-test";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 2;
  scenario.workload.clients = 3;
  scenario.workload.ops_per_client = 15;
  scenario.workload.keys = 3;
  scenario.network.drop_ppm = 20'000;
  scenario.network.duplicate_ppm = 20'000;
  scenario.random_faults.enabled = true;
  scenario.workload_deadline_us = 2'000'000;
  scenario.settle_us = 5'000'000;
  return scenario;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("crdtsim_" + name + "_" +
           std::to_string(::testing::UnitTest::GetInstance()->random_seed())))
      .string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<RunRecord> collect(const Scenario& scenario, SweepOptions options) {
  std::vector<RunRecord> records;
  std::string error;
  const auto summary = sweep(
      scenario, options,
      [&](const RunRecord& record, const RunOutput*) { records.push_back(record); }, error);
  EXPECT_TRUE(summary.has_value()) << error;
  return records;
}

TEST(Sweep, ShardsPartitionTheSeedRange) {
  std::multiset<std::uint64_t> seen;
  for (std::uint32_t index = 1; index <= 4; ++index) {
    for (const std::uint64_t seed : shard_seeds(10, 31, Shard{index, 4})) {
      seen.insert(seed);
    }
  }
  EXPECT_EQ(seen.size(), 22u);
  for (std::uint64_t seed = 10; seed <= 31; ++seed) {
    EXPECT_EQ(seen.count(seed), 1u) << seed;
  }
  EXPECT_TRUE(shard_seeds(1, 5, Shard{0, 2}).empty());
  EXPECT_EQ(shard_seeds(UINT64_MAX - 1, UINT64_MAX, Shard{1, 1}).size(), 2u);
}

TEST(Sweep, SameResultsForOneAndTwoWorkers) {
  const Scenario scenario = small_scenario();
  SweepOptions options;
  options.seed_first = 1;
  options.seed_last = 12;
  options.out_path = temp_path("one");
  options.jobs = 1;
  const auto one = collect(scenario, options);
  const std::string one_file = read_file(options.out_path);
  options.out_path = temp_path("two");
  options.jobs = 2;
  const auto two = collect(scenario, options);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one_file, read_file(options.out_path));
  EXPECT_EQ(one.size(), 12u);
  std::filesystem::remove(temp_path("one"));
  std::filesystem::remove(temp_path("two"));
}

TEST(Sweep, ResumeAfterAnInterruptionGivesTheSameFile) {
  const Scenario scenario = small_scenario();
  SweepOptions options;
  options.seed_first = 5;
  options.seed_last = 14;
  options.out_path = temp_path("full");
  collect(scenario, options);
  const std::string full = read_file(options.out_path);
  // An interrupted sweep: four complete lines and a torn fifth.
  std::size_t cut = 0;
  for (int line = 0; line < 4; ++line) {
    cut = full.find('\n', cut) + 1;
  }
  const std::string interrupted = temp_path("interrupted");
  {
    std::ofstream out(interrupted, std::ios::binary);
    out << full.substr(0, cut) << full.substr(cut, 20);
  }
  options.out_path = interrupted;
  options.resume = true;
  std::string error;
  std::uint64_t ran = 0;
  const auto summary = sweep(
      scenario, options,
      [&](const RunRecord&, const RunOutput* output) { ran += output != nullptr; }, error);
  ASSERT_TRUE(summary.has_value()) << error;
  EXPECT_EQ(summary->resumed, 4u);
  EXPECT_EQ(ran, 6u);
  EXPECT_EQ(read_file(interrupted), full);
  std::filesystem::remove(temp_path("full"));
  std::filesystem::remove(interrupted);
}

TEST(Sweep, ResumeRejectsAnotherSweepsFile) {
  const std::string path = temp_path("other");
  {
    std::ofstream out(path);
    out << "{\"not\": \"a record\"}\n";
  }
  SweepOptions options;
  options.out_path = path;
  options.resume = true;
  std::string error;
  EXPECT_FALSE(sweep(small_scenario(), options, nullptr, error).has_value());
  EXPECT_NE(error.find(path + ":1"), std::string::npos) << error;
  std::filesystem::remove(path);
}

// Sweeps seeds [1, last] of `scenario` with and without `bug`; the real store
// must pass every seed and the bugged one must fail `property` on some seed.
void expect_bug_caught(Scenario scenario, core::PlantedBug bug, const std::string& property,
                       std::uint64_t last) {
  SweepOptions options;
  options.seed_first = 1;
  options.seed_last = last;
  options.jobs = 2;
  std::string error;
  const auto clean = sweep(scenario, options, nullptr, error);
  ASSERT_TRUE(clean.has_value()) << error;
  EXPECT_EQ(clean->failures, 0u) << "the real store failed seed " << clean->failing_seeds.front();
  scenario.cluster.planted_bug = bug;
  auto bugged = sweep(scenario, options, nullptr, error);
  ASSERT_TRUE(bugged.has_value()) << error;
  EXPECT_GT(bugged->failures_by_property[property], 0u)
      << "planted bug " << static_cast<int>(bug) << " not caught by " << property;
}

Scenario roaming_sessions_scenario() {
  Scenario scenario = small_scenario();
  scenario.workload.sessions = true;
  scenario.workload.replica_choice = ReplicaChoice::roaming;
  scenario.properties.session_guarantees = true;
  return scenario;
}

TEST(PlantedBugs, ReplicaAnsweringReadsBehindTheTokenFailsReadYourWrites) {
  expect_bug_caught(roaming_sessions_scenario(), core::PlantedBug::session_ignore_token,
                    "read_your_writes", 10);
}

Scenario causal_scenario() {
  Scenario scenario = small_scenario();
  scenario.cluster.consistency = Consistency::causal;
  scenario.workload.replica_choice = ReplicaChoice::roaming;
  scenario.workload.ops_per_client = 40;
  scenario.properties.causal_consistency = true;
  scenario.properties.session_guarantees = true;
  return scenario;
}

TEST(PlantedBugs, WritesForgettingTheirCausalPastFailCausalConsistency) {
  // Five replicas, two per key, split 2 | 3 for a second with slow gossip:
  // sessions roam between sides that disagree for long.
  Scenario scenario = causal_scenario();
  scenario.random_faults.enabled = false;
  scenario.cluster.replicas = 5;
  scenario.cluster.gossip_interval_us = 100'000;
  scenario.workload.clients = 6;
  scenario.workload.keys = 2;
  scenario.workload.mix = OperationMix{1, 0, 1, 0, 1, 0, 0, 500'000};
  scenario.network.drop_ppm = 0;
  scenario.network.duplicate_ppm = 0;
  scenario.network.latency_us_min = 1'000;
  scenario.network.latency_us_max = 30'000;
  FaultEvent split;
  split.at_us = 100'000;
  split.kind = FaultKind::partition;
  split.groups = {{0, 1}, {2, 3, 4}};
  FaultEvent heal;
  heal.at_us = 1'200'000;
  heal.kind = FaultKind::heal;
  scenario.timeline = {split, heal};
  expect_bug_caught(scenario, core::PlantedBug::causal_forget_dependencies, "causal_consistency",
                    10);
}

TEST(PlantedBugs, DeltasAppliedOutOfCausalOrderFailCausalConsistency) {
  Scenario scenario = causal_scenario();
  scenario.random_faults.enabled = false;
  scenario.network.reorder_ppm = 200'000;
  scenario.network.latency_us_max = 20'000;
  scenario.workload.mix = OperationMix{0, 0, 1, 0, 1, 0, 0, 300'000};
  scenario.workload.keys = 1;
  expect_bug_caught(scenario, core::PlantedBug::causal_apply_out_of_order, "causal_consistency",
                    30);
}

TEST(PlantedBugs, MergeKeepingOneSiblingFailsCausalConsistency) {
  // Registers only, one key, every replica holds it; a partition lets both
  // sides write it, so siblings meet at the heal.
  Scenario scenario = causal_scenario();
  scenario.random_faults.enabled = false;
  scenario.cluster.replication_factor = 3;
  scenario.workload.mix = OperationMix{3, 1, 0, 0, 0, 0, 0, 400'000};
  scenario.workload.keys = 1;
  FaultEvent split;
  split.at_us = 50'000;
  split.kind = FaultKind::partition;
  split.groups = {{0}, {1, 2}};
  FaultEvent heal;
  heal.at_us = 400'000;
  heal.kind = FaultKind::heal;
  scenario.timeline = {split, heal};
  expect_bug_caught(scenario, core::PlantedBug::mv_register_drop_siblings, "causal_consistency",
                    10);
}

TEST(SessionTimestamps, PhysicalTimestampsUnderSkewFailMonotonicWritesHlcDoesNot) {
  Scenario scenario = roaming_sessions_scenario();
  scenario.random_faults.enabled = false;
  scenario.workload.mix = OperationMix{1, 0, 0, 0, 0, 0, 0, 0};  // SET and DEL only
  scenario.workload.keys = 1;
  scenario.cluster.replication_factor = 3;  // the skewed replica holds the key
  FaultEvent ahead;
  ahead.at_us = 10'000;
  ahead.kind = FaultKind::clock_jump;
  ahead.replicas = {1};
  ahead.delta_us = 2'000'000;
  scenario.timeline = {ahead};
  SweepOptions options;
  options.seed_first = 1;
  options.seed_last = 6;
  options.jobs = 2;
  std::string error;
  scenario.cluster.timestamps = core::TimestampSource::hlc;
  const auto hlc = sweep(scenario, options, nullptr, error);
  ASSERT_TRUE(hlc.has_value()) << error;
  EXPECT_EQ(hlc->failures, 0u) << "hybrid logical clocks failed seed "
                               << hlc->failing_seeds.front();
  scenario.cluster.timestamps = core::TimestampSource::physical;
  auto physical = sweep(scenario, options, nullptr, error);
  ASSERT_TRUE(physical.has_value()) << error;
  EXPECT_GT(physical->failures_by_property["monotonic_writes"], 0u);
}

TEST(PlantedBugs, CounterThatDoubleAppliesDuplicatesFailsNoLostWrites) {
  Scenario scenario = small_scenario();
  scenario.random_faults.enabled = false;
  scenario.network.duplicate_ppm = 200'000;
  scenario.workload.mix = OperationMix{0, 0, 1, 0, 0, 0, 0, 200'000};
  expect_bug_caught(scenario, core::PlantedBug::counter_double_apply, "no_lost_writes", 6);
}

TEST(PlantedBugs, OrSetRemoveDroppingUnobservedAddsFailsNoLostWrites) {
  Scenario scenario = small_scenario();
  scenario.random_faults.enabled = false;
  scenario.network.drop_ppm = 0;
  scenario.network.duplicate_ppm = 0;
  scenario.network.latency_us_min = 5'000;
  scenario.network.latency_us_max = 30'000;
  scenario.workload.mix = OperationMix{0, 0, 0, 0, 1, 0, 0, 100'000};
  scenario.workload.keys = 1;
  scenario.workload.ops_per_client = 40;
  expect_bug_caught(scenario, core::PlantedBug::or_set_remove_unobserved, "no_lost_writes", 10);
}

TEST(PlantedBugs, AntiEntropySkippingTheLastRangeFailsConvergence) {
  Scenario scenario = small_scenario();
  scenario.random_faults.enabled = false;
  scenario.cluster.durable = false;
  scenario.cluster.gossip_interval_us = 1'000'000'000;  // anti-entropy alone
  scenario.workload.keys = 12;
  expect_bug_caught(scenario, core::PlantedBug::ae_skip_last_subtree, "convergence", 4);
}

TEST(PlantedBugs, AcknowledgingBeforeWritingFailsNoLostWrites) {
  Scenario scenario = small_scenario();
  scenario.random_faults.enabled = false;
  scenario.network.drop_ppm = 0;
  scenario.network.duplicate_ppm = 0;
  scenario.cluster.gossip_interval_us = 1'000'000'000;  // no copies but the writer's
  scenario.cluster.anti_entropy_interval_us = 1'000'000'000;
  scenario.cluster.replication_factor = 1;
  scenario.settle_us = 1'000'000;
  scenario.properties.liveness = false;
  for (core::ReplicaId replica = 0; replica < 3; ++replica) {
    FaultEvent crash;
    crash.at_us = 1'500'000;
    crash.kind = FaultKind::crash;
    crash.replicas = {replica};
    scenario.timeline.push_back(crash);
  }
  expect_bug_caught(scenario, core::PlantedBug::ack_before_write, "no_lost_writes", 3);
}

TEST(PlantedBugs, TombstoneGcCollectingBeforeStabilityFailsNoLostWrites) {
  Scenario scenario = small_scenario();
  scenario.random_faults.enabled = false;
  scenario.network.drop_ppm = 0;
  scenario.network.duplicate_ppm = 0;
  scenario.network.latency_us_min = 5'000;
  scenario.network.latency_us_max = 30'000;
  scenario.cluster.tombstone_gc.enabled = true;
  scenario.cluster.tombstone_gc.interval_us = 20'000;
  scenario.workload.mix = OperationMix{1, 0, 0, 0, 0, 0, 1, 100'000, 4};
  scenario.workload.keys = 2;
  scenario.workload.ops_per_client = 40;
  expect_bug_caught(scenario, core::PlantedBug::gc_before_stable, "no_lost_writes", 6);
}

// Dead sets and counters collected whole, re-created by writers that ignore
// their dot floor: a dot is issued again (and an add taken for a removed one).
TEST(PlantedBugs, TombstoneGcIgnoringTheDotFloorFailsNoLostWrites) {
  Scenario scenario = small_scenario();
  scenario.cluster.tombstone_gc.enabled = true;
  scenario.cluster.tombstone_gc.interval_us = 20'000;
  scenario.workload.mix = OperationMix{.registers = 0,
                                       .multi = 0,
                                       .counters = 1,
                                       .g_counters = 0,
                                       .sets = 1,
                                       .g_sets = 0,
                                       .maps = 0,
                                       .reads_ppm = 100'000,
                                       .churn = 4};
  scenario.workload.ops_per_client = 40;
  expect_bug_caught(scenario, core::PlantedBug::gc_ignore_dot_floor, "no_lost_writes", 6);
}

}  // namespace
}  // namespace crdtsim::harness
