#pragma once
// The runner: one scenario, one seed -> one RunOutput. It builds a
// simulation with one process per replica (core::Replica behind the adapter)
// and one per client, applies the fault timeline and the randomized
// nemesis, stops both at the workload deadline, then settles: heals the
// network, restarts crashed replicas, resumes paused ones, stops loss, and
// lets the replicas converge for at most `settle_us`, checking convergence
// periodically. Checkers then turn the output into verdicts.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/store/keyspace.h"
#include "harness/history.h"
#include "harness/scenario.h"
#include "harness/verdict.h"
#include "sim/run_result.h"
#include "sim/trace.h"

namespace crdtsim::harness {

// A replica's state at the end of the run (white-box, for checkers).
struct ReplicaSnapshot {
  core::ReplicaId id = 0;
  bool up = true;  // false if it could not be restarted
  core::Keyspace keyspace;
  core::ReplicaStats stats;
  // Membership in use: the members in this replica's view of the ring.
  std::vector<core::ReplicaId> members;
};

// Hot-key figures of a run: the replicas' decisions (summed over the
// replicas up at the end; a restart resets a replica's counts), and where the
// reads of the most-read key were executed (from the history's reply
// metadata, so the same measure with hot keys on and off).
struct HotKeyStatistics {
  bool enabled = false;  // the scenario enabled hot keys
  std::uint64_t promotions = 0;
  std::uint64_t demotions = 0;
  std::uint64_t became_ready = 0;
  std::uint64_t reads_by_extra = 0;  // reads served by extra replicas
  std::uint64_t strays_handed_off = 0;
  std::string hottest_key;  // the key with the most completed single-key reads
  std::uint64_t hottest_reads = 0;
  std::vector<std::uint64_t> hottest_reads_by_replica;  // indexed by replica id
};

// The hottest key of `history` and where its reads executed.
void measure_hottest_key(const History& history, std::uint32_t replicas, HotKeyStatistics& stats);

struct RunOutput {
  std::string scenario;
  std::uint64_t seed = 0;
  sim::RunResult sim;  // outcome, trace hash, message stats, coverage hits
  History history;
  std::vector<ReplicaSnapshot> replicas;  // indexed by replica id
  // For each key some replica holds: the replicas that must hold it.
  std::map<std::string, std::vector<core::ReplicaId>> placement;
  std::uint64_t settle_started_us = 0;
  std::optional<std::uint64_t> converged_us;  // first time all replicas agreed
  // Every fault action the nemesis took (explicit and random), as explicit
  // timeline events in the order they ran (see Nemesis::actions()), and
  // whether that timeline replays them exactly.
  std::vector<FaultEvent> fault_actions;
  bool fault_actions_exact = true;
  std::vector<Verdict> verdicts;  // filled by check()
  HotKeyStatistics hot_keys;
  // Membership in use (docs/membership.md): the final membership (every
  // change the nemesis made taken into account). `placement` follows it.
  bool membership = false;
  std::vector<core::ReplicaId> final_members;
};

struct RunOptions {
  sim::TraceSink* trace = nullptr;  // optional structured trace
};

// Runs the scenario with `seed`. Deterministic: the same scenario and seed
// give the same RunOutput (and trace hash) on every build and machine.
RunOutput run(const Scenario& scenario, std::uint64_t seed, const RunOptions& options = {});

// Runs the checkers the scenario's properties ask for and stores the verdicts
// in output.verdicts. The determinism property runs the seed a second time.
void check(const Scenario& scenario, RunOutput& output);

}  // namespace crdtsim::harness
