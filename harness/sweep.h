#pragma once
// Sweeps: one scenario over a range of seeds, in parallel workers.
//
// Each worker runs one simulation at a time and shares nothing with the
// others. Results are emitted (to the callback and the JSON Lines file) in
// seed order whatever the worker count, so the result file of a sweep is
// byte-identical for 1 or N workers, and an interrupted sweep's file is
// always a prefix of the complete one: --resume continues after its last
// complete line (a torn last line is discarded).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

// The part of a run a sweep keeps: everything in it is deterministic.
struct RunRecord {
  std::string scenario;
  std::uint64_t seed = 0;
  Validity validity = Validity::valid;
  std::vector<Verdict> verdicts;
  std::uint64_t trace_hash = 0;
  std::uint64_t operations = 0;
  std::uint64_t indeterminate = 0;
  std::uint64_t events = 0;
  std::uint64_t messages = 0;
  std::uint64_t message_bytes = 0;
  std::uint64_t end_time_us = 0;
  std::optional<std::uint64_t> convergence_us;    // time from settle start to convergence
  std::map<std::string, std::uint64_t> coverage;  // every declared point, with its hits

  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

RunRecord make_record(const RunOutput& output);
std::string record_to_json_line(const RunRecord& record);
// Parses one line written by record_to_json_line; nullopt if malformed.
std::optional<RunRecord> record_from_json_line(const std::string& line);

struct Shard {
  std::uint32_t index = 1;  // 1-based: shard K of N runs seeds with (seed - first) % N == K - 1
  std::uint32_t count = 1;
};

struct SweepOptions {
  std::uint64_t seed_first = 1;
  std::uint64_t seed_last = 100;
  std::uint32_t jobs = 1;
  Shard shard;
  std::string out_path;  // JSON Lines results; empty: none
  bool resume = false;   // continue the sweep recorded in out_path
  // Determinism sampling: every Nth run is run twice and hashes compared
  // (0 = never). Done in addition to the scenario's own determinism property.
  std::uint32_t determinism_every = 0;
};

// Per scenario of a sweep over several.
struct ScenarioTally {
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  std::uint64_t unknown = 0;
  std::map<std::string, std::uint64_t> failures_by_property;
};

struct SweepSummary {
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;  // runs whose validity is invalid
  std::uint64_t unknown = 0;
  std::uint64_t resumed = 0;  // runs taken from the existing file
  std::map<std::string, std::uint64_t> failures_by_property;
  std::map<std::string, std::uint64_t> coverage;  // hits summed over runs
  std::vector<std::string> coverage_never_reached;
  std::optional<std::uint64_t> slowest_convergence_us;
  std::uint64_t slowest_convergence_seed = 0;
  std::string slowest_convergence_scenario;
  std::vector<std::uint64_t> failing_seeds;
  std::map<std::string, ScenarioTally> by_scenario;
};

// The seeds a sweep over [first, last] runs in `shard`.
std::vector<std::uint64_t> shard_seeds(std::uint64_t first, std::uint64_t last, const Shard& shard);

// Called in seed order, from the calling thread, for every finished run
// (`output` is null for runs taken from a resumed file).
using RunCallback = std::function<void(const RunRecord& record, const RunOutput* output)>;

// Runs the sweep over [options.seed_first, options.seed_last]. Returns the
// summary; on an I/O problem with out_path returns nullopt and sets `error`.
std::optional<SweepSummary> sweep(const Scenario& scenario, const SweepOptions& options,
                                  const RunCallback& on_run, std::string& error);

// One scenario of a sweep over several, with its own seed range.
struct SweepTarget {
  const Scenario* scenario = nullptr;  // borrowed; names must differ between targets
  std::uint64_t seed_first = 1;
  std::uint64_t seed_last = 100;
};

// Runs every target's seeds (its shard of them), scenario after scenario in
// the order given, as one sweep: one result file, one emission order, one
// summary (options.seed_first/seed_last are ignored).
std::optional<SweepSummary> sweep(const std::vector<SweepTarget>& targets,
                                  const SweepOptions& options, const RunCallback& on_run,
                                  std::string& error);

}  // namespace crdtsim::harness
