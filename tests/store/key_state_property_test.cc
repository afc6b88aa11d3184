// Property tests of KeyState and the Keyspace: KeyState join laws; the delta
// law of every command (the pre-state joined with the command's deltas is the
// post-state, and a fresh or lagging replica applying an execution's deltas
// in any order reaches the same states); and convergence of 2 to 3
// keyspaces running random command scripts with random delta exchange. Each
// script runs at the eventual level or, at random, at the causal level
// (version dots and multi-value registers), so the generated states cover
// every value type. Then deliberately broken variants rejected by the same
// checks.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/lamport_clock.h"
#include "core/clock/write_clock.h"
#include "core/codec/bytes.h"
#include "core/store/command.h"
#include "core/store/key_state.h"
#include "core/store/keyspace.h"
#include "tests/core/lattice_laws.h"

namespace crdtsim::testing {
namespace {

using core::Command;
using core::CommandKind;
using core::Execution;
using core::Keyspace;
using core::KeyState;
using core::LamportClock;
using core::ReplicaId;

using Delta = std::pair<std::string, KeyState>;

// ---- random commands over a tiny key, member and value space ----

rc::Gen<std::string> gen_key() {
  return rc::gen::element<std::string>("a", "b");
}
rc::Gen<std::string> gen_word() {
  return rc::gen::element<std::string>("x", "y", "z");
}

std::vector<std::string> words(std::size_t count_min) {
  const std::size_t count = *rc::gen::inRange<std::size_t>(count_min, 4);
  return *rc::gen::container<std::vector<std::string>>(count, gen_word());
}

Command gen_command() {
  Command command;
  command.kind = *rc::gen::element(CommandKind::set, CommandKind::mset, CommandKind::del,
                                   CommandKind::incr, CommandKind::incrby, CommandKind::decrby,
                                   CommandKind::gincrby, CommandKind::sadd, CommandKind::srem,
                                   CommandKind::gsadd, CommandKind::hset, CommandKind::hdel);
  command.keys = {*gen_key()};
  switch (command.kind) {
    case CommandKind::set:
      command.args = {*gen_word()};
      break;
    case CommandKind::mset:
      command.keys.push_back(*gen_key());
      command.args = {*gen_word(), *gen_word()};
      break;
    case CommandKind::del:
      if (*rc::gen::arbitrary<bool>()) {
        command.keys.push_back(*gen_key());
      }
      break;
    case CommandKind::incrby:
    case CommandKind::decrby:
      command.amount = *rc::gen::inRange<std::int64_t>(-3, 4);
      break;
    case CommandKind::gincrby:
      command.amount = *rc::gen::inRange<std::int64_t>(0, 4);
      break;
    case CommandKind::sadd:
    case CommandKind::srem:
    case CommandKind::gsadd:
    case CommandKind::hdel:
      command.args = words(1);
      break;
    case CommandKind::hset:
      command.args = {*gen_word(), *gen_word()};
      break;
    default:
      break;
  }
  RC_ASSERT(!core::validate(command).has_value());
  return command;
}

// ---- a small cluster of keyspaces ----

// What the network does to a delta before sending it: returns the deltas to
// send (a broken variant drops or alters some).
using Tamper = std::function<std::vector<Delta>(const Command&, const std::vector<Delta>&)>;

std::vector<Delta> send_as_is(const Command&, const std::vector<Delta>& deltas) {
  return deltas;
}

struct Node {
  Keyspace keyspace;
  LamportClock clock;
  std::vector<Delta> inbox;
  bool causal = false;  // version dots and multi-value registers
};

// Executes `command` at `node`, at the node's consistency level.
Execution execute(Node& node, const Command& command, ReplicaId replica) {
  if (!node.causal) {
    return node.keyspace.execute(command, replica, node.clock);
  }
  core::WriteClock clock(core::TimestampSource::lamport, node.clock);
  Execution execution = node.keyspace.execute(
      command, replica, clock,
      core::ExecuteOptions{.track_versions = true, .multi_value_registers = true});
  node.clock = clock.lamport();
  return execution;
}

core::Bytes state_bytes(const Keyspace& keyspace, const std::string& key) {
  const KeyState* state = keyspace.find(key);
  return state == nullptr ? core::Bytes{} : core::encode(*state);
}

KeyState state_or_empty(const Keyspace& keyspace, const std::string& key) {
  const KeyState* state = keyspace.find(key);
  return state == nullptr ? KeyState{} : *state;
}

// The delta law for one execution: pre-state joined with the key's delta is
// the post-state; keys without a delta did not change.
void check_delta_law(const Command& command, const std::vector<KeyState>& before,
                     const Keyspace& keyspace, const Execution& execution) {
  for (std::size_t index = 0; index < command.keys.size(); ++index) {
    const std::string& key = command.keys[index];
    KeyState expected = before[index];
    for (const auto& [delta_key, delta] : execution.deltas) {
      if (delta_key == key) {
        expected.merge(delta);
      }
    }
    RC_ASSERT(same_state(expected, state_or_empty(keyspace, key)));
  }
}

void deliver_one(Node& node, std::size_t index, bool keep_copy) {
  const Delta delta = node.inbox[index];
  if (!keep_copy) {
    node.inbox.erase(node.inbox.begin() + static_cast<std::ptrdiff_t>(index));
  }
  node.keyspace.apply(delta.first, delta.second);
  node.clock.observe(delta.second.max_time());
}

void execute_at(std::vector<Node>& nodes, std::size_t target, const Tamper& tamper) {
  const Command command = gen_command();
  Node& node = nodes[target];
  std::vector<KeyState> before;
  for (const std::string& key : command.keys) {
    before.push_back(state_or_empty(node.keyspace, key));
  }
  const Execution execution = execute(node, command, static_cast<ReplicaId>(target));
  check_delta_law(command, before, node.keyspace, execution);
  const std::vector<Delta> sent = tamper(command, execution.deltas);
  for (std::size_t other = 0; other < nodes.size(); ++other) {
    if (other != target) {
      nodes[other].inbox.insert(nodes[other].inbox.end(), sent.begin(), sent.end());
    }
  }
}

// Runs a random script at 2 to 3 nodes: commands, and deliveries of pending
// deltas in random order (sometimes delivering a copy, a duplicate later).
std::vector<Node> run_cluster(const Tamper& tamper, int steps_max) {
  std::vector<Node> nodes(*rc::gen::inRange<std::size_t>(2, 4));
  const bool causal = *rc::gen::arbitrary<bool>();
  for (Node& node : nodes) {
    node.causal = causal;
  }
  const int steps = *rc::gen::inRange(0, steps_max + 1);
  for (int step = 0; step < steps; ++step) {
    const std::size_t target = *rc::gen::inRange<std::size_t>(0, nodes.size());
    Node& node = nodes[target];
    if (!node.inbox.empty() && *rc::gen::inRange(0, 3) == 0) {
      deliver_one(node, *rc::gen::inRange<std::size_t>(0, node.inbox.size()),
                  *rc::gen::inRange(0, 4) == 0);
    } else {
      execute_at(nodes, target, tamper);
    }
  }
  return nodes;
}

void deliver_everything(std::vector<Node>& nodes) {
  for (Node& node : nodes) {
    while (!node.inbox.empty()) {
      deliver_one(node, *rc::gen::inRange<std::size_t>(0, node.inbox.size()), false);
    }
  }
}

void assert_identical(const std::vector<Node>& nodes) {
  for (const std::string key : {"a", "b"}) {
    for (const Node& node : nodes) {
      RC_ASSERT(state_bytes(node.keyspace, key) == state_bytes(nodes[0].keyspace, key));
    }
  }
}

// ---- the checks (each returns true only if its property held) ----

rc::Gen<KeyState> gen_key_state() {
  return rc::gen::exec([] {
    const std::vector<Node> nodes = run_cluster(send_as_is, 16);
    const Node& node = nodes[*rc::gen::inRange<std::size_t>(0, nodes.size())];
    return state_or_empty(node.keyspace, *gen_key());
  });
}

// Every delta reaches every node (in random order, with duplicates): all
// nodes end byte-identical.
bool deltas_converge(const Tamper& tamper, const std::string& name) {
  return rc::check(name + ": delta exchange converges", [&tamper] {
    std::vector<Node> nodes = run_cluster(tamper, 40);
    deliver_everything(nodes);
    assert_identical(nodes);
  });
}

// Deltas are dropped at random; a full-state exchange (anti-entropy) then
// makes every node byte-identical.
bool full_states_converge(const std::string& name) {
  return rc::check(name + ": lossy deltas plus full-state exchange converge", [] {
    std::vector<Node> nodes = run_cluster(send_as_is, 40);
    for (Node& node : nodes) {
      std::erase_if(node.inbox, [](const Delta&) { return *rc::gen::inRange(0, 2) == 0; });
    }
    deliver_everything(nodes);
    for (Node& to : nodes) {
      for (const Node& from : nodes) {
        for (const auto& [key, state] : from.keyspace) {
          to.keyspace.apply(key, state);
        }
      }
    }
    assert_identical(nodes);
  });
}

// One keyspace runs a script; a fresh one applying all its deltas in random
// order, and a lagging one that had a prefix, reach byte-identical states.
bool fresh_and_lagging_replicas_catch_up(const std::string& name) {
  return rc::check(name + ": a fresh or lagging replica applying the deltas catches up", [] {
    std::vector<Node> nodes(1);
    nodes[0].causal = *rc::gen::arbitrary<bool>();
    std::vector<Delta> produced;
    const int steps = *rc::gen::inRange(0, 30);
    const int lag_at = *rc::gen::inRange(0, steps + 1);
    Keyspace lagging;
    for (int step = 0; step < steps; ++step) {
      const Command command = gen_command();
      std::vector<KeyState> before;
      for (const std::string& key : command.keys) {
        before.push_back(state_or_empty(nodes[0].keyspace, key));
      }
      const Execution execution = execute(nodes[0], command, 0);
      check_delta_law(command, before, nodes[0].keyspace, execution);
      produced.insert(produced.end(), execution.deltas.begin(), execution.deltas.end());
      if (step + 1 == lag_at) {
        lagging = nodes[0].keyspace;
      }
    }
    std::vector<Delta> shuffled = produced;
    for (std::size_t index = shuffled.size(); index > 1; --index) {
      std::swap(shuffled[index - 1], shuffled[*rc::gen::inRange<std::size_t>(0, index)]);
    }
    Keyspace fresh;
    for (const auto& [key, delta] : shuffled) {
      fresh.apply(key, delta);
    }
    RC_ASSERT(fresh == nodes[0].keyspace);
    for (const auto& [key, delta] : shuffled) {
      lagging.apply(key, delta);
    }
    RC_ASSERT(lagging == nodes[0].keyspace);
  });
}

TEST(KeyStateProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_key_state(), "KeyState"));
}

