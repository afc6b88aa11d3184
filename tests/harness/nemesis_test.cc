// The nemesis on a bare cluster of replicas (no clients): explicit
// timelines, the random schedule (swarm mixes, max_down), and settling.
#include "harness/nemesis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "harness/adapter.h"
#include "harness/runner.h"
#include "sim/simulation.h"
#include "tests/harness/standard_scenario.h"

namespace crdtsim::harness {
namespace {

// A simulation of `scenario`'s replicas only, with a nemesis.
class Cluster {
 public:
  Cluster(const Scenario& scenario, std::uint64_t seed) {
    sim::SimulationConfig config;
    config.seed = seed;
    config.max_processes = scenario.cluster.replicas;
    simulation_ = std::make_unique<sim::Simulation>(config);
    const std::uint32_t replicas = scenario.cluster.replicas;
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      core::ReplicaConfig replica;
      replica.id = id;
      for (core::ReplicaId member = 0; member < replicas; ++member) {
        replica.members.push_back(member);
      }
      replica.replication_factor = scenario.cluster.replication_factor;
      if (membership_in_use(scenario)) {
        replica.membership.enabled = true;
        replica.membership.processes = replica.members;
        if (!scenario.cluster.initial_members.empty()) {
          replica.members = scenario.cluster.initial_members;
        }
      }
      configs_.push_back(replica);
    }
    for (core::ReplicaId id = 0; id < replicas; ++id) {
      const core::ReplicaConfig* replica = &configs_[id];
      simulation_->add_process(
          [replica](sim::ProcessId) { return std::make_unique<ReplicaProcess>(*replica); });
    }
    nemesis_ = std::make_unique<Nemesis>(*simulation_, scenario, replicas, 0, config.network.link);
    nemesis_->schedule();
  }

  sim::Simulation& simulation() { return *simulation_; }
  Nemesis& nemesis() { return *nemesis_; }

  std::uint32_t down() const {
    std::uint32_t count = 0;
    for (core::ReplicaId id = 0; id < configs_.size(); ++id) {
      count += simulation_->state(id) == sim::ProcessState::up ? 0U : 1U;
    }
    return count;
  }
  bool any_cut() const {
    for (sim::ProcessId from = 0; from < configs_.size(); ++from) {
      for (sim::ProcessId to = 0; to < configs_.size(); ++to) {
        if (from != to && simulation_->is_cut(from, to)) {
          return true;
        }
      }
    }
    return false;
  }

 private:
  std::vector<core::ReplicaConfig> configs_;
  std::unique_ptr<sim::Simulation> simulation_;
  std::unique_ptr<Nemesis> nemesis_;
};

Scenario random_scenario() {
  Scenario scenario;
  scenario.cluster.replicas = 5;
  scenario.random_faults.enabled = true;
  scenario.random_faults.interval_us_min = 20'000;
  scenario.random_faults.interval_us_max = 100'000;
  scenario.workload_deadline_us = 3'000'000;
  return scenario;
}

TEST(Nemesis, SwarmGivesSeedsDifferentFaultMixes) {
  const Scenario scenario = random_scenario();
  std::set<std::uint32_t> mixes;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    Cluster cluster(scenario, seed);
    cluster.simulation().run_until(3'000'000);
    const NemesisStats& stats = cluster.nemesis().stats();
    EXPECT_NE(stats.random_kinds, 0U) << "seed " << seed;
    EXPECT_LE(stats.drop_ppm, scenario.random_faults.max_drop_ppm);
    EXPECT_LE(stats.duplicate_ppm, scenario.random_faults.max_duplicate_ppm);
    mixes.insert(stats.random_kinds);
    // Only the enabled kinds happen.
    const auto enabled = [&](RandomFaultKind kind) {
      return (stats.random_kinds >> static_cast<std::uint32_t>(kind) & 1U) != 0;
    };
    if (!enabled(RandomFaultKind::crash)) {
      EXPECT_EQ(stats.crashes, 0U);
    }
    if (!enabled(RandomFaultKind::pause)) {
      EXPECT_EQ(stats.pauses, 0U);
    }
    if (!enabled(RandomFaultKind::partition)) {
      EXPECT_EQ(stats.partitions, 0U);
    }
    if (!enabled(RandomFaultKind::loss)) {
      EXPECT_EQ(stats.loss_changes, 0U);
    }
    if (!enabled(RandomFaultKind::clock)) {
      EXPECT_EQ(stats.clock_jumps + stats.clock_drifts, 0U);
    }
  }
  EXPECT_GE(mixes.size(), 8U);
}

