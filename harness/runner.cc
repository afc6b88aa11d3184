// run(): one scenario, one seed -> one RunOutput. (check() lives in
// checkers.cc.)
//
// Phases:
//   1. workload: replicas, clients and the nemesis run until the workload
//      deadline, or earlier once every client has finished its operations and
//      the explicit timeline has played out (the random nemesis stops then);
//   2. settle: the nemesis stops every fault (Nemesis::settle), then the run
//      continues in steps of kSettleStepUs until every replica of every key
//      holds the same state and no client request is outstanding, or until
//      settle_us has passed;
//   3. output: the history (open operations closed as timeouts), replica
//      snapshots, placement, and harness-level coverage from the history.

#include "harness/runner.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "harness/adapter.h"
#include "harness/client.h"
#include "harness/coverage_points.h"
#include "harness/nemesis.h"
#include "harness/workload.h"
#include "sim/check.h"
#include "sim/simulation.h"

namespace crdtsim::harness {

namespace {

// How often the workload phase checks whether every client has finished.
constexpr sim::TimeUs kWorkloadStepUs = 10'000;
// How often the settle phase checks for convergence.
constexpr sim::TimeUs kSettleStepUs = 50'000;

sim::LinkConfig link_of(const NetworkSpec& network) {
  sim::LinkConfig link;
  link.latency_us_min = static_cast<sim::TimeUs>(network.latency_us_min);
  link.latency_us_max = static_cast<sim::TimeUs>(network.latency_us_max);
  link.tail_ppm = network.tail_ppm;
  link.tail_us_min = static_cast<sim::TimeUs>(network.tail_us_min);
  link.tail_us_max = static_cast<sim::TimeUs>(network.tail_us_max);
  link.drop_ppm = network.drop_ppm;
  link.duplicate_ppm = network.duplicate_ppm;
  link.reorder_ppm = network.reorder_ppm;
  return link;
}

core::ReplicaConfig replica_config(const Scenario& scenario, core::ReplicaId id) {
  const ClusterSpec& cluster = scenario.cluster;
  core::ReplicaConfig config;
  config.id = id;
  config.members.reserve(cluster.replicas);
  for (core::ReplicaId member = 0; member < cluster.replicas; ++member) {
    config.members.push_back(member);
  }
  config.replication_factor = cluster.replication_factor;
  config.virtual_nodes = cluster.virtual_nodes;
  config.gossip_interval_us = cluster.gossip_interval_us;
  config.anti_entropy_interval_us = cluster.anti_entropy_interval_us;
  config.forward_timeout_us = cluster.forward_timeout_us;
  config.durable = cluster.durable;
  config.timestamp_source = cluster.timestamps;
  config.causal = cluster.consistency == Consistency::causal;
  config.track_versions = scenario.workload.sessions || config.causal;
  config.planted_bug = cluster.planted_bug;
  config.hot_keys = cluster.hot_keys;
  config.tombstone_gc.enabled = cluster.tombstone_gc.enabled;
  config.tombstone_gc.interval_us = cluster.tombstone_gc.interval_us;
  if (membership_in_use(scenario)) {
    config.membership.enabled = true;
    config.membership.processes = config.members;
    if (!cluster.initial_members.empty()) {
      config.members = cluster.initial_members;
      std::sort(config.members.begin(), config.members.end());
    }
  }
  return config;
}

// The number of client processes: the workload's, or enough for the script.
std::uint32_t client_count(const WorkloadSpec& workload) {
  std::uint32_t clients = workload.clients;
  for (const ScriptedOperation& operation : workload.script) {
    clients = std::max(clients, operation.client + 1);
  }
  return clients;
}

bool same_state(const core::KeyState& left, const core::KeyState& right) {
  // Equal states encode equally; compare the canonical bytes only when the
  // cheap comparison says they differ (a representation difference).
  return left == right || core::encode(left) == core::encode(right);
}

// Whether `theirs` already holds everything in `state` (a replica of a key
// against a copy left at a replica that no longer replicates it).
bool subsumes(const core::KeyState* theirs, const core::KeyState& state) {
  if (theirs == nullptr) {
    return false;
  }
  core::KeyState joined = *theirs;
  return !joined.merge(state);
}

// Whether `same(first, other)` holds between the first up replica and every
// other up one.
template <class Same>
bool up_replicas_agree(const std::vector<const core::Replica*>& nodes, Same same) {
  const core::Replica* first = nullptr;
  for (const core::Replica* node : nodes) {
    if (node == nullptr) {
      continue;
    }
    if (first == nullptr) {
      first = node;
    } else if (!same(*first, *node)) {
      return false;
    }
  }
  return true;
}

// Whether every up replica routes alike: equal hot-key tables.
bool tables_agree(const std::vector<const core::Replica*>& nodes) {
  return up_replicas_agree(nodes, [](const core::Replica& left, const core::Replica& right) {
    return std::equal(left.hot_keys().begin(), left.hot_keys().end(), right.hot_keys().begin(),
                      right.hot_keys().end());
  });
}

// Whether every up replica has the same view of the membership.
bool views_agree(const std::vector<const core::Replica*>& nodes) {
  return up_replicas_agree(nodes, [](const core::Replica& left, const core::Replica& right) {
    return left.membership() == right.membership();
  });
}

// Whether every replica of every key some up replica holds holds the same
// state (white-box; all replicas are up during the settle phase). With hot
// keys: the tables agree too, and a copy left at a replica that no longer
// replicates its key is subsumed by the key's replicas' states. With
// membership: the views agree too, and every key a replica holds without
// replicating it was handed off and acknowledged (its copy is subsumed).
bool replicas_agree(const sim::Simulation& simulation, std::uint32_t replicas, bool membership) {
  std::vector<const core::Replica*> nodes(replicas, nullptr);
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    nodes[id] = replica_at(simulation, id);
  }
  if (!tables_agree(nodes) || (membership && !views_agree(nodes))) {
    return false;
  }
  for (const core::Replica* node : nodes) {
    if (membership && node != nullptr && node->strays_pending() > 0) {
      return false;
    }
  }
  // Every up replica routes alike here (same ring, equal tables and views),
  // so a key's replica list is the same at each. The keyspaces are sorted by
  // key: one cursor per up replica walks them all in key order at once, so
  // each key's states at every replica are at hand without a search and its
  // replica list is computed once.
  using Cursor = core::Keyspace::Map::const_iterator;
  std::vector<Cursor> at(replicas);
  std::vector<Cursor> end(replicas);
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    if (nodes[id] != nullptr) {
      at[id] = nodes[id]->keyspace().begin();
      end[id] = nodes[id]->keyspace().end();
    }
  }
  std::vector<const core::KeyState*> held(replicas);  // the current key's, per replica
  const auto up = [&](core::ReplicaId other) {
    return other < replicas && nodes[other] != nullptr;
  };
  // Whether the current key's states agree. A copy held by a replica that
  // does not replicate the key must be subsumed by each up replica's state.
  // The others must all equal the state of the key's first up replica
  // (agreement, equal bytes, is an equivalence), which must hold the key if
  // any of them does.
  const auto key_agrees = [&](const std::vector<core::ReplicaId>& owners) {
    const auto first = std::find_if(owners.begin(), owners.end(), up);
    bool replicated = false;  // some replica of the key holds it
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      if (held[id] == nullptr) {
        continue;
      }
      if (std::find(owners.begin(), owners.end(), id) != owners.end()) {
        replicated = true;
        continue;
      }
      for (const core::ReplicaId other : owners) {  // a stray copy at `id`
        if (up(other) && !subsumes(held[other], *held[id])) {
          return false;
        }
      }
    }
    if (!replicated) {
      return true;
    }
    const core::KeyState* reference = held[*first];
    if (reference == nullptr) {
      return false;
    }
    for (const core::ReplicaId other : owners) {
      if (other != *first && up(other) &&
          (held[other] == nullptr || !same_state(*reference, *held[other]))) {
        return false;
      }
    }
    return true;
  };
  while (true) {
    const std::string* key = nullptr;  // the least key some cursor is at
    core::ReplicaId holder = 0;
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      if (nodes[id] != nullptr && at[id] != end[id] && (key == nullptr || at[id]->first < *key)) {
        key = &at[id]->first;
        holder = id;
      }
    }
    if (key == nullptr) {
      return true;
    }
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      const bool holds = nodes[id] != nullptr && at[id] != end[id] && at[id]->first == *key;
      held[id] = holds ? &at[id]->second : nullptr;
    }
    if (!key_agrees(nodes[holder]->replicas_of(*key))) {
      return false;
    }
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      if (held[id] != nullptr) {
        ++at[id];
      }
    }
  }
}

