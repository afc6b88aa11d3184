// Registers at the causal level are multi-value registers: concurrent writes
// become siblings that GET returns, a later write replaces exactly what its
// replica had received, DEL removes what it observed and keeps concurrent
// writes. Keyspaces driven directly, then replicas through the store driver
// (with the planted bug that keeps one sibling, LWW-like).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/write_clock.h"
#include "core/codec/bytes.h"
#include "core/store/command.h"
#include "core/store/key_state.h"
#include "core/store/keyspace.h"
#include "tests/store/store_driver.h"

namespace crdtsim::core {
namespace {

using Deltas = std::vector<std::pair<std::string, KeyState>>;
using Values = std::vector<std::string>;

Command command(CommandKind kind, std::vector<std::string> keys,
                std::vector<std::string> args = {}) {
  Command result;
  result.kind = kind;
  result.keys = std::move(keys);
  result.args = std::move(args);
  return result;
}

// One replica's keyspace at the causal level (or at the eventual level).
struct Node {
  explicit Node(ReplicaId replica, bool causal_level = true) : id(replica), causal(causal_level) {}

  Reply run(const Command& cmd) {
    const ExecuteOptions options{.track_versions = causal, .multi_value_registers = causal};
    Execution execution = keyspace.execute(cmd, id, clock, options);
    log.insert(log.end(), execution.deltas.begin(), execution.deltas.end());
    last = execution.deltas;
    return execution.reply;
  }
  void receive(const Deltas& deltas) {
    for (const auto& [key, delta] : deltas) {
      keyspace.apply(key, delta);
    }
  }
  Bytes state_of(const std::string& key) const {
    const KeyState* state = keyspace.find(key);
    return state == nullptr ? Bytes{} : encode(*state);
  }

