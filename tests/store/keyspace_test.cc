// Command semantics of the keyspace: every command family, WRONGTYPE, DEL per
// type, MSET deltas, concurrent creation with different types, observed-remove
// DEL keeping concurrent adds.
#include "core/store/keyspace.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/lamport_clock.h"
#include "core/codec/bytes.h"
#include "core/store/command.h"
#include "core/store/key_state.h"

namespace crdtsim::core {
namespace {

using Deltas = std::vector<std::pair<std::string, KeyState>>;

// One replica's keyspace and clock.
struct Node {
  explicit Node(ReplicaId replica) : id(replica) {}

  Execution run(CommandKind kind, std::vector<std::string> keys, std::vector<std::string> args = {},
                std::int64_t amount = 0) {
    Execution execution =
        keyspace.execute(Command{kind, std::move(keys), std::move(args), amount, {}}, id, clock);
    for (const auto& delta : execution.deltas) {
      log.push_back(delta);
    }
    return execution;
  }
  Reply reply(CommandKind kind, std::vector<std::string> keys, std::vector<std::string> args = {},
              std::int64_t amount = 0) {
    return run(kind, std::move(keys), std::move(args), amount).reply;
  }
  void receive(const Deltas& deltas) {
    for (const auto& [key, delta] : deltas) {
      keyspace.apply(key, delta);
      clock.observe(delta.max_time());
    }
  }
  Bytes state_of(const std::string& key) const {
    const KeyState* state = keyspace.find(key);
    return state == nullptr ? Bytes{} : encode(*state);
  }

