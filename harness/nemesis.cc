#include "harness/nemesis.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "harness/adapter.h"
#include "harness/coverage_points.h"
#include "sim/check.h"

namespace crdtsim::harness {

namespace {

constexpr sim::TimeUs kClockJumpUsMax = 1'000'000;
constexpr std::int32_t kClockDriftPpmMax = 500;
constexpr std::int64_t kFlapPhaseUsMin = 10'000;
constexpr std::int64_t kFlapPhaseUsMax = 100'000;
constexpr std::int64_t kFlapCyclesMin = 2;
constexpr std::int64_t kFlapCyclesMax = 5;

std::uint32_t bit_of(RandomFaultKind kind) {
  return 1U << static_cast<std::uint32_t>(kind);
}

}  // namespace

Nemesis::Nemesis(sim::Simulation& simulation, const Scenario& scenario, std::uint32_t replicas,
                 std::uint32_t clients, const sim::LinkConfig& base_link)
    : simulation_(&simulation),
      scenario_(&scenario),
      replicas_(replicas),
      clients_(clients),
      base_link_(base_link),
      random_(simulation.fork_stream("nemesis")) {
  CRDTSIM_CHECK(replicas_ >= 1);
  CRDTSIM_CHECK(replicas_ + clients_ <= simulation.process_count());
  members_ = scenario.cluster.initial_members;
  if (members_.empty()) {
    for (core::ReplicaId id = 0; id < replicas_; ++id) {
      members_.push_back(id);
    }
  }
  std::sort(members_.begin(), members_.end());
}

void Nemesis::schedule() {
  for (const FaultEvent& event : scenario_->timeline) {
    if (event.kind == FaultKind::flap) {
      apply_flap(event);
      continue;
    }
    simulation_->at(static_cast<sim::TimeUs>(event.at_us), [this, &event](sim::Simulation&) {
      if (!settled_) {
        apply(event);
      }
    });
  }
  const RandomFaults& spec = scenario_->random_faults;
  if (!spec.enabled) {
    return;
  }
  choose_swarm_kinds();
  if (stats_.random_kinds == 0) {
    return;
  }
  const std::uint64_t first_us = draw_interval_us();
  if (first_us < scenario_->workload_deadline_us) {
    simulation_->at(static_cast<sim::TimeUs>(first_us),
                    [this](sim::Simulation&) { random_step(); });
  }
}

std::uint64_t Nemesis::timeline_end_us() const {
  std::uint64_t end_us = 0;
  for (const FaultEvent& event : scenario_->timeline) {
    std::uint64_t event_end_us = event.at_us;
    if (event.kind == FaultKind::flap) {
      event_end_us += std::uint64_t{event.cycles} * (event.cut_us + event.healed_us);
    }
    end_us = std::max(end_us, event_end_us);
  }
  return end_us;
}

// --- the explicit timeline ---------------------------------------------------

void Nemesis::apply(const FaultEvent& event) {
  const auto& ids = event.replicas;
  for (const core::ReplicaId id : ids) {
    CRDTSIM_CHECK(id < replicas_);
  }
  const bool membership = event.kind == FaultKind::join || event.kind == FaultKind::leave;
  if (event.kind != FaultKind::flap && !membership) {
    record(event);  // (a membership change is recorded if taken)
  }
  switch (event.kind) {
    case FaultKind::partition:
      cut(groups_links(event.groups, event.clients_too));
      break;
    case FaultKind::one_way:
      CRDTSIM_CHECK(ids.size() >= 2);
      cut(sim::LinkSet::one_way(ids[0], ids[1]));
      break;
    case FaultKind::isolate:
      CRDTSIM_CHECK(!ids.empty());
      cut(event.clients_too ? sim::LinkSet::isolate(ids[0], replicas_ + clients_)
                            : replica_links_of(ids[0]));
      break;
    case FaultKind::bridge:
      CRDTSIM_CHECK(ids.size() >= 3);
      cut(sim::LinkSet::bridge({ids[0]}, ids[1], {ids[2]}));
      break;
    case FaultKind::flap:
      break;  // scheduled by apply_flap
    case FaultKind::heal:
      heal_all();
      break;
    case FaultKind::crash:
      std::for_each(ids.begin(), ids.end(), [this](core::ReplicaId id) { crash(id); });
      break;
    case FaultKind::restart:
      for (const core::ReplicaId id : ids) {
        stats_.restarts += simulation_->restart(id) ? 1U : 0U;
      }
      break;
    case FaultKind::pause:
      std::for_each(ids.begin(), ids.end(), [this](core::ReplicaId id) { pause(id); });
      break;
    case FaultKind::resume:
      for (const core::ReplicaId id : ids) {
        stats_.resumes += simulation_->resume(id) ? 1U : 0U;
      }
      break;
    case FaultKind::clock_jump:
      for (const core::ReplicaId id : ids) {
        simulation_->jump_clock(id, event.delta_us);
        ++stats_.clock_jumps;
      }
      break;
    case FaultKind::clock_drift:
      for (const core::ReplicaId id : ids) {
        simulation_->set_clock_drift(id, event.drift_ppm);
        ++stats_.clock_drifts;
      }
      break;
    case FaultKind::set_loss:
      set_loss(event.drop_ppm, event.duplicate_ppm, event.clients_too);
      break;
    case FaultKind::join:
    case FaultKind::leave:
      CRDTSIM_CHECK(!ids.empty());
      change_membership(ids[0], event.kind);
      break;
  }
}

void Nemesis::apply_flap(const FaultEvent& event) {
  CRDTSIM_CHECK(event.cut_us > 0);
  CRDTSIM_CHECK(event.healed_us > 0);
  const sim::LinkSet links = groups_links(event.groups, event.clients_too);
  for (std::uint32_t cycle = 0; cycle < event.cycles; ++cycle) {
    const std::uint64_t cut_at_us = event.at_us + cycle * (event.cut_us + event.healed_us);
    simulation_->at(static_cast<sim::TimeUs>(cut_at_us),
                    [this, links, &event, first = cycle == 0](sim::Simulation&) {
                      if (!settled_) {
                        if (first) {
                          record(event);
                        }
                        cut(links);
                      }
                    });
    simulation_->at(static_cast<sim::TimeUs>(cut_at_us + event.cut_us),
                    [this, links](sim::Simulation&) {
                      if (!settled_) {
                        heal(links);
                      }
                    });
  }
}

// --- the random schedule -----------------------------------------------------

void Nemesis::choose_swarm_kinds() {
  const RandomFaults& spec = scenario_->random_faults;
  std::uint32_t allowed = 0;
  allowed |= spec.partitions && replicas_ >= 2 ? bit_of(RandomFaultKind::partition) : 0;
  allowed |= spec.crashes && spec.max_down >= 1 ? bit_of(RandomFaultKind::crash) : 0;
  allowed |= spec.pauses && spec.max_down >= 1 ? bit_of(RandomFaultKind::pause) : 0;
  allowed |= spec.clock_faults ? bit_of(RandomFaultKind::clock) : 0;
  allowed |= spec.loss && replicas_ >= 2 ? bit_of(RandomFaultKind::loss) : 0;
  allowed |= spec.membership && replicas_ >= 2 ? bit_of(RandomFaultKind::membership) : 0;
  stats_.drop_ppm = spec.max_drop_ppm;
  stats_.duplicate_ppm = spec.max_duplicate_ppm;
  if (!spec.swarm || allowed == 0) {
    stats_.random_kinds = allowed;
    return;
  }
  // Each allowed kind is on with probability 1/2; an empty draw falls back to
  // one allowed kind, so the subset is never empty.
  std::uint32_t chosen = 0;
  std::vector<RandomFaultKind> candidates;
  for (std::uint32_t kind = 0; kind < kRandomFaultKinds; ++kind) {
    if ((allowed >> kind & 1U) != 0) {
      candidates.push_back(static_cast<RandomFaultKind>(kind));
      chosen |= random_.uniform(2) == 0 ? 1U << kind : 0;
    }
  }
  if (chosen == 0) {
    chosen = bit_of(candidates[random_.uniform(candidates.size())]);
  }
  stats_.random_kinds = chosen;
  stats_.drop_ppm =
      static_cast<std::uint32_t>(random_.uniform(std::uint64_t{spec.max_drop_ppm} + 1));
  stats_.duplicate_ppm =
      static_cast<std::uint32_t>(random_.uniform(std::uint64_t{spec.max_duplicate_ppm} + 1));
}

std::uint64_t Nemesis::draw_interval_us() {
  const RandomFaults& spec = scenario_->random_faults;
  const std::uint64_t low = std::max<std::uint64_t>(spec.interval_us_min, 1);
  const std::uint64_t high = std::max(low, spec.interval_us_max);
  return static_cast<std::uint64_t>(
      random_.range(static_cast<std::int64_t>(low), static_cast<std::int64_t>(high)));
}

void Nemesis::undo_later(sim::Simulation::Action action) {
  simulation_->after(static_cast<sim::TimeUs>(draw_interval_us()),
                     [this, undo = std::move(action)](sim::Simulation& simulation) {
                       if (!settled_) {
                         undo(simulation);
                       }
                     });
}

void Nemesis::random_step() {
  if (settled_) {
    return;
  }
  const std::optional<RandomFaultKind> kind = draw_applicable_kind();
  if (kind) {
    apply_random(*kind);
  }
  const std::uint64_t next_us =
      static_cast<std::uint64_t>(simulation_->now_us()) + draw_interval_us();
  if (next_us < scenario_->workload_deadline_us) {
    simulation_->at(static_cast<sim::TimeUs>(next_us), [this](sim::Simulation&) { random_step(); });
  }
}

void Nemesis::apply_random(RandomFaultKind kind) {
  switch (kind) {
    case RandomFaultKind::partition:
      random_partition();
      break;
    case RandomFaultKind::crash:
      random_crash_or_pause(true);
      break;
    case RandomFaultKind::pause:
      random_crash_or_pause(false);
      break;
    case RandomFaultKind::clock:
      random_clock();
      break;
    case RandomFaultKind::loss:
      random_loss();
      break;
    case RandomFaultKind::membership:
      random_membership();
      break;
  }
}

std::optional<RandomFaultKind> Nemesis::draw_applicable_kind() {
  std::uint32_t applicable = stats_.random_kinds;
  if (replicas_down() >= scenario_->random_faults.max_down) {
    applicable &= ~(bit_of(RandomFaultKind::crash) | bit_of(RandomFaultKind::pause));
  }
  if (applicable == 0) {
    return std::nullopt;  // only crashes or pauses, and max_down are down: skip
  }
  std::vector<RandomFaultKind> candidates;
  for (std::uint32_t kind = 0; kind < kRandomFaultKinds; ++kind) {
    if ((applicable >> kind & 1U) != 0) {
      candidates.push_back(static_cast<RandomFaultKind>(kind));
    }
  }
  return candidates[random_.uniform(candidates.size())];
}

std::vector<core::ReplicaId> Nemesis::shuffled_replicas() {
  std::vector<core::ReplicaId> order(replicas_);
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    order[id] = id;
  }
  for (std::size_t index = order.size(); index > 1; --index) {  // Fisher-Yates
    std::swap(order[index - 1], order[random_.uniform(index)]);
  }
  return order;
}