TEST(Nemesis, WithoutSwarmEveryKindHappens) {
  Scenario scenario = random_scenario();
  scenario.random_faults.swarm = false;
  Cluster cluster(scenario, 3);
  cluster.simulation().run_until(3'000'000);
  const NemesisStats& stats = cluster.nemesis().stats();
  // Every kind but membership, which only random_faults.membership enables.
  const std::uint32_t membership = 1U << static_cast<std::uint32_t>(RandomFaultKind::membership);
  EXPECT_EQ(stats.random_kinds, ((1U << kRandomFaultKinds) - 1) & ~membership);
  EXPECT_GT(stats.partitions, 0U);
  EXPECT_GT(stats.heals, 0U);
  EXPECT_GT(stats.crashes, 0U);
  EXPECT_GT(stats.restarts, 0U);
  EXPECT_GT(stats.pauses, 0U);
  EXPECT_GT(stats.resumes, 0U);
  EXPECT_GT(stats.clock_jumps + stats.clock_drifts, 0U);
  EXPECT_GT(stats.loss_changes, 0U);
}

TEST(Nemesis, RespectsMaxDown) {
  for (const std::uint32_t max_down : {1U, 2U}) {
    Scenario scenario = random_scenario();
    scenario.random_faults.swarm = false;
    scenario.random_faults.partitions = false;
    scenario.random_faults.clock_faults = false;
    scenario.random_faults.loss = false;
    scenario.random_faults.max_down = max_down;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      Cluster cluster(scenario, seed);
      std::uint32_t most_down = 0;
      for (sim::TimeUs time_us = 1'000; time_us <= 3'000'000; time_us += 1'000) {
        cluster.simulation().run_until(time_us);
        most_down = std::max(most_down, cluster.down());
      }
      EXPECT_EQ(most_down, max_down) << "seed " << seed;
      EXPECT_LE(cluster.nemesis().stats().max_down_seen, max_down);
    }
  }
}

TEST(Nemesis, SettleEndsEveryFaultForGood) {
  Scenario scenario = random_scenario();
  scenario.random_faults.swarm = false;
  scenario.random_faults.max_down = 2;
  scenario.workload_deadline_us = 10'000'000;
  Cluster cluster(scenario, 5);
  // Stop in the middle of the schedule: faults are in force and undos pending.
  bool saw_fault = false;
  for (sim::TimeUs time_us = 100'000; time_us <= 2'000'000; time_us += 100'000) {
    cluster.simulation().run_until(time_us);
    saw_fault = saw_fault || cluster.down() > 0 || cluster.any_cut();
  }
  EXPECT_TRUE(saw_fault);
  cluster.nemesis().settle();
  for (sim::TimeUs time_us = 2'010'000; time_us <= 4'000'000; time_us += 10'000) {
    cluster.simulation().run_until(time_us);
    ASSERT_EQ(cluster.down(), 0U) << "at " << time_us;
    ASSERT_FALSE(cluster.any_cut()) << "at " << time_us;
  }
}