  ReplicaId id;
  bool causal;
  Keyspace keyspace;
  WriteClock clock;
  Deltas log;   // every delta this node produced
  Deltas last;  // the deltas of its last command
};

Dot only_dot(const KeyVersions& versions, const std::string& key) {
  const CausalContext* context = find_key_versions(versions, key);
  EXPECT_NE(context, nullptr);
  if (context == nullptr || context->version_vector().size() != 1) {
    ADD_FAILURE() << "expected one update dot of " << key;
    return Dot{};
  }
  const auto& [replica, counter] = *context->version_vector().begin();
  return Dot{replica, counter};
}

TEST(MvRegisterKeyspace, ConcurrentWritesBecomeSiblingsThatGetReturns) {
  Node left(0);
  Node right(1);
  const Reply a = left.run(command(CommandKind::set, {"k"}, {"a"}));
  const Reply b = right.run(command(CommandKind::set, {"k"}, {"b"}));
  left.receive(right.log);
  right.receive(left.log);
  EXPECT_EQ(left.state_of("k"), right.state_of("k"));
  const Reply get = left.run(command(CommandKind::get, {"k"}));
  ASSERT_EQ(get.status, ReplyStatus::ok);
  EXPECT_EQ(get.value, ReplyValue::of_list({"a", "b"}));
  // The siblings name the writes' update dots.
  const CausalContext* siblings = find_key_versions(get.metadata.tracking->siblings, "k");
  ASSERT_NE(siblings, nullptr);
  EXPECT_TRUE(siblings->contains(only_dot(a.metadata.tracking->updates, "k")));
  EXPECT_TRUE(siblings->contains(only_dot(b.metadata.tracking->updates, "k")));
  EXPECT_TRUE(a.metadata.timestamps.empty()) << "multi-value registers list no LWW timestamps";
  EXPECT_EQ(left.run(command(CommandKind::type, {"k"})).value, ReplyValue::of_text("mv_register"));
}

TEST(MvRegisterKeyspace, ALaterWriteReplacesTheSiblingsItsReplicaHolds) {
  Node left(0);
  Node right(1);
  left.run(command(CommandKind::set, {"k"}, {"a"}));
  right.run(command(CommandKind::set, {"k"}, {"b"}));
  left.receive(right.log);
  const Reply c = left.run(command(CommandKind::set, {"k"}, {"c"}));
  EXPECT_EQ(left.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("c"));
  // Its reply's versions name what it replaced: both earlier writes.
  const CausalContext* observed = find_key_versions(c.metadata.tracking->versions, "k");
  ASSERT_NE(observed, nullptr);
  EXPECT_TRUE(observed->contains(Dot{0, 1}));
  EXPECT_TRUE(observed->contains(Dot{1, 1}));
  right.receive(left.log);
  EXPECT_EQ(right.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("c"));
  EXPECT_EQ(left.state_of("k"), right.state_of("k"));
}

TEST(MvRegisterKeyspace, AWriteReplacesAlsoWhatItsReplicaHeldAlreadyReplaced) {
  // x writes a; y receives it and replaces it by t; z receives a and t and
  // writes s. A replica that holds a but has not received t learns from s's
  // delta alone that a is gone: s replaced everything z had received.
  Node x(0);
  Node y(1);
  Node z(2);
  Node reader(3);
  x.run(command(CommandKind::set, {"k"}, {"a"}));
  y.receive(x.log);
  y.run(command(CommandKind::set, {"k"}, {"t"}));
  z.receive(x.log);
  z.receive(y.log);
  z.run(command(CommandKind::set, {"k"}, {"s"}));
  reader.receive(x.log);
  reader.receive(z.last);
  EXPECT_EQ(reader.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("s"));
}

TEST(MvRegisterKeyspace, DelRemovesObservedSiblingsAndAConcurrentWriteSurvives) {
  Node left(0);
  Node right(1);
  left.run(command(CommandKind::set, {"k"}, {"a"}));
  right.receive(left.log);
  const Reply del = left.run(command(CommandKind::del, {"k"}));
  EXPECT_EQ(del.value, ReplyValue::of_integer(1));
  const Deltas del_deltas = left.last;
  EXPECT_EQ(left.run(command(CommandKind::get, {"k"})).value, ReplyValue::nil());
  right.run(command(CommandKind::set, {"k"}, {"b"}));  // concurrent with the DEL
  left.receive(right.last);
  right.receive(del_deltas);
  EXPECT_EQ(left.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("b"));
  EXPECT_EQ(right.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("b"));
  EXPECT_EQ(left.state_of("k"), right.state_of("k"));
}

TEST(MvRegisterKeyspace, MgetAnswersSiblingListsOnlyWhenAKeyHasSeveralValues) {
  Node left(0);
  Node right(1);
  left.run(command(CommandKind::mset, {"k", "j"}, {"a", "x"}));
  EXPECT_EQ(left.run(command(CommandKind::mget, {"k", "j", "none"})).value,
            ReplyValue::of_maybe_list({"a", "x", std::nullopt}));
  right.run(command(CommandKind::set, {"k"}, {"b"}));
  left.receive(right.log);
  const Reply mget = left.run(command(CommandKind::mget, {"k", "j", "none"}));
  ASSERT_EQ(mget.value.kind, ReplyValue::Kind::sibling_lists);
  EXPECT_EQ(mget.value.sibling_lists, (std::vector<Values>{{"a", "b"}, {"x"}, {}}));
  EXPECT_EQ(mget.value.mget_values(), mget.value.sibling_lists);
  ASSERT_EQ(mget.metadata.tracking->siblings.size(), 2u);  // k and j
}

TEST(MvRegisterKeyspace, MsetNamingAKeyTwiceWritesItsLastValueOnce) {
  Node node(0);
  const Reply mset = node.run(command(CommandKind::mset, {"k", "j", "k"}, {"1", "2", "3"}));
  ASSERT_EQ(mset.status, ReplyStatus::ok);
  ASSERT_EQ(node.last.size(), 2u);
  EXPECT_EQ(node.last[0].first, "k") << "deltas in order of first appearance";
  EXPECT_EQ(node.run(command(CommandKind::get, {"k"})).value, ReplyValue::of_text("3"));
  EXPECT_EQ(only_dot(mset.metadata.tracking->updates, "k"), (Dot{0, 1}));
}

TEST(MvRegisterKeyspace, SameValueWrittenConcurrentlyReadsOnceWithTwoSiblings) {
  Node left(0);
  Node right(1);
  left.run(command(CommandKind::set, {"k"}, {"same"}));
  right.run(command(CommandKind::set, {"k"}, {"same"}));
  left.receive(right.log);
  const Reply get = left.run(command(CommandKind::get, {"k"}));
  EXPECT_EQ(get.value, ReplyValue::of_text("same"));
  const CausalContext* siblings = find_key_versions(get.metadata.tracking->siblings, "k");
  ASSERT_NE(siblings, nullptr);
  EXPECT_TRUE(siblings->contains(Dot{0, 1}));
  EXPECT_TRUE(siblings->contains(Dot{1, 1}));
}

TEST(MvRegisterKeyspace, TheEventualLevelKeepsLwwRegisters) {
  Node left(0, false);
  Node right(1, false);
  left.run(command(CommandKind::set, {"k"}, {"a"}));
  right.run(command(CommandKind::set, {"k"}, {"b"}));
  left.receive(right.log);
  const Reply get = left.run(command(CommandKind::get, {"k"}));
  EXPECT_EQ(get.value.kind, ReplyValue::Kind::text);
  EXPECT_TRUE(get.metadata.tracking->siblings.empty());
  EXPECT_EQ(left.keyspace.find("k")->visible_type(), ValueType::lww_register);
}

TEST(MvRegisterKeyspace, StatesAndRepliesRoundTripThroughTheirEncodings) {
  Node left(0);
  Node right(1);
  left.run(command(CommandKind::set, {"k"}, {"a"}));
  right.run(command(CommandKind::set, {"k"}, {"b"}));
  left.receive(right.log);
  const auto state = decode<KeyState>(left.state_of("k"));
  ASSERT_TRUE(state) << state.error;
  EXPECT_EQ(*state.value, *left.keyspace.find("k"));
  for (const CommandKind kind : {CommandKind::get, CommandKind::mget}) {
    const Reply reply = left.run(command(kind, {"k"}));
    Bytes bytes;
    Encoder encoder(bytes);
    reply.encode_body(encoder);
    Decoder decoder(bytes);
    const Reply decoded = Reply::decode_body(decoder);
    ASSERT_TRUE(decoder.ok() && decoder.at_end());
    EXPECT_EQ(decoded, reply);
  }
}

// ---- replicas ----------------------------------------------------------------

using testing::DriverOptions;
using testing::StoreDriver;

DriverOptions causal_pair(PlantedBug bug = PlantedBug::none) {
  return DriverOptions{.replicas = 2,
                       .replication_factor = 2,
                       .anti_entropy = false,
                       .planted_bug = bug,
                       .track_versions = true,
                       .causal = true};
}

// Both replicas write k before gossip runs, then gossip merges the writes.
std::pair<Reply, Reply> concurrent_writes(StoreDriver& driver) {
  const auto a = driver.execute(0, command(CommandKind::set, {"k"}, {"a"}));
  const auto b = driver.execute(1, command(CommandKind::set, {"k"}, {"b"}));
  EXPECT_TRUE(a && a->status == ReplyStatus::ok);
  EXPECT_TRUE(b && b->status == ReplyStatus::ok);
  driver.run_for(200'000);
  return {a.value_or(Reply{}), b.value_or(Reply{})};
}

TEST(MvRegisterReplica, ConcurrentWritesAtTwoReplicasAreReadAsSiblingsThenReplaced) {
  StoreDriver driver(causal_pair(), 11);
  concurrent_writes(driver);
  const auto get = driver.execute(0, command(CommandKind::get, {"k"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value, ReplyValue::of_list({"a", "b"}));
  Command resolve = command(CommandKind::set, {"k"}, {"c"});
  resolve.session = get->metadata.tracking->versions;  // the session saw both
  ASSERT_TRUE(driver.execute(1, resolve));
  driver.run_for(200'000);
  for (const ReplicaId replica : {0u, 1u}) {
    const auto read = driver.execute(replica, command(CommandKind::get, {"k"}));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->value, ReplyValue::of_text("c")) << "at replica " << replica;
  }
}

TEST(MvRegisterReplica, PlantedBugKeepsOneSiblingAlthoughBothWritesArrived) {
  StoreDriver driver(causal_pair(PlantedBug::mv_register_drop_siblings), 11);
  concurrent_writes(driver);
  const auto get = driver.execute(0, command(CommandKind::get, {"k"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.kind, ReplyValue::Kind::text) << "one value left";
  const CausalContext* versions = find_key_versions(get->metadata.tracking->versions, "k");
  ASSERT_NE(versions, nullptr);
  EXPECT_TRUE(versions->contains(Dot{0, 1}));
  EXPECT_TRUE(versions->contains(Dot{1, 1})) << "both writes arrived";
}

}  // namespace
}  // namespace crdtsim::core
