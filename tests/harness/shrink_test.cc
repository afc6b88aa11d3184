// Shrinking: explicitization replays a run's operations and faults, shrinking
// a planted-bug failure gives a much smaller explicit scenario that fails
// the same property, deterministically, and a passing run is an error.
#include "harness/shrink.h"

#include <gtest/gtest.h>

#include <string>

#include "harness/runner.h"
#include "tests/harness/standard_scenario.h"

namespace crdtsim::harness {
namespace {

// A small cluster whose faults come from the random nemesis only.
Scenario random_faults_scenario() {
  Scenario scenario;
  scenario.name = "shrink-random";
  scenario.cluster.replicas = 4;
  scenario.cluster.replication_factor = 2;
  scenario.workload.clients = 3;
  scenario.workload.ops_per_client = 20;
  scenario.workload.keys = 3;
  scenario.network.drop_ppm = 10'000;
  scenario.random_faults.enabled = true;
  scenario.random_faults.interval_us_min = 50'000;
  scenario.random_faults.interval_us_max = 150'000;
  scenario.random_faults.max_down = 2;
  scenario.workload_deadline_us = 1'500'000;
  scenario.settle_us = 5'000'000;
  return scenario;
}

// Counters only, 20% duplication: a replica that applies a duplicated delta
// twice over-counts (counter_double_apply).
Scenario double_apply_scenario() {
  Scenario scenario;
  scenario.name = "double-apply";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 2;
  scenario.cluster.planted_bug = core::PlantedBug::counter_double_apply;
  scenario.workload.clients = 4;
  scenario.workload.ops_per_client = 30;
  scenario.workload.keys = 3;
  scenario.workload.mix = OperationMix{0, 0, 1, 0, 0, 0, 0, 200'000};
  scenario.network.drop_ppm = 20'000;
  scenario.network.duplicate_ppm = 200'000;
  scenario.workload_deadline_us = 2'000'000;
  scenario.settle_us = 5'000'000;
  return scenario;
}

// No replication (RF 1, no gossip) and random crashes: a replica that
// acknowledges before writing (ack_before_write) loses acknowledged writes.
Scenario ack_before_write_scenario() {
  Scenario scenario;
  scenario.name = "ack-before-write";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 1;
  scenario.cluster.gossip_interval_us = 1'000'000'000;
  scenario.cluster.anti_entropy_interval_us = 1'000'000'000;
  scenario.cluster.planted_bug = core::PlantedBug::ack_before_write;
  scenario.workload.clients = 3;
  scenario.workload.ops_per_client = 40;
  scenario.workload.keys = 4;
  scenario.random_faults.enabled = true;
  scenario.random_faults.swarm = false;
  scenario.random_faults.partitions = false;
  scenario.random_faults.pauses = false;
  scenario.random_faults.clock_faults = false;
  scenario.random_faults.loss = false;
  scenario.random_faults.interval_us_min = 100'000;
  scenario.random_faults.interval_us_max = 300'000;
  scenario.properties.liveness = false;
  scenario.workload_deadline_us = 2'000'000;
  scenario.settle_us = 1'000'000;
  return scenario;
}

// Gossip that forgets a lost batch, over a lossy network with anti-entropy
// effectively off: the replicas never agree (gossip_forget_unacked).
Scenario forget_unacked_scenario() {
  Scenario scenario;
  scenario.name = "forget-unacked";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 3;
  scenario.cluster.anti_entropy_interval_us = 1'000'000'000;
  scenario.cluster.planted_bug = core::PlantedBug::gossip_forget_unacked;
  scenario.workload.clients = 3;
  scenario.workload.ops_per_client = 20;
  scenario.workload.keys = 3;
  scenario.network.drop_ppm = 100'000;
  scenario.properties.liveness = false;
  scenario.properties.no_lost_writes = false;
  scenario.workload_deadline_us = 1'000'000;
  scenario.settle_us = 2'000'000;
  return scenario;
}

// The first seed in [1, 50] whose run fails `property`.
std::uint64_t failing_seed(const Scenario& scenario, const std::string& property) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    RunOutput output = run(scenario, seed);
    check(scenario, output);
    if (failed_verdict(output, property) != nullptr) {
      return seed;
    }
  }
  return 0;
}

TEST(Explicitization, ReplaysEveryOperationAndRandomFault) {
  const Scenario scenario = random_faults_scenario();
  std::uint64_t same_history = 0;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const RunOutput original = run(scenario, seed);
    ASSERT_FALSE(original.fault_actions.empty()) << "seed " << seed;
    const Scenario explicit_form = explicit_scenario(scenario, original);
    EXPECT_FALSE(explicit_form.random_faults.enabled);
    EXPECT_EQ(explicit_form.workload.script.size(), original.history.operations.size());
    EXPECT_EQ(explicit_form.timeline, original.fault_actions);
    ASSERT_TRUE(runnable(explicit_form));
    const RunOutput replay = run(explicit_form, seed);
    // The same fault actions, at the same times (ops may drift only if the
    // clients' timing does, which it does not: scripted at invoke times).
    EXPECT_EQ(replay.fault_actions, original.fault_actions) << "seed " << seed;
    same_history += replay.history == original.history ? 1U : 0U;
  }
  EXPECT_EQ(same_history, 6U);
}