void Nemesis::random_partition() {
  CRDTSIM_CHECK(replicas_ >= 2);
  const std::vector<core::ReplicaId> order = shuffled_replicas();
  const std::uint64_t shape = random_.uniform(5);
  const auto split = static_cast<std::ptrdiff_t>(random_.range(1, replicas_ - 1));
  sim::LinkSet links;
  FaultEvent event;  // the action as a timeline event (see "Recording")
  event.kind = FaultKind::partition;
  if (shape == 1) {
    links = sim::LinkSet::one_way(order[0], order[1]);
    event.kind = FaultKind::one_way;
    event.replicas = {order[0], order[1]};
  } else if (shape == 2) {
    links = replica_links_of(order[0]);
    event.groups = {{order[0]}, {order.begin() + 1, order.end()}};
  } else if (shape == 3 && replicas_ >= 3) {
    // order[0] bridges order[1 .. split'] and the rest.
    const auto side = std::min<std::ptrdiff_t>(split, static_cast<std::ptrdiff_t>(replicas_) - 2);
    event.groups = {{order.begin() + 1, order.begin() + 1 + side},
                    {order.begin() + 1 + side, order.end()}};
    links = sim::LinkSet::bridge(event.groups[0], order[0], event.groups[1]);
  } else {
    event.groups = {{order.begin(), order.begin() + split}, {order.begin() + split, order.end()}};
    links = groups_links(event.groups, false);
  }
  if (shape != 4) {
    const std::size_t index = record(std::move(event));
    cut(links);
    undo_later([this, links, index, one_way = shape == 1](sim::Simulation& simulation) {
      heal(links);
      if (one_way) {
        record_one_way_undo();
        return;
      }
      // The cut and its undo: a one-cycle flap of the same groups.
      FaultEvent& recorded = actions_[index];
      recorded.kind = FaultKind::flap;
      recorded.cut_us = static_cast<std::uint64_t>(simulation.now_us()) - recorded.at_us;
      recorded.healed_us = 1;
      recorded.cycles = 1;
    });
    return;
  }
  // Flapping: cut and heal repeatedly, then stay healed.
  const std::int64_t cycles = random_.range(kFlapCyclesMin, kFlapCyclesMax);
  const std::int64_t cut_us = random_.range(kFlapPhaseUsMin, kFlapPhaseUsMax);
  const std::int64_t healed_us = random_.range(kFlapPhaseUsMin, kFlapPhaseUsMax);
  event.kind = FaultKind::flap;
  event.cut_us = static_cast<std::uint64_t>(cut_us);
  event.healed_us = static_cast<std::uint64_t>(healed_us);
  event.cycles = static_cast<std::uint32_t>(cycles);
  record(std::move(event));
  for (std::int64_t cycle = 0; cycle < cycles; ++cycle) {
    const sim::TimeUs cut_at_us = simulation_->now_us() + cycle * (cut_us + healed_us);
    simulation_->at(cut_at_us, [this, links](sim::Simulation&) {
      if (!settled_) {
        cut(links);
      }
    });
    simulation_->at(cut_at_us + cut_us, [this, links](sim::Simulation&) {
      if (!settled_) {
        heal(links);
      }
    });
  }
}