  ReplicaId id;
  Keyspace keyspace;
  LamportClock clock;
  Deltas log;  // every delta this node produced, in order
};

ReplyValue text(std::string value) {
  return ReplyValue::of_text(std::move(value));
}
ReplyValue integer(std::int64_t value) {
  return ReplyValue::of_integer(value);
}
ReplyValue list(std::vector<std::string> values) {
  return ReplyValue::of_list(std::move(values));
}

TEST(KeyspaceRegisters, SetGetAndMetadata) {
  Node node(3);
  EXPECT_EQ(node.reply(CommandKind::get, {"k"}).value, ReplyValue::nil());
  const Execution set = node.run(CommandKind::set, {"k"}, {"v1"});
  EXPECT_EQ(set.reply.status, ReplyStatus::ok);
  EXPECT_EQ(set.reply.value, text("OK"));
  EXPECT_EQ(set.reply.metadata.written, std::vector<ReplicaId>{3});
  EXPECT_EQ(set.reply.metadata.executed_by, 3u);
  ASSERT_EQ(set.reply.metadata.timestamps.size(), 1u);
  const LwwTimestamp written = set.reply.metadata.timestamps[0].second;
  EXPECT_EQ(written.replica, 3u);
  EXPECT_EQ(set.reply.metadata.lamport, written.time);
  ASSERT_EQ(set.deltas.size(), 1u);
  EXPECT_EQ(set.deltas[0].first, "k");

  const Reply get = node.reply(CommandKind::get, {"k"});
  EXPECT_EQ(get.value, text("v1"));
  ASSERT_EQ(get.metadata.read_timestamps.size(), 1u);
  EXPECT_EQ(get.metadata.read_timestamps[0].second, written);
  EXPECT_TRUE(get.metadata.written.empty());

  const Reply overwrite = node.run(CommandKind::set, {"k"}, {"v2"}).reply;
  EXPECT_GT(overwrite.metadata.timestamps[0].second, written);
  EXPECT_EQ(node.reply(CommandKind::get, {"k"}).value, text("v2"));
  EXPECT_EQ(node.reply(CommandKind::type, {"k"}).value, text("lww_register"));
  EXPECT_EQ(node.reply(CommandKind::type, {"missing"}).value, text("none"));
}

TEST(KeyspaceRegisters, MsetWritesADeltaForEveryKey) {
  Node writer(1);
  Node reader(2);
  const Execution mset = writer.run(CommandKind::mset, {"a", "b", "c"}, {"1", "2", "3"});
  EXPECT_EQ(mset.reply.status, ReplyStatus::ok);
  ASSERT_EQ(mset.deltas.size(), 3u);
  EXPECT_EQ(mset.deltas[0].first, "a");
  EXPECT_EQ(mset.deltas[1].first, "b");
  EXPECT_EQ(mset.deltas[2].first, "c");
  EXPECT_EQ(mset.reply.metadata.timestamps.size(), 3u);
  reader.receive(mset.deltas);
  for (const std::string key : {"a", "b", "c"}) {
    EXPECT_EQ(reader.state_of(key), writer.state_of(key)) << key;
  }
  EXPECT_EQ(reader.reply(CommandKind::mget, {"a", "x", "c"}).value,
            ReplyValue::of_maybe_list({std::string("1"), std::nullopt, std::string("3")}));
}

TEST(KeyspaceRegisters, MsetWithARepeatedKeyKeepsTheLastValueAndOneDelta) {
  Node node(1);
  const Execution mset = node.run(CommandKind::mset, {"a", "b", "a"}, {"1", "2", "3"});
  ASSERT_EQ(mset.deltas.size(), 2u);
  EXPECT_EQ(node.reply(CommandKind::get, {"a"}).value, text("3"));
  Node other(2);
  other.receive(mset.deltas);
  EXPECT_EQ(other.state_of("a"), node.state_of("a"));
}

TEST(KeyspaceRegisters, MsetChecksEveryKeyBeforeWriting) {
  Node node(1);
  node.run(CommandKind::sadd, {"s"}, {"x"});
  const Execution mset = node.run(CommandKind::mset, {"a", "s"}, {"1", "2"});
  EXPECT_EQ(mset.reply.status, ReplyStatus::wrong_type);
  EXPECT_TRUE(mset.deltas.empty());
  EXPECT_EQ(node.reply(CommandKind::exists, {"a"}).value, integer(0));
  EXPECT_EQ(node.keyspace.find("a"), nullptr);
}

TEST(KeyspaceRegisters, MgetGivesNilForOtherTypesAndCountersAsText) {
  Node node(1);
  node.run(CommandKind::set, {"r"}, {"v"});
  node.run(CommandKind::incrby, {"c"}, {}, 5);
  node.run(CommandKind::sadd, {"s"}, {"x"});
  EXPECT_EQ(
      node.reply(CommandKind::mget, {"r", "c", "s", "none"}).value,
      ReplyValue::of_maybe_list({std::string("v"), std::string("5"), std::nullopt, std::nullopt}));
}

TEST(KeyspaceKeys, ExistsCountsAndDelOfRegisterTombstones) {
  Node node(1);
  node.run(CommandKind::set, {"a"}, {"1"});
  node.run(CommandKind::set, {"b"}, {"2"});
  EXPECT_EQ(node.reply(CommandKind::exists, {"a", "b", "c", "a"}).value, integer(3));
  const Execution del = node.run(CommandKind::del, {"a", "c", "a"});
  EXPECT_EQ(del.reply.value, integer(1));
  ASSERT_EQ(del.deltas.size(), 1u);
  EXPECT_EQ(del.reply.metadata.timestamps.size(), 1u);
  EXPECT_EQ(node.reply(CommandKind::get, {"a"}).value, ReplyValue::nil());
  EXPECT_EQ(node.reply(CommandKind::type, {"a"}).value, text("none"));
  EXPECT_NE(node.keyspace.find("a"), nullptr);  // the tombstone stays
}

TEST(KeyspaceKeys, WrongTypeForEveryFamily) {
  Node node(1);
  node.run(CommandKind::sadd, {"s"}, {"x"});
  node.run(CommandKind::set, {"r"}, {"v"});
  const auto expect_wrong = [&node](CommandKind kind, std::vector<std::string> keys,
                                    std::vector<std::string> args = {}, std::int64_t amount = 0) {
    const Execution execution = node.run(kind, std::move(keys), std::move(args), amount);
    EXPECT_EQ(execution.reply.status, ReplyStatus::wrong_type) << command_name(kind);
    EXPECT_TRUE(execution.deltas.empty());
    EXPECT_FALSE(execution.reply.error.empty());
  };
  expect_wrong(CommandKind::set, {"s"}, {"v"});
  expect_wrong(CommandKind::get, {"s"});
  expect_wrong(CommandKind::incr, {"s"});
  expect_wrong(CommandKind::decrby, {"r"}, {}, 2);
  expect_wrong(CommandKind::gincrby, {"r"}, {}, 2);
  expect_wrong(CommandKind::gget, {"r"});
  expect_wrong(CommandKind::sadd, {"r"}, {"x"});
  expect_wrong(CommandKind::srem, {"r"}, {"x"});
  expect_wrong(CommandKind::smembers, {"r"});
  expect_wrong(CommandKind::sismember, {"r"}, {"x"});
  expect_wrong(CommandKind::scard, {"r"});
  expect_wrong(CommandKind::gsadd, {"s"}, {"x"});
  expect_wrong(CommandKind::gsmembers, {"s"});
  expect_wrong(CommandKind::hset, {"s"}, {"f", "v"});
  expect_wrong(CommandKind::hget, {"s"}, {"f"});
  expect_wrong(CommandKind::hdel, {"s"}, {"f"});
  expect_wrong(CommandKind::hgetall, {"r"});
  EXPECT_EQ(node.reply(CommandKind::smembers, {"s"}).value, list({"x"}));
  EXPECT_EQ(node.reply(CommandKind::get, {"r"}).value, text("v"));
}

TEST(KeyspaceKeys, MalformedCommandIsABadRequest) {
  Node node(1);
  const Execution execution = node.run(CommandKind::set, {"k"});
  EXPECT_EQ(execution.reply.status, ReplyStatus::bad_request);
  EXPECT_TRUE(execution.deltas.empty());
  EXPECT_EQ(node.keyspace.size(), 0u);
}

TEST(KeyspaceCounters, IncrDecrAndGet) {
  Node node(2);
  EXPECT_EQ(node.reply(CommandKind::incr, {"c"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::incrby, {"c"}, {}, 10).value, integer(11));
  EXPECT_EQ(node.reply(CommandKind::decr, {"c"}).value, integer(10));
  const Reply decrby = node.reply(CommandKind::decrby, {"c"}, {}, 15);
  EXPECT_EQ(decrby.value, integer(-5));
  ASSERT_EQ(decrby.metadata.dots.size(), 1u);
  EXPECT_EQ(decrby.metadata.dots[0].second.replica, 2u);
  EXPECT_EQ(node.reply(CommandKind::get, {"c"}).value, integer(-5));
  EXPECT_EQ(node.reply(CommandKind::type, {"c"}).value, text("pn_counter"));
  EXPECT_EQ(node.reply(CommandKind::incrby, {"zero"}, {}, 0).value, integer(0));
  EXPECT_EQ(node.reply(CommandKind::exists, {"zero"}).value, integer(1));
}

TEST(KeyspaceCounters, OverflowChangesNothing) {
  Node node(1);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(node.reply(CommandKind::incrby, {"c"}, {}, max).value, integer(max));
  const Bytes before = node.state_of("c");
  const Execution overflow = node.run(CommandKind::incr, {"c"});
  EXPECT_EQ(overflow.reply.status, ReplyStatus::overflow);
  EXPECT_TRUE(overflow.deltas.empty());
  EXPECT_EQ(node.state_of("c"), before);
  EXPECT_EQ(node.reply(CommandKind::decrby, {"d"}, {}, max).value, integer(-max));
  EXPECT_EQ(node.reply(CommandKind::decr, {"d"}).value,
            integer(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(node.reply(CommandKind::decr, {"d"}).status, ReplyStatus::overflow);
  EXPECT_EQ(
      node.reply(CommandKind::incrby, {"e"}, {}, std::numeric_limits<std::int64_t>::min()).value,
      integer(std::numeric_limits<std::int64_t>::min()));
}

TEST(KeyspaceCounters, OverflowOfTheAccumulatedPairChangesNothingThoughTheValueFits) {
  // Up and down by INT64_MAX twice, then by one: the replica's accumulated
  // increments reach 2^64 - 1 while the value is back at 0.
  Node node(1);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(node.reply(CommandKind::incrby, {"c"}, {}, max).value, integer(max));
    EXPECT_EQ(node.reply(CommandKind::decrby, {"c"}, {}, max).value, integer(0));
  }
  EXPECT_EQ(node.reply(CommandKind::incr, {"c"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::decr, {"c"}).value, integer(0));
  const Bytes before = node.state_of("c");
  const Execution overflow = node.run(CommandKind::incr, {"c"});
  EXPECT_EQ(overflow.reply.status, ReplyStatus::overflow);
  EXPECT_TRUE(overflow.deltas.empty());
  EXPECT_EQ(node.state_of("c"), before);
  // So are the decrements; an increment by 0 still fits.
  EXPECT_EQ(node.reply(CommandKind::decr, {"c"}).status, ReplyStatus::overflow);
  EXPECT_EQ(node.state_of("c"), before);
  EXPECT_EQ(node.reply(CommandKind::incrby, {"c"}, {}, 0).value, integer(0));
}

TEST(KeyspaceCounters, ConcurrentIncrementsAddUp) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::incrby, {"c"}, {}, 3);
  b.run(CommandKind::incrby, {"c"}, {}, 4);
  b.run(CommandKind::decr, {"c"});
  a.receive(b.log);
  b.receive(a.log);
  EXPECT_EQ(a.reply(CommandKind::get, {"c"}).value, integer(6));
  EXPECT_EQ(a.state_of("c"), b.state_of("c"));
}

TEST(KeyspaceCounters, DelIsAnObservedResetAndAConcurrentIncrSurvives) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::incrby, {"c"}, {}, 5);
  b.receive(a.log);
  // b deletes what it saw; a concurrently increments (a fresh dot b never saw).
  const Execution del = b.run(CommandKind::del, {"c"});
  EXPECT_EQ(del.reply.value, integer(1));
  EXPECT_EQ(b.reply(CommandKind::exists, {"c"}).value, integer(0));
  a.run(CommandKind::incrby, {"c"}, {}, 2);
  a.receive(del.deltas);
  b.receive(a.log);
  EXPECT_EQ(a.state_of("c"), b.state_of("c"));
  // The surviving dot carries a's accumulated 5 + 2 (see causal_counter.h).
  EXPECT_EQ(a.reply(CommandKind::get, {"c"}).value, integer(7));
  // A DEL that observed everything resets to nothing.
  a.run(CommandKind::del, {"c"});
  EXPECT_EQ(a.reply(CommandKind::get, {"c"}).value, ReplyValue::nil());
  EXPECT_EQ(a.reply(CommandKind::incr, {"c"}).value, integer(1));
}

TEST(KeyspaceGrowOnly, GCounterAndGSet) {
  Node node(1);
  EXPECT_EQ(node.reply(CommandKind::gget, {"g"}).value, integer(0));
  EXPECT_EQ(node.reply(CommandKind::gincrby, {"g"}, {}, 4).value, integer(4));
  EXPECT_EQ(node.reply(CommandKind::gincrby, {"g"}, {}, 6).value, integer(10));
  EXPECT_EQ(node.reply(CommandKind::gget, {"g"}).value, integer(10));
  EXPECT_EQ(
      node.reply(CommandKind::gincrby, {"g"}, {}, std::numeric_limits<std::int64_t>::max()).status,
      ReplyStatus::overflow);
  EXPECT_EQ(node.reply(CommandKind::gsadd, {"s"}, {"b", "a", "b"}).value, integer(2));
  EXPECT_EQ(node.reply(CommandKind::gsadd, {"s"}, {"a", "c"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::gsmembers, {"s"}).value, list({"a", "b", "c"}));
  EXPECT_EQ(node.reply(CommandKind::type, {"s"}).value, text("g_set"));
}

TEST(KeyspaceGrowOnly, DelIsNotSupportedAndDeletesNothing) {
  Node node(1);
  node.run(CommandKind::gincrby, {"g"}, {}, 1);
  node.run(CommandKind::gsadd, {"s"}, {"x"});
  node.run(CommandKind::set, {"r"}, {"v"});
  for (const std::string key : {"g", "s"}) {
    const Execution del = node.run(CommandKind::del, {"r", key});
    EXPECT_EQ(del.reply.status, ReplyStatus::not_supported);
    EXPECT_TRUE(del.deltas.empty());
  }
  EXPECT_EQ(node.reply(CommandKind::exists, {"r", "g", "s"}).value, integer(3));
}

TEST(KeyspaceSets, AddRemoveAndReads) {
  Node node(1);
  const Execution sadd = node.run(CommandKind::sadd, {"s"}, {"b", "a", "b"});
  EXPECT_EQ(sadd.reply.value, integer(2));
  EXPECT_EQ(sadd.reply.metadata.dots.size(), 2u);
  EXPECT_EQ(node.reply(CommandKind::sadd, {"s"}, {"a", "c"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::smembers, {"s"}).value, list({"a", "b", "c"}));
  EXPECT_EQ(node.reply(CommandKind::sismember, {"s"}, {"a"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::sismember, {"s"}, {"z"}).value, integer(0));
  EXPECT_EQ(node.reply(CommandKind::scard, {"s"}).value, integer(3));
  EXPECT_EQ(node.reply(CommandKind::srem, {"s"}, {"a", "z", "a"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::scard, {"s"}).value, integer(2));
  EXPECT_EQ(node.reply(CommandKind::srem, {"missing"}, {"a"}).value, integer(0));
  EXPECT_EQ(node.reply(CommandKind::smembers, {"missing"}).value, list({}));
  EXPECT_EQ(node.reply(CommandKind::scard, {"missing"}).value, integer(0));
}

TEST(KeyspaceSets, DelIsObservedRemoveAndAConcurrentAddSurvives) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::sadd, {"s"}, {"x", "y"});
  b.receive(a.log);
  const Execution del = b.run(CommandKind::del, {"s"});
  EXPECT_EQ(del.reply.value, integer(1));
  a.run(CommandKind::sadd, {"s"}, {"z"});
  a.receive(del.deltas);
  b.receive(a.log);
  EXPECT_EQ(a.state_of("s"), b.state_of("s"));
  EXPECT_EQ(b.reply(CommandKind::smembers, {"s"}).value, list({"z"}));
}

TEST(KeyspaceMaps, SetGetDeleteAndGetAll) {
  Node node(1);
  const Execution hset = node.run(CommandKind::hset, {"h"}, {"f", "1", "g", "2", "f", "3"});
  EXPECT_EQ(hset.reply.value, integer(2));
  EXPECT_EQ(hset.reply.metadata.timestamps.size(), 1u);
  EXPECT_EQ(node.reply(CommandKind::hget, {"h"}, {"f"}).value, text("3"));
  EXPECT_EQ(node.reply(CommandKind::hset, {"h"}, {"g", "4", "k", "5"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::hgetall, {"h"}).value, list({"f", "3", "g", "4", "k", "5"}));
  const Reply hget = node.reply(CommandKind::hget, {"h"}, {"g"});
  ASSERT_EQ(hget.metadata.read_timestamps.size(), 1u);
  EXPECT_EQ(node.reply(CommandKind::hdel, {"h"}, {"g", "zz", "g"}).value, integer(1));
  EXPECT_EQ(node.reply(CommandKind::hget, {"h"}, {"g"}).value, ReplyValue::nil());
  EXPECT_EQ(node.reply(CommandKind::hdel, {"h"}, {"g"}).value, integer(0));
  EXPECT_EQ(node.reply(CommandKind::hgetall, {"h"}).value, list({"f", "3", "k", "5"}));
  EXPECT_EQ(node.reply(CommandKind::hget, {"missing"}, {"f"}).value, ReplyValue::nil());
  EXPECT_EQ(node.reply(CommandKind::hgetall, {"missing"}).value, list({}));
}

TEST(KeyspaceMaps, DelRemovesObservedFieldsAndAConcurrentHsetSurvives) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::hset, {"h"}, {"f", "1", "g", "2"});
  b.receive(a.log);
  const Execution del = b.run(CommandKind::del, {"h"});
  EXPECT_EQ(del.reply.value, integer(1));
  EXPECT_EQ(b.reply(CommandKind::exists, {"h"}).value, integer(0));
  a.run(CommandKind::hset, {"h"}, {"g", "3"});
  a.receive(del.deltas);
  b.receive(a.log);
  EXPECT_EQ(a.state_of("h"), b.state_of("h"));
  EXPECT_EQ(b.reply(CommandKind::hgetall, {"h"}).value, list({"g", "3"}));
}

// Two replicas create one key with different types; whatever order the
// deltas arrive in, both converge to the type of the later creation.
TEST(KeyspaceTypes, ConcurrentCreationConvergesWhateverTheDeliveryOrder) {
  for (const bool set_first : {false, true}) {
    Node a(1);
    Node b(2);
    b.clock.observe(10);  // b's creation is the later one
    a.run(CommandKind::set, {"k"}, {"text"});
    b.run(CommandKind::sadd, {"k"}, {"x"});
    Node c(3);
    if (set_first) {
      c.receive(a.log);
      c.receive(b.log);
    } else {
      c.receive(b.log);
      c.receive(a.log);
    }
    a.receive(b.log);
    b.receive(a.log);
    EXPECT_EQ(a.state_of("k"), b.state_of("k"));
    EXPECT_EQ(c.state_of("k"), b.state_of("k"));
    for (Node* node : {&a, &b, &c}) {
      EXPECT_EQ(node->reply(CommandKind::type, {"k"}).value, text("or_set"));
      EXPECT_EQ(node->reply(CommandKind::smembers, {"k"}).value, list({"x"}));
      EXPECT_EQ(node->reply(CommandKind::get, {"k"}).status, ReplyStatus::wrong_type);
    }
  }
}

TEST(KeyspaceTypes, EqualTimesBreakTiesByReplica) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::hset, {"k"}, {"f", "v"});
  b.run(CommandKind::incr, {"k"});
  a.receive(b.log);
  b.receive(a.log);
  EXPECT_EQ(a.state_of("k"), b.state_of("k"));
  // Both claimed at time 1: replica 2's claim is greater.
  EXPECT_EQ(a.reply(CommandKind::type, {"k"}).value, text("pn_counter"));
}

