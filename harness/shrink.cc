// shrink(): explicitization, then greedy passes to a fixpoint (see shrink.h).
#include "harness/shrink.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "harness/scenario_json.h"
#include "sim/check.h"

namespace crdtsim::harness {

namespace {

// Settle time never shrinks below one settle step of the runner.
constexpr std::uint64_t kSettleUsMin = 50'000;

std::uint32_t client_processes(const WorkloadSpec& workload) {
  std::uint32_t clients = workload.clients;
  for (const ScriptedOperation& operation : workload.script) {
    clients = std::max(clients, operation.client + 1);
  }
  return clients;
}

// The latest time at which an event acts (a flap: its last heal).
std::uint64_t event_end_us(const FaultEvent& event) {
  if (event.kind != FaultKind::flap) {
    return event.at_us;
  }
  return event.at_us + std::uint64_t{event.cycles} * (event.cut_us + event.healed_us);
}

bool distinct(const std::vector<core::ReplicaId>& ids, std::size_t count) {
  const std::set<core::ReplicaId> unique(ids.begin(),
                                         ids.begin() + static_cast<std::ptrdiff_t>(count));
  return unique.size() == count;
}

bool runnable_event(const FaultEvent& event, std::uint32_t replicas) {
  for (const core::ReplicaId id : event.replicas) {
    if (id >= replicas) {
      return false;
    }
  }
  for (const std::vector<core::ReplicaId>& group : event.groups) {
    for (const core::ReplicaId id : group) {
      if (id >= replicas) {
        return false;
      }
    }
  }
  switch (event.kind) {
    case FaultKind::one_way:
      return event.replicas.size() >= 2 && distinct(event.replicas, 2);
    case FaultKind::isolate:
      return !event.replicas.empty();
    case FaultKind::bridge:
      return event.replicas.size() >= 3 && distinct(event.replicas, 3);
    case FaultKind::flap:
      return event.cut_us > 0 && event.healed_us > 0;
    default:
      return true;
  }
}

// --- property selection -----------------------------------------------------

// `scenario` with only `property` checked (check() always reports
// "simulation"); unknown names leave the properties as they are.
Scenario checking_only(Scenario scenario, std::string_view property) {
  Properties only;
  only.convergence = property == "convergence";
  only.no_lost_writes = property == "no_lost_writes";
  only.liveness = property == "liveness";
  only.linearizability = property == "linearizability";
  only.determinism = property == "determinism";
  const bool known = only.convergence || only.no_lost_writes || only.liveness ||
                     only.linearizability || only.determinism || property == "simulation";
  if (known) {
    scenario.properties = only;
  }
  return scenario;
}

// Whether a failure of `property` may be shrunk with a shorter settle phase.
// Settling ends early once the replicas agree, so its bound matters only for
// a run that does not converge; cut short, such a run fails convergence,
// liveness and no_lost_writes whatever the store did, and the "shrunk"
// scenario would reproduce the shorter bound, not the bug. History-only
// properties (linearizability, causal order, session guarantees,
// determinism) do not look at the settled state.
bool settle_may_shrink(std::string_view property) {
  return property != "convergence" && property != "liveness" && property != "no_lost_writes" &&
         property != "simulation";
}

// --- scenario edits (pure) ----------------------------------------------------

// Removes replica `removed` from `event`, renumbering the ids above it.
// Returns false if the event loses its meaning.
bool drop_replica(FaultEvent& event, core::ReplicaId removed) {
  const auto renumber = [removed](core::ReplicaId id) { return id > removed ? id - 1 : id; };
  const auto strip = [&](std::vector<core::ReplicaId>& ids) {
    std::erase(ids, removed);
    std::transform(ids.begin(), ids.end(), ids.begin(), renumber);
  };
  switch (event.kind) {
    case FaultKind::partition:
    case FaultKind::flap:
      std::for_each(event.groups.begin(), event.groups.end(), strip);
      std::erase_if(event.groups, [](const auto& group) { return group.empty(); });
      return event.groups.size() >= 2;
    case FaultKind::one_way:
    case FaultKind::isolate:
    case FaultKind::bridge:
      if (std::find(event.replicas.begin(), event.replicas.end(), removed) !=
          event.replicas.end()) {
        return false;
      }
      strip(event.replicas);
      return true;
    case FaultKind::heal:
    case FaultKind::set_loss:
      return true;
    default:
      strip(event.replicas);
      return !event.replicas.empty();
  }
}

Scenario without_replica(Scenario scenario, core::ReplicaId removed) {
  CRDTSIM_CHECK(scenario.cluster.replicas >= 2);
  ClusterSpec& cluster = scenario.cluster;
  cluster.replicas -= 1;
  cluster.replication_factor = std::min(cluster.replication_factor, cluster.replicas);
  if (!cluster.initial_members.empty()) {
    // The remaining members, renumbered; never fewer than the factor asks.
    std::erase(cluster.initial_members, removed);
    for (core::ReplicaId& member : cluster.initial_members) {
      member -= member > removed ? 1U : 0U;
    }
    if (cluster.initial_members.empty()) {
      cluster.initial_members.push_back(0);
    }
    cluster.replication_factor = std::min(
        cluster.replication_factor, static_cast<std::uint32_t>(cluster.initial_members.size()));
  }
  for (ScriptedOperation& operation : scenario.workload.script) {
    if (operation.replica == removed) {
      operation.replica = removed > 0 ? removed - 1 : 0;
    } else if (operation.replica > removed) {
      operation.replica -= 1;
    }
  }
  std::vector<FaultEvent> timeline;
  for (FaultEvent event : scenario.timeline) {
    if (drop_replica(event, removed)) {
      timeline.push_back(std::move(event));
    }
  }
  scenario.timeline = std::move(timeline);
  return scenario;
}

Scenario without_client(Scenario scenario, std::uint32_t removed) {
  const std::uint32_t clients = client_processes(scenario.workload);
  CRDTSIM_CHECK(clients >= 1);
  std::vector<ScriptedOperation>& script = scenario.workload.script;
  std::erase_if(script, [removed](const ScriptedOperation& op) { return op.client == removed; });
  for (ScriptedOperation& operation : script) {
    operation.client -= operation.client > removed ? 1U : 0U;
  }
  scenario.workload.clients = clients - 1;
  return scenario;
}

// Every written value renamed "v<n>", unique per write (checkers tell
// writes apart by value).
Scenario with_short_values(Scenario scenario) {
  std::uint64_t next = 0;
  const auto fresh = [&next] { return "v" + std::to_string(next++); };
  for (ScriptedOperation& operation : scenario.workload.script) {
    core::Command& command = operation.command;
    if (command.kind == core::CommandKind::set || command.kind == core::CommandKind::mset) {
      std::generate(command.args.begin(), command.args.end(), fresh);
    } else if (command.kind == core::CommandKind::hset) {
      for (std::size_t index = 1; index < command.args.size(); index += 2) {
        command.args[index] = fresh();
      }
    }
  }
  return scenario;
}

Scenario with_unit_amounts(Scenario scenario) {
  for (ScriptedOperation& operation : scenario.workload.script) {
    if (operation.command.amount != 0) {
      operation.command.amount = 1;
    }
  }
  return scenario;
}

// The command with a single key / member / field, or nullopt if it has one.
std::optional<core::Command> narrowed(const core::Command& command) {
  core::Command out = command;
  switch (command.kind) {
    case core::CommandKind::mset:
    case core::CommandKind::mget:
    case core::CommandKind::del:
    case core::CommandKind::exists:
      if (out.keys.size() <= 1) {
        return std::nullopt;
      }
      out.keys.resize(1);
      out.args.resize(std::min<std::size_t>(out.args.size(), 1));
      return out;
    case core::CommandKind::sadd:
    case core::CommandKind::srem:
    case core::CommandKind::gsadd:
    case core::CommandKind::hdel:
    case core::CommandKind::hset: {
      const std::size_t keep = command.kind == core::CommandKind::hset ? 2 : 1;
      if (out.args.size() <= keep) {
        return std::nullopt;
      }
      out.args.resize(keep);
      return out;
    }
    default:
      return std::nullopt;
  }
}

// Shorter / milder versions of timeline[index], mildest change first.
std::vector<FaultEvent> milder_events(const std::vector<FaultEvent>& timeline, std::size_t index) {
  const FaultEvent& event = timeline[index];
  std::vector<FaultEvent> out;
  const auto with = [&](auto change) {
    FaultEvent copy = event;
    change(copy);
    out.push_back(std::move(copy));
  };
  switch (event.kind) {
    case FaultKind::flap:
      if (event.cycles > 1) {
        with([](FaultEvent& e) { e.cycles = 1; });
        with([](FaultEvent& e) { e.cycles /= 2; });
      }
      if (event.cut_us > 1) {
        with([](FaultEvent& e) { e.cut_us /= 2; });
      }
      if (event.healed_us > 1) {
        with([](FaultEvent& e) { e.healed_us = 1; });
      }
      break;
    case FaultKind::heal:
    case FaultKind::restart:
    case FaultKind::resume: {
      // Earlier, but not before the events listed before it.
      std::uint64_t floor_us = 0;
      for (std::size_t other = 0; other < index; ++other) {
        if (timeline[other].at_us <= event.at_us) {
          floor_us = std::max(floor_us, timeline[other].at_us);
        }
      }
      if (event.at_us > floor_us) {
        with([floor_us](FaultEvent& e) { e.at_us = floor_us + (e.at_us - floor_us) / 2; });
      }
      break;
    }
    case FaultKind::clock_jump:
      if (event.delta_us / 2 != 0) {
        with([](FaultEvent& e) { e.delta_us /= 2; });
      }
      break;
    case FaultKind::clock_drift:
      if (event.drift_ppm != 0) {
        with([](FaultEvent& e) { e.drift_ppm /= 2; });
      }
      break;
    case FaultKind::set_loss:
      if (event.drop_ppm != 0 || event.duplicate_ppm != 0) {
        with([](FaultEvent& e) {
          e.drop_ppm /= 2;
          e.duplicate_ppm /= 2;
        });
      }
      break;
    default:
      break;
  }
  std::erase_if(out,
                [](const FaultEvent& e) { return e.kind == FaultKind::flap && e.cycles == 0; });
  return out;
}

// Calmer networks, one knob each.
std::vector<NetworkSpec> calmer_networks(const NetworkSpec& network) {
  std::vector<NetworkSpec> out;
  const auto with = [&](bool applies, auto change) {
    if (applies) {
      NetworkSpec copy = network;
      change(copy);
      out.push_back(copy);
    }
  };
  with(network.drop_ppm != 0, [](NetworkSpec& n) { n.drop_ppm = 0; });
  with(network.duplicate_ppm != 0, [](NetworkSpec& n) { n.duplicate_ppm = 0; });
  with(network.reorder_ppm != 0, [](NetworkSpec& n) { n.reorder_ppm = 0; });
  with(network.tail_ppm != 0, [](NetworkSpec& n) { n.tail_ppm = 0; });
  with(network.drop_in_flight_on_partition,
       [](NetworkSpec& n) { n.drop_in_flight_on_partition = false; });
  with(network.latency_us_max > network.latency_us_min,
       [](NetworkSpec& n) { n.latency_us_max = n.latency_us_min; });
  return out;
}

// Everything moved earlier so that the first operation or fault is at 0.
std::optional<Scenario> shifted_to_zero(Scenario scenario) {
  std::uint64_t first_us = scenario.workload_deadline_us;
  for (const ScriptedOperation& operation : scenario.workload.script) {
    first_us = std::min(first_us, operation.at_us);
  }
  for (const FaultEvent& event : scenario.timeline) {
    first_us = std::min(first_us, event.at_us);
  }
  if (first_us == 0) {
    return std::nullopt;
  }
  for (ScriptedOperation& operation : scenario.workload.script) {
    operation.at_us -= first_us;
  }
  for (FaultEvent& event : scenario.timeline) {
    event.at_us -= first_us;
  }
  scenario.workload_deadline_us -= first_us;
  return scenario;
}

// The earliest workload deadline that keeps every operation and fault.
std::uint64_t deadline_floor_us(const Scenario& scenario) {
  std::uint64_t floor_us = 0;
  for (const ScriptedOperation& operation : scenario.workload.script) {
    floor_us = std::max(floor_us, operation.at_us + 1);
  }
  for (const FaultEvent& event : scenario.timeline) {
    floor_us = std::max(floor_us, event_end_us(event) + 1);
  }
  return std::max<std::uint64_t>(floor_us, 1);
}

// --- the shrinker -------------------------------------------------------------

class Shrinker {
 public:
  Shrinker(Scenario start, RunOutput start_output, std::uint64_t seed, std::string property,
           const ShrinkOptions& options, std::uint32_t runs)
      : current_(std::move(start)),
        output_(std::move(start_output)),
        seed_(seed),
        property_(std::move(property)),
        options_(&options),
        runs_(runs) {}