void Nemesis::random_crash_or_pause(bool crash_it) {
  std::vector<core::ReplicaId> up;
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    if (simulation_->state(id) == sim::ProcessState::up) {
      up.push_back(id);
    }
  }
  if (up.empty()) {
    return;
  }
  const core::ReplicaId victim = up[random_.uniform(up.size())];
  if (crash_it ? crash(victim) : pause(victim)) {
    stats_.max_down_seen = std::max(stats_.max_down_seen, replicas_down());
    FaultEvent event;
    event.kind = crash_it ? FaultKind::crash : FaultKind::pause;
    event.replicas = {victim};
    record(std::move(event));
    if (crash_it) {
      undo_later([this, victim](sim::Simulation& simulation) {
        if (simulation.restart(victim)) {
          ++stats_.restarts;
          FaultEvent undo;
          undo.kind = FaultKind::restart;
          undo.replicas = {victim};
          record(std::move(undo));
        }
      });
    } else {
      undo_later([this, victim](sim::Simulation& simulation) {
        if (simulation.resume(victim)) {
          ++stats_.resumes;
          FaultEvent undo;
          undo.kind = FaultKind::resume;
          undo.replicas = {victim};
          record(std::move(undo));
        }
      });
    }
  }
}

void Nemesis::random_clock() {
  const auto victim = static_cast<core::ReplicaId>(random_.uniform(replicas_));
  FaultEvent event;
  event.replicas = {victim};
  if (random_.uniform(2) == 0) {
    sim::TimeUs delta_us = random_.range(-kClockJumpUsMax, kClockJumpUsMax);
    delta_us = delta_us == 0 ? 1 : delta_us;
    simulation_->jump_clock(victim, delta_us);
    ++stats_.clock_jumps;
    event.kind = FaultKind::clock_jump;
    event.delta_us = delta_us;
  } else {
    event.kind = FaultKind::clock_drift;
    event.drift_ppm =
        static_cast<std::int32_t>(random_.range(-kClockDriftPpmMax, kClockDriftPpmMax));
    simulation_->set_clock_drift(victim, event.drift_ppm);
    ++stats_.clock_drifts;
  }
  record(std::move(event));
}

