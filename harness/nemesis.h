#pragma once
// The nemesis: turns a scenario's fault timeline and randomized fault
// schedule into simulator actions, and ends every fault at the settle phase.
//
// Explicit timeline: each FaultEvent runs at its at_us. Partitions (groups,
// one_way, isolate, bridge, flap) cut replica-to-replica links only; with
// clients_too, isolate also cuts the replica's client links and groups /
// flap put each client in the group of its home replica (client index mod
// replicas). set_loss sets drop and duplicate rates on every replica-to-
// replica link (every link with clients_too), the rest of the link behaviour
// staying the scenario's.
//
// Membership (docs/membership.md): join and leave give the change to the
// replica itself (sim::Simulation::invoke); the nemesis keeps the intended
// members (members()), skips a change of a replica that is down, a no-op, or
// a leave that would leave fewer than replication_factor members, and
// records only the changes the replica took. The random kind `membership`
// (only with RandomFaults::membership) picks one such change among the up
// replicas. Membership changes are never undone, not even by settle().
//
// Random schedule (RandomFaults::enabled), from the seed's "nemesis" stream:
// every range(interval_us_min, interval_us_max) until the workload deadline,
// one fault among the enabled kinds that applies right now: a partition of a
// random shape (groups, one-way, isolate, bridge, flapping), a crash or a
// pause (never more than max_down replicas down or paused at once, whatever
// took them down), a clock jump (|delta| <= 1 s) or drift (|ppm| <= 500), or
// loss (drop / duplicate rates up to the maxima). Partitions, crashes, pauses
// and loss are undone after range(interval_us_min, interval_us_max). With
// swarm, each seed first enables a random non-empty subset of the kinds and
// draws its own loss rates.
//
// settle(): the faults stop. Pending fault actions become no-ops, every link
// heals, loss stops (drop and duplicate 0 on every link, including the
// scenario's baseline), crashed replicas restart, paused ones resume and
// clock drift returns to 0 (clock offsets stay: a real clock is not stepped
// back into agreement).
//
// Whenever a heal happens while some up replica holds unacknowledged deltas,
// the coverage point nemesis.partition_healed_with_deltas_in_flight is hit.
//
// Recording: every fault action that takes effect (explicit or random) is
// also appended to actions() as an explicit FaultEvent, in the order the
// actions ran, so that the timeline {actions()} with random faults off
// replays the same faults (the shrinker's explicit form). Random actions map
// onto timeline kinds: a partition of groups, an isolation or a bridge and
// its undo become a one-cycle flap of the equivalent groups (cut for as long
// as it lasted, healed_us 1), or a `partition` when settle came first; a
// flapping partition a flap; a one-way cut a one_way, and its undo a heal
// followed by one one_way per replica-to-replica link still cut; crash,
// pause, clock and loss actions and their undos the same kinds. Flaps keep
// only the cycles that started before settle. Recording never draws from the
// nemesis stream or changes what the simulation does. actions_exact() is
// false if a one-way undo had to heal client links it could not re-cut.

#include <cstdint>
#include <optional>
#include <vector>

#include "harness/scenario.h"
#include "sim/network.h"
#include "sim/simulation.h"

namespace crdtsim::harness {

// The random fault kinds (bit positions in NemesisStats::random_kinds).
enum class RandomFaultKind : std::uint8_t {
  partition = 0,
  crash = 1,
  pause = 2,
  clock = 3,
  loss = 4,
  membership = 5,
};
inline constexpr std::uint32_t kRandomFaultKinds = 6;

struct NemesisStats {
  std::uint32_t random_kinds = 0;  // bit i: RandomFaultKind i is enabled
  std::uint32_t drop_ppm = 0;      // swarm's loss rates (random loss)
  std::uint32_t duplicate_ppm = 0;
  std::uint64_t partitions = 0;  // cuts applied (flap cycles count once each)
  std::uint64_t heals = 0;
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  std::uint64_t pauses = 0;
  std::uint64_t resumes = 0;
  std::uint64_t clock_jumps = 0;
  std::uint64_t clock_drifts = 0;
  std::uint64_t loss_changes = 0;
  std::uint32_t max_down_seen = 0;  // most replicas down or paused at once (random faults)
  std::uint64_t joins = 0;          // membership changes the replicas took
  std::uint64_t leaves = 0;
  std::uint64_t membership_refused = 0;  // asked, not taken (down, below the factor, no-op)
};

class Nemesis {
 public:
  // Replicas are processes 0 .. replicas-1, clients replicas .. +clients-1.
  // `base_link` is the scenario's link behaviour (what undoing loss restores).
  // Borrows `simulation` and `scenario`; both must outlive this.
  Nemesis(sim::Simulation& simulation, const Scenario& scenario, std::uint32_t replicas,
          std::uint32_t clients, const sim::LinkConfig& base_link);

  // Schedules the explicit timeline and the random schedule. Call once,
  // before running.
  void schedule();
  // The settle phase (see above). Call between runs; afterwards every
  // scheduled fault action does nothing.
  void settle();

  // The latest time at which an explicit timeline event acts (flap: its last
  // heal). 0 for an empty timeline.
  std::uint64_t timeline_end_us() const;
  const NemesisStats& stats() const { return stats_; }
  // The fault actions taken so far, as explicit events (see "Recording").
  const std::vector<FaultEvent>& actions() const { return actions_; }
  bool actions_exact() const { return actions_exact_; }
  // The members after every membership change taken so far (sorted): the
  // final membership once the run is over.
  const std::vector<core::ReplicaId>& members() const { return members_; }

 private:
  void apply(const FaultEvent& event);
  void apply_flap(const FaultEvent& event);
  void random_step();
  std::optional<RandomFaultKind> draw_applicable_kind();
  void apply_random(RandomFaultKind kind);
  void random_partition();
  void random_crash_or_pause(bool crash);
  void random_clock();
  void random_loss();
  void random_membership();
  // A join or leave of `replica`, given to the replica itself. Returns
  // whether it was taken (the replica is up and the change is allowed).
  bool change_membership(core::ReplicaId replica, FaultKind kind);
  bool any_replica_link_cut() const;
  bool hand_off_pending() const;  // some up replica holds strays not yet handed off
  void choose_swarm_kinds();

  void cut(const sim::LinkSet& links);
  void heal(const sim::LinkSet& links);
  void heal_all();
  void set_loss(std::uint32_t drop_ppm, std::uint32_t duplicate_ppm, bool clients_too);
  void after_heal();
  bool crash(core::ReplicaId replica);
  bool pause(core::ReplicaId replica);
  std::uint32_t replicas_down() const;
  void undo_later(sim::Simulation::Action action);
  std::uint64_t draw_interval_us();

  sim::LinkSet replica_links_of(core::ReplicaId replica) const;
  sim::LinkSet groups_links(const std::vector<std::vector<core::ReplicaId>>& groups,
                            bool clients_too) const;
  std::vector<core::ReplicaId> shuffled_replicas();

  std::size_t record(FaultEvent event);
  void record_one_way_undo();
  void trim_recorded_flaps();

  sim::Simulation* simulation_;
  const Scenario* scenario_;
  std::uint32_t replicas_;
  std::uint32_t clients_;
  sim::LinkConfig base_link_;
  sim::Prng random_;
  NemesisStats stats_;
  bool settled_ = false;
  bool loss_changed_ = false;
  std::vector<FaultEvent> actions_;
  bool actions_exact_ = true;
  std::vector<core::ReplicaId> members_;  // sorted
};

}  // namespace crdtsim::harness