  // Runs the passes of the explicit or the random form to a fixpoint.
  void run_passes(bool explicit_form);

  const Scenario& scenario() const { return current_; }
  const RunOutput& output() const { return output_; }
  std::uint32_t runs() const { return runs_; }
  bool exhausted() const { return exhausted_; }

 private:
  bool accept(Scenario candidate, std::string_view pass);
  void report(std::string_view pass, bool accepted) const;

  template <typename Count, typename Erase>
  bool remove_chunks(std::string_view pass, Count count, Erase erase);
  bool try_each(std::string_view pass, const std::vector<Scenario>& candidates);

  bool remove_operations();
  bool remove_clients();
  bool remove_faults();
  bool remove_replicas();
  bool shorten_faults();
  bool shorten_time();
  bool simplify_commands();
  bool calm_network();
  bool shrink_random_workload();
  bool shrink_random_faults();

  Scenario current_;
  RunOutput output_;  // the run of current_ (checked for property_ only)
  std::uint64_t seed_;
  std::string property_;
  const ShrinkOptions* options_;
  std::uint32_t runs_;
  bool exhausted_ = false;
};

void Shrinker::report(std::string_view pass, bool accepted) const {
  if (!options_->progress) {
    return;
  }
  ShrinkProgress progress;
  progress.runs = runs_;
  progress.max_runs = options_->max_runs;
  progress.pass = pass;
  progress.accepted = accepted;
  progress.operations =
      current_.workload.script.empty()
          ? std::uint64_t{current_.workload.clients} * current_.workload.ops_per_client
          : current_.workload.script.size();
  progress.faults = current_.timeline.size();
  progress.replicas = current_.cluster.replicas;
  options_->progress(progress);
}

bool Shrinker::accept(Scenario candidate, std::string_view pass) {
  if (!runnable(candidate)) {
    return false;
  }
  if (runs_ >= options_->max_runs) {
    exhausted_ = true;
    return false;
  }
  ++runs_;
  const Scenario checked = checking_only(candidate, property_);
  RunOutput output = run(checked, seed_);
  check(checked, output);
  const bool fails = failed_verdict(output, property_) != nullptr;
  if (fails) {
    current_ = std::move(candidate);
    output_ = std::move(output);
  }
  report(pass, fails);
  return fails;
}

// ddmin-style: remove chunks of count/1, count/2, ..., 1 items, keeping each
// removal that still fails.
template <typename Count, typename Erase>
bool Shrinker::remove_chunks(std::string_view pass, Count count, Erase erase) {
  bool progress = false;
  std::size_t chunk = count(current_);
  while (chunk >= 1 && !exhausted_) {
    std::size_t begin = 0;
    while (begin < count(current_) && !exhausted_) {
      const std::size_t end = std::min(begin + chunk, count(current_));
      Scenario candidate = current_;
      erase(candidate, begin, end);
      if (accept(std::move(candidate), pass)) {
        progress = true;
      } else {
        begin = end;
      }
    }
    if (chunk == 1) {
      break;
    }
    chunk = (chunk + 1) / 2;
  }
  return progress;
}

bool Shrinker::try_each(std::string_view pass, const std::vector<Scenario>& candidates) {
  for (const Scenario& candidate : candidates) {
    if (exhausted_) {
      return false;
    }
    if (accept(candidate, pass)) {
      return true;
    }
  }
  return false;
}

bool Shrinker::remove_operations() {
  return remove_chunks(
      "operations", [](const Scenario& s) { return s.workload.script.size(); },
      [](Scenario& s, std::size_t begin, std::size_t end) {
        auto& script = s.workload.script;
        script.erase(script.begin() + static_cast<std::ptrdiff_t>(begin),
                     script.begin() + static_cast<std::ptrdiff_t>(end));
      });
}

bool Shrinker::remove_faults() {
  return remove_chunks(
      "faults", [](const Scenario& s) { return s.timeline.size(); },
      [](Scenario& s, std::size_t begin, std::size_t end) {
        s.timeline.erase(s.timeline.begin() + static_cast<std::ptrdiff_t>(begin),
                         s.timeline.begin() + static_cast<std::ptrdiff_t>(end));
      });
}

bool Shrinker::remove_clients() {
  bool progress = false;
  for (std::uint32_t client = client_processes(current_.workload); client-- > 0 && !exhausted_;) {
    progress |= accept(without_client(current_, client), "clients");
  }
  return progress;
}

bool Shrinker::remove_replicas() {
  bool progress = false;
  for (core::ReplicaId replica = current_.cluster.replicas; replica-- > 0 && !exhausted_;) {
    if (current_.cluster.replicas >= 2 && replica < current_.cluster.replicas) {
      progress |= accept(without_replica(current_, replica), "replicas");
    }
  }
  return progress;
}

bool Shrinker::shorten_faults() {
  bool progress = false;
  for (std::size_t index = 0; index < current_.timeline.size() && !exhausted_; ++index) {
    bool changed = true;
    while (changed && !exhausted_) {  // each accepted change is strictly milder
      std::vector<Scenario> candidates;
      for (FaultEvent& milder : milder_events(current_.timeline, index)) {
        Scenario candidate = current_;
        candidate.timeline[index] = std::move(milder);
        candidates.push_back(std::move(candidate));
      }
      changed = try_each("shorter faults", candidates);
      progress |= changed;
    }
  }
  return progress;
}

bool Shrinker::shorten_time() {
  bool progress = false;
  if (std::optional<Scenario> shifted = shifted_to_zero(current_)) {
    progress |= accept(std::move(*shifted), "time");
  }
  const std::uint64_t floor_us = deadline_floor_us(current_);
  while (current_.workload_deadline_us > floor_us && !exhausted_) {
    Scenario lowest = current_;
    lowest.workload_deadline_us = floor_us;
    Scenario halfway = current_;
    halfway.workload_deadline_us = floor_us + (current_.workload_deadline_us - floor_us) / 2;
    std::vector<Scenario> candidates{std::move(lowest)};
    if (halfway.workload_deadline_us > floor_us) {
      candidates.push_back(std::move(halfway));
    }
    if (!try_each("time", candidates)) {
      break;
    }
    progress = true;
  }
  while (settle_may_shrink(property_) && current_.settle_us / 2 >= kSettleUsMin && !exhausted_) {
    Scenario candidate = current_;
    candidate.settle_us /= 2;
    if (!accept(std::move(candidate), "time")) {
      break;
    }
    progress = true;
  }
  return progress;
}

bool Shrinker::simplify_commands() {
  bool progress = false;
  const Scenario short_values = with_short_values(current_);
  if (!(short_values.workload.script == current_.workload.script)) {
    progress |= accept(short_values, "commands");
  }
  const Scenario unit_amounts = with_unit_amounts(current_);
  if (!(unit_amounts.workload.script == current_.workload.script)) {
    progress |= accept(unit_amounts, "commands");
  }
  for (std::size_t index = 0; index < current_.workload.script.size() && !exhausted_; ++index) {
    if (std::optional<core::Command> command = narrowed(current_.workload.script[index].command)) {
      Scenario candidate = current_;
      candidate.workload.script[index].command = std::move(*command);
      progress |= accept(std::move(candidate), "commands");
    }
  }
  return progress;
}

bool Shrinker::calm_network() {
  bool progress = false;
  for (bool changed = true; changed && !exhausted_;) {
    std::vector<Scenario> candidates;
    for (const NetworkSpec& network : calmer_networks(current_.network)) {
      Scenario candidate = current_;
      candidate.network = network;
      candidates.push_back(std::move(candidate));
    }
    changed = try_each("network", candidates);
    progress |= changed;
  }
  return progress;
}

// Random form: the workload's knobs.
bool Shrinker::shrink_random_workload() {
  std::vector<Scenario> candidates;
  const auto with = [&](bool applies, auto change) {
    if (applies) {
      Scenario copy = current_;
      change(copy);
      candidates.push_back(std::move(copy));
    }
  };
  const WorkloadSpec& workload = current_.workload;
  with(workload.ops_per_client > 1, [](Scenario& s) { s.workload.ops_per_client /= 2; });
  with(workload.ops_per_client > 1, [](Scenario& s) { s.workload.ops_per_client -= 1; });
  with(workload.clients > 1, [](Scenario& s) { s.workload.clients -= 1; });
  with(current_.cluster.replicas > 1, [](Scenario& s) {
    const core::ReplicaId last = s.cluster.replicas - 1;
    s = without_replica(std::move(s), last);
  });
  with(workload.keys > 1, [](Scenario& s) { s.workload.keys /= 2; });
  for (std::uint32_t OperationMix::*weight :
       {&OperationMix::registers, &OperationMix::multi, &OperationMix::counters,
        &OperationMix::g_counters, &OperationMix::sets, &OperationMix::g_sets, &OperationMix::maps,
        &OperationMix::churn, &OperationMix::multi_del}) {
    with(workload.mix.*weight != 0, [weight](Scenario& s) { s.workload.mix.*weight = 0; });
  }
  with(current_.workload_deadline_us > 1, [](Scenario& s) { s.workload_deadline_us /= 2; });
  with(settle_may_shrink(property_) && current_.settle_us / 2 >= kSettleUsMin,
       [](Scenario& s) { s.settle_us /= 2; });
  bool progress = false;
  for (Scenario& candidate : candidates) {
    if (exhausted_) {
      break;
    }
    // Each candidate was built from the scenario current when the list was
    // made; after an acceptance the list is stale: stop, the loop repeats.
    if (accept(std::move(candidate), "random workload")) {
      progress = true;
      break;
    }
  }
  return progress;
}

// Random form: the random fault schedule's kinds.
bool Shrinker::shrink_random_faults() {
  RandomFaults& spec = current_.random_faults;
  if (!spec.enabled) {
    return false;
  }
  Scenario off = current_;
  off.random_faults.enabled = false;
  if (accept(std::move(off), "random faults")) {
    return true;
  }
  bool progress = false;
  bool RandomFaults::*kinds[] = {&RandomFaults::partitions, &RandomFaults::crashes,
                                 &RandomFaults::pauses,     &RandomFaults::clock_faults,
                                 &RandomFaults::loss,       &RandomFaults::membership};
  for (bool RandomFaults::*kind : kinds) {
    if (current_.random_faults.*kind && !exhausted_) {
      Scenario candidate = current_;
      candidate.random_faults.*kind = false;
      progress |= accept(std::move(candidate), "random faults");
    }
  }
  return progress;
}

void Shrinker::run_passes(bool explicit_form) {
  using Pass = bool (Shrinker::*)();
  static constexpr Pass kExplicitPasses[] = {
      &Shrinker::remove_operations, &Shrinker::remove_clients, &Shrinker::remove_faults,
      &Shrinker::remove_replicas,   &Shrinker::shorten_faults, &Shrinker::shorten_time,
      &Shrinker::simplify_commands, &Shrinker::calm_network};
  static constexpr Pass kRandomPasses[] = {&Shrinker::shrink_random_workload,
                                           &Shrinker::shrink_random_faults,
                                           &Shrinker::remove_faults, &Shrinker::calm_network};
  bool progress = true;
  while (progress && !exhausted_) {
    progress = false;
    if (explicit_form) {
      for (const Pass pass : kExplicitPasses) {
        progress |= (this->*pass)();
      }
    } else {
      for (const Pass pass : kRandomPasses) {
        progress |= (this->*pass)();
      }
    }
  }
}

// Runs and checks (all properties) `scenario` with `seed`.
RunOutput checked_run(const Scenario& scenario, std::uint64_t seed) {
  RunOutput output = run(scenario, seed);
  check(scenario, output);
  return output;
}

std::string failing_properties(const RunOutput& output) {
  std::string names;
  for (const Verdict& verdict : output.verdicts) {
    if (verdict.validity == Validity::invalid) {
      names += names.empty() ? "" : ", ";
      names += verdict.property;
    }
  }
  return names.empty() ? "none" : names;
}

}  // namespace

ScenarioSize measure(const Scenario& scenario, const RunOutput& output) {
  ScenarioSize size;
  size.operations = output.history.operations.size();
  size.faults = output.fault_actions.size();
  size.replicas = scenario.cluster.replicas;
  size.clients = client_processes(scenario.workload);
  size.events = output.sim.stats.events;
  return size;
}

std::string describe(const ScenarioSize& size) {
  return std::to_string(size.operations) + " ops, " + std::to_string(size.faults) + " faults, " +
         std::to_string(size.replicas) + " replicas, " + std::to_string(size.clients) +
         " clients, " + std::to_string(size.events) + " events";
}

Scenario explicit_scenario(const Scenario& scenario, const RunOutput& output) {
  Scenario out = scenario;
  out.random_faults.enabled = false;
  out.timeline = output.fault_actions;
  WorkloadSpec& workload = out.workload;
  workload.clients = client_processes(scenario.workload);
  workload.ops_per_client = 0;  // an empty script issues nothing
  workload.script.clear();
  for (const Operation& operation : output.history.operations) {
    ScriptedOperation& scripted = workload.script.emplace_back();
    scripted.client = operation.client;
    scripted.at_us = operation.invoke_us;
    scripted.replica = operation.replica;
    scripted.command = operation.command;
  }
  out.workload_deadline_us = std::max<std::uint64_t>(output.settle_started_us, 1);
  return out;
}

bool runnable(const Scenario& scenario) {
  const ClusterSpec& cluster = scenario.cluster;
  if (cluster.replicas < 1 || cluster.replication_factor < 1 ||
      cluster.replication_factor > cluster.replicas || scenario.workload.keys < 1) {
    return false;
  }
  const NetworkSpec& network = scenario.network;
  if (network.latency_us_min < 1 || network.latency_us_min > network.latency_us_max ||
      network.tail_us_min > network.tail_us_max) {
    return false;
  }
  for (const ScriptedOperation& operation : scenario.workload.script) {
    if (operation.replica >= cluster.replicas) {
      return false;
    }
  }
  const bool events_ok =
      std::all_of(scenario.timeline.begin(), scenario.timeline.end(),
                  [&](const FaultEvent& event) { return runnable_event(event, cluster.replicas); });
  // The result is written as a scenario file: a candidate the file format
  // cannot express (e.g. a one-group partition, a fault at the deadline) is
  // not one a user could run.
  std::string error;
  return events_ok && scenario_from_json(scenario_to_json(scenario), "candidate", "", error);
}

const Verdict* failed_verdict(const RunOutput& output, std::string_view property) {
  for (const Verdict& verdict : output.verdicts) {
    if (verdict.validity == Validity::invalid &&
        (property.empty() || verdict.property == property)) {
      return &verdict;
    }
  }
  return nullptr;
}

std::optional<ShrinkResult> shrink(const Scenario& scenario, std::uint64_t seed,
                                   const std::string& property, const ShrinkOptions& options,
                                   std::string& error) {
  if (options.max_runs < 2) {
    error =
        "shrink needs a budget of at least 2 runs (got " + std::to_string(options.max_runs) + ")";
    return std::nullopt;
  }
  if (!runnable(scenario)) {
    error = "the scenario cannot be run (an id out of range or an incomplete fault event)";
    return std::nullopt;
  }
  RunOutput original = checked_run(scenario, seed);
  const Verdict* failed = failed_verdict(original, property);
  if (failed == nullptr) {
    error = "seed " + std::to_string(seed) + " of scenario \"" + scenario.name +
            "\" does not fail " + (property.empty() ? "any property" : "property " + property) +
            " (invalid: " + failing_properties(original) + "); nothing to shrink";
    return std::nullopt;
  }
  ShrinkResult result;
  result.seed = seed;
  result.property = failed->property;
  result.before = measure(scenario, original);

  Scenario start = explicit_scenario(scenario, original);
  RunOutput start_output = run(checking_only(start, result.property), seed);
  check(checking_only(start, result.property), start_output);
  result.explicit_form = failed_verdict(start_output, result.property) != nullptr;
  if (result.explicit_form) {
    result.note = original.fault_actions_exact
                      ? "the explicit form fails " + result.property
                      : "the explicit form fails " + result.property +
                            " (some client links healed by a one-way undo were not re-cut)";
  } else {
    result.note = "the explicit form of seed " + std::to_string(seed) + " does not fail " +
                  result.property + "; shrank the random scenario's knobs instead";
    start = scenario;
    start_output = std::move(original);
  }
  Shrinker shrinker(std::move(start), std::move(start_output), seed, result.property, options, 2);
  shrinker.run_passes(result.explicit_form);

  result.scenario = shrinker.scenario();
  result.scenario.description = "shrunk from \"" + scenario.name + "\" seed " +
                                std::to_string(seed) + " (fails " + result.property + ")";
  result.runs = shrinker.runs();
  result.exhausted = shrinker.exhausted();
  result.after = measure(result.scenario, shrinker.output());
  const Verdict* still = failed_verdict(shrinker.output(), result.property);
  CRDTSIM_CHECK(still != nullptr);
  result.verdict = *still;
  return result;
}

}  // namespace crdtsim::harness
