// RapidCheck: 2 to 5 replicas, random commands at random replicas of each key,
// frames delayed, reordered, dropped and duplicated, durable replicas crashed
// and restarted; then the network heals and anti-entropy runs. Every replica
// of every key must end byte-identical, and the values must be what the
// acknowledged commands imply (counter sums, add-wins sets, LWW maxima).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <ostream>
#include <set>
#include <string>

#include "core/crdt/or_set.h"
#include "tests/store/store_driver.h"

namespace crdtsim::testing {
namespace {

using core::CommandKind;
using core::ReplyStatus;

enum class OpKind { set, del, incrby, sadd, srem, crash };

struct Op {
  OpKind kind = OpKind::set;
  int key = 0;
  int value = 0;
  std::size_t replica_choice = 0;
  std::uint64_t pause_us = 0;
};

// RapidCheck prints counterexamples with this.
[[maybe_unused]] void showValue(const Op& op, std::ostream& out) {
  static constexpr const char* kNames[] = {"set", "del", "incrby", "sadd", "srem", "crash"};
  out << kNames[static_cast<int>(op.kind)] << "(key " << op.key << ", value " << op.value
      << ", replica " << op.replica_choice << ", pause " << op.pause_us << "us)";
}

rc::Gen<Op> op_gen() {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::weightedElement<OpKind>({{4, OpKind::set},
                                                                {1, OpKind::del},
                                                                {4, OpKind::incrby},
                                                                {4, OpKind::sadd},
                                                                {2, OpKind::srem},
                                                                {1, OpKind::crash}})),
      rc::gen::set(&Op::key, rc::gen::inRange(0, 4)),
      rc::gen::set(&Op::value, rc::gen::inRange(-5, 20)),
      rc::gen::set(&Op::replica_choice, rc::gen::inRange<std::size_t>(0, 5)),
      rc::gen::set(&Op::pause_us, rc::gen::inRange<std::uint64_t>(0, 30'000)));
}

std::string name(const char* prefix, int index) {
  std::string result = prefix;
  result += std::to_string(index);
  return result;
}

// What the acknowledged commands imply, built only from replies and from what
// the executing replica had observed: independent of the store's merge code.
struct Model {
  struct RegisterWrite {
    core::LwwTimestamp timestamp;
    std::optional<std::string> value;  // nullopt: DEL
  };
  std::map<std::string, RegisterWrite> registers;
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, std::vector<std::pair<std::string, core::Dot>>> set_adds;
  std::map<std::string, std::set<core::Dot>> set_removed;
};

void record_register(Model& model, const std::string& key, const core::Reply& reply,
                     std::optional<std::string> value) {
  for (const auto& [written_key, timestamp] : reply.metadata.timestamps) {
    if (written_key != key) {
      continue;
    }
    auto& slot = model.registers[key];
    if (!model.registers.contains(key) || slot.timestamp < timestamp) {
      slot = Model::RegisterWrite{timestamp, value};
    }
  }
}

// The dots of `element` that `replica` holds in set `key` (what an SREM there
// observes).
std::set<core::Dot> observed_dots(const StoreDriver& driver, ReplicaId replica,
                                  const std::string& key, const std::string& element) {
  std::set<core::Dot> dots;
  const core::KeyState* state = driver.replica(replica)->keyspace().find(key);
  if (state == nullptr || state->value<core::ORSet>() == nullptr) {
    return dots;
  }
  for (const core::ORSetEntry& entry : state->value<core::ORSet>()->entries()) {
    if (entry.element == element) {
      dots.insert(entry.dot);
    }
  }
  return dots;
}

void run_op(StoreDriver& driver, Model& model, const Op& op, bool durable, std::size_t replicas) {
  if (op.kind == OpKind::crash) {
    if (durable) {  // without durability a crash may lose acknowledged writes
      const auto id = static_cast<ReplicaId>(op.replica_choice % replicas);
      driver.crash(id);
      driver.restart(id);
    }
    return;
  }
  const bool is_set = op.kind == OpKind::sadd || op.kind == OpKind::srem;
  const std::string key = op.kind == OpKind::incrby ? name("c", op.key)
                          : is_set                  ? name("s", op.key)
                                                    : name("r", op.key);
  const auto owners = driver.replica(0)->replicas_of(key);
  const ReplicaId at = owners[op.replica_choice % owners.size()];
  const std::string element = name("e", op.value % 4);
  std::optional<core::Reply> reply;
  switch (op.kind) {
    case OpKind::set:
      reply = driver.execute(at, command(CommandKind::set, {key}, {name("v", op.value)}));
      RC_ASSERT(reply && reply->status == ReplyStatus::ok);
      record_register(model, key, *reply, name("v", op.value));
      break;
    case OpKind::del:
      reply = driver.execute(at, command(CommandKind::del, {key}));
      RC_ASSERT(reply && reply->status == ReplyStatus::ok);
      record_register(model, key, *reply, std::nullopt);
      break;
    case OpKind::incrby:
      reply = driver.execute(at, command(CommandKind::incrby, {key}, {}, op.value));
      RC_ASSERT(reply && reply->status == ReplyStatus::ok);
      model.counters[key] += op.value;
      break;
    case OpKind::sadd: {
      // A re-add supersedes the dots of the element it observed (the new dot
      // keeps the element present); the model records them as removed.
      const std::set<core::Dot> observed = observed_dots(driver, at, key, element);
      model.set_removed[key].insert(observed.begin(), observed.end());
      reply = driver.execute(at, command(CommandKind::sadd, {key}, {element}));
      RC_ASSERT(reply && reply->status == ReplyStatus::ok);
      for (const auto& [added_key, dot] : reply->metadata.dots) {
        model.set_adds[key].emplace_back(element, dot);
      }
      break;
    }
    case OpKind::srem: {
      const std::set<core::Dot> observed = observed_dots(driver, at, key, element);
      reply = driver.execute(at, command(CommandKind::srem, {key}, {element}));
      RC_ASSERT(reply && reply->status == ReplyStatus::ok);
      model.set_removed[key].insert(observed.begin(), observed.end());
      break;
    }
    case OpKind::crash:
      break;
  }
  driver.run_for(op.pause_us);
}

void check_values(const StoreDriver& driver, const Model& model) {
  auto state_of = [&](const std::string& key) -> const core::KeyState* {
    const ReplicaId owner = driver.replica(0)->replicas_of(key).front();
    return driver.replica(owner)->keyspace().find(key);
  };
  for (const auto& [key, sum] : model.counters) {
    const core::KeyState* state = state_of(key);
    RC_ASSERT(state != nullptr);
    RC_ASSERT(state->value<core::CausalCounter>() != nullptr);
    RC_ASSERT(state->value<core::CausalCounter>()->value() == sum);
  }
  for (const auto& [key, adds] : model.set_adds) {
    std::set<std::string> expected;
    const auto removed = model.set_removed.find(key);
    for (const auto& [element, dot] : adds) {
      if (removed == model.set_removed.end() || !removed->second.contains(dot)) {
        expected.insert(element);
      }
    }
    const core::KeyState* state = state_of(key);
    RC_ASSERT(state != nullptr);
    const auto elements = state->value<core::ORSet>()->elements();
    RC_ASSERT(std::set<std::string>(elements.begin(), elements.end()) == expected);
  }
  for (const auto& [key, write] : model.registers) {
    const core::KeyState* state = state_of(key);
    RC_ASSERT(state != nullptr);
    const core::LwwRegister* reg = state->value<core::LwwRegister>();
    RC_ASSERT(reg != nullptr);
    RC_ASSERT(reg->last_write().has_value());
    RC_ASSERT(reg->last_write()->timestamp == write.timestamp);
    const auto value = reg->value();
    RC_ASSERT(value.has_value() == write.value.has_value());
    if (value) {
      RC_ASSERT(std::string(*value) == *write.value);
    }
  }
}

// One random case. `base` fixes the mechanisms (gossip, anti-entropy, a
// planted bug); the rest is drawn. Without anti-entropy nothing repairs the
// deltas a crash loses from the volatile log, so crashes are drawn only with it.
void convergence_case(const DriverOptions& base) {
  const auto replicas = *rc::gen::inRange<std::size_t>(2, 6);
  DriverOptions options = base;
  options.replicas = replicas;
  options.replication_factor =
      *rc::gen::inRange<std::uint32_t>(1, static_cast<std::uint32_t>(replicas) + 1);
  options.durable = *rc::gen::arbitrary<bool>();
  options.drop_percent = *rc::gen::inRange<std::uint64_t>(0, 30);
  options.duplicate_percent = *rc::gen::inRange<std::uint64_t>(0, 30);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  auto ops = *rc::gen::resize(60, rc::gen::container<std::vector<Op>>(op_gen()));
  if (!base.anti_entropy) {
    std::erase_if(ops, [](const Op& op) { return op.kind == OpKind::crash; });
  }

  StoreDriver driver(options, seed);
  Model model;
  for (const Op& op : ops) {
    run_op(driver, model, op, options.durable, replicas);
  }
  driver.heal_network();
  driver.run_for(10'000'000);
  const std::string divergence = driver.divergence();
  RC_ASSERT(divergence == "");
  check_values(driver, model);
}

RC_GTEST_PROP(StoreConvergence, ReplicasConvergeToWhatAcknowledgedCommandsImply, ()) {
  convergence_case(DriverOptions{});
}

RC_GTEST_PROP(StoreConvergence, GossipAloneConvergesUnderLossAndDuplication, ()) {
  DriverOptions options;
  options.anti_entropy = false;
  convergence_case(options);
}

TEST(StoreConvergence, PlantedGossipThatForgetsUnackedBatchesIsCaught) {
  DriverOptions options;
  options.anti_entropy = false;
  options.planted_bug = core::PlantedBug::gossip_forget_unacked;
  EXPECT_FALSE(rc::check("gossip that forgets unacked batches converges",
                         [&] { convergence_case(options); }));
}

TEST(StoreConvergence, PlantedAntiEntropyThatSkipsTheLastSubtreeIsCaught) {
  DriverOptions options;
  options.gossip = false;
  options.planted_bug = core::PlantedBug::ae_skip_last_subtree;
  EXPECT_FALSE(rc::check("anti-entropy that skips the last subtree converges",
                         [&] { convergence_case(options); }));
}

}  // namespace
}  // namespace crdtsim::testing