// merge's result says exactly whether the state changed (replicas relay,
// persist and count a delta only then); its joins decide that without
// comparing whole copies. Two replicas' states of one key: states of
// independent clusters may give one dot or timestamp different contents,
// which honest replicas never do (and some joins then miss a change).
TEST(KeyStateProperty, MergeReportsExactlyWhetherTheStateChanged) {
  EXPECT_TRUE(rc::check("KeyState merge returns true exactly when the state changed", [] {
    const std::vector<Node> nodes = run_cluster(send_as_is, 16);
    const std::string key = *gen_key();
    KeyState mine =
        state_or_empty(nodes[*rc::gen::inRange<std::size_t>(0, nodes.size())].keyspace, key);
    const KeyState theirs =
        state_or_empty(nodes[*rc::gen::inRange<std::size_t>(0, nodes.size())].keyspace, key);
    const KeyState before = mine;
    const bool changed = mine.merge(theirs);
    RC_ASSERT(changed == !(before == mine));
    RC_ASSERT(!mine.merge(theirs));
  }));
}

// The case the property above rarely draws: one dot with two different
// pairs and nothing else different (same claim, same context, same count).
TEST(KeyStateProperty, MergeCountsARaisedCounterPairAsAChange) {
  core::CausalCounter lower;
  core::CausalCounter higher;
  ASSERT_TRUE(lower.increment(1, 5).has_value());
  ASSERT_TRUE(higher.increment(1, 7).has_value());
  ASSERT_EQ(lower.context(), higher.context());
  const core::LwwTimestamp claim{10, 0, 1};
  KeyState mine = KeyState::of(claim, lower);
  const KeyState theirs = KeyState::of(claim, higher);
  EXPECT_TRUE(mine.merge(theirs));
  EXPECT_EQ(mine.value<core::CausalCounter>()->value(), 7);
  EXPECT_FALSE(mine.merge(theirs));
  EXPECT_FALSE(mine.merge(KeyState::of(claim, lower)));
}