void Nemesis::random_loss() {
  const RandomFaults& spec = scenario_->random_faults;
  std::uint32_t drop_ppm = stats_.drop_ppm;
  std::uint32_t duplicate_ppm = stats_.duplicate_ppm;
  if (!spec.swarm) {
    drop_ppm = static_cast<std::uint32_t>(random_.uniform(std::uint64_t{spec.max_drop_ppm} + 1));
    duplicate_ppm =
        static_cast<std::uint32_t>(random_.uniform(std::uint64_t{spec.max_duplicate_ppm} + 1));
  }
  set_loss(drop_ppm, duplicate_ppm, false);
  FaultEvent event;
  event.kind = FaultKind::set_loss;
  event.drop_ppm = drop_ppm;
  event.duplicate_ppm = duplicate_ppm;
  record(std::move(event));
  undo_later([this](sim::Simulation&) {
    set_loss(base_link_.drop_ppm, base_link_.duplicate_ppm, false);
    FaultEvent undo;
    undo.kind = FaultKind::set_loss;
    undo.drop_ppm = base_link_.drop_ppm;
    undo.duplicate_ppm = base_link_.duplicate_ppm;
    record(std::move(undo));
  });
}

// --- membership --------------------------------------------------------------

// One change among those that apply right now: a join of an up non-member,
// or a leave of an up member while more than replication_factor remain.
void Nemesis::random_membership() {
  const std::uint32_t factor = scenario_->cluster.replication_factor;
  std::vector<std::pair<core::ReplicaId, FaultKind>> candidates;
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    if (simulation_->state(id) != sim::ProcessState::up) {
      continue;
    }
    const bool member = std::binary_search(members_.begin(), members_.end(), id);
    if (!member && members_.size() < core::HashRing::kMembersMax) {
      candidates.emplace_back(id, FaultKind::join);
    } else if (member && members_.size() > factor) {
      candidates.emplace_back(id, FaultKind::leave);
    }
  }
  if (candidates.empty()) {
    return;
  }
  const auto [replica, kind] = candidates[random_.uniform(candidates.size())];
  change_membership(replica, kind);
}

