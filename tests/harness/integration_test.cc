// Whole runs through check(): linearizability of the single-node mode and
// its violation by the multi-replica eventual mode, determinism, and the
// coverage points a sweep reports as never reached.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/sweep.h"
#include "tests/harness/standard_scenario.h"

namespace crdtsim::harness {
namespace {

Scenario register_scenario(std::uint32_t replicas) {
  Scenario scenario;
  scenario.name = "linearizability";
  scenario.cluster.replicas = replicas;
  scenario.cluster.replication_factor = replicas;
  scenario.workload.clients = 4;
  scenario.workload.ops_per_client = 40;
  scenario.workload.keys = 2;
  scenario.workload.think_us_max = 5'000;
  scenario.workload.mix = OperationMix{1, 0, 1, 0, 0, 0, 0, 500'000};
  scenario.network.latency_us_min = 1'000;
  scenario.network.latency_us_max = 20'000;
  scenario.properties.linearizability = true;
  scenario.workload_deadline_us = 5'000'000;
  return scenario;
}

TEST(Integration, SingleNodeModeIsLinearizable) {
  const Scenario scenario = register_scenario(1);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    RunOutput output = run(scenario, seed);
    check(scenario, output);
    for (const Verdict& verdict : output.verdicts) {
      EXPECT_EQ(verdict.validity, Validity::valid)
          << "seed " << seed << " " << verdict.property << ": " << verdict.explanation;
    }
  }
}

TEST(Integration, EventualModeAcrossReplicasIsNotLinearizable) {
  Scenario scenario = register_scenario(3);
  scenario.workload.replica_choice = ReplicaChoice::roaming;
  std::uint64_t violations = 0;
  std::string example;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RunOutput output = run(scenario, seed);
    check(scenario, output);
    for (const Verdict& verdict : output.verdicts) {
      if (verdict.property == "linearizability" && verdict.validity == Validity::invalid) {
        ++violations;
        example = verdict.explanation;
      } else {
        EXPECT_NE(verdict.validity, Validity::invalid)
            << verdict.property << ": " << verdict.explanation;
      }
    }
  }
  EXPECT_GT(violations, 0u) << "stale reads across replicas went unnoticed";
  EXPECT_FALSE(example.empty());
}

TEST(Integration, DeterminismPropertyRunsTheSeedTwice) {
  Scenario scenario = testing::healthy_scenario();
  scenario.properties.determinism = true;
  RunOutput output = run(scenario, 3);
  check(scenario, output);
  const auto found =
      std::find_if(output.verdicts.begin(), output.verdicts.end(),
                   [](const Verdict& verdict) { return verdict.property == "determinism"; });
  ASSERT_NE(found, output.verdicts.end());
  EXPECT_EQ(found->validity, Validity::valid) << found->explanation;
}

TEST(Integration, SweepReportsCoveragePointsNeverReached) {
  Scenario scenario = testing::healthy_scenario();  // no faults: no crash, no recovery
  SweepOptions options;
  options.seed_first = 1;
  options.seed_last = 4;
  std::string error;
  const auto summary = sweep(scenario, options, nullptr, error);
  ASSERT_TRUE(summary) << error;
  const auto& never = summary->coverage_never_reached;
  EXPECT_NE(std::find(never.begin(), never.end(), "replica.recovered_from_disk"), never.end());
  EXPECT_EQ(std::find(never.begin(), never.end(), "anti_entropy.round_agreed"), never.end());
}

}  // namespace
}  // namespace crdtsim::harness
