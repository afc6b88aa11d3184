#pragma once
// Scenarios shared by the harness tests.

#include "harness/scenario.h"

namespace crdtsim::harness::testing {

// A small fault-free cluster: 3 replicas (RF 3), 4 clients x 30 ops.
inline Scenario healthy_scenario() {
  Scenario scenario;
  scenario.name = "healthy";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 3;
  scenario.workload.clients = 4;
  scenario.workload.ops_per_client = 30;
  scenario.workload.keys = 8;
  scenario.workload_deadline_us = 5'000'000;
  scenario.settle_us = 5'000'000;
  return scenario;
}

// Issue 5's standard configuration: 5 replicas, replication factor 3,
// 8 clients, 1,000 operations in total, 1% loss and 1% duplication, a
// partition (0.3 s .. 0.8 s) and a crash (replica 4, 0.5 s .. 1.0 s).
inline Scenario standard_scenario() {
  Scenario scenario;
  scenario.name = "standard";
  scenario.cluster.replicas = 5;
  scenario.cluster.replication_factor = 3;
  scenario.workload.clients = 8;
  scenario.workload.ops_per_client = 125;
  scenario.workload.keys = 16;
  scenario.network.drop_ppm = 10'000;
  scenario.network.duplicate_ppm = 10'000;
  FaultEvent partition;
  partition.at_us = 300'000;
  partition.kind = FaultKind::partition;
  partition.groups = {{0, 1}, {2, 3, 4}};
  FaultEvent heal;
  heal.at_us = 800'000;
  heal.kind = FaultKind::heal;
  FaultEvent crash;
  crash.at_us = 500'000;
  crash.kind = FaultKind::crash;
  crash.replicas = {4};
  FaultEvent restart;
  restart.at_us = 1'000'000;
  restart.kind = FaultKind::restart;
  restart.replicas = {4};
  scenario.timeline = {partition, crash, heal, restart};
  scenario.workload_deadline_us = 10'000'000;
  scenario.settle_us = 10'000'000;
  return scenario;
}

}  // namespace crdtsim::harness::testing