TEST(KeyspaceTypes, DelThenRecreateWithAnotherType) {
  Node a(1);
  Node b(2);
  a.run(CommandKind::sadd, {"k"}, {"x"});
  a.run(CommandKind::del, {"k"});
  EXPECT_EQ(a.reply(CommandKind::hset, {"k"}, {"f", "v"}).value, integer(1));
  EXPECT_EQ(a.reply(CommandKind::type, {"k"}).value, text("lww_map"));
  EXPECT_EQ(a.reply(CommandKind::sadd, {"k"}, {"y"}).status, ReplyStatus::wrong_type);
  a.run(CommandKind::del, {"k"});
  EXPECT_EQ(a.reply(CommandKind::set, {"k"}, {"r"}).status, ReplyStatus::ok);
  EXPECT_EQ(a.reply(CommandKind::type, {"k"}).value, text("lww_register"));
  b.receive(a.log);
  EXPECT_EQ(b.state_of("k"), a.state_of("k"));
  EXPECT_EQ(b.reply(CommandKind::get, {"k"}).value, text("r"));
}

// A type that lost a concurrent creation is hidden; re-creating it later
// starts from empty (its observed content is removed), not from the hidden
// elements.
TEST(KeyspaceTypes, RecreatingAHiddenTypeStartsEmpty) {
  Node a(1);
  Node b(2);
  b.clock.observe(10);
  a.run(CommandKind::sadd, {"k"}, {"hidden"});
  b.run(CommandKind::set, {"k"}, {"winner"});
  a.receive(b.log);
  EXPECT_EQ(a.reply(CommandKind::get, {"k"}).value, text("winner"));
  a.run(CommandKind::del, {"k"});
  EXPECT_EQ(a.reply(CommandKind::sadd, {"k"}, {"new"}).value, integer(1));
  EXPECT_EQ(a.reply(CommandKind::smembers, {"k"}).value, list({"new"}));
  b.receive(a.log);
  EXPECT_EQ(b.state_of("k"), a.state_of("k"));
  EXPECT_EQ(b.reply(CommandKind::smembers, {"k"}).value, list({"new"}));
}

