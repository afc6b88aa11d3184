#pragma once
// Scenario: everything a run needs besides the seed: cluster, workload,
// network, faults, properties, settle time. Plain data with documented
// defaults; the JSON scenario format (docs/scenarios.md) maps onto it
// field for field.

#include <cstdint>
#include <string>
#include <vector>

#include "core/replica/replica.h"
#include "core/store/command.h"

namespace crdtsim::harness {

enum class Consistency : std::uint8_t { eventual = 0, causal = 1 };

// Tombstone garbage collection (core/replication/tombstone_gc.h): off by
// default, so scenarios without it keep their traces.
struct TombstoneGcSpec {
  bool enabled = false;
  std::uint64_t interval_us = 100'000;  // between a coordinator's rounds

  friend bool operator==(const TombstoneGcSpec&, const TombstoneGcSpec&) = default;
};

struct ClusterSpec {
  std::uint32_t replicas = 3;
  std::uint32_t replication_factor = 3;
  std::uint32_t virtual_nodes = 64;
  Consistency consistency = Consistency::eventual;
  bool durable = true;
  // LWW timestamp source (core/clock/write_clock.h): lamport, hlc, or
  // physical (only to show the writes it loses).
  core::TimestampSource timestamps = core::TimestampSource::lamport;
  std::uint64_t gossip_interval_us = 20'000;
  std::uint64_t anti_entropy_interval_us = 200'000;
  std::uint64_t forward_timeout_us = 100'000;
  core::PlantedBug planted_bug = core::PlantedBug::none;
  // Adaptive replication of hot keys (core/replication/hot_keys.h); off by
  // default, and then nothing of it runs (traces stay as they were).
  core::HotKeysConfig hot_keys;
  TombstoneGcSpec tombstone_gc;
  // Membership changes (docs/membership.md): the replicas that are members
  // of the ring at the start; empty: all of them. The others run, own no
  // key, and forward client requests.
  std::vector<core::ReplicaId> initial_members;

  friend bool operator==(const ClusterSpec&, const ClusterSpec&) = default;
};

enum class KeyDistribution : std::uint8_t { uniform = 0, zipfian = 1, hotspot = 2 };
enum class ReplicaChoice : std::uint8_t { sticky = 0, roaming = 1 };

// Relative weights of the command families a client draws from (0 disables).
struct OperationMix {
  std::uint32_t registers = 3;        // SET, GET, DEL on register keys
  std::uint32_t multi = 1;            // MSET, MGET over register keys
  std::uint32_t counters = 3;         // INCRBY, DECRBY, GET on counter keys
  std::uint32_t g_counters = 1;       // GINCRBY, GGET
  std::uint32_t sets = 3;             // SADD, SREM, SMEMBERS, SISMEMBER, SCARD, DEL
  std::uint32_t g_sets = 1;           // GSADD, GSMEMBERS
  std::uint32_t maps = 2;             // HSET, HGET, HDEL, HGETALL, DEL
  std::uint32_t reads_ppm = 300'000;  // share of reads within a family
  // Create a fresh item, then delete it (Workload::draw_churn). Last, so
  // that positional initializers of the fields above keep their meaning.
  std::uint32_t churn = 0;
  // DEL of 2 or 3 keys of different families at once (register, counter, set
  // and map keys): the command is split across the keys' replicas and the
  // reply joins what every part removed. Off by default, so that scenarios
  // written before it draw exactly the operations they drew then.
  std::uint32_t multi_del = 0;

  friend bool operator==(const OperationMix&, const OperationMix&) = default;
};

// An operation spelled out (explicit workloads; what shrinking produces).
struct ScriptedOperation {
  std::uint32_t client = 0;
  std::uint64_t at_us = 0;  // not before this time (and after the client's previous op)
  core::ReplicaId replica = 0;
  core::Command command;

  friend bool operator==(const ScriptedOperation&, const ScriptedOperation&) = default;
};

struct WorkloadSpec {
  std::uint32_t clients = 4;
  std::uint32_t ops_per_client = 50;  // random workload: operations per client
  std::uint32_t keys = 8;             // per family; key names are "<family>:<n>"
  KeyDistribution distribution = KeyDistribution::uniform;
  std::uint32_t zipf_exponent_milli = 990;  // s = 0.99
  std::uint32_t hotspot_keys = 1;           // the hot keys are the first ones
  std::uint32_t hotspot_ppm = 800'000;      // share of ops on them
  // Every this many operations of a client, the popularity ranking moves by
  // keys / 2 (key n takes the popularity key n - keys/2 had): the hot set
  // cools and another heats up. 0: never.
  std::uint32_t rotate_every_ops = 0;
  OperationMix mix;
  std::uint64_t think_us_min = 0;
  std::uint64_t think_us_max = 20'000;
  ReplicaChoice replica_choice = ReplicaChoice::roaming;
  std::uint64_t request_timeout_us = 500'000;
  // Each client is one session: its requests carry a session token (the
  // versions its operations observed), and replicas refuse to serve a request
  // while behind it (SESSION_BEHIND, a definite failure) and fetch the rest.
  bool sessions = false;
  // When non-empty, the workload is exactly these operations (no randomness).
  std::vector<ScriptedOperation> script;

  friend bool operator==(const WorkloadSpec&, const WorkloadSpec&) = default;
};

struct NetworkSpec {
  std::uint64_t latency_us_min = 100;
  std::uint64_t latency_us_max = 2'000;
  std::uint32_t tail_ppm = 0;
  std::uint64_t tail_us_min = 10'000;
  std::uint64_t tail_us_max = 100'000;
  std::uint32_t drop_ppm = 0;
  std::uint32_t duplicate_ppm = 0;
  std::uint32_t reorder_ppm = 0;
  bool drop_in_flight_on_partition = false;