TEST(Nemesis, ExplicitTimelineActsAtItsTimes) {
  Scenario scenario;
  scenario.cluster.replicas = 3;
  FaultEvent crash;
  crash.at_us = 100'000;
  crash.kind = FaultKind::crash;
  crash.replicas = {1};
  FaultEvent restart = crash;
  restart.at_us = 200'000;
  restart.kind = FaultKind::restart;
  FaultEvent one_way;
  one_way.at_us = 300'000;
  one_way.kind = FaultKind::one_way;
  one_way.replicas = {0, 2};
  FaultEvent heal;
  heal.at_us = 400'000;
  heal.kind = FaultKind::heal;
  FaultEvent flap;
  flap.at_us = 500'000;
  flap.kind = FaultKind::flap;
  flap.groups = {{0}, {1, 2}};
  flap.cut_us = 10'000;
  flap.healed_us = 20'000;
  flap.cycles = 3;
  scenario.timeline = {crash, restart, one_way, heal, flap};
  Cluster cluster(scenario, 1);
  EXPECT_EQ(cluster.nemesis().timeline_end_us(), 590'000U);
  sim::Simulation& simulation = cluster.simulation();
  simulation.run_until(150'000);
  EXPECT_EQ(simulation.state(1), sim::ProcessState::down);
  simulation.run_until(250'000);
  EXPECT_EQ(simulation.state(1), sim::ProcessState::up);
  simulation.run_until(350'000);
  EXPECT_TRUE(simulation.is_cut(0, 2));
  EXPECT_FALSE(simulation.is_cut(2, 0));
  simulation.run_until(450'000);
  EXPECT_FALSE(cluster.any_cut());
  simulation.run_until(505'000);
  EXPECT_TRUE(simulation.is_cut(0, 1));
  EXPECT_TRUE(simulation.is_cut(2, 0));
  EXPECT_FALSE(simulation.is_cut(1, 2));
  simulation.run_until(515'000);
  EXPECT_FALSE(cluster.any_cut());
  simulation.run_until(535'000);
  EXPECT_TRUE(simulation.is_cut(0, 1));
  simulation.run_until(600'000);
  EXPECT_FALSE(cluster.any_cut());
  EXPECT_EQ(cluster.nemesis().stats().partitions, 4U);  // one_way + 3 flap cycles
}

TEST(Nemesis, RandomFaultsInARunRespectMaxDownAndStillConverge) {
  Scenario scenario = testing::standard_scenario();
  scenario.timeline.clear();
  scenario.random_faults.enabled = true;
  scenario.random_faults.interval_us_min = 30'000;
  scenario.random_faults.interval_us_max = 150'000;
  scenario.random_faults.max_down = 2;
  std::set<std::uint64_t> crashes;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const RunOutput output = run(scenario, seed);
    EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
    EXPECT_TRUE(output.converged_us.has_value()) << "seed " << seed;
    for (const ReplicaSnapshot& replica : output.replicas) {
      EXPECT_TRUE(replica.up);
    }
    crashes.insert(output.sim.stats.crashes * 1'000 + output.sim.stats.pauses);
  }
  EXPECT_GE(crashes.size(), 2U);  // the seeds' mixes differ
}

// Membership: joins and leaves are given to the replica itself, taken only
// when allowed, recorded as explicit events when taken, and never bring the
// members below the replication factor.
FaultEvent membership_event(std::uint64_t at_us, FaultKind kind, core::ReplicaId replica) {
  FaultEvent event;
  event.at_us = at_us;
  event.kind = kind;
  event.replicas = {replica};
  return event;
}

TEST(Nemesis, JoinAndLeaveAreTakenWhenAllowedAndRecorded) {
  Scenario scenario;
  scenario.cluster.replicas = 5;
  scenario.cluster.replication_factor = 3;
  scenario.cluster.initial_members = {0, 1, 2, 3};
  scenario.workload_deadline_us = 2'000'000;
  FaultEvent crash;
  crash.at_us = 450'000;
  crash.kind = FaultKind::crash;
  crash.replicas = {0};
  scenario.timeline = {
      membership_event(100'000, FaultKind::join, 4),
      membership_event(200'000, FaultKind::leave, 0),
      membership_event(300'000, FaultKind::leave, 1),
      membership_event(400'000, FaultKind::leave, 2),  // below the factor: refused
      crash,
      membership_event(500'000, FaultKind::join, 0),  // down: refused
      membership_event(600'000, FaultKind::join, 4),  // already a member: refused
  };
  Cluster cluster(scenario, 7);
  cluster.simulation().run_until(1'500'000);
  const Nemesis& nemesis = cluster.nemesis();
  EXPECT_EQ(nemesis.members(), (std::vector<core::ReplicaId>{2, 3, 4}));
  EXPECT_EQ(nemesis.stats().joins, 1U);
  EXPECT_EQ(nemesis.stats().leaves, 2U);
  EXPECT_EQ(nemesis.stats().membership_refused, 3U);
  std::vector<FaultEvent> taken;
  for (const FaultEvent& action : nemesis.actions()) {
    if (action.kind == FaultKind::join || action.kind == FaultKind::leave) {
      taken.push_back(action);
    }
  }
  ASSERT_EQ(taken.size(), 3U);
  EXPECT_EQ(taken[0], membership_event(100'000, FaultKind::join, 4));
  EXPECT_EQ(taken[1], membership_event(200'000, FaultKind::leave, 0));
  EXPECT_EQ(taken[2], membership_event(300'000, FaultKind::leave, 1));
  for (const core::ReplicaId id : {1U, 2U, 3U, 4U}) {
    ASSERT_NE(replica_at(cluster.simulation(), id), nullptr);
    EXPECT_EQ(replica_at(cluster.simulation(), id)->membership().members(), nemesis.members())
        << "replica " << id;
  }
}

TEST(Nemesis, RandomMembershipChangesStayWithinTheFactor) {
  Scenario scenario = random_scenario();
  scenario.cluster.replicas = 6;
  scenario.cluster.initial_members = {0, 1, 2, 3};
  RandomFaults& random = scenario.random_faults;
  random.partitions = random.pauses = random.clock_faults = random.loss = false;
  random.crashes = true;
  random.membership = true;
  random.swarm = false;
  std::uint64_t changes = 0;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    Cluster cluster(scenario, seed);
    std::size_t fewest = 6;
    for (sim::TimeUs time_us = 50'000; time_us <= 3'000'000; time_us += 50'000) {
      cluster.simulation().run_until(time_us);
      fewest = std::min(fewest, cluster.nemesis().members().size());
    }
    const NemesisStats& stats = cluster.nemesis().stats();
    EXPECT_GE(fewest, scenario.cluster.replication_factor) << "seed " << seed;
    EXPECT_GT(stats.joins, 0U) << "seed " << seed;
    EXPECT_GT(stats.leaves, 0U) << "seed " << seed;
    std::uint64_t recorded = 0;
    for (const FaultEvent& action : cluster.nemesis().actions()) {
      recorded += action.kind == FaultKind::join || action.kind == FaultKind::leave ? 1U : 0U;
    }
    EXPECT_EQ(recorded, stats.joins + stats.leaves) << "seed " << seed;
    changes += stats.joins + stats.leaves;
  }
  EXPECT_GT(changes, 12U);
}

TEST(Nemesis, RecordedMembershipChangesReplayAsAnExplicitTimeline) {
  Scenario scenario = random_scenario();
  scenario.cluster.replicas = 6;
  scenario.cluster.initial_members = {0, 1, 2, 3};
  scenario.random_faults.membership = true;
  scenario.random_faults.swarm = false;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    Cluster random(scenario, seed);
    random.simulation().run_until(3'000'000);
    Scenario replay = scenario;
    replay.random_faults.enabled = false;
    replay.timeline = random.nemesis().actions();
    Cluster explicit_form(replay, seed);
    explicit_form.simulation().run_until(3'000'000);
    EXPECT_GT(random.nemesis().stats().joins + random.nemesis().stats().leaves, 0U);
    EXPECT_EQ(explicit_form.nemesis().members(), random.nemesis().members()) << "seed " << seed;
    EXPECT_EQ(explicit_form.nemesis().stats().joins, random.nemesis().stats().joins);
    EXPECT_EQ(explicit_form.nemesis().stats().leaves, random.nemesis().stats().leaves);
  }
}

}  // namespace
}  // namespace crdtsim::harness
