// The replica driven directly through its wire interface: commands, routing,
// gossip, anti-entropy, durability, corrupt input, and planted bugs caught.
#include "core/replica/replica.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/codec/hash.h"
#include "core/replication/merkle_tree.h"
#include "tests/store/store_driver.h"

namespace crdtsim::testing {
namespace {

using core::CommandKind;
using core::PlantedBug;
using core::ReplyStatus;

std::string key_name(int index) {
  std::string name = "key-";
  name += std::to_string(index);
  return name;
}

// The first replica that is (or is not) a replica of `key`.
ReplicaId pick(const StoreDriver& driver, const std::string& key, bool replicates,
               std::size_t replicas) {
  for (ReplicaId id = 0; id < replicas; ++id) {
    if (driver.replica(id)->replicates(id, key) == replicates) {
      return id;
    }
  }
  ADD_FAILURE() << "no replica found";
  return 0;
}

TEST(Replica, SetThenGetOnOneReplica) {
  StoreDriver driver({.replicas = 1, .replication_factor = 1}, 1);
  const auto set = driver.execute(0, command(CommandKind::set, {"k"}, {"v"}));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, ReplyStatus::ok);
  EXPECT_EQ(set->metadata.written, std::vector<ReplicaId>{0});
  ASSERT_EQ(set->metadata.timestamps.size(), 1u);
  const auto get = driver.execute(0, command(CommandKind::get, {"k"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.text, "v");
}

// A run builds the ring once and every replica starts from a copy
// (ReplicaConfig::ring_seed): it must place keys exactly as a replica that
// built its own, and a seed of another ring must not go unnoticed.
TEST(Replica, ASeededReplicaPlacesKeysAsOneThatBuiltItsRing) {
  core::ReplicaConfig config;
  config.id = 1;
  config.members = {0, 1, 2, 3, 4};
  config.replication_factor = 3;
  core::ReplicaConfig seeded_config = config;
  seeded_config.ring_seed = core::RingSeed::of(config);
  const core::Replica built(config, {});
  const core::Replica seeded(seeded_config, {});
  for (int index = 0; index < 500; ++index) {
    EXPECT_EQ(seeded.replicas_of(key_name(index)), built.replicas_of(key_name(index)))
        << key_name(index);
  }
  core::ReplicaConfig other_ring = config;
  other_ring.members = {0, 1, 2, 3};
  seeded_config.ring_seed = core::RingSeed::of(other_ring);
  EXPECT_DEBUG_DEATH(core::Replica(seeded_config, {}), "ring_seed");
}

TEST(Replica, GossipSpreadsAWriteToEveryReplicaOfTheKey) {
  StoreDriver driver({.replicas = 3, .replication_factor = 3, .anti_entropy = false}, 2);
  ASSERT_TRUE(driver.execute(0, command(CommandKind::sadd, {"s"}, {"a", "b"})));
  driver.run_for(100'000);
  for (ReplicaId id = 0; id < 3; ++id) {
    const auto members = driver.execute(id, command(CommandKind::smembers, {"s"}));
    ASSERT_TRUE(members);
    EXPECT_EQ(members->value.list, (std::vector<std::string>{"a", "b"})) << "replica " << id;
  }
  EXPECT_EQ(driver.divergence(), "");
}

TEST(Replica, NonReplicaForwardsToAReplicaAndSaysWhichWasWritten) {
  StoreDriver driver({.replicas = 5, .replication_factor = 1}, 3);
  const std::string key = "forwarded";
  const ReplicaId outsider = pick(driver, key, false, 5);
  const ReplicaId owner = driver.replica(outsider)->replicas_of(key).front();
  const auto set = driver.execute(outsider, command(CommandKind::set, {key}, {"v"}));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, ReplyStatus::ok);
  EXPECT_EQ(set->metadata.written, std::vector<ReplicaId>{owner});
  EXPECT_EQ(set->metadata.executed_by, owner);
  EXPECT_EQ(driver.replica(outsider)->keyspace().find(key), nullptr);
  ASSERT_NE(driver.replica(owner)->keyspace().find(key), nullptr);
  const auto get = driver.execute(outsider, command(CommandKind::get, {key}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.text, "v");
}

TEST(Replica, MsetAcrossReplicasWritesAndReplicatesEveryKey) {
  StoreDriver driver({.replicas = 5, .replication_factor = 2}, 4);
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (int index = 0; index < 20; ++index) {
    keys.push_back(key_name(index));
    values.push_back("v" + std::to_string(index));
  }
  const auto mset = driver.execute(0, command(CommandKind::mset, keys, values));
  ASSERT_TRUE(mset);
  EXPECT_EQ(mset->status, ReplyStatus::ok);
  EXPECT_EQ(mset->metadata.timestamps.size(), keys.size());
  driver.run_for(200'000);
  EXPECT_EQ(driver.divergence(), "");
  for (std::size_t index = 0; index < keys.size(); ++index) {
    for (const ReplicaId owner : driver.replica(0)->replicas_of(keys[index])) {
      const core::KeyState* state = driver.replica(owner)->keyspace().find(keys[index]);
      ASSERT_NE(state, nullptr) << keys[index] << " missing at replica " << owner;
    }
  }
  const auto mget = driver.execute(3, command(CommandKind::mget, keys));
  ASSERT_TRUE(mget);
  ASSERT_EQ(mget->value.maybe_list.size(), keys.size());
  for (std::size_t index = 0; index < keys.size(); ++index) {
    EXPECT_EQ(mget->value.maybe_list[index], std::optional<std::string>(values[index]));
  }
}

// A DEL of OR-Set keys held by different replicas reports the dots it
// removed from every part: the history's set checks follow each add to its
// end through them (a part's removed dots were once dropped on the way).
TEST(Replica, MultiKeyDelReportsTheRemovedDotsOfEveryPart) {
  StoreDriver driver({.replicas = 5, .replication_factor = 1}, 6);
  std::vector<std::string> keys;
  std::vector<ReplicaId> owners;
  for (int index = 0; keys.size() < 2 && index < 100; ++index) {
    const std::string key = key_name(index);
    const ReplicaId owner = driver.replica(0)->replicas_of(key).front();
    if (owners.empty() || owners.front() != owner) {
      keys.push_back(key);
      owners.push_back(owner);
    }
  }
  ASSERT_EQ(keys.size(), 2u);
  std::vector<std::pair<std::string, core::Dot>> added;
  for (const std::string& key : keys) {
    const auto sadd = driver.execute(0, command(CommandKind::sadd, {key}, {"m"}));
    ASSERT_TRUE(sadd && sadd->status == ReplyStatus::ok);
    added.insert(added.end(), sadd->metadata.dots.begin(), sadd->metadata.dots.end());
  }
  ASSERT_EQ(added.size(), 2u);
  const auto del = driver.execute(0, command(CommandKind::del, keys));
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, ReplyStatus::ok);
  auto removed = del->metadata.tracking->removed_dots;
  std::sort(removed.begin(), removed.end());
  std::sort(added.begin(), added.end());
  EXPECT_EQ(removed, added);
}

TEST(Replica, WrongTypeAnsweredAtTheReplica) {
  StoreDriver driver({.replicas = 1, .replication_factor = 1}, 5);
  ASSERT_TRUE(driver.execute(0, command(CommandKind::set, {"k"}, {"v"})));
  const auto sadd = driver.execute(0, command(CommandKind::sadd, {"k"}, {"m"}));
  ASSERT_TRUE(sadd);
  EXPECT_EQ(sadd->status, ReplyStatus::wrong_type);
}

// Writes `count` keys at their first replica with gossip off, so the other
// replicas of each key must get it from anti-entropy.
void write_only_at_primary(StoreDriver& driver, int count) {
  for (int index = 0; index < count; ++index) {
    const std::string key = key_name(index);
    const ReplicaId primary = driver.replica(0)->replicas_of(key).front();
    ASSERT_TRUE(driver.execute(primary, command(CommandKind::set, {key}, {"v"})));
  }
}

TEST(Replica, AntiEntropyAloneConverges) {
  StoreDriver driver({.replicas = 4, .replication_factor = 3, .gossip = false}, 6);
  write_only_at_primary(driver, 200);
  EXPECT_NE(driver.divergence(), "");
  driver.run_for(5'000'000);
  EXPECT_EQ(driver.divergence(), "");
  std::uint64_t repaired = 0;
  for (ReplicaId id = 0; id < 4; ++id) {
    repaired += driver.replica(id)->stats().keys_repaired;
  }
  EXPECT_GE(repaired, 200u * 2);
}

// Every change of a key is recorded for the Merkle trees, and the records
// are compacted without a refresh once they pile up (anti-entropy is off
// here, so nothing refreshes): after refresh_trees, each tree a replica
// shares with a peer must hold the leaf digest of exactly the current state
// of each key both replicate, as a tree built from scratch does.
TEST(Replica, MerkleTreesMatchTheStatesAfterManyChangesWithoutARefresh) {
  StoreDriver driver({.replicas = 3, .replication_factor = 2, .anti_entropy = false}, 11);
  for (int round = 0; round < 30; ++round) {
    for (int index = 0; index < 40; ++index) {
      const auto at = static_cast<ReplicaId>((round + index) % 3);
      ASSERT_TRUE(driver.execute(at, command(CommandKind::incr, {key_name(index)})));
    }
  }
  driver.run_for(500'000);
  ASSERT_EQ(driver.divergence(), "");
  for (ReplicaId id = 0; id < 3; ++id) {
    core::Replica& node = driver.mutable_replica(id);
    node.refresh_trees();
    for (ReplicaId peer = 0; peer < 3; ++peer) {
      if (peer == id) {
        continue;
      }
      core::MerkleTree expected;
      for (const auto& [key, state] : node.keyspace()) {
        if (node.replicates(id, key) && node.replicates(peer, key)) {
          expected.upsert(key, core::hash64(core::encode(state), core::hash64(key)));
        }
      }
      const core::MerkleTree* actual = node.anti_entropy().find_tree(peer);
      ASSERT_NE(actual, nullptr);
      std::vector<core::MerkleTree::Entry> expected_entries;
      std::vector<core::MerkleTree::Entry> actual_entries;
      expected.list(core::TokenPrefix{}, expected_entries);
      actual->list(core::TokenPrefix{}, actual_entries);
      ASSERT_EQ(actual_entries.size(), expected_entries.size()) << id << " with " << peer;
      for (std::size_t index = 0; index < expected_entries.size(); ++index) {
        EXPECT_EQ(actual_entries[index].key, expected_entries[index].key);
        EXPECT_EQ(actual_entries[index].digest, expected_entries[index].digest)
            << "key " << expected_entries[index].key << " at " << id << " with " << peer;
      }
    }
  }
}

TEST(Replica, AgreeingReplicasExchangeOnlyRootComparisons) {
  StoreDriver driver({.replicas = 3, .replication_factor = 3}, 7);
  write_only_at_primary(driver, 100);
  driver.run_for(3'000'000);
  ASSERT_EQ(driver.divergence(), "");
  const auto before = driver.messages_by_kind();
  driver.run_for(2'000'000);
  const auto after = driver.messages_by_kind();
  auto delta = [&](core::PeerMessageKind kind) {
    const auto code = static_cast<std::uint8_t>(kind);
    const std::uint64_t then = before.contains(code) ? before.at(code) : 0;
    const std::uint64_t now = after.contains(code) ? after.at(code) : 0;
    return now - then;
  };
  EXPECT_GT(delta(core::PeerMessageKind::ae_compare), 0u);
  EXPECT_EQ(delta(core::PeerMessageKind::ae_entries), 0u);
  EXPECT_EQ(delta(core::PeerMessageKind::ae_states), 0u);
  EXPECT_EQ(delta(core::PeerMessageKind::delta_batch), 0u);
}

// A write acknowledged by a replica whose peers never saw it, then a crash.
std::optional<core::Reply> write_then_crash(StoreDriver& driver) {
  auto reply = driver.execute(0, command(CommandKind::incrby, {"c"}, {}, 7));
  driver.crash(0);
  driver.restart(0);
  return reply;
}

TEST(Replica, RestartedDurableReplicaKeepsAcknowledgedWrites) {
  StoreDriver driver(
      {.replicas = 3, .replication_factor = 3, .gossip = false, .anti_entropy = false}, 8);
  const auto reply = write_then_crash(driver);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, ReplyStatus::ok);
  const auto get = driver.execute(0, command(CommandKind::get, {"c"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.integer, 7);
  EXPECT_EQ(driver.replica(0)->stats().recovered_keys, 1u);
}

TEST(Replica, PlantedAckBeforeWriteLosesTheWriteAndIsCaught) {
  StoreDriver driver({.replicas = 3,
                      .replication_factor = 3,
                      .gossip = false,
                      .anti_entropy = false,
                      .planted_bug = PlantedBug::ack_before_write},
                     8);
  const auto reply = write_then_crash(driver);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, ReplyStatus::ok);
  const auto get = driver.execute(0, command(CommandKind::get, {"c"}));
  ASSERT_TRUE(get);
  EXPECT_NE(get->value.integer, 7) << "the planted bug went unnoticed";
}

TEST(Replica, RestartedReplicaRecoversThroughAntiEntropy) {
  StoreDriver driver({.replicas = 3, .replication_factor = 3, .durable = false}, 9);
  write_only_at_primary(driver, 50);
  driver.run_for(1'000'000);
  ASSERT_EQ(driver.divergence(), "");
  driver.crash(1);
  driver.restart(1);
  EXPECT_EQ(driver.replica(1)->keyspace().size(), 0u);
  driver.run_for(5'000'000);
  EXPECT_EQ(driver.divergence(), "");
  EXPECT_GT(driver.replica(1)->keyspace().size(), 0u);
}

TEST(Replica, RestartWithoutDurabilityNeverReusesADot) {
  StoreDriver driver({.replicas = 3, .replication_factor = 3, .durable = false}, 10);
  ASSERT_TRUE(driver.execute(0, command(CommandKind::sadd, {"s"}, {"before"})));
  driver.run_for(500'000);
  driver.crash(0);
  driver.restart(0);
  // The restarted replica has no state yet; its next add must get a dot the
  // others have never seen, or they would discard it as already observed.
  ASSERT_TRUE(driver.execute(0, command(CommandKind::sadd, {"s"}, {"after"})));
  driver.run_for(5'000'000);
  EXPECT_EQ(driver.divergence(), "");
  for (ReplicaId id = 0; id < 3; ++id) {
    const auto members = driver.execute(id, command(CommandKind::smembers, {"s"}));
    ASSERT_TRUE(members);
    EXPECT_EQ(members->value.list, (std::vector<std::string>{"after", "before"}));
  }
  EXPECT_NE(driver.replica(0)->writer_id(), 0u);
}

// Regression: a harness sweep with network duplication found counters above
// the sum of every acknowledged increment; each copy of a duplicated request
// was executed.
TEST(Replica, DuplicatedClientRequestExecutesOnce) {
  StoreDriver driver({.replicas = 1, .replication_factor = 1}, 13);
  const Bytes frame =
      core::encode_frame(core::ClientRequest{77, command(CommandKind::incrby, {"c"}, {}, 5)});
  core::Replica& replica = driver.mutable_replica(0);
  SplitMix random(1);
  const core::Output first = replica.on_client_request(0, 9, frame, random);
  const core::Output second = replica.on_client_request(10, 9, frame, random);
  ASSERT_EQ(first.messages.size(), 1u);
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(first.messages.front().frame, second.messages.front().frame)
      << "a duplicate must get the first reply";
  EXPECT_EQ(replica.stats().duplicate_requests, 1u);
  const auto get = driver.execute(0, command(CommandKind::get, {"c"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.integer, 5);
}

TEST(Replica, DuplicatedForwardedRequestExecutesOnce) {
  StoreDriver driver({.replicas = 2, .replication_factor = 1}, 14);
  const std::string key = "forwarded";
  const ReplicaId owner = driver.replica(0)->replicas_of(key).front();
  const ReplicaId coordinator = owner == 0 ? 1 : 0;
  const Bytes frame =
      core::encode_frame(core::ForwardRequest{42, command(CommandKind::incrby, {key}, {}, 3)});
  driver.inject(coordinator, owner, frame);
  driver.inject(coordinator, owner, frame);
  driver.run_for(50'000);
  const auto get = driver.execute(owner, command(CommandKind::get, {key}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->value.integer, 3);
  EXPECT_EQ(driver.replica(owner)->stats().duplicate_requests, 1u);
}

TEST(Replica, CorruptFramesAreRejectedAndCounted) {
  StoreDriver driver({.replicas = 2, .replication_factor = 2}, 11);
  driver.inject(1, 0, Bytes{1, 2, 3});
  Bytes frame = core::encode_frame(core::DeltaAck{5, 5});
  frame[frame.size() / 2] ^= 0x40;
  driver.inject(1, 0, frame);
  // A valid frame whose payload is garbage for its kind.
  const Bytes garbage{0xff, 0xff, 0xff};
  driver.inject(
      1, 0, core::make_frame(static_cast<std::uint8_t>(core::PeerMessageKind::ae_states), garbage));
  driver.run_for(50'000);
  EXPECT_EQ(driver.replica(0)->stats().corrupt_messages, 3u);
  ASSERT_TRUE(driver.execute(0, command(CommandKind::set, {"k"}, {"v"})));
}

TEST(Replica, GossipConvergesUnderLossAndDuplicationWithRetransmission) {
  StoreDriver driver({.replicas = 2,
                      .replication_factor = 2,
                      .anti_entropy = false,
                      .drop_percent = 30,
                      .duplicate_percent = 20},
                     12);
  for (int index = 0; index < 50; ++index) {
    ASSERT_TRUE(driver.execute(static_cast<ReplicaId>(index % 2),
                               command(CommandKind::incr, {key_name(index % 5)})));
  }
  driver.heal_network();
  driver.run_for(3'000'000);
  EXPECT_EQ(driver.divergence(), "");
}

TEST(Replica, PlantedGossipForgetsUnackedBatchesAndIsCaught) {
  // Two replicas: with three, a delta lost on one link still arrives through
  // the third replica's forwarding, which hides the bug. One write per key: a
  // counter's later delta carries its replica's whole contribution and would
  // also hide the loss of an earlier one.
  StoreDriver driver({.replicas = 2,
                      .replication_factor = 2,
                      .anti_entropy = false,
                      .planted_bug = PlantedBug::gossip_forget_unacked,
                      .drop_percent = 30},
                     12);
  for (int index = 0; index < 50; ++index) {
    ASSERT_TRUE(driver.execute(static_cast<ReplicaId>(index % 2),
                               command(CommandKind::incr, {key_name(index)})));
    driver.run_for(15'000);  // one gossip batch per write
  }
  driver.heal_network();
  driver.run_for(3'000'000);
  EXPECT_NE(driver.divergence(), "") << "the planted bug went unnoticed";
}

TEST(Replica, PlantedAntiEntropySkippingTheLastSubtreeIsCaught) {
  StoreDriver driver({.replicas = 3,
                      .replication_factor = 3,
                      .gossip = false,
                      .planted_bug = PlantedBug::ae_skip_last_subtree},
                     6);
  write_only_at_primary(driver, 200);
  driver.run_for(5'000'000);
  EXPECT_NE(driver.divergence(), "") << "the planted bug went unnoticed";
}

}  // namespace
}  // namespace crdtsim::testing
