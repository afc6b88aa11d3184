// The CI sweep: 1,000 seeds of a mixed-fault configuration (swarm nemesis:
// partitions of every kind, crashes, pauses, clock faults, loss and
// duplication) must all pass. Label `sweep` only (not `fast`).
#include <gtest/gtest.h>

#include "harness/sweep.h"

namespace crdtsim::harness {
namespace {

TEST(MixedFaultsSweep, ThousandSeedsPass) {
  Scenario scenario;
  scenario.name = "mixed-faults";
  scenario.cluster.replicas = 4;
  scenario.cluster.replication_factor = 3;
  scenario.cluster.virtual_nodes = 16;
  scenario.workload.clients = 4;
  scenario.workload.ops_per_client = 25;
  scenario.workload.keys = 4;
  scenario.network.drop_ppm = 10'000;
  scenario.network.duplicate_ppm = 10'000;
  scenario.network.reorder_ppm = 50'000;
  scenario.random_faults.enabled = true;
  scenario.random_faults.swarm = true;
  scenario.workload_deadline_us = 3'000'000;
  scenario.settle_us = 10'000'000;
  SweepOptions options;
  options.seed_first = 1;
  options.seed_last = 1'000;
  options.jobs = 2;
  options.determinism_every = 50;
  std::string error;
  std::vector<std::string> failures;
  const auto summary = sweep(
      scenario, options,
      [&](const RunRecord& record, const RunOutput*) {
        for (const Verdict& verdict : record.verdicts) {
          if (verdict.validity != Validity::valid && failures.size() < 5) {
            failures.push_back("seed " + std::to_string(record.seed) + " " + verdict.property +
                               ": " + verdict.explanation);
          }
        }
      },
      error);
  ASSERT_TRUE(summary) << error;
  EXPECT_EQ(summary->runs, 1'000u);
  EXPECT_EQ(summary->failures, 0u);
  EXPECT_EQ(summary->unknown, 0u);
  for (const std::string& failure : failures) {
    ADD_FAILURE() << failure;
  }
}

}  // namespace
}  // namespace crdtsim::harness