bool Nemesis::change_membership(core::ReplicaId replica, FaultKind kind) {
  CRDTSIM_CHECK(replica < replicas_);
  CRDTSIM_CHECK(kind == FaultKind::join || kind == FaultKind::leave);
  const bool join = kind == FaultKind::join;
  const auto found = std::lower_bound(members_.begin(), members_.end(), replica);
  const bool member = found != members_.end() && *found == replica;
  // Never below the replication factor, whatever the replicas' views say.
  if (join == member || (!join && members_.size() <= scenario_->cluster.replication_factor)) {
    ++stats_.membership_refused;
    return false;
  }
  bool taken = false;
  const core::MembershipChange change =
      join ? core::MembershipChange::join : core::MembershipChange::leave;
  simulation_->invoke(replica, [&taken, change](sim::Process& process, sim::Context& ctx) {
    taken = static_cast<ReplicaProcess&>(process).change_membership(ctx, change);
  });
  if (!taken) {
    ++stats_.membership_refused;  // down, or its own view refuses it
    return false;
  }
  if (join) {
    members_.insert(found, replica);
    ++stats_.joins;
  } else {
    members_.erase(found);
    ++stats_.leaves;
  }
  FaultEvent event;
  event.kind = kind;
  event.replicas = {replica};
  record(std::move(event));
  if (any_replica_link_cut()) {
    simulation_->cover(coverage::kMembershipHandoffDuringPartition);
  }
  return true;
}

