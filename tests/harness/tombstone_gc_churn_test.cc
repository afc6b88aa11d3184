// Memory under churn: with tombstone GC a replica's footprint after settling
// tracks live data, not the length of the history; without it, it grows with
// the history. Sizes are byte counts of canonical encodings (deterministic),
// never wall-clock figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/replication/tombstone_gc.h"
#include "harness/runner.h"

namespace crdtsim::harness {
namespace {

// Churn only: fresh register keys, set members and map fields created and
// deleted again, and set and counter keys of a shared pool of 64 emptied,
// collected and re-created (harness/workload.h), on 5 replicas (RF 3) with a
// partition in the middle.
Scenario churn_scenario(std::uint32_t ops_per_client, bool gc) {
  Scenario scenario;
  scenario.name = "churn";
  scenario.cluster.replicas = 5;
  scenario.cluster.replication_factor = 3;
  scenario.cluster.tombstone_gc.enabled = gc;
  scenario.cluster.tombstone_gc.interval_us = 50'000;
  scenario.workload.clients = 8;
  scenario.workload.ops_per_client = ops_per_client;
  scenario.workload.keys = 4;
  scenario.workload.think_us_max = 5'000;
  // A client's delete goes where its create went, so it finds the item.
  scenario.workload.replica_choice = ReplicaChoice::sticky;
  scenario.workload.mix = OperationMix{.registers = 0,
                                       .multi = 0,
                                       .counters = 0,
                                       .g_counters = 0,
                                       .sets = 0,
                                       .g_sets = 0,
                                       .maps = 0,
                                       .reads_ppm = 0,
                                       .churn = 1};
  FaultEvent partition;
  partition.at_us = 100'000;
  partition.kind = FaultKind::partition;
  partition.groups = {{0, 1, 2}, {3, 4}};
  FaultEvent heal;
  heal.at_us = 400'000;
  heal.kind = FaultKind::heal;
  scenario.timeline = {partition, heal};
  scenario.workload_deadline_us = 120'000'000;
  return scenario;
}

struct Memory {
  std::uint64_t largest_bytes = 0;  // the largest replica's keyspace
  std::uint64_t tombstones = 0;     // over all replicas
  std::uint64_t dead_keys = 0;
  std::uint64_t largest_keys = 0;             // keys held by the largest replica
  std::uint64_t largest_context_entries = 0;  // OR-Set and counter contexts, largest replica
};

unsigned long long as_ull(std::uint64_t value) {
  return static_cast<unsigned long long>(value);
}

Memory run_and_measure(const Scenario& scenario, std::uint64_t seed) {
  RunOutput output = run(scenario, seed);
  check(scenario, output);
  EXPECT_EQ(combine(output.verdicts), Validity::valid)
      << output.verdicts.front().explanation << " / " << output.verdicts.back().explanation;
  Memory memory;
  for (const ReplicaSnapshot& snapshot : output.replicas) {
    const core::KeyspaceFootprint footprint = core::measure(snapshot.keyspace);
    memory.largest_bytes = std::max(memory.largest_bytes, footprint.bytes);
    memory.tombstones += footprint.register_tombstones + footprint.map_field_tombstones;
    memory.dead_keys += footprint.dead_keys;
    memory.largest_keys = std::max(memory.largest_keys, footprint.keys);
    memory.largest_context_entries =
        std::max(memory.largest_context_entries, footprint.context_entries);
  }
  return memory;
}

// A collection interval far below the round trip: 5 ms ticks, so a round
// waited 8 ticks (40 ms) before a new one replaced it, against 25-30 ms of
// latency each way. Every round was replaced before its answers came back,
// nothing was ever collected and the settle phase (which waits for
// collection) never ended: liveness failed at every seed. Answers to a
// round that timed out now double the wait until rounds complete.
TEST(TombstoneGcChurn, CollectsWhenTheIntervalIsFarBelowTheRoundTrip) {
  Scenario scenario;
  scenario.name = "gc-interval-below-rtt";
  scenario.cluster.replicas = 3;
  scenario.cluster.replication_factor = 3;
  scenario.cluster.tombstone_gc.enabled = true;
  scenario.cluster.tombstone_gc.interval_us = 5'000;
  scenario.workload.clients = 2;
  scenario.workload.ops_per_client = 30;
  scenario.workload.keys = 2;
  scenario.workload.mix = OperationMix{.registers = 1,
                                       .multi = 0,
                                       .counters = 0,
                                       .g_counters = 0,
                                       .sets = 0,
                                       .g_sets = 0,
                                       .maps = 0,
                                       .reads_ppm = 0,
                                       .churn = 1};
  scenario.network.latency_us_min = 25'000;
  scenario.network.latency_us_max = 30'000;
  scenario.settle_us = 60'000'000;
  RunOutput output = run(scenario, 1);
  check(scenario, output);
  for (const Verdict& verdict : output.verdicts) {
    EXPECT_EQ(verdict.validity, Validity::valid) << verdict.property << ": " << verdict.explanation;
  }
  std::uint64_t dead_keys = 0;
  for (const ReplicaSnapshot& snapshot : output.replicas) {
    dead_keys += core::measure(snapshot.keyspace).dead_keys;
  }
  EXPECT_EQ(dead_keys, 0u);  // every deleted key collected
}

TEST(TombstoneGcChurn, MemoryTracksLiveDataNotHistory) {
  constexpr std::uint64_t kSeed = 3;
  const Memory short_gc = run_and_measure(churn_scenario(50, true), kSeed);
  const Memory long_gc = run_and_measure(churn_scenario(500, true), kSeed);
  const Memory short_kept = run_and_measure(churn_scenario(50, false), kSeed);
  const Memory long_kept = run_and_measure(churn_scenario(500, false), kSeed);

  // With GC nothing collectible is left, dead set and counter keys included,
  // and ten times the history costs at most a small factor (live data: items
  // whose delete missed, pool keys still holding a member or a count).
  EXPECT_EQ(long_gc.tombstones, 0u);
  EXPECT_EQ(long_gc.dead_keys, 0u);
  EXPECT_LE(long_gc.largest_bytes, 3 * short_gc.largest_bytes)
      << "short " << short_gc.largest_bytes << " long " << long_gc.largest_bytes;
  EXPECT_LE(long_gc.largest_keys, 3 * short_gc.largest_keys)
      << "short " << short_gc.largest_keys << " long " << long_gc.largest_keys;
  // A live set or counter's context: one entry per writer id (5 durable
  // replicas), however many times its key was emptied and re-created.
  EXPECT_LE(long_gc.largest_context_entries, 5 * long_gc.largest_keys);
  // Without GC the dead set and counter keys stay, with their contexts.
  EXPECT_GE(long_kept.dead_keys, 4 * short_kept.dead_keys);
  EXPECT_GE(long_kept.largest_keys, 3 * long_gc.largest_keys);
  // Without GC the tombstones pile up with the history.
  EXPECT_GE(long_kept.largest_bytes, 5 * short_kept.largest_bytes)
      << "short " << short_kept.largest_bytes << " long " << long_kept.largest_bytes;
  EXPECT_GE(long_kept.tombstones, 8 * short_kept.tombstones);
  EXPECT_LE(3 * long_gc.largest_bytes, long_kept.largest_bytes);
  // The figures of docs/performance.md.
  std::printf(
      "churn memory (largest replica: bytes, keys, context entries; "
      "all replicas: dead keys, tombstones)\n");
  const auto print = [](const char* label, const Memory& memory) {
    std::printf("  %s: %llu B, %llu keys, %llu entries; %llu dead, %llu tombstones\n", label,
                as_ull(memory.largest_bytes), as_ull(memory.largest_keys),
                as_ull(memory.largest_context_entries), as_ull(memory.dead_keys),
                as_ull(memory.tombstones));
  };
  print("GC on   50 ops/client", short_gc);
  print("GC on  500 ops/client", long_gc);
  print("GC off  50 ops/client", short_kept);
  print("GC off 500 ops/client", long_kept);
}

}  // namespace
}  // namespace crdtsim::harness