// With tombstone GC on, the settle phase also waits until no replica holds
// anything left to collect, so that the final states (and the memory the
// run reports) are what GC leaves.
bool tombstones_pending(const sim::Simulation& simulation, std::uint32_t replicas) {
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    const core::Replica* node = replica_at(simulation, id);
    if (node == nullptr) {
      continue;
    }
    for (const auto& [key, state] : node->keyspace()) {
      if (node->gc_collectible(state) != core::Collectible::nothing) {
        return true;
      }
    }
  }
  return false;
}

// The SADD and SREM operations (that may have taken effect) per set key.
struct SetOperations {
  std::vector<const Operation*> adds;
  std::vector<const Operation*> removes;
};

bool shares_member(const Operation& left, const Operation& right) {
  for (const std::string& member : left.command.args) {
    if (std::find(right.command.args.begin(), right.command.args.end(), member) !=
        right.command.args.end()) {
      return true;
    }
  }
  return false;
}

// store.concurrent_add_remove, approximated from the history: an SREM and an
// SADD of one element of one key, overlapping in time, sent to different
// replicas. One hit per such SREM.
void cover_concurrent_add_remove(sim::Simulation& simulation, const History& history) {
  std::map<std::string, SetOperations, std::less<>> by_key;
  for (const Operation& operation : history.operations) {
    const core::CommandKind kind = operation.command.kind;
    if (operation.outcome == OpOutcome::fail || operation.command.keys.empty() ||
        (kind != core::CommandKind::sadd && kind != core::CommandKind::srem)) {
      continue;
    }
    SetOperations& entry = by_key[operation.command.keys.front()];
    (kind == core::CommandKind::sadd ? entry.adds : entry.removes).push_back(&operation);
  }
  for (const auto& [key, operations] : by_key) {
    for (const Operation* remove : operations.removes) {
      const bool met = std::any_of(
          operations.adds.begin(), operations.adds.end(), [remove](const Operation* add) {
            return add->replica != remove->replica && add->invoke_us <= remove->complete_us &&
                   remove->invoke_us <= add->complete_us && shares_member(*add, *remove);
          });
      if (met) {
        simulation.cover(coverage::kConcurrentAddRemove);
      }
    }
  }
}