TEST(KeyStateProperty, DeltaExchangeConverges) {
  EXPECT_TRUE(deltas_converge(send_as_is, "Keyspace"));
}

TEST(KeyStateProperty, LossyDeltasPlusFullStatesConverge) {
  EXPECT_TRUE(full_states_converge("Keyspace"));
}

TEST(KeyStateProperty, FreshAndLaggingReplicasCatchUp) {
  EXPECT_TRUE(fresh_and_lagging_replicas_catch_up("Keyspace"));
}

// ---- broken variants ----

// A merge that, on a type conflict, takes the incoming state regardless of
// the claims.
struct IncomingWinsKeyState {
  static constexpr std::uint8_t kTypeTag = KeyState::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = KeyState::kEncodingVersion;

  KeyState state;

  void merge(const IncomingWinsKeyState& other) {
    if (other.state.visible_type() != state.visible_type() && !other.state.empty()) {
      state = other.state;
    } else {
      state.merge(other.state);
    }
  }
  void encode_body(core::Encoder& encoder) const { state.encode_body(encoder); }
  static IncomingWinsKeyState decode_body(core::Decoder& decoder) {
    return {KeyState::decode_body(decoder)};
  }
  friend bool operator==(const IncomingWinsKeyState&, const IncomingWinsKeyState&) = default;
};