TEST(Explicitization, OfAnExplicitScenarioKeepsItsTimeline) {
  const Scenario scenario = testing::standard_scenario();
  const RunOutput original = run(scenario, 3);
  const Scenario explicit_form = explicit_scenario(scenario, original);
  ASSERT_EQ(explicit_form.timeline.size(), scenario.timeline.size());
  for (std::size_t index = 0; index < scenario.timeline.size(); ++index) {
    EXPECT_EQ(explicit_form.timeline[index].kind, original.fault_actions[index].kind);
  }
  EXPECT_EQ(run(explicit_form, 3).history, original.history);
}

TEST(Shrink, ErrorsOnAPassingRun) {
  const Scenario scenario = testing::healthy_scenario();
  std::string error;
  EXPECT_FALSE(shrink(scenario, 1, "", ShrinkOptions{}, error).has_value());
  EXPECT_NE(error.find("does not fail"), std::string::npos) << error;
  EXPECT_FALSE(shrink(scenario, 1, "convergence", ShrinkOptions{}, error).has_value());
  EXPECT_NE(error.find("convergence"), std::string::npos) << error;
}

void expect_small_and_failing(const ShrinkResult& result, const std::string& property) {
  EXPECT_EQ(result.property, property);
  EXPECT_TRUE(result.explicit_form) << result.note;
  EXPECT_FALSE(result.scenario.random_faults.enabled);
  EXPECT_LE(result.after.operations * 10, result.before.operations)
      << "before " << describe(result.before) << ", after " << describe(result.after);
  EXPECT_LE(result.after.faults, result.before.faults);
  EXPECT_LE(result.after.replicas, result.before.replicas);
  EXPECT_LT(result.after.events, result.before.events);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  // The shrunk scenario, run again from scratch, fails the same property.
  RunOutput again = run(result.scenario, result.seed);
  check(result.scenario, again);
  EXPECT_NE(failed_verdict(again, property), nullptr);
}

TEST(Shrink, CounterDoubleApplyShrinksToAFewOperationsDeterministically) {
  const Scenario scenario = double_apply_scenario();
  const std::uint64_t seed = failing_seed(scenario, "no_lost_writes");
  ASSERT_NE(seed, 0U);
  std::string error;
  std::uint32_t reports = 0;
  ShrinkOptions options;
  options.progress = [&reports](const ShrinkProgress& progress) {
    EXPECT_LE(progress.runs, progress.max_runs);
    ++reports;
  };
  const auto first = shrink(scenario, seed, "no_lost_writes", options, error);
  ASSERT_TRUE(first.has_value()) << error;
  expect_small_and_failing(*first, "no_lost_writes");
  EXPECT_GT(reports, 0U);
  EXPECT_LE(first->runs, options.max_runs);
  const auto second = shrink(scenario, seed, "no_lost_writes", ShrinkOptions{}, error);
  ASSERT_TRUE(second.has_value()) << error;
  EXPECT_EQ(second->scenario.workload.script, first->scenario.workload.script);
  EXPECT_EQ(second->scenario.timeline, first->scenario.timeline);
  EXPECT_EQ(second->after, first->after);
  EXPECT_EQ(second->runs, first->runs);
}

TEST(Shrink, AckBeforeWriteWithRandomCrashesShrinksToExplicitCrashes) {
  const Scenario scenario = ack_before_write_scenario();
  const std::uint64_t seed = failing_seed(scenario, "no_lost_writes");
  ASSERT_NE(seed, 0U);
  std::string error;
  const auto result = shrink(scenario, seed, "", ShrinkOptions{}, error);
  ASSERT_TRUE(result.has_value()) << error;
  expect_small_and_failing(*result, "no_lost_writes");
  EXPECT_GE(result->after.faults, 1U);  // a crash is needed to lose a write
  bool crash = false;
  for (const FaultEvent& event : result->scenario.timeline) {
    crash |= event.kind == FaultKind::crash;
  }
  EXPECT_TRUE(crash);
}

// A run that never converges fails convergence with any settle bound, and
// with a shorter one it would fail even were the bug gone: the shrinker
// keeps the bound for the properties judged on the settled state.
TEST(Shrink, AConvergenceFailureKeepsItsSettleBound) {
  const Scenario scenario = forget_unacked_scenario();
  const std::uint64_t seed = failing_seed(scenario, "convergence");
  ASSERT_NE(seed, 0U);
  std::string error;
  const auto result = shrink(scenario, seed, "convergence", ShrinkOptions{}, error);
  ASSERT_TRUE(result.has_value()) << error;
  EXPECT_EQ(result->verdict.validity, Validity::invalid);
  EXPECT_LT(result->after.operations, result->before.operations);
  EXPECT_EQ(result->scenario.settle_us, scenario.settle_us);
}

TEST(Shrink, StopsAtTheRunBudget) {
  const Scenario scenario = double_apply_scenario();
  const std::uint64_t seed = failing_seed(scenario, "no_lost_writes");
  ASSERT_NE(seed, 0U);
  ShrinkOptions options;
  options.max_runs = 10;
  std::string error;
  const auto result = shrink(scenario, seed, "no_lost_writes", options, error);
  ASSERT_TRUE(result.has_value()) << error;
  EXPECT_TRUE(result->exhausted);
  EXPECT_EQ(result->runs, 10U);
  EXPECT_EQ(result->verdict.validity, Validity::invalid);
}

}  // namespace
}  // namespace crdtsim::harness