TEST(KeyspaceApply, ReportsChangeAndIgnoresRepeats) {
  Node a(1);
  Node b(2);
  const Execution set = a.run(CommandKind::set, {"k"}, {"v"});
  EXPECT_TRUE(b.keyspace.apply("k", set.deltas[0].second));
  EXPECT_FALSE(b.keyspace.apply("k", set.deltas[0].second));
  EXPECT_FALSE(b.keyspace.apply("other", KeyState{}));
  EXPECT_EQ(b.keyspace.size(), 1u);
  const Execution sadd = a.run(CommandKind::sadd, {"s"}, {"x"});
  EXPECT_TRUE(b.keyspace.apply("s", sadd.deltas[0].second));
  EXPECT_FALSE(b.keyspace.apply("s", sadd.deltas[0].second));
  const Execution srem = a.run(CommandKind::srem, {"s"}, {"x"});
  EXPECT_TRUE(b.keyspace.apply("s", srem.deltas[0].second));
  EXPECT_FALSE(b.keyspace.apply("s", *a.keyspace.find("s")));
  // Iteration is ordered by key; erase drops a key.
  std::vector<std::string> keys;
  for (const auto& [key, state] : b.keyspace) {
    keys.push_back(key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"k", "s"}));
  EXPECT_TRUE(b.keyspace.erase("k"));
  EXPECT_FALSE(b.keyspace.erase("k"));
  EXPECT_EQ(b.keyspace.find("k"), nullptr);
}