TEST(KeyStateBroken, IncomingWinsOnTypeConflictBreaksTheJoinLaws) {
  const rc::Gen<IncomingWinsKeyState> states = rc::gen::map(
      gen_key_state(), [](KeyState state) { return IncomingWinsKeyState{std::move(state)}; });
  EXPECT_FALSE(join_laws_hold(states, "IncomingWinsKeyState"));
}

// The original design's gap: MSET replicates only its first key.
TEST(KeyStateBroken, MsetShippingOneDeltaDoesNotConverge) {
  const Tamper first_only = [](const Command& command, const std::vector<Delta>& deltas) {
    if (command.kind == CommandKind::mset && !deltas.empty()) {
      return std::vector<Delta>{deltas.front()};
    }
    return deltas;
  };
  EXPECT_FALSE(deltas_converge(first_only, "MSET ships one delta"));
}

// Deltas that leave out the type claim (they carry the CRDT change only).
TEST(KeyStateBroken, DeltasWithoutClaimsDoNotConverge) {
  const Tamper no_claims = [](const Command&, const std::vector<Delta>& deltas) {
    std::vector<Delta> stripped;
    for (const auto& [key, delta] : deltas) {
      KeyState without;
      for (const auto& [type, slot] : delta.slots()) {
        KeyState part;
        std::visit([&part](const auto& value) { part = KeyState::of(core::LwwTimestamp{}, value); },
                   slot.value);
        without.merge(part);
      }
      stripped.emplace_back(key, std::move(without));
    }
    return stripped;
  };
  EXPECT_FALSE(deltas_converge(no_claims, "deltas without claims"));
}

}  // namespace
}  // namespace crdtsim::testing
