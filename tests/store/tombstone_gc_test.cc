// Tombstone GC: what is collectible, the footprint measure, the protocol's
// messages and fences, and the replica collecting only once every replica of
// the key holds the deletion (with the planted early collection caught).
#include "core/replication/tombstone_gc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/codec/hash.h"
#include "core/replication/hash_ring.h"
#include "core/replication/hot_keys.h"
#include "core/replication/membership.h"
#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"
#include "tests/store/store_driver.h"

namespace crdtsim::testing {
namespace {

using core::Collectible;
using core::CommandKind;
using core::KeyState;
using core::LwwMap;
using core::LwwRegister;
using core::LwwTimestamp;
using core::LwwWrite;
using core::ORSet;
using core::PlantedBug;
using core::ReplyStatus;

LwwTimestamp at(std::uint64_t time, ReplicaId replica = 0) {
  return LwwTimestamp{time, 0, replica};
}

KeyState register_state(const LwwTimestamp& timestamp, bool tombstone, std::string value = {}) {
  return KeyState::of<LwwRegister>(timestamp,
                                   LwwRegister::holding(LwwWrite{timestamp, tombstone, value}));
}

TEST(TombstoneGcState, CollectibleNamesWhatDeletionLeavesBehind) {
  EXPECT_EQ(core::collectible(register_state(at(5), true)), Collectible::key);
  EXPECT_EQ(core::collectible(register_state(at(5), false, "v")), Collectible::nothing);

  LwwMap map;
  map.merge(map.set_field("live", "v", at(3)));
  map.merge(map.remove_field("gone", at(4)));
  const KeyState live_map = KeyState::of<LwwMap>(at(1), map);
  EXPECT_EQ(core::collectible(live_map), Collectible::fields);
  const KeyState compacted = core::compacted(live_map);
  EXPECT_EQ(compacted.value<LwwMap>()->entries().size(), 1u);
  EXPECT_EQ(compacted.value<LwwMap>()->get("live"), "v");
  EXPECT_EQ(compacted.slot(core::ValueType::lww_map)->claim, at(1));
  EXPECT_EQ(core::collectible(compacted), Collectible::nothing);

  LwwMap dead_map;
  dead_map.merge(dead_map.remove_field("gone", at(4)));
  EXPECT_EQ(core::collectible(KeyState::of<LwwMap>(at(1), dead_map)), Collectible::key);

  // A dead OR-Set or counter goes whole, causal context included (writers'
  // dot floors keep a re-created key's dots unique).
  ORSet set;
  set.merge(set.add(1, "a"));
  set.merge(set.remove("a"));
  EXPECT_EQ(core::collectible(KeyState::of<ORSet>(at(1), set)), Collectible::key);
  EXPECT_EQ(core::writer_dot_max(KeyState::of<ORSet>(at(1), set), 1), 1u);
  EXPECT_EQ(core::writer_dot_max(KeyState::of<ORSet>(at(1), set), 2), 0u);
  core::CausalCounter counter;
  counter.merge(*counter.increment(2, 3));
  EXPECT_EQ(core::collectible(KeyState::of<core::CausalCounter>(at(1), counter)),
            Collectible::nothing);
  counter.merge(counter.reset());
  EXPECT_EQ(core::collectible(KeyState::of<core::CausalCounter>(at(1), counter)), Collectible::key);
  // A grow-only value is dead only while empty.
  core::GSet grow_only;
  EXPECT_EQ(core::collectible(KeyState::of<core::GSet>(at(1), grow_only)), Collectible::key);
  grow_only.merge(grow_only.add("a"));
  EXPECT_EQ(core::collectible(KeyState::of<core::GSet>(at(1), grow_only)), Collectible::nothing);

  // A deleted register next to a hidden dead OR-Set slot goes whole; next to
  // a hidden live one it stays.
  KeyState mixed = register_state(at(6), true);
  mixed.merge(KeyState::of<ORSet>(at(2), set));
  EXPECT_EQ(core::collectible(mixed), Collectible::key);
  ORSet live_set;
  live_set.merge(live_set.add(2, "b"));
  mixed.merge(KeyState::of<ORSet>(at(2), live_set));
  EXPECT_EQ(core::collectible(mixed), Collectible::nothing);
  // Version dots (sessions, the causal level) are never dropped.
  KeyState versioned = register_state(at(5), true);
  versioned.add_version(core::Dot{1, 1});
  EXPECT_EQ(core::collectible(versioned), Collectible::nothing);
}

// With membership changes on (causal_keys false), a stray keeps its copy of
// any key but an LWW one, so a dead copy of those types must not count as
// collectible: no round collects a copy held outside the key's replicas, and
// the settle phase waited for it forever. An empty G-set (a replica that got
// only the empty delta of a GSADD of present members, then stopped
// replicating the key) was the one case left out: liveness failed in a sweep
// of tombstone GC with membership changes and G-sets.
TEST(TombstoneGcState, WithMembershipNoDeadCopyAStrayKeepsIsCollectible) {
  const KeyState empty_g_set = KeyState::of<core::GSet>(at(1), core::GSet{});
  EXPECT_EQ(core::collectible(empty_g_set, true), Collectible::key);
  EXPECT_EQ(core::collectible(empty_g_set, false), Collectible::nothing);
  const KeyState empty_g_counter = KeyState::of<core::GCounter>(at(1), core::GCounter{});
  EXPECT_EQ(core::collectible(empty_g_counter, true), Collectible::key);
  EXPECT_EQ(core::collectible(empty_g_counter, false), Collectible::nothing);
  EXPECT_EQ(core::collectible(register_state(at(5), true), false), Collectible::key);
}

TEST(TombstoneGcState, FootprintCountsDeadKeysTombstonesAndBytes) {
  core::Keyspace keyspace;
  keyspace.apply("dead", register_state(at(5), true));
  keyspace.apply("live", register_state(at(6), false, "value"));
  LwwMap map;
  map.merge(map.set_field("f", "v", at(3)));
  map.merge(map.remove_field("g", at(4)));
  keyspace.apply("map", KeyState::of<LwwMap>(at(1), map));
  const core::KeyspaceFootprint footprint = core::measure(keyspace);
  EXPECT_EQ(footprint.keys, 3u);
  EXPECT_EQ(footprint.dead_keys, 1u);
  EXPECT_EQ(footprint.register_tombstones, 1u);
  EXPECT_EQ(footprint.map_field_tombstones, 1u);
  EXPECT_GT(footprint.bytes, footprint.live_bytes);
  EXPECT_GT(footprint.live_bytes, 0u);
}

template <class Message>
Message round_trip(const Message& message) {
  const Bytes frame = core::encode_frame(message);
  core::FrameView view;
  std::string error;
  EXPECT_TRUE(core::parse_frame(frame, view, error)) << error;
  Message decoded;
  EXPECT_TRUE(core::decode_payload(view.payload, decoded, error)) << error;
  return decoded;
}

TEST(TombstoneGcState, MessagesRoundTripAndMalformedOnesAreRejected) {
  const core::GcPrepare prepare{7, {{"a", 11, 1234, 5}, {"b", 12}}};
  const core::GcPrepare prepare_back = round_trip(prepare);
  EXPECT_EQ(prepare_back.round, 7u);
  EXPECT_EQ(prepare_back.keys, prepare.keys);
  const core::GcPrepared prepared_back = round_trip(core::GcPrepared{7, 99, {"a"}});
  EXPECT_EQ(prepared_back.stamp, 99u);
  EXPECT_EQ(prepared_back.keys, std::vector<std::string>{"a"});
  const core::GcCommit commit{{{1, 5}, {2, 6}}, {{"a", 11}}};
  const core::GcCommit commit_back = round_trip(commit);
  EXPECT_EQ(commit_back.fences, commit.fences);
  EXPECT_EQ(commit_back.keys, commit.keys);
  const core::GcEnvelope envelope{3, 4, core::encode_frame(prepare)};
  EXPECT_EQ(round_trip(envelope).inner_frame, envelope.inner_frame);

  core::GcPrepare decoded;
  std::string error;
  const std::vector<std::uint8_t> truncated = {7, 1, 1};
  EXPECT_FALSE(core::decode_payload(truncated, decoded, error));
  const std::vector<std::uint8_t> too_many = {7, 0xff, 0xff, 0x03};
  EXPECT_FALSE(core::decode_payload(too_many, decoded, error));
}

TEST(TombstoneGcState, FencesRefuseContentSentBeforeAPrepareOrToAnEarlierIncarnation) {
  core::TombstoneGc gc;
  gc.start(2);
  const std::uint64_t early = (std::uint64_t{1} << core::TombstoneGc::kEpochBits) | 4;
  const std::uint64_t prepared = (std::uint64_t{1} << core::TombstoneGc::kEpochBits) | 5;
  EXPECT_TRUE(gc.admit_content(1, core::GcEnvelope{early, 2, {}}));
  gc.raise_fence(1, prepared);
  EXPECT_FALSE(gc.admit_content(1, core::GcEnvelope{early, 2, {}}));
  EXPECT_TRUE(gc.admit_content(1, core::GcEnvelope{prepared, 2, {}}));
  // A later incarnation of the sender is past any fence of an earlier one.
  EXPECT_TRUE(gc.admit_content(1, core::GcEnvelope{std::uint64_t{2} << 40, 2, {}}));
  // Sent to this replica's previous incarnation: it may predate anything.
  EXPECT_FALSE(gc.admit_content(2, core::GcEnvelope{prepared, 1, {}}));
  EXPECT_EQ(gc.stats().messages_fenced, 1u);
  EXPECT_EQ(gc.stats().messages_stale, 1u);
  gc.heard(3, std::uint64_t{6} << 40);
  gc.heard(3, std::uint64_t{5} << 40);
  EXPECT_EQ(gc.known_incarnation(3), 6u);
}

// A round waits kRoundTicksFloor ticks; an answer to a round given up after
// that doubles the wait (once per round, up to kRoundTicksCap), a late
// duplicate of an answer to a round that completed changes nothing, and a
// round that completes shrinks the wait by a quarter (not below
// kRoundTicksFloor).
TEST(TombstoneGcState, AnAnswerToATimedOutRoundDoublesTheWait) {
  using core::TombstoneGc;
  TombstoneGc gc;
  gc.start(1);
  const auto tick_until_replaced = [&gc]() {
    std::uint32_t ticks = 0;
    while (gc.round_pending()) {
      ++ticks;
    }
    return ticks;
  };
  const std::uint64_t first = gc.begin_round({{"k", 7}});
  EXPECT_EQ(tick_until_replaced(), TombstoneGc::kRoundTicksFloor);
  (void)gc.begin_round({{"k", 7}});
  EXPECT_FALSE(gc.on_prepared(1, core::GcPrepared{first, 1, {"k"}}));
  EXPECT_EQ(gc.round_ticks_max(), 2 * TombstoneGc::kRoundTicksFloor);
  EXPECT_FALSE(gc.on_prepared(2, core::GcPrepared{first, 1, {"k"}}));  // once per round
  EXPECT_EQ(gc.round_ticks_max(), 2 * TombstoneGc::kRoundTicksFloor);
  EXPECT_EQ(tick_until_replaced(), 2 * TombstoneGc::kRoundTicksFloor);
  // The third round completes: the wait shrinks by a quarter, and a late
  // duplicate of its answer changes nothing.
  const std::uint64_t third = gc.begin_round({{"k", 7}});
  EXPECT_TRUE(gc.on_prepared(1, core::GcPrepared{third, 1, {"k"}}));
  gc.finish_key("k");
  EXPECT_EQ(gc.round_ticks_max(), 2 * TombstoneGc::kRoundTicksFloor * 3 / 4);
  EXPECT_FALSE(gc.round_pending());
  (void)gc.begin_round({{"k", 7}});
  EXPECT_FALSE(gc.on_prepared(1, core::GcPrepared{third, 1, {"k"}}));
  EXPECT_EQ(gc.round_ticks_max(), 2 * TombstoneGc::kRoundTicksFloor * 3 / 4);
  // Capped.
  for (int round = 0; round < 20; ++round) {
    (void)tick_until_replaced();
    const std::uint64_t timed_out = gc.round();
    (void)gc.begin_round({{"k", 7}});
    (void)gc.on_fenced(1, core::GcFenced{timed_out, {"k"}});
  }
  EXPECT_EQ(gc.round_ticks_max(), TombstoneGc::kRoundTicksCap);
  // Completed rounds bring it back down to where it started, not below.
  for (int round = 0; round < 40; ++round) {
    (void)gc.begin_round({{"k", 7}});
    gc.finish_key("k");
  }
  EXPECT_EQ(gc.round_ticks_max(), TombstoneGc::kRoundTicksFloor);
}

// ---- the replica -------------------------------------------------------------

constexpr ReplicaId kReplicas = 3;

// SET then DEL of `key` at replica 0; returns the SET's timestamp.
LwwTimestamp set_then_delete(StoreDriver& driver, const std::string& key) {
  const auto set = driver.execute(0, command(CommandKind::set, {key}, {"old"}));
  EXPECT_TRUE(set && set->status == ReplyStatus::ok);
  driver.run_for(200'000);
  const auto del = driver.execute(0, command(CommandKind::del, {key}));
  EXPECT_TRUE(del && del->value.integer == 1);
  return set->metadata.timestamps.at(0).second;
}

// The frame a replica of `key` gossiped when the SET was new: the value the
// DEL removed, in an envelope stamped before any GC round.
Bytes old_set_delta(const std::string& key, const LwwTimestamp& timestamp, ReplicaId from,
                    std::uint64_t receiver_incarnation) {
  core::DeltaBatch batch;
  batch.first_seq = 1;
  batch.last_seq = 1;
  batch.entries.push_back({key, from, register_state(timestamp, false, "old")});
  return core::encode_frame(core::GcEnvelope{0, receiver_incarnation, core::encode_frame(batch)});
}

bool held_anywhere(const StoreDriver& driver, const std::string& key) {
  for (ReplicaId id = 0; id < kReplicas; ++id) {
    if (driver.replica(id) != nullptr && driver.replica(id)->keyspace().find(key) != nullptr) {
      return true;
    }
  }
  return false;
}

TEST(TombstoneGcReplica, DeletionIsCollectedEverywhereAndAnOldDeltaCannotBringItBack) {
  StoreDriver driver({.replicas = kReplicas, .tombstone_gc = true}, 21);
  const LwwTimestamp written = set_then_delete(driver, "k");
  driver.run_for(2'000'000);
  EXPECT_FALSE(held_anywhere(driver, "k")) << "the deletion was never collected";
  EXPECT_EQ(driver.divergence(), "");
  EXPECT_GE(driver.replica(0)->tombstone_gc().stats().keys_collected, 1u);

  // A delayed copy of the SET's delta arrives after the collection.
  driver.inject(0, 1, old_set_delta("k", written, 0, 0));
  driver.run_for(2'000'000);
  EXPECT_FALSE(held_anywhere(driver, "k")) << "a collected deletion came back";
  EXPECT_GE(driver.replica(1)->stats().tombstone_gc.messages_fenced, 1u);
  for (ReplicaId id = 0; id < kReplicas; ++id) {
    const auto get = driver.execute(id, command(CommandKind::get, {"k"}));
    ASSERT_TRUE(get);
    EXPECT_EQ(get->value.kind, core::ReplyValue::Kind::nil) << "replica " << id;
  }
}

// An interval far below a round trip (50 us against one-way latencies of up
// to 5 ms): a round must still wait long enough for its answers. Counted in
// GC ticks alone (8), every round was replaced by the next before its
// answers came back, and the deletion was never collected.
TEST(TombstoneGcReplica, AnIntervalShorterThanARoundTripStillCollects) {
  EXPECT_EQ(core::TombstoneGc::round_ticks_for(100'000, 50'000), 8u);
  EXPECT_EQ(core::TombstoneGc::round_ticks_for(50, 50'000), 1'000u);
  EXPECT_EQ(core::TombstoneGc::round_ticks_for(3, 10), 8u);
  StoreDriver driver({.replicas = kReplicas, .tombstone_gc = true, .gc_interval_us = 50}, 21);
  set_then_delete(driver, "k");
  driver.run_for(1'000'000);
  EXPECT_FALSE(held_anywhere(driver, "k")) << "the deletion was never collected";
  EXPECT_EQ(driver.divergence(), "");
}

TEST(TombstoneGcReplica, PlantedCollectionBeforeStabilityLetsTheOldValueBackAndIsCaught) {
  StoreDriver driver(
      {.replicas = kReplicas, .planted_bug = PlantedBug::gc_before_stable, .tombstone_gc = true},
      21);
  const LwwTimestamp written = set_then_delete(driver, "k");
  driver.run_for(2'000'000);
  ASSERT_FALSE(held_anywhere(driver, "k"));
  driver.inject(0, 1, old_set_delta("k", written, 0, 0));
  driver.run_for(2'000'000);
  const auto get = driver.execute(1, command(CommandKind::get, {"k"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.text, "old") << "the planted bug went unnoticed";
}

TEST(TombstoneGcReplica, RestartedVolatileReplicaRefusesContentSentToItsPreviousIncarnation) {
  StoreDriver driver({.replicas = kReplicas, .durable = false, .tombstone_gc = true}, 22);
  const LwwTimestamp written = set_then_delete(driver, "k");
  driver.run_for(2'000'000);
  ASSERT_FALSE(held_anywhere(driver, "k"));
  driver.crash(1);
  driver.restart(1);
  ASSERT_EQ(driver.replica(1)->incarnation(), 1u);
  // Its fences died with it; the stale receiver incarnation still tells.
  driver.inject(0, 1, old_set_delta("k", written, 0, 0));
  driver.run_for(2'000'000);
  EXPECT_FALSE(held_anywhere(driver, "k")) << "a collected deletion came back";
  EXPECT_GE(driver.replica(1)->stats().tombstone_gc.messages_stale, 1u);
}

// Every member takes part in a key's collection, not only the key's
// replicas: a member outside them prepares only while it holds nothing of the
// key, and first passes the collected state's newest timestamp, so that if it
// becomes a replica of the key later (a promoted hot key) its writes beat
// what was collected (gc-hot-keys-swarm seed 718 lost such a write).
TEST(TombstoneGcReplica, MembersOutsideTheKeysReplicasPassItsCollectedTimestamps) {
  StoreDriver driver({.replicas = 4, .tombstone_gc = true}, 23);  // factor 3 of 4
  std::string key;
  ReplicaId owner = 0;
  ReplicaId outsider = 0;
  for (int index = 0; index < 64 && key.empty(); ++index) {
    const std::string candidate = "k" + std::to_string(index);
    const std::vector<ReplicaId> replicas = driver.replica(0)->replicas_of(candidate);
    ASSERT_EQ(replicas.size(), 3u);
    for (ReplicaId id = 0; id < 4; ++id) {
      if (std::find(replicas.begin(), replicas.end(), id) == replicas.end()) {
        key = candidate;
        owner = replicas.front();
        outsider = id;
      }
    }
  }
  ASSERT_FALSE(key.empty());
  // Many writes first, so the owner's clock runs far ahead of the outsider's.
  for (int index = 0; index < 50; ++index) {
    ASSERT_TRUE(driver.execute(owner, command(CommandKind::set, {key}, {std::to_string(index)})));
  }
  ASSERT_TRUE(driver.execute(owner, command(CommandKind::del, {key})));
  const std::uint64_t deleted_at = driver.replica(owner)->keyspace().find(key)->max_time();
  ASSERT_LT(driver.replica(outsider)->lamport(), deleted_at);
  driver.run_for(2'000'000);
  ASSERT_FALSE(held_anywhere(driver, key)) << "the deletion was never collected";
  ASSERT_EQ(driver.replica(3)->keyspace().find(key), nullptr);
  EXPECT_GE(driver.replica(outsider)->lamport(), deleted_at)
      << "a member outside the key's replicas could later write below what was collected";
}

TEST(TombstoneGcReplica, ConvergesAndCollectsUnderLossDuplicationAndACrash) {
  StoreDriver driver(
      {.replicas = kReplicas, .tombstone_gc = true, .drop_percent = 10, .duplicate_percent = 10},
      23);
  for (int index = 0; index < 20; ++index) {
    const std::string key = "k" + std::to_string(index);
    driver.execute(static_cast<ReplicaId>(index % 3), command(CommandKind::set, {key}, {"v"}));
    driver.execute(static_cast<ReplicaId>((index + 1) % 3), command(CommandKind::del, {key}));
    driver.execute(0, command(CommandKind::hset, {"map"}, {key, "v"}));
    driver.execute(1, command(CommandKind::hdel, {"map"}, {key}));
    if (index == 10) {
      driver.crash(2);
      driver.run_for(100'000);
      driver.restart(2);
    }
  }
  driver.heal_network();
  driver.run_for(10'000'000);
  EXPECT_EQ(driver.divergence(), "");
  for (ReplicaId id = 0; id < kReplicas; ++id) {
    const core::KeyspaceFootprint footprint = driver.replica(id)->footprint();
    EXPECT_EQ(footprint.register_tombstones, 0u) << "replica " << id;
    EXPECT_EQ(footprint.map_field_tombstones, 0u) << "replica " << id;
  }
}

// ---- dead sets and counters: dot uniqueness across collection -------------

// Steps until `id` has prepared one more key (or `limit_us` passes).
bool run_until_prepared(StoreDriver& driver, ReplicaId id, std::uint64_t limit_us) {
  const std::uint64_t before = driver.replica(id)->tombstone_gc().stats().keys_prepared;
  const std::uint64_t deadline = driver.now_us() + limit_us;
  while (driver.now_us() < deadline) {
    driver.run_for(50);
    if (driver.replica(id)->tombstone_gc().stats().keys_prepared > before) {
      return true;
    }
  }
  return false;
}

// The re-creation race. Writer W adds and removes members of set "s"; every
// replica prepares its dead state S; replica R crashes right after preparing,
// so the commit never reaches it, and restarts from disk holding S while the
// others collect. W then re-creates "s" before hearing of S again. Its new
// dot must lie past every dot of W in S: R, still holding S, would otherwise
// take the add for one already removed, and its anti-entropy would remove it
// at W too (a lost add). Returns whether the new member survived everywhere.
bool recreated_member_survives(PlantedBug bug) {
  StoreDriver driver({.replicas = kReplicas, .planted_bug = bug, .tombstone_gc = true}, 31);
  const std::vector<ReplicaId> replicas = driver.replica(0)->replicas_of("s");
  const ReplicaId writer = replicas.at(1);
  const ReplicaId stale = replicas.at(2);
  for (const char* member : {"a", "b", "c"}) {
    EXPECT_TRUE(driver.execute(writer, command(CommandKind::sadd, {"s"}, {member})));
    EXPECT_TRUE(driver.execute(writer, command(CommandKind::srem, {"s"}, {member})));
  }
  EXPECT_TRUE(run_until_prepared(driver, stale, 2'000'000)) << "no GC round prepared the key";
  driver.crash(stale);
  driver.run_for(200'000);
  EXPECT_EQ(driver.replica(writer)->keyspace().find("s"), nullptr) << "the writer did not collect";
  EXPECT_GE(driver.replica(writer)->dot_floor(), 3u);
  driver.restart(stale);
  EXPECT_NE(driver.replica(stale)->keyspace().find("s"), nullptr) << "restarted without S";
  const auto add = driver.execute(writer, command(CommandKind::sadd, {"s"}, {"new"}), 1'000);
  EXPECT_TRUE(add && add->status == ReplyStatus::ok);
  driver.run_for(3'000'000);
  EXPECT_EQ(driver.divergence(), "");
  bool everywhere = true;
  for (ReplicaId id = 0; id < kReplicas; ++id) {
    const auto member = driver.execute(id, command(CommandKind::sismember, {"s"}, {"new"}));
    everywhere = everywhere && member && member->value.integer == 1;
  }
  return everywhere;
}

TEST(TombstoneGcReplica, ARecreatedSetKeepsItsAddWhereAReplicaStillHoldsTheCollectedState) {
  EXPECT_TRUE(recreated_member_survives(PlantedBug::none));
}

TEST(TombstoneGcReplica, PlantedDotReuseAfterCollectionLosesTheRecreatedAdd) {
  EXPECT_FALSE(recreated_member_survives(PlantedBug::gc_ignore_dot_floor))
      << "the planted bug went unnoticed";
}

// The floor outlives a durable restart (it is synced with the drop): a
// re-created counter's first dot lies past the collected one's.
TEST(TombstoneGcReplica, DotFloorSurvivesADurableRestartAndDeadCountersAreCollected) {
  StoreDriver driver({.replicas = kReplicas, .tombstone_gc = true}, 32);
  const ReplicaId writer = driver.replica(0)->replicas_of("n").front();
  for (int index = 0; index < 5; ++index) {
    ASSERT_TRUE(driver.execute(writer, command(CommandKind::incr, {"n"})));
  }
  ASSERT_TRUE(driver.execute(writer, command(CommandKind::del, {"n"})));
  driver.run_for(2'000'000);
  ASSERT_FALSE(held_anywhere(driver, "n")) << "the dead counter was never collected";
  const std::uint64_t floor = driver.replica(writer)->dot_floor();
  EXPECT_GE(floor, 5u);
  driver.crash(writer);
  driver.restart(writer);
  EXPECT_EQ(driver.replica(writer)->dot_floor(), floor);
  const auto incr = driver.execute(writer, command(CommandKind::incr, {"n"}));
  ASSERT_TRUE(incr && incr->status == ReplyStatus::ok);
  ASSERT_EQ(incr->metadata.dots.size(), 1u);
  EXPECT_GT(incr->metadata.dots.front().second.counter, floor);
  EXPECT_EQ(incr->value.integer, 1);
}

// Churn over many set and counter keys (created, emptied, re-created): every
// replica ends holding the live keys only, and each replica's footprint does
// not depend on how many times the keys were re-created.
// A forwarded write of a key the target does not serve (a forward delayed
// past a demotion or ring change, and the drop of the stray copy) is refused
// with GC on: writing there would seed a fresh context through the dot floor
// over the target's own earlier dots of the key, which may still be live at
// the key's replicas. Without GC the target executes it as a stray.
std::uint64_t stray_writes_kept(bool tombstone_gc) {
  StoreDriver driver({.replicas = 3, .replication_factor = 1, .tombstone_gc = tombstone_gc}, 5);
  std::string key;
  for (int index = 0; index < 64 && key.empty(); ++index) {
    const std::string candidate = "k" + std::to_string(index);
    if (driver.replica(0)->replicas_of(candidate) == std::vector<ReplicaId>{1}) {
      key = candidate;
    }
  }
  EXPECT_FALSE(key.empty());
  Bytes frame = core::encode_forward_request_frame(7, command(CommandKind::sadd, {key}, {"x"}));
  if (tombstone_gc) {  // peer messages travel in GC's envelope then
    frame = core::encode_frame(core::GcEnvelope{0, 0, std::move(frame)});
  }
  driver.inject(0, 2, std::move(frame));
  driver.run_for(50'000);
  EXPECT_EQ(driver.replica(2)->stats().forwarded_writes_refused, tombstone_gc ? 1u : 0u);
  return driver.replica(2)->keyspace().find(key) == nullptr ? 0 : 1;
}

TEST(TombstoneGcReplica, AForwardedWriteOfAKeyNotServedThereIsRefused) {
  EXPECT_EQ(stray_writes_kept(true), 0u);
  EXPECT_EQ(stray_writes_kept(false), 1u) << "without GC a stray executes it";
}

TEST(TombstoneGcReplica, SetAndCounterChurnLeavesOnlyLiveKeys) {
  StoreDriver driver(
      {.replicas = kReplicas, .tombstone_gc = true, .drop_percent = 5, .duplicate_percent = 5}, 33);
  for (int round = 0; round < 6; ++round) {
    for (int index = 0; index < 10; ++index) {
      const std::string set = "set" + std::to_string(index);
      const std::string counter = "counter" + std::to_string(index);
      const ReplicaId at = static_cast<ReplicaId>(round + index) % kReplicas;
      driver.execute(at, command(CommandKind::sadd, {set}, {"m" + std::to_string(round)}));
      driver.execute(at, command(CommandKind::incrby, {counter}, {}, 2));
      driver.run_for(30'000);
      driver.execute(at, command(CommandKind::srem, {set}, {"m" + std::to_string(round)}));
      driver.execute(at, command(CommandKind::del, {counter}));
    }
    driver.run_for(500'000);
  }
  ASSERT_TRUE(driver.execute(0, command(CommandKind::sadd, {"set0"}, {"last"})));
  driver.heal_network();
  driver.run_for(10'000'000);
  EXPECT_EQ(driver.divergence(), "");
  for (ReplicaId id = 0; id < kReplicas; ++id) {
    const core::KeyspaceFootprint footprint = driver.replica(id)->footprint();
    EXPECT_EQ(footprint.keys, 1u) << "replica " << id;
    EXPECT_EQ(footprint.dead_keys, 0u) << "replica " << id;
    EXPECT_EQ(footprint.context_entries, 1u) << "replica " << id << ": one writer's entry";
  }
}

// ---- with membership changes ------------------------------------------------

// The inner frame of `frame` (a GC envelope) if it is of `kind`, decoded.
template <class Message>
std::optional<Message> inner_message(const Bytes& frame, core::PeerMessageKind kind) {
  core::FrameView view;
  std::string error;
  core::GcEnvelope envelope;
  core::FrameView inner;
  Message message;
  if (!core::parse_frame(frame, view, error) ||
      !core::decode_payload(view.payload, envelope, error) ||
      !core::parse_frame(envelope.inner_frame, inner, error) ||
      inner.kind != static_cast<std::uint8_t>(kind) ||
      !core::decode_payload(inner.payload, message, error)) {
    return std::nullopt;
  }
  return message;
}

template <class Message>
std::optional<Message> sent(const core::Output& out, core::PeerMessageKind kind) {
  for (const core::OutgoingMessage& message : out.messages) {
    if (auto decoded = inner_message<Message>(message.frame, kind)) {
      return decoded;
    }
  }
  return std::nullopt;
}

// A process prepares a round while it replicates no key (it is not a
// member, and holds nothing), then a ring change moves a key to it before
// the fence phase: it may have taken old content of the key in between
// (nothing fences it yet), so it must refuse the fence phase, and no process
// collects in that round. Without the change it answers. A restart in
// between (the record of its prepare is volatile) refuses too.
enum class Between : std::uint8_t { nothing, join, restart };

bool fenced_after_prepare(Between between) {
  const std::vector<ReplicaId> processes = {0, 1, 2, 3};
  const std::vector<ReplicaId> members = {0, 1, 2};
  core::ReplicaConfig config;
  config.id = 3;
  config.members = members;
  config.replication_factor = 3;
  config.virtual_nodes = 16;
  config.tombstone_gc.enabled = true;
  config.membership.enabled = true;
  config.membership.processes = processes;
  SplitMix random(7);
  std::map<std::string, Bytes> disk;
  auto replica = std::make_unique<core::Replica>(config, disk);
  const auto keep = [&disk](const core::Output& out) {
    for (const core::StorageWrite& write : out.storage) {
      if (write.erase) {
        disk.erase(write.key);
      } else {
        disk[write.key] = write.value;
      }
    }
  };
  keep(replica->start(0, random));
  const core::GcPrepare prepare{1, {{"k", 11, 50, 0}}};
  const core::Output prepared_out = replica->on_peer_message(
      10, 0, core::encode_frame(core::GcEnvelope{0, 0, core::encode_frame(prepare)}), random);
  keep(prepared_out);
  const auto prepared = sent<core::GcPrepared>(prepared_out, core::PeerMessageKind::gc_prepared);
  EXPECT_TRUE(prepared.has_value()) << "a process holding nothing of the key prepares";
  if (!prepared) {
    return false;
  }
  EXPECT_EQ(prepared->keys, std::vector<std::string>{"k"});
  const std::uint64_t view =
      core::hash64(core::encode_frame(core::message_of(core::MembershipTable(processes, members))));
  if (between == Between::join) {
    keep(replica->on_membership_change(20, core::MembershipChange::join, random));
    EXPECT_TRUE(replica->replicates(3, "k") || !replica->replicas_of("k").empty());
  } else if (between == Between::restart) {
    replica = std::make_unique<core::Replica>(config, disk);
    keep(replica->start(20, random));
  }
  const std::uint64_t other = 1;  // the other processes' stamps: anything
  const core::GcFenceRound fence{
      1, view, {{0, other}, {1, other}, {2, other}, {3, prepared->stamp}}, {"k"}};
  const std::uint64_t incarnation = replica->incarnation();
  const core::Output fenced_out = replica->on_peer_message(
      30, 0, core::encode_frame(core::GcEnvelope{0, incarnation, core::encode_frame(fence)}),
      random);
  return sent<core::GcFenced>(fenced_out, core::PeerMessageKind::gc_fenced).has_value();
}

TEST(TombstoneGcMembership, AProcessWhoseViewChangedSincePreparingRefusesTheFencePhase) {
  EXPECT_TRUE(fenced_after_prepare(Between::nothing));
  EXPECT_FALSE(fenced_after_prepare(Between::join));
  EXPECT_FALSE(fenced_after_prepare(Between::restart));
}

// The key whose replicas, once replica 3 joins members {0, 1, 2}, include 3.
std::string key_moving_to_3() {
  const core::KeyPlacement before(core::HashRing({0, 1, 2}, 16), 3, 0);
  const core::KeyPlacement after(core::HashRing({0, 1, 2, 3}, 16), 3, 0);
  for (int index = 0; index < 256; ++index) {
    const std::string key = "register:" + std::to_string(index);
    if (after.is_replica(3, key) && before.replicas_of(key).size() == 3) {
      return key;
    }
  }
  return {};
}

// A whole race, replicas driven directly: a key is deleted, and as its
// coordinator starts a round, a non-member joins (the key moves to it) and a
// delayed copy of the value the DEL removed reaches it. With the fence
// phase no collection takes effect until every process held its view
// through the round, and the value never comes back; with the planted bug
// (the round of a fixed ring: the coordinator's members, no fence phase) it
// comes back for some seeds.
enum class JoinWhen : std::uint8_t {
  round_started,    // as the coordinator starts the round
  joiner_prepared,  // once the joiner itself prepared (holding nothing)
};

bool deleted_value_came_back(core::PlantedBug bug, std::uint64_t seed,
                             JoinWhen when = JoinWhen::round_started) {
  DriverOptions options;
  options.replicas = 4;
  options.initial_members = {0, 1, 2};
  options.tombstone_gc = true;
  options.planted_bug = bug;
  StoreDriver driver(options, seed);
  const std::string key = key_moving_to_3();
  EXPECT_FALSE(key.empty());
  const ReplicaId coordinator = driver.replica(0)->replicas_of(key).front();
  const auto set = driver.execute(coordinator, command(CommandKind::set, {key}, {"old"}));
  EXPECT_TRUE(set && set->status == ReplyStatus::ok);
  const LwwTimestamp written = set->metadata.timestamps.at(0).second;
  driver.run_for(200'000);
  const ReplicaId watched = when == JoinWhen::round_started ? coordinator : ReplicaId{3};
  const std::uint64_t prepared_before =
      driver.replica(watched)->tombstone_gc().stats().keys_prepared;
  EXPECT_TRUE(driver.execute(coordinator, command(CommandKind::del, {key})));
  // Until the coordinator starts a round with the key in it (or the joiner
  // prepared it).
  for (int step = 0; step < 10'000; ++step) {
    if (driver.replica(watched)->tombstone_gc().stats().keys_prepared > prepared_before) {
      break;
    }
    driver.run_for(100);
  }
  // The join's own announcement is lost: the others hear of it at 3's next
  // membership tick, while the round runs.
  driver.set_drop_percent(100);
  EXPECT_TRUE(driver.change_membership(3, core::MembershipChange::join));
  driver.set_drop_percent(0);
  driver.inject(coordinator, 3, old_set_delta(key, written, coordinator, 0));
  driver.run_for(3'000'000);
  for (ReplicaId id = 0; id < 4; ++id) {
    const auto get = driver.execute(id, command(CommandKind::get, {key}));
    if (get && get->value.text == "old") {
      return true;
    }
  }
  return false;
}

TEST(TombstoneGcMembership, AJoinDuringARoundNeverBringsACollectedDeletionBack) {
  constexpr std::uint64_t kSeeds = 30;
  std::uint64_t planted = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    EXPECT_FALSE(deleted_value_came_back(PlantedBug::none, seed)) << "seed " << seed;
    planted += deleted_value_came_back(PlantedBug::gc_membership_unfenced, seed) ? 1U : 0U;
  }
  EXPECT_GE(planted, kSeeds / 2) << "the planted round without the fence phase went unnoticed";
}

// The same, with the join after the joiner prepared the key holding
// nothing: only the fence phase stands between the old delta it then takes
// and the commit (a hand-made mutant that commits once every process
// prepared brings the value back on most of these seeds).
TEST(TombstoneGcMembership, AJoinAfterPreparingIsCaughtByTheFencePhase) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    EXPECT_FALSE(deleted_value_came_back(PlantedBug::none, seed, JoinWhen::joiner_prepared))
        << "seed " << seed;
  }
}

// Store bug 7 (seeds/gc-membership-join-leave-seed404.json). A process that
// is not a key's replica prepares the key only while it holds nothing of it:
// no copy and no unsent deltas. The prepare listed the delta log's keys once,
// as views into the log's entries, then erased the entries of the keys it
// replicates; the entries moved under the views, and a key it still had
// deltas for looked absent. It prepared that key, and once the key was
// collected those deltas brought the value back. Here process 3 still logs
// deltas of `moved` after the joiner took the key and 3 handed its copy off,
// and a round lists `first` < `own` < `moved`: 3 prepares `first` (nothing
// of it) and `own` (its own deleted key, whose entries go), never `moved`.
struct PrepareKeys {
  std::string first;  // not 3's after the join; 3 never held it
  std::string own;    // 3's before and after the join
  std::string moved;  // 3's before the join, the joiner's after
};

PrepareKeys keys_around_a_join() {
  const core::KeyPlacement before(core::HashRing({0, 1, 2, 3}, 16), 3, 0);
  const core::KeyPlacement after(core::HashRing({0, 1, 2, 3, 4}, 16), 3, 0);
  std::vector<std::string> names;
  for (int index = 0; index < 300; ++index) {
    names.push_back("k" + std::to_string(index));
  }
  std::sort(names.begin(), names.end());
  PrepareKeys keys;
  for (const std::string& moved : names) {
    if (!before.is_replica(3, moved) || after.is_replica(3, moved)) {
      continue;
    }
    // Keys of different lengths: a view left on a moved entry then reads
    // other bytes than the key it named.
    for (const std::string& own : names) {
      if (own >= moved || own.size() == moved.size() || !before.is_replica(3, own) ||
          !after.is_replica(3, own)) {
        continue;
      }
      for (const std::string& first : names) {
        if (first < own && !after.is_replica(3, first)) {
          return PrepareKeys{first, own, moved};
        }
      }
    }
  }
  return {};
}

TEST(TombstoneGcMembership, APrepareNeverTakesAKeyWhoseDeltasAreStillUnsent) {
  const PrepareKeys keys = keys_around_a_join();
  ASSERT_FALSE(keys.moved.empty());
  DriverOptions options;
  options.replicas = 5;
  options.initial_members = {0, 1, 2, 3};
  options.tombstone_gc = true;
  options.anti_entropy = false;  // nothing but 3's deltas could spread its writes
  StoreDriver driver(options, 1);
  driver.drop_kind_from(3, core::PeerMessageKind::delta_batch);
  for (const auto& [kind, key] :
       std::vector<std::pair<CommandKind, std::string>>{{CommandKind::set, keys.own},
                                                        {CommandKind::del, keys.own},
                                                        {CommandKind::set, keys.moved}}) {
    const auto reply =
        driver.execute(3, command(kind, {key},
                                  kind == CommandKind::set ? std::vector<std::string>{"v"}
                                                           : std::vector<std::string>{}));
    ASSERT_TRUE(reply && reply->status == ReplyStatus::ok) << key;
  }
  ASSERT_TRUE(driver.change_membership(4, core::MembershipChange::join));
  // Until 3 has handed `moved` off to its new replicas and dropped its copy.
  for (int step = 0; step < 100 && driver.replica(3)->keyspace().find(keys.moved) != nullptr;
       ++step) {
    driver.run_for(10'000);
  }
  const core::Replica& process = *driver.replica(3);
  ASSERT_EQ(process.keyspace().find(keys.moved), nullptr) << "3 kept its copy of " << keys.moved;
  const std::vector<std::string_view> logged = process.delta_log().keys();
  ASSERT_TRUE(std::binary_search(logged.begin(), logged.end(), std::string_view(keys.moved)))
      << "3's deltas of " << keys.moved << " are no longer unsent";
  const KeyState* own = process.keyspace().find(keys.own);
  ASSERT_NE(own, nullptr);
  const std::uint64_t own_digest = core::hash64(core::encode(*own), core::hash64(keys.own));
  const std::uint64_t prepared_before = process.tombstone_gc().stats().keys_prepared;
  const core::GcPrepare prepare{
      1, {{keys.first, 1, 1, 0}, {keys.own, own_digest, 1, 0}, {keys.moved, 2, 1, 0}}};
  driver.inject(0, 3, core::encode_frame(core::GcEnvelope{0, 0, core::encode_frame(prepare)}));
  driver.run_for(5'000);
  EXPECT_EQ(driver.replica(3)->tombstone_gc().stats().keys_prepared - prepared_before, 2u)
      << "3 prepared " << keys.moved << " with deltas of it unsent";
}

}  // namespace
}  // namespace crdtsim::testing