// Everything one run owns besides the simulation; processes point into it.
struct RunState {
  RunState(const Scenario& scenario, std::uint32_t clients)
      : workload(scenario.workload), recorder(clients), scripts(clients) {
    // The random workload's operations (scripted ones are few); capped, as
    // a hint must not turn a large scenario into a large allocation.
    constexpr std::size_t kReserveMax = 1U << 16U;
    recorder.reserve(std::min<std::size_t>(
        kReserveMax, std::size_t{clients} * scenario.workload.ops_per_client));
  }

  Workload workload;
  HistoryRecorder recorder;
  std::vector<core::ReplicaConfig> replica_configs;
  std::vector<std::vector<ScriptedOperation>> scripts;  // per client
};

sim::SimulationConfig simulation_config(const Scenario& scenario, std::uint64_t seed,
                                        std::uint32_t processes) {
  sim::SimulationConfig config;
  config.seed = seed;
  config.network.link = link_of(scenario.network);
  config.network.in_flight = scenario.network.drop_in_flight_on_partition
                                 ? sim::InFlightPolicy::drop
                                 : sim::InFlightPolicy::deliver;
  config.max_events = scenario.max_events;
  config.max_processes = processes;
  config.max_message_kinds = core::kPeerMessageKindMax + 1;
  return config;
}