  friend bool operator==(const NetworkSpec&, const NetworkSpec&) = default;
};

enum class FaultKind : std::uint8_t {
  partition = 0,  // groups: replicas split into groups
  one_way = 1,    // replicas[0] can no longer send to replicas[1]
  isolate = 2,    // replicas[0] cut from every other replica
  bridge = 3,     // replicas {a, b, c}: a and c each reach b, not each other
  flap = 4,       // groups, cut and healed `cycles` times
  heal = 5,       // every link healed
  crash = 6,
  restart = 7,
  pause = 8,
  resume = 9,
  clock_jump = 10,   // replicas[0]'s clock moves by delta_us (may be negative)
  clock_drift = 11,  // replicas[0]'s clock drifts by drift_ppm
  set_loss = 12,     // network drop_ppm / duplicate_ppm from now on
  join = 13,         // replicas[0] joins the ring (a membership change)
  leave = 14,        // replicas[0] decommissions itself
};

// One step of an explicit fault timeline. Partitions cut replica-to-replica
// links only; clients keep reaching every replica unless `clients_too`.
struct FaultEvent {
  std::uint64_t at_us = 0;
  FaultKind kind = FaultKind::heal;
  std::vector<std::vector<core::ReplicaId>> groups;  // partition, flap
  std::vector<core::ReplicaId> replicas;             // the other kinds
  std::int64_t delta_us = 0;                         // clock_jump
  std::int32_t drift_ppm = 0;                        // clock_drift
  std::uint32_t drop_ppm = 0;                        // set_loss
  std::uint32_t duplicate_ppm = 0;                   // set_loss
  std::uint64_t cut_us = 0;                          // flap
  std::uint64_t healed_us = 0;                       // flap
  std::uint32_t cycles = 0;                          // flap
  bool clients_too = false;

  friend bool operator==(const FaultEvent&, const FaultEvent&) = default;
};

// A randomized fault schedule drawn from the seed (swarm testing: each seed
// enables its own subset of fault kinds, each with its own rate).
struct RandomFaults {
  bool enabled = false;
  std::uint64_t interval_us_min = 100'000;  // time between fault actions
  std::uint64_t interval_us_max = 500'000;
  bool partitions = true;
  bool crashes = true;
  bool pauses = true;
  bool clock_faults = true;
  bool loss = true;
  // Joins of non-members and leaves of members (never below the
  // replication factor). Off by default: it changes who owns the keys.
  bool membership = false;
  std::uint32_t max_drop_ppm = 100'000;
  std::uint32_t max_duplicate_ppm = 50'000;
  std::uint32_t max_down = 1;  // replicas crashed or paused at once
  bool swarm = true;           // each seed enables a random subset of the above

  friend bool operator==(const RandomFaults&, const RandomFaults&) = default;
};

struct Properties {
  bool convergence = true;
  bool no_lost_writes = true;
  bool liveness = true;
  bool linearizability = false;  // the single-node mode; or to show a violation
  bool determinism = false;      // run twice, compare trace hashes
  // read_your_writes, monotonic_reads, monotonic_writes, writes_follow_reads
  // (harness/checkers/sessions.h). Requires workload.sessions.
  bool session_guarantees = false;
  // causal_consistency (harness/checkers/causal.h). Requires the causal level.
  bool causal_consistency = false;

  friend bool operator==(const Properties&, const Properties&) = default;
};

struct Scenario {
  std::string name = "unnamed";
  std::string description;
  ClusterSpec cluster;
  WorkloadSpec workload;
  NetworkSpec network;
  std::vector<FaultEvent> timeline;
  RandomFaults random_faults;
  Properties properties;
  std::uint64_t workload_deadline_us = 30'000'000;  // faults and ops stop by then
  std::uint64_t settle_us = 10'000'000;             // bound on convergence after settling
  std::uint64_t max_events = 20'000'000;
  std::uint64_t seed_first = 1;  // default seed range [seed_first, seed_last]
  std::uint64_t seed_last = 100;
  // A demonstration scenario (docs/consistency.md): names the property that
  // some seeds must violate (a guarantee the configuration does not make);
  // empty for the scenarios that must pass.
  std::string expected_failure;
  // Properties the same demonstrated weakness may violate as well (one stale
  // read can break both read-your-writes and monotonic reads). Requires
  // expected_failure.
  std::vector<std::string> also_violated;
  // True for expected_failure and the also_violated properties.
  bool violation_expected(const std::string& property) const {
    if (!expected_failure.empty() && property == expected_failure) {
      return true;
    }
    for (const std::string& other : also_violated) {
      if (other == property) {
        return true;
      }
    }
    return false;
  }

  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Whether the scenario changes or restricts membership: initial members
// given, a join or leave in the timeline, or random membership faults.
// Without it nothing of membership runs (traces stay as they were).
inline bool membership_in_use(const Scenario& scenario) {
  if (!scenario.cluster.initial_members.empty() ||
      (scenario.random_faults.enabled && scenario.random_faults.membership)) {
    return true;
  }
  for (const FaultEvent& event : scenario.timeline) {
    if (event.kind == FaultKind::join || event.kind == FaultKind::leave) {
      return true;
    }
  }
  return false;
}

}  // namespace crdtsim::harness