TEST(KeyspaceClock, AWriteAfterASeenWriteWins) {
  Node a(1);
  Node b(2);
  a.clock.observe(100);
  a.run(CommandKind::set, {"k"}, {"old"});
  // b's clock is far behind, but it observed a's write through the key.
  b.receive(a.log);
  b.clock = LamportClock{};
  const Execution set = b.run(CommandKind::set, {"k"}, {"new"});
  EXPECT_GT(set.reply.metadata.timestamps[0].second.time, 100u);
  a.receive(b.log);
  EXPECT_EQ(a.reply(CommandKind::get, {"k"}).value, text("new"));
}

// The hash index beside the ordered map (keyspace.h) holds exactly its keys,
// each pointing at the key's state, through every way a key enters or
// leaves: command writes, applied deltas, erases, copies, moves.
TEST(KeyspaceIndex, StaysConsistentThroughWritesAppliesErasesCopiesAndMoves) {
  Node writer(1);
  std::vector<std::string> keys;
  for (int number = 0; number < 40; ++number) {
    keys.push_back("register:" + std::to_string(number));
    writer.run(CommandKind::set, {keys.back()}, {"v"});
    EXPECT_TRUE(writer.keyspace.index_consistent());
  }
  writer.run(CommandKind::sadd, {"set:1"}, {"m"});
  EXPECT_TRUE(writer.keyspace.index_consistent());

  Node reader(2);
  reader.receive(writer.log);
  ASSERT_TRUE(reader.keyspace.index_consistent());
  ASSERT_EQ(reader.keyspace.size(), writer.keyspace.size());
  for (std::size_t index = 0; index < keys.size(); index += 2) {
    EXPECT_TRUE(reader.keyspace.erase(keys[index]));
    EXPECT_FALSE(reader.keyspace.erase(keys[index]));
    EXPECT_TRUE(reader.keyspace.index_consistent());
    EXPECT_EQ(reader.keyspace.find(keys[index]), nullptr);
    EXPECT_NE(reader.keyspace.find(keys[index + 1]), nullptr);
  }
  // Re-created after the erase: a new node, indexed again.
  reader.receive(Deltas(writer.log.begin(), writer.log.begin() + 1));
  EXPECT_TRUE(reader.keyspace.index_consistent());
  EXPECT_NE(reader.keyspace.find(keys[0]), nullptr);

  // A copy indexes its own nodes.
  Keyspace copy = reader.keyspace;
  EXPECT_TRUE(copy.index_consistent());
  EXPECT_EQ(copy, reader.keyspace);
  EXPECT_NE(copy.find(keys[1]), reader.keyspace.find(keys[1]));
  EXPECT_EQ(encode(*copy.find(keys[1])), encode(*reader.keyspace.find(keys[1])));
  EXPECT_TRUE(copy.apply("set:3", writer.log.back().second));
  EXPECT_TRUE(copy.index_consistent());
  EXPECT_NE(copy.find("set:3"), nullptr);
  EXPECT_EQ(reader.keyspace.find("set:3"), nullptr);
  EXPECT_TRUE(copy.erase(keys[1]));
  EXPECT_TRUE(copy.index_consistent());
  EXPECT_NE(reader.keyspace.find(keys[1]), nullptr);

  // Assigned over an indexed keyspace: the old index goes with its nodes.
  Keyspace assigned = writer.keyspace;
  assigned.apply("register:new", writer.log.front().second);
  assigned = copy;
  EXPECT_TRUE(assigned.index_consistent());
  EXPECT_EQ(assigned.find("register:new"), nullptr);
  EXPECT_TRUE(assigned.erase(keys[3]));
  EXPECT_TRUE(assigned.index_consistent());

  // A move keeps the nodes the index points into.
  const KeyState* before = copy.find(keys[3]);
  Keyspace moved = std::move(copy);
  EXPECT_TRUE(moved.index_consistent());
  EXPECT_EQ(moved.find(keys[3]), before);
}

}  // namespace
}  // namespace crdtsim::core