void add_processes(sim::Simulation& simulation, const Scenario& scenario, RunState& state,
                   std::uint32_t clients) {
  const std::uint32_t replicas = scenario.cluster.replicas;
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    state.replica_configs.push_back(replica_config(scenario, id));
  }
  // Every replica starts from the same ring: build it once for the run.
  if (!state.replica_configs.empty()) {
    const auto seed = core::RingSeed::of(state.replica_configs.front());
    for (core::ReplicaConfig& config : state.replica_configs) {
      config.ring_seed = seed;
    }
  }
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    const core::ReplicaConfig* config = &state.replica_configs[id];
    simulation.add_process(
        [config](sim::ProcessId) { return std::make_unique<ReplicaProcess>(*config); });
  }
  const bool scripted = !scenario.workload.script.empty();
  for (const ScriptedOperation& operation : scenario.workload.script) {
    CRDTSIM_CHECK(operation.replica < replicas);
    state.scripts[operation.client].push_back(operation);
  }
  for (std::uint32_t index = 0; index < clients; ++index) {
    ClientSetup setup;
    setup.index = index;
    setup.replicas = replicas;
    setup.workload = &state.workload;
    setup.recorder = &state.recorder;
    setup.scripted = scripted;
    setup.script = &state.scripts[index];
    setup.deadline_us = scenario.workload_deadline_us;
    setup.causal = scenario.cluster.consistency == Consistency::causal;
    simulation.add_process(
        [setup](sim::ProcessId) { return std::make_unique<ClientProcess>(setup); });
  }
}

// Phase 1. Returns false if the simulation failed (a bound was hit).
bool run_workload(sim::Simulation& simulation, const Scenario& scenario, const RunState& state,
                  const Nemesis& nemesis) {
  const auto deadline_us = static_cast<sim::TimeUs>(scenario.workload_deadline_us);
  const auto timeline_end_us = static_cast<sim::TimeUs>(nemesis.timeline_end_us());
  while (simulation.now_us() < deadline_us) {
    const sim::TimeUs next_us = std::min(deadline_us, simulation.now_us() + kWorkloadStepUs);
    if (simulation.run_until(next_us) != sim::Outcome::ok) {
      return false;
    }
    if (state.recorder.all_finished() && state.recorder.outstanding() == 0 &&
        simulation.now_us() > timeline_end_us) {
      break;
    }
  }
  return true;
}

// Phase 2. Returns the first time of the final stretch of agreement, if the
// replicas agreed (and no request was outstanding) before settle_us passed.
std::optional<std::uint64_t> run_settle(sim::Simulation& simulation, const Scenario& scenario,
                                        const RunState& state) {
  const std::uint32_t replicas = scenario.cluster.replicas;
  const sim::TimeUs end_us = simulation.now_us() + static_cast<sim::TimeUs>(scenario.settle_us);
  std::optional<std::uint64_t> agreed_since;
  const bool gc = scenario.cluster.tombstone_gc.enabled;
  const bool membership = membership_in_use(scenario);
  while (true) {
    if (replicas_agree(simulation, replicas, membership) &&
        !(gc && tombstones_pending(simulation, replicas))) {
      if (!agreed_since) {
        agreed_since = static_cast<std::uint64_t>(simulation.now_us());
      }
      if (state.recorder.outstanding() == 0) {
        return agreed_since;
      }
    } else {
      agreed_since.reset();
    }
    if (simulation.now_us() >= end_us) {
      return std::nullopt;
    }
    const sim::TimeUs next_us = std::min(end_us, simulation.now_us() + kSettleStepUs);
    if (simulation.run_until(next_us) != sim::Outcome::ok) {
      return std::nullopt;
    }
  }
}

void sum_hot_key_stats(const core::ReplicaStats& stats, HotKeyStatistics& sum) {
  sum.promotions += stats.hot_key_promotions;
  sum.demotions += stats.hot_key_demotions;
  sum.became_ready += stats.hot_key_became_ready;
  sum.reads_by_extra += stats.hot_key_reads_by_extra;
  sum.strays_handed_off += stats.hot_key_strays_handed_off;
}

void snapshot(const sim::Simulation& simulation, std::uint32_t replicas, RunOutput& output) {
  output.replicas.resize(replicas);
  const core::Replica* any = nullptr;
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    ReplicaSnapshot& snapshot = output.replicas[id];
    snapshot.id = id;
    const core::Replica* replica = replica_at(simulation, id);
    snapshot.up = replica != nullptr;
    if (replica == nullptr) {
      continue;
    }
    any = replica;
    snapshot.keyspace = replica->keyspace();
    snapshot.stats = replica->stats();
    snapshot.members = replica->membership().members();
    sum_hot_key_stats(snapshot.stats, output.hot_keys);
  }
  if (any == nullptr) {
    return;
  }
  for (const ReplicaSnapshot& snapshot : output.replicas) {
    for (const auto& [key, state] : snapshot.keyspace) {
      if (!output.placement.contains(key)) {
        output.placement.emplace(key, any->replicas_of(key));
      }
    }
  }
}

}  // namespace

