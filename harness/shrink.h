#pragma once
// Shrinking: reduce a failing run (scenario + seed) to a small scenario that
// still fails the same property.
//
// 1. Explicitization. explicit_scenario() turns a run into a scenario with no
//    randomness left that matters: workload.script holds every operation the
//    clients issued (client, invoke time, replica, command), `timeline` every
//    fault action the nemesis took (RunOutput::fault_actions, the random
//    schedule's included), random faults are off and the workload deadline
//    is the time the original run began to settle. The seed still drives the
//    network (latencies, loss) and the replicas' own randomness, so the
//    explicit run need not have the original trace hash; what shrink()
//    requires is that it fails the same property, and it checks that first.
//    If it does not, shrink() falls back to shrinking the random scenario's
//    knobs (and says so in ShrinkResult::note).
// 2. Greedy passes, repeated until a whole round changes nothing (a
//    fixpoint) or the run budget is spent. Each candidate is a full run +
//    check() with the same seed, accepted only if the property is still
//    *invalid* (unknown does not count). Explicit form, in order: remove
//    operations (ddmin-style: chunks of half, a quarter, ..., then singles),
//    remove clients (with their operations; higher clients renumbered),
//    remove fault events (chunks, then singles), remove replicas (ids above
//    renumbered, operations sent to the removed one sent to its predecessor,
//    fault events that lose their meaning dropped, replication factor capped),
//    shorten faults (fewer flap cycles, shorter cuts, heals / restarts /
//    resumes earlier, smaller clock jumps, drifts and loss rates), shorten
//    time (everything moved earlier, earlier workload deadline, shorter
//    settle), simplify commands (canonical short values, amounts of 1, one
//    key or member per command), then calm the network (no baseline loss,
//    duplication, reordering or tail latency). Random form: fewer operations
//    per client, clients, replicas, fault kinds, timeline events, keys,
//    command families, shorter deadline and settle, calmer network.
//
// Deterministic: the same scenario, seed, property and budget give the same
// result (no wall clock, no unordered iteration).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

// How big a run is.
struct ScenarioSize {
  std::uint64_t operations = 0;  // operations the clients issued
  std::uint64_t faults = 0;      // fault actions the nemesis took
  std::uint64_t replicas = 0;
  std::uint64_t clients = 0;  // client processes
  std::uint64_t events = 0;   // simulation events processed

  friend bool operator==(const ScenarioSize&, const ScenarioSize&) = default;
};

ScenarioSize measure(const Scenario& scenario, const RunOutput& output);
// "12 ops, 2 faults, 3 replicas, 2 clients, 4512 events".
std::string describe(const ScenarioSize& size);

// The explicit form of `output`, the run of `scenario` (see above). Requires
// output to come from run(scenario, ...).
Scenario explicit_scenario(const Scenario& scenario, const RunOutput& output);

// Whether a scenario can be run at all: ids in range, shapes complete
// (one_way 2 replicas, bridge 3 distinct, flap phases > 0), replication
// factor in [1, replicas], keys >= 1. Candidates that are not are skipped.
bool runnable(const Scenario& scenario);

// The first invalid verdict of `output` for `property` (any property if
// empty), or nullptr.
const Verdict* failed_verdict(const RunOutput& output, std::string_view property);

struct ShrinkProgress {
  std::uint32_t runs = 0;  // runs so far (the input checks included)
  std::uint32_t max_runs = 0;
  std::string_view pass;         // e.g. "operations", "faults", "replicas"
  bool accepted = false;         // whether the last candidate still failed
  std::uint64_t operations = 0;  // the current scenario's script / timeline
  std::uint64_t faults = 0;
  std::uint32_t replicas = 0;
};

struct ShrinkOptions {
  std::uint32_t max_runs = 2000;                        // every run counts, the input checks too
  std::function<void(const ShrinkProgress&)> progress;  // after each run
};

struct ShrinkResult {
  Scenario scenario;  // the shrunk scenario (explicit unless explicit_form)
  std::uint64_t seed = 0;
  std::string property;
  ScenarioSize before;  // the input run
  ScenarioSize after;   // the shrunk run
  std::uint32_t runs = 0;
  bool explicit_form = false;  // false: the random scenario's knobs were shrunk
  bool exhausted = false;      // stopped by max_runs before a fixpoint
  Verdict verdict;             // the shrunk run's verdict for `property`
  std::string note;            // how explicitization went
};

// Shrinks the run of `scenario` with `seed` while it keeps failing
// `property` (empty: the first invalid property of the input run). Returns
// nullopt and sets `error` if the input run does not fail that property or
// the budget cannot even check the input.
std::optional<ShrinkResult> shrink(const Scenario& scenario, std::uint64_t seed,
                                   const std::string& property, const ShrinkOptions& options,
                                   std::string& error);

}  // namespace crdtsim::harness