bool Nemesis::any_replica_link_cut() const {
  for (sim::ProcessId from = 0; from < replicas_; ++from) {
    for (sim::ProcessId to = 0; to < replicas_; ++to) {
      if (from != to && simulation_->is_cut(from, to)) {
        return true;
      }
    }
  }
  return false;
}

// --- recording ---------------------------------------------------------------

std::size_t Nemesis::record(FaultEvent event) {
  event.at_us = static_cast<std::uint64_t>(simulation_->now_us());
  actions_.push_back(std::move(event));
  return actions_.size() - 1;
}

// A one-way cut was healed: as a timeline, every link healed, then the
// replica-to-replica links that stay cut cut again, one by one.
void Nemesis::record_one_way_undo() {
  FaultEvent heal_event;
  heal_event.kind = FaultKind::heal;
  record(std::move(heal_event));
  const std::uint32_t processes = replicas_ + clients_;
  for (sim::ProcessId from = 0; from < processes; ++from) {
    for (sim::ProcessId to = 0; to < processes; ++to) {
      if (from == to || !simulation_->is_cut(from, to)) {
        continue;
      }
      if (from >= replicas_ || to >= replicas_) {
        actions_exact_ = false;  // a client link: no timeline kind re-cuts it alone
        continue;
      }
      FaultEvent again;
      again.kind = FaultKind::one_way;
      again.replicas = {static_cast<core::ReplicaId>(from), static_cast<core::ReplicaId>(to)};
      record(std::move(again));
    }
  }
}

// Keeps in each recorded flap only the cycles that started by now.
void Nemesis::trim_recorded_flaps() {
  const auto now_us = static_cast<std::uint64_t>(simulation_->now_us());
  for (FaultEvent& event : actions_) {
    if (event.kind != FaultKind::flap) {
      continue;
    }
    const std::uint64_t period_us = event.cut_us + event.healed_us;
    std::uint32_t started = 1;  // recorded at its first cut
    while (started < event.cycles && event.at_us + started * period_us <= now_us) {
      ++started;
    }
    event.cycles = started;
  }
}

// --- primitives --------------------------------------------------------------

void Nemesis::cut(const sim::LinkSet& links) {
  if (simulation_->cut(links) > 0) {
    ++stats_.partitions;
    if (stats_.joins + stats_.leaves > 0 && hand_off_pending()) {
      simulation_->cover(coverage::kMembershipHandoffDuringPartition);
    }
  }
}

bool Nemesis::hand_off_pending() const {
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    const core::Replica* replica = replica_at(*simulation_, id);
    if (replica != nullptr && replica->strays_pending() > 0) {
      return true;
    }
  }
  return false;
}

void Nemesis::heal(const sim::LinkSet& links) {
  if (simulation_->heal(links) > 0) {
    after_heal();
  }
}

void Nemesis::heal_all() {
  if (simulation_->heal_all() > 0) {
    after_heal();
  }
}