void measure_hottest_key(const History& history, std::uint32_t replicas, HotKeyStatistics& stats) {
  // Key (a view into the history) -> reads per executing replica.
  std::unordered_map<std::string_view, std::vector<std::uint64_t>> reads;
  for (const Operation& operation : history.operations) {
    if (operation.outcome != OpOutcome::ok || !operation.reply ||
        operation.command.keys.size() != 1 || core::is_write(operation.command.kind) ||
        operation.reply->metadata.executed_by >= replicas) {
      continue;
    }
    std::vector<std::uint64_t>& counts = reads[operation.command.keys.front()];
    counts.resize(replicas);
    counts[operation.reply->metadata.executed_by] += 1;
  }
  // The most read key; of equals, the first in key order.
  const std::pair<const std::string_view, std::vector<std::uint64_t>>* hottest = nullptr;
  std::uint64_t hottest_reads = 0;
  for (const auto& entry : reads) {
    std::uint64_t total = 0;
    for (const std::uint64_t count : entry.second) {
      total += count;
    }
    if (total > hottest_reads ||
        (total == hottest_reads && total > 0 && entry.first < hottest->first)) {
      hottest = &entry;
      hottest_reads = total;
    }
  }
  stats.hottest_key.clear();
  stats.hottest_reads = 0;
  stats.hottest_reads_by_replica.assign(replicas, 0);
  if (hottest != nullptr) {
    stats.hottest_key = hottest->first;
    stats.hottest_reads = hottest_reads;
    stats.hottest_reads_by_replica = hottest->second;
  }
}

RunOutput run(const Scenario& scenario, std::uint64_t seed, const RunOptions& options) {
  CRDTSIM_CHECK(scenario.cluster.replicas >= 1);
  const std::uint32_t replicas = scenario.cluster.replicas;
  const std::uint32_t clients = client_count(scenario.workload);
  RunState state(scenario, clients);

  sim::Simulation simulation(simulation_config(scenario, seed, replicas + clients));
  if (options.trace != nullptr) {
    simulation.set_trace_sink(options.trace);
  }
  for (const std::string_view name : coverage::kDeclared) {
    simulation.declare_coverage(name);
  }
  if (scenario.workload.sessions || scenario.cluster.consistency == Consistency::causal) {
    for (const std::string_view name : coverage::kDeclaredWithSessions) {
      simulation.declare_coverage(name);
    }
  }
  if (scenario.cluster.consistency == Consistency::causal) {
    for (const std::string_view name : coverage::kDeclaredCausal) {
      simulation.declare_coverage(name);
    }
  }
  if (scenario.cluster.hot_keys.enabled) {
    for (const std::string_view name : coverage::kDeclaredHotKeys) {
      simulation.declare_coverage(name);
    }
  }
  if (membership_in_use(scenario)) {
    for (const std::string_view name : coverage::kDeclaredMembership) {
      simulation.declare_coverage(name);
    }
  }
  add_processes(simulation, scenario, state, clients);
  Nemesis nemesis(simulation, scenario, replicas, clients, link_of(scenario.network));
  nemesis.schedule();

  RunOutput output;
  output.scenario = scenario.name;
  output.seed = seed;
  if (run_workload(simulation, scenario, state, nemesis)) {
    output.settle_started_us = static_cast<std::uint64_t>(simulation.now_us());
    nemesis.settle();
    output.converged_us = run_settle(simulation, scenario, state);
  } else {
    output.settle_started_us = static_cast<std::uint64_t>(simulation.now_us());
  }
  output.history = state.recorder.take(static_cast<std::uint64_t>(simulation.now_us()));
  output.fault_actions = nemesis.actions();
  output.fault_actions_exact = nemesis.actions_exact();
  output.membership = membership_in_use(scenario);
  if (output.membership) {
    output.final_members = nemesis.members();
  }
  cover_concurrent_add_remove(simulation, output.history);
  snapshot(simulation, replicas, output);
  output.hot_keys.enabled = scenario.cluster.hot_keys.enabled;
  measure_hottest_key(output.history, replicas, output.hot_keys);
  output.sim = simulation.result();
  return output;
}

}  // namespace crdtsim::harness
