// The runner end to end: a real cluster of replicas behind the adapter,
// simulated clients, the nemesis and the settle phase.
#include "harness/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replication/hash_ring.h"
#include "harness/client.h"
#include "harness/coverage_points.h"
#include "harness/workload.h"
#include "tests/harness/standard_scenario.h"

namespace crdtsim::harness {
namespace {

using testing::healthy_scenario;
using testing::standard_scenario;

std::uint64_t hits(const RunOutput& output, std::string_view name) {
  const auto found = output.sim.coverage.find(name);
  return found == output.sim.coverage.end() ? 0 : found->second;
}

// Every replica of every key holds byte-identical state in the snapshots.
void expect_converged(const RunOutput& output) {
  ASSERT_TRUE(output.converged_us.has_value());
  EXPECT_GE(*output.converged_us, output.settle_started_us);
  for (const auto& [key, replicas] : output.placement) {
    std::optional<core::Bytes> first;
    for (const core::ReplicaId id : replicas) {
      ASSERT_LT(id, output.replicas.size());
      ASSERT_TRUE(output.replicas[id].up);
      const core::KeyState* state = output.replicas[id].keyspace.find(key);
      ASSERT_NE(state, nullptr) << key << " missing at replica " << id;
      const core::Bytes bytes = core::encode(*state);
      if (!first) {
        first = bytes;
      }
      EXPECT_EQ(*first, bytes) << key << " differs at replica " << id;
    }
  }
}

// The key index of a single-key operation ("<family>:<n>" -> n).
std::uint32_t key_index(const Operation& operation) {
  const std::string& key = operation.command.keys.front();
  return static_cast<std::uint32_t>(std::stoul(key.substr(key.find(':') + 1)));
}

// Clients decode a reply straight into its operation: a reply that decoded
// stays with the completed operation, one that did not is dropped, and an
// operation completed without one (a timeout) has none.
TEST(HistoryRecorder, KeepsRepliesDecodedInPlaceAndDropsOthers) {
  HistoryRecorder recorder(1);
  core::Command command;
  command.kind = core::CommandKind::get;
  command.keys = {"register:1"};
  const std::uint64_t answered = recorder.invoke(0, 2, 10, core::Command(command));
  const std::uint64_t malformed = recorder.invoke(0, 2, 20, core::Command(command));
  const std::uint64_t timed_out = recorder.invoke(0, 2, 30, std::move(command));
  recorder.reply_slot(answered).value = core::ReplyValue::of_text("v");
  recorder.complete(answered, 15, OpOutcome::ok);
  recorder.reply_slot(malformed).status = core::ReplyStatus::bad_request;
  recorder.drop_reply(malformed);
  recorder.complete(malformed, 25, OpOutcome::fail);
  recorder.complete(timed_out, 35, OpOutcome::fail);
  EXPECT_EQ(recorder.outstanding(), 0U);
  const History history = recorder.take(40);
  ASSERT_EQ(history.operations.size(), 3U);
  ASSERT_TRUE(history.operations[answered].reply.has_value());
  EXPECT_EQ(history.operations[answered].reply->value, core::ReplyValue::of_text("v"));
  EXPECT_EQ(history.operations[answered].command.keys.front(), "register:1");
  EXPECT_EQ(history.operations[answered].complete_us, 15U);
  EXPECT_FALSE(history.operations[malformed].reply.has_value());
  EXPECT_EQ(history.operations[malformed].outcome, OpOutcome::fail);
  EXPECT_FALSE(history.operations[timed_out].reply.has_value());
}

TEST(Runner, HealthyRunConvergesWithOkOperationsFromEveryClient) {
  const Scenario scenario = healthy_scenario();
  const RunOutput output = run(scenario, 1);
  EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
  expect_converged(output);
  const auto& operations = output.history.operations;
  ASSERT_EQ(operations.size(), 4U * 30U);
  std::set<std::uint32_t> clients_with_ok;
  for (std::size_t index = 0; index < operations.size(); ++index) {
    EXPECT_EQ(operations[index].id, index);
    EXPECT_LE(operations[index].invoke_us, operations[index].complete_us);
    if (operations[index].outcome == OpOutcome::ok) {
      clients_with_ok.insert(operations[index].client);
      EXPECT_TRUE(operations[index].reply.has_value());
    }
  }
  EXPECT_EQ(clients_with_ok.size(), 4U);
  EXPECT_EQ(output.replicas.size(), 3U);
  EXPECT_FALSE(output.placement.empty());
  EXPECT_GT(output.sim.stats.messages.messages_sent, 0U);
  // Messages are counted per protocol kind (the frame's kind byte).
  EXPECT_TRUE(output.sim.stats.per_kind.contains(
      static_cast<sim::MessageKind>(core::PeerMessageKind::client_request)));
  EXPECT_TRUE(output.sim.stats.per_kind.contains(
      static_cast<sim::MessageKind>(core::PeerMessageKind::delta_batch)));
  // Every harness coverage point is declared, reached or not.
  for (const std::string_view name : coverage::kDeclared) {
    EXPECT_TRUE(output.sim.coverage.contains(name)) << name;
  }
}

TEST(Runner, SameSeedGivesTheSameTraceAndHistory) {
  const Scenario scenario = standard_scenario();
  const RunOutput first = run(scenario, 7);
  const RunOutput second = run(scenario, 7);
  EXPECT_EQ(first.sim.trace_hash, second.sim.trace_hash);
  EXPECT_EQ(first.history, second.history);
  EXPECT_EQ(first.converged_us, second.converged_us);
  EXPECT_EQ(first.placement, second.placement);
  const RunOutput other = run(scenario, 8);
  EXPECT_NE(first.sim.trace_hash, other.sim.trace_hash);
  EXPECT_NE(first.history, other.history);
}

TEST(Runner, PartitionedSidesBothAcceptWritesAndConvergeAfterSettling) {
  Scenario scenario = healthy_scenario();
  scenario.cluster.replicas = 4;
  scenario.cluster.replication_factor = 4;  // every replica executes locally
  scenario.workload.clients = 4;
  scenario.workload.ops_per_client = 60;
  scenario.workload.replica_choice = ReplicaChoice::sticky;  // client i -> replica i
  FaultEvent partition;
  partition.at_us = 100'000;
  partition.kind = FaultKind::partition;
  partition.groups = {{0, 1}, {2, 3}};
  FaultEvent heal;
  heal.at_us = 600'000;
  heal.kind = FaultKind::heal;
  scenario.timeline = {partition, heal};
  const RunOutput output = run(scenario, 3);
  EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
  std::set<core::ReplicaId> accepted_during_cut;
  for (const Operation& operation : output.history.operations) {
    if (operation.invoke_us > 100'000 && operation.complete_us < 600'000 &&
        core::is_write(operation.command.kind) && operation.outcome == OpOutcome::ok) {
      accepted_during_cut.insert(operation.replica);
    }
  }
  EXPECT_TRUE(accepted_during_cut.contains(0));
  EXPECT_TRUE(accepted_during_cut.contains(3));
  expect_converged(output);
  EXPECT_GT(hits(output, coverage::kHealedWithDeltasInFlight), 0U);
}

TEST(Runner, CrashWithoutDurabilityStillRunsAndConverges) {
  Scenario scenario = healthy_scenario();
  scenario.cluster.durable = false;
  FaultEvent crash;
  crash.at_us = 200'000;
  crash.kind = FaultKind::crash;
  crash.replicas = {1};
  FaultEvent restart = crash;
  restart.at_us = 500'000;
  restart.kind = FaultKind::restart;
  scenario.timeline = {crash, restart};
  const RunOutput output = run(scenario, 5);
  EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
  EXPECT_EQ(output.sim.stats.crashes, 1U);
  EXPECT_EQ(output.sim.stats.restarts, 1U);
  expect_converged(output);
}

TEST(Runner, RequestsToAnIsolatedReplicaTimeOutAsIndeterminate) {
  Scenario scenario = healthy_scenario();
  scenario.workload.clients = 3;
  scenario.workload.replica_choice = ReplicaChoice::sticky;
  scenario.workload.request_timeout_us = 100'000;
  scenario.workload.mix.reads_ppm = 0;
  FaultEvent isolate;
  isolate.at_us = 100'000;
  isolate.kind = FaultKind::isolate;
  isolate.replicas = {0};
  isolate.clients_too = true;
  scenario.timeline = {isolate};
  scenario.workload_deadline_us = 2'000'000;
  const RunOutput output = run(scenario, 11);
  EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
  std::size_t indeterminate = 0;
  for (const Operation& operation : output.history.operations) {
    if (operation.client == 0 && operation.invoke_us > 100'000) {
      EXPECT_EQ(operation.outcome, OpOutcome::indeterminate);
      EXPECT_FALSE(operation.reply.has_value());
      EXPECT_GE(operation.complete_us - operation.invoke_us, 100'000U);
      ++indeterminate;
    }
    if (operation.client != 0) {
      EXPECT_EQ(operation.outcome, OpOutcome::ok);
    }
  }
  EXPECT_GT(indeterminate, 0U);
  EXPECT_EQ(hits(output, coverage::kIndeterminateOp), indeterminate);
  expect_converged(output);
}

TEST(Runner, ZipfianKeysAreSkewed) {
  Scenario scenario = healthy_scenario();
  scenario.workload.keys = 32;
  scenario.workload.distribution = KeyDistribution::zipfian;
  scenario.workload.zipf_exponent_milli = 1'100;
  scenario.workload.mix = OperationMix{};
  scenario.workload.mix.multi = 0;  // single-key operations only
  scenario.workload.ops_per_client = 200;
  scenario.workload.think_us_max = 2'000;
  const RunOutput output = run(scenario, 2);
  std::vector<std::uint32_t> counts(32, 0);
  for (const Operation& operation : output.history.operations) {
    ++counts[key_index(operation)];
  }
  std::vector<std::uint32_t> sorted = counts;
  std::sort(sorted.begin(), sorted.end());
  const std::uint32_t median = sorted[16];
  EXPECT_EQ(sorted.back(), counts[0]);  // key 0 is the hottest
  EXPECT_GT(counts[0], 5 * std::max<std::uint32_t>(median, 1));
}

TEST(Runner, ZipfWeightsMatchThePowerLaw) {
  EXPECT_EQ(zipf_weight_q32(1, 990), std::uint64_t{1} << 32U);
  for (const std::uint32_t milli : {500U, 990U, 1'000U, 1'500U, 2'000U}) {
    for (const std::uint32_t rank : {2U, 3U, 10U, 100U, 1'000U, 65'536U}) {
      const double exact = std::ldexp(1.0, 32) / std::pow(rank, milli / 1000.0);
      const auto weight = static_cast<double>(zipf_weight_q32(rank, milli));
      // Relative error about 1e-6, plus the truncation to an integer.
      EXPECT_NEAR(weight, exact, exact * 1e-5 + 1.0) << "rank " << rank << " s " << milli;
    }
  }
}

TEST(Runner, HotspotKeysGetTheirShare) {
  Scenario scenario = healthy_scenario();
  scenario.workload.keys = 16;
  scenario.workload.distribution = KeyDistribution::hotspot;
  scenario.workload.hotspot_keys = 2;
  scenario.workload.hotspot_ppm = 800'000;
  scenario.workload.mix.multi = 0;
  scenario.workload.ops_per_client = 200;
  scenario.workload.think_us_max = 2'000;
  const RunOutput output = run(scenario, 4);
  std::size_t hot = 0;
  for (const Operation& operation : output.history.operations) {
    hot += key_index(operation) < 2 ? 1U : 0U;
  }
  const std::size_t total = output.history.operations.size();
  ASSERT_EQ(total, 800U);
  EXPECT_GT(hot * 100, total * 74);
  EXPECT_LT(hot * 100, total * 86);
}

core::Command make(core::CommandKind kind, std::vector<std::string> keys,
                   std::vector<std::string> args = {}, std::int64_t amount = 0) {
  core::Command command;
  command.kind = kind;
  command.keys = std::move(keys);
  command.args = std::move(args);
  command.amount = amount;
  return command;
}

TEST(Runner, ScriptedWorkloadExecutesExactlyTheScript) {
  Scenario scenario = healthy_scenario();
  scenario.workload.clients = 1;  // the script names a second client
  using core::CommandKind;
  scenario.workload.script = {
      {0, 0, 0, make(CommandKind::set, {"register:0"}, {"a"})},
      {1, 50'000, 2, make(CommandKind::incrby, {"counter:0"}, {}, 5)},
      {0, 100'000, 1, make(CommandKind::sadd, {"set:0"}, {"x", "y"})},
      {0, 300'000, 0, make(CommandKind::get, {"register:0"})},
      {1, 400'000, 1, make(CommandKind::get, {"counter:0"})},
  };
  const RunOutput output = run(scenario, 9);
  EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
  const auto& operations = output.history.operations;
  ASSERT_EQ(operations.size(), 5U);
  std::map<std::uint32_t, std::vector<const ScriptedOperation*>> expected;
  for (const ScriptedOperation& scripted : scenario.workload.script) {
    expected[scripted.client].push_back(&scripted);
  }
  std::map<std::uint32_t, std::size_t> seen;
  for (const Operation& operation : operations) {
    const ScriptedOperation& scripted = *expected[operation.client][seen[operation.client]++];
    EXPECT_EQ(operation.command, scripted.command);
    EXPECT_EQ(operation.replica, scripted.replica);
    EXPECT_GE(operation.invoke_us, scripted.at_us);
    EXPECT_EQ(operation.outcome, OpOutcome::ok);
  }
  EXPECT_EQ(operations[3].reply->value.text, "a");
  EXPECT_EQ(operations[4].reply->value.integer, 5);
  expect_converged(output);
}

TEST(Runner, SettlePhaseRestartsCrashedReplicas) {
  Scenario scenario = healthy_scenario();
  FaultEvent crash;
  crash.at_us = 200'000;
  crash.kind = FaultKind::crash;
  crash.replicas = {2};
  FaultEvent pause = crash;
  pause.kind = FaultKind::pause;
  pause.replicas = {1};
  scenario.timeline = {crash, pause};
  const RunOutput output = run(scenario, 6);
  EXPECT_EQ(output.sim.stats.crashes, 1U);
  EXPECT_EQ(output.sim.stats.restarts, 1U);
  EXPECT_TRUE(output.replicas[2].up);
  EXPECT_GT(output.replicas[2].stats.recovered_keys, 0U);
  EXPECT_GT(hits(output, coverage::kRecoveredFromDisk), 0U);
  expect_converged(output);
}

TEST(Runner, RandomFaultsConvergeAfterSettling) {
  Scenario scenario = standard_scenario();
  scenario.timeline.clear();
  scenario.random_faults.enabled = true;
  scenario.random_faults.interval_us_min = 50'000;
  scenario.random_faults.interval_us_max = 200'000;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const RunOutput output = run(scenario, seed);
    EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
    expect_converged(output);
  }
}

// The multi_del family: DELs of up to kMultiKeysMax distinct keys, each of a
// family DEL resets (registers, counters, sets, maps), so that one DEL is
// split across several replicas.
TEST(Runner, MultiDelDrawsDeletesOfKeysOfSeveralFamilies) {
  WorkloadSpec spec;
  spec.keys = 8;
  spec.mix = OperationMix{0, 0, 0, 0, 0, 0, 0, 0};
  spec.mix.multi_del = 1;
  const Workload workload(spec);
  sim::Prng random(7);
  std::uint32_t multi_key = 0;
  std::uint32_t mixed_families = 0;
  std::set<std::string> prefixes;
  for (std::uint64_t sequence = 0; sequence < 200; ++sequence) {
    const core::Command command = workload.draw_command(random, 0, sequence);
    ASSERT_EQ(command.kind, core::CommandKind::del);
    ASSERT_GE(command.keys.size(), 1U);
    ASSERT_LE(command.keys.size(), Workload::kMultiKeysMax);
    EXPECT_TRUE(command.args.empty());
    std::set<std::string> families;
    for (const std::string& key : command.keys) {
      EXPECT_EQ(std::count(command.keys.begin(), command.keys.end(), key), 1) << key;
      families.insert(key.substr(0, key.find(':')));
    }
    prefixes.insert(families.begin(), families.end());
    multi_key += command.keys.size() > 1 ? 1U : 0U;
    mixed_families += families.size() > 1 ? 1U : 0U;
  }
  EXPECT_EQ(prefixes, (std::set<std::string>{"counter", "map", "register", "set"}));
  EXPECT_GT(multi_key, 150U);
  EXPECT_GT(mixed_families, 100U);
}

// Key names and written values are decimal text, as std::to_string renders
// it (they are hashed into every trace), up to the widest values: a 10-digit
// key index after the longest prefix, and a 20-digit sequence.
TEST(Runner, WorkloadNamesAndValuesAreDecimalText) {
  EXPECT_EQ(Workload::key_name(Family::registers, 0), "register:0");
  EXPECT_EQ(Workload::key_name(Family::g_counters, 4'294'967'295U), "g_counter:4294967295");
  EXPECT_EQ(Workload::key_name(Family::maps, 1'000'000U), "map:1000000");
  WorkloadSpec spec;
  spec.keys = 1;
  spec.mix = OperationMix{1, 0, 0, 0, 0, 0, 0, 0};
  spec.mix.reads_ppm = 0;
  const Workload workload(spec);
  sim::Prng random(3);
  for (const std::uint64_t sequence :
       {std::uint64_t{0}, std::uint64_t{9}, std::uint64_t{10}, std::uint64_t{1'234'567},
        std::numeric_limits<std::uint64_t>::max()}) {
    for (int draw = 0; draw < 40; ++draw) {  // SET 90%, DEL 10%
      const core::Command command = workload.draw_command(random, 4'000'000'000U, sequence);
      ASSERT_EQ(command.keys, std::vector<std::string>{"register:0"});
      if (command.kind == core::CommandKind::set) {
        EXPECT_EQ(command.args,
                  std::vector<std::string>{"c4000000000-" + std::to_string(sequence)});
      } else {
        EXPECT_EQ(command.kind, core::CommandKind::del);
        EXPECT_TRUE(command.args.empty());
      }
    }
  }
}

// A DEL split across replicas answers with the dots every part removed, which
// the set check needs to tell a removed add from a lost one. The planted
// variant that drops them (store bug 8) must make this test fail.
std::uint32_t multi_key_dels_reporting_removed_dots(core::PlantedBug bug) {
  Scenario scenario = standard_scenario();
  scenario.timeline.clear();
  scenario.network.drop_ppm = 0;
  scenario.network.duplicate_ppm = 0;
  scenario.workload.keys = 4;
  scenario.workload.mix = OperationMix{0, 0, 1, 0, 6, 0, 1, 200'000};
  scenario.workload.mix.multi_del = 2;
  scenario.cluster.planted_bug = bug;
  const RunOutput output = run(scenario, 3);
  // Only DELs certainly split: the coordinator holds one of the keys (its
  // local part) and not another (a forwarded part). The ring is fixed here.
  std::vector<core::ReplicaId> members(scenario.cluster.replicas);
  std::iota(members.begin(), members.end(), core::ReplicaId{0});
  const core::HashRing ring(members, scenario.cluster.virtual_nodes);
  auto held_by = [&](const std::string& key, core::ReplicaId replica) {
    return ring.is_replica(replica, key, scenario.cluster.replication_factor);
  };
  std::uint32_t reporting = 0;
  for (const Operation& op : output.history.operations) {
    if (op.command.kind != core::CommandKind::del || op.outcome != OpOutcome::ok || !op.reply) {
      continue;
    }
    const auto held = [&](const std::string& key) { return held_by(key, op.replica); };
    const bool split = std::any_of(op.command.keys.begin(), op.command.keys.end(), held) &&
                       !std::all_of(op.command.keys.begin(), op.command.keys.end(), held);
    if (split && op.reply->metadata.tracking.allocated() &&
        !op.reply->metadata.tracking->removed_dots.empty()) {
      ++reporting;
    }
  }
  return reporting;
}

TEST(Runner, MultiKeyDelReportsTheDotsEveryPartRemoved) {
  EXPECT_GT(multi_key_dels_reporting_removed_dots(core::PlantedBug::none), 10U);
  EXPECT_EQ(multi_key_dels_reporting_removed_dots(core::PlantedBug::multi_del_drop_removed_dots),
            0U);
}

// Measures the standard configuration (issue 5's benchmark) and prints it;
// asserts only that it converges (wall time is the machine's business).
TEST(Runner, StandardConfigurationMeasurement) {
  const Scenario scenario = standard_scenario();
  constexpr std::uint64_t kSeeds = 20;
  double simulated_seconds = 0;
  std::uint64_t events = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const RunOutput output = run(scenario, seed);
    EXPECT_EQ(output.sim.outcome, sim::Outcome::ok) << output.sim.failure;
    EXPECT_TRUE(output.converged_us.has_value()) << "seed " << seed;
    EXPECT_EQ(output.history.operations.size(), 1'000U);
    if (seed == 1) {
      // Compare across builds and compilers: it must be the same everywhere.
      std::printf("standard configuration, seed 1: trace hash %016llx\n",
                  static_cast<unsigned long long>(output.sim.trace_hash));
    }
    simulated_seconds += static_cast<double>(output.sim.end_time_us) / 1e6;
    events += output.sim.stats.events;
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "standard configuration: %.2f ms per run, %.2f simulated s per run, %.0f simulated s per "
      "wall s, %.0f events per run\n",
      wall_seconds * 1e3 / kSeeds, simulated_seconds / kSeeds, simulated_seconds / wall_seconds,
      static_cast<double>(events) / kSeeds);
}

}  // namespace
}  // namespace crdtsim::harness