void Nemesis::after_heal() {
  ++stats_.heals;
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    const core::Replica* replica = replica_at(*simulation_, id);
    if (replica != nullptr && replica->delta_log().size() > 0) {
      simulation_->cover(coverage::kHealedWithDeltasInFlight);
      return;
    }
  }
}

void Nemesis::set_loss(std::uint32_t drop_ppm, std::uint32_t duplicate_ppm, bool clients_too) {
  sim::LinkConfig link = base_link_;
  link.drop_ppm = drop_ppm;
  link.duplicate_ppm = duplicate_ppm;
  const std::uint32_t processes = clients_too ? replicas_ + clients_ : replicas_;
  for (sim::ProcessId from = 0; from < processes; ++from) {
    for (sim::ProcessId to = 0; to < processes; ++to) {
      if (from != to) {
        simulation_->set_link(from, to, link);
      }
    }
  }
  loss_changed_ = true;
  ++stats_.loss_changes;
}

bool Nemesis::crash(core::ReplicaId replica) {
  const bool crashed = simulation_->crash(replica);
  stats_.crashes += crashed ? 1U : 0U;
  return crashed;
}

bool Nemesis::pause(core::ReplicaId replica) {
  const bool paused = simulation_->pause(replica);
  stats_.pauses += paused ? 1U : 0U;
  return paused;
}

std::uint32_t Nemesis::replicas_down() const {
  std::uint32_t down = 0;
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    down += simulation_->state(id) == sim::ProcessState::up ? 0U : 1U;
  }
  return down;
}

sim::LinkSet Nemesis::replica_links_of(core::ReplicaId replica) const {
  sim::LinkSet links;
  for (core::ReplicaId other = 0; other < replicas_; ++other) {
    if (other != replica) {
      links.add(replica, other);
      links.add(other, replica);
    }
  }
  return links;
}

sim::LinkSet Nemesis::groups_links(const std::vector<std::vector<core::ReplicaId>>& groups,
                                   bool clients_too) const {
  std::vector<std::vector<sim::ProcessId>> members(groups.begin(), groups.end());
  for (const std::vector<sim::ProcessId>& group : members) {
    for (const sim::ProcessId id : group) {
      CRDTSIM_CHECK(id < replicas_);
    }
  }
  if (clients_too) {
    // Each client joins the group of its home replica (client index mod R).
    for (std::uint32_t client = 0; client < clients_; ++client) {
      const core::ReplicaId home = client % replicas_;
      for (std::vector<sim::ProcessId>& group : members) {
        if (std::find(group.begin(), group.end(), home) != group.end()) {
          group.push_back(replicas_ + client);
          break;
        }
      }
    }
  }
  return sim::LinkSet::groups(members);
}

// --- settle ------------------------------------------------------------------

void Nemesis::settle() {
  trim_recorded_flaps();
  settled_ = true;
  heal_all();
  if (loss_changed_ || base_link_.drop_ppm != 0 || base_link_.duplicate_ppm != 0) {
    sim::LinkConfig link = base_link_;
    link.drop_ppm = 0;
    link.duplicate_ppm = 0;
    const std::uint32_t processes = replicas_ + clients_;
    for (sim::ProcessId from = 0; from < processes; ++from) {
      for (sim::ProcessId to = 0; to < processes; ++to) {
        if (from != to) {
          simulation_->set_link(from, to, link);
        }
      }
    }
  }
  for (core::ReplicaId id = 0; id < replicas_; ++id) {
    if (simulation_->state(id) == sim::ProcessState::down) {
      stats_.restarts += simulation_->restart(id) ? 1U : 0U;
    } else if (simulation_->state(id) == sim::ProcessState::paused) {
      stats_.resumes += simulation_->resume(id) ? 1U : 0U;
    }
    if (stats_.clock_drifts > 0) {
      simulation_->set_clock_drift(id, 0);
    }
  }
}

}  // namespace crdtsim::harness
