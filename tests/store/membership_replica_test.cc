// Membership changes, replicas driven directly: a replica that joins gets
// the state of the keys it now replicates; one that leaves hands its keys to
// their new replicas until each acknowledged them (through lost acks and a
// crash of the leaver), never drops below the replication factor, and a
// write only the leaver held survives (and is lost with the planted bug that
// drops keys without hand-off).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/replication/hash_ring.h"
#include "core/replication/hot_keys.h"
#include "tests/store/store_driver.h"

namespace crdtsim::testing {
namespace {

using core::CommandKind;
using core::MembershipChange;
using core::ReplicaId;

constexpr int kKeys = 24;

// Four replica processes, three members at the start, factor 3.
DriverOptions three_of_four() {
  DriverOptions options;
  options.replicas = 4;
  options.replication_factor = 3;
  options.initial_members = {0, 1, 2};
  return options;
}

// Four members of four processes, factor 3.
DriverOptions four_of_four() {
  DriverOptions options = three_of_four();
  options.initial_members = {0, 1, 2, 3};
  return options;
}

std::string key_of(int index) {
  return "counter:" + std::to_string(index);
}

// INCRBY index+1 on every key, through coordinator `at`; all acknowledged.
void write_every_key(StoreDriver& driver, ReplicaId at) {
  for (int index = 0; index < kKeys; ++index) {
    const auto reply =
        driver.execute(at, command(CommandKind::incrby, {key_of(index)}, {}, index + 1));
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->status, core::ReplyStatus::ok);
  }
}

std::int64_t counter_at(const StoreDriver& driver, ReplicaId id, const std::string& key) {
  const core::KeyState* state = driver.replica(id)->keyspace().find(key);
  if (state == nullptr || state->value<core::CausalCounter>() == nullptr) {
    return 0;
  }
  return state->value<core::CausalCounter>()->value();
}

// Every key holds index+1 at every one of its replicas, in every view.
void expect_every_write_at_its_replicas(const StoreDriver& driver, std::int64_t times = 1) {
  for (int index = 0; index < kKeys; ++index) {
    const std::string key = key_of(index);
    for (const ReplicaId replica : driver.replica(0)->replicas_of(key)) {
      EXPECT_EQ(counter_at(driver, replica, key), times * (index + 1))
          << "key " << key << " at replica " << replica;
    }
  }
}

// The greatest value of each key among its replicas (without gossip, a write
// is at the replica that executed it, and where hand-offs carried it).
std::int64_t lost_writes(const StoreDriver& driver) {
  std::int64_t lost = 0;
  for (int index = 0; index < kKeys; ++index) {
    const std::string key = key_of(index);
    std::int64_t best = 0;
    for (const ReplicaId replica : driver.replica(1)->replicas_of(key)) {
      best = std::max(best, counter_at(driver, replica, key));
    }
    lost += (index + 1) - best;
  }
  return lost;
}

bool handed_off_everywhere(const StoreDriver& driver, std::size_t processes) {
  for (ReplicaId id = 0; id < processes; ++id) {
    if (driver.replica(id)->strays_pending() > 0) {
      return false;
    }
  }
  return true;
}

TEST(Membership, AJoiningReplicaGetsTheStateOfTheKeysItNowReplicates) {
  StoreDriver driver(three_of_four(), 11);
  write_every_key(driver, 3);  // a non-member coordinates: it forwards
  EXPECT_EQ(driver.replica(3)->keyspace().size(), 0U);
  EXPECT_GT(driver.replica(3)->stats().commands_forwarded, 0U);
  ASSERT_TRUE(driver.change_membership(3, MembershipChange::join));
  driver.run_for(1'000'000);
  for (ReplicaId id = 0; id < 4; ++id) {
    EXPECT_EQ(driver.replica(id)->membership().members(), (std::vector<ReplicaId>{0, 1, 2, 3}));
    EXPECT_EQ(driver.replica(id)->ring().members().size(), 4U);
  }
  expect_every_write_at_its_replicas(driver);
  EXPECT_GT(driver.replica(3)->keyspace().size(), 0U);
  EXPECT_TRUE(handed_off_everywhere(driver, 4));
  EXPECT_EQ(driver.divergence(), "");
}

TEST(Membership, ALeaverHandsItsKeysOffThroughLostAcknowledgements) {
  StoreDriver lossy(four_of_four(), 12);
  write_every_key(lossy, 0);
  lossy.run_for(300'000);
  lossy.set_drop_percent(30);  // hand-offs and their acks get lost: retried
  ASSERT_TRUE(lossy.change_membership(0, MembershipChange::leave));
  lossy.run_for(600'000);
  lossy.heal_network();
  lossy.run_for(1'000'000);
  const core::Replica& leaver = *lossy.replica(0);
  EXPECT_FALSE(leaver.membership().is_member(0));
  EXPECT_GT(leaver.stats().membership_keys_handed_off, 0U);
  EXPECT_GT(lossy.messages_dropped(), 0U);
  EXPECT_TRUE(handed_off_everywhere(lossy, 4));
  for (int index = 0; index < kKeys; ++index) {
    EXPECT_FALSE(lossy.replica(1)->replicates(0, key_of(index)));
  }
  expect_every_write_at_its_replicas(lossy);
  EXPECT_EQ(lossy.divergence(), "");
}

TEST(Membership, ALeaverThatCrashesMidHandOffResumesItAfterRestart) {
  DriverOptions options = four_of_four();
  options.gossip = false;  // only the leaver holds the writes: the hand-off must carry them
  options.anti_entropy = false;
  StoreDriver driver(options, 13);
  write_every_key(driver, 0);
  ASSERT_TRUE(driver.change_membership(0, MembershipChange::leave));
  driver.run_for(5'000);  // before its first membership tick completes the hand-off
  driver.crash(0);
  driver.run_for(100'000);
  driver.restart(0);
  EXPECT_FALSE(driver.replica(0)->membership().is_member(0));  // the change was durable
  EXPECT_GT(driver.replica(0)->strays_pending(), 0U);          // re-derived from its keys
  driver.run_for(1'000'000);
  EXPECT_TRUE(handed_off_everywhere(driver, 4));
  EXPECT_EQ(lost_writes(driver), 0);
}

TEST(Membership, ALeaveBelowTheReplicationFactorIsRefused) {
  StoreDriver driver(three_of_four(), 14);
  EXPECT_FALSE(driver.change_membership(1, MembershipChange::leave));
  EXPECT_TRUE(driver.replica(1)->membership().is_member(1));
  EXPECT_EQ(driver.replica(1)->stats().membership_changes_refused, 1U);
  EXPECT_FALSE(driver.change_membership(1, MembershipChange::join));  // already a member
  EXPECT_EQ(driver.replica(1)->stats().membership_changes_refused, 2U);
}

TEST(Membership, LeaveThenJoinAgainWritesNoDotTwice) {
  // The leaver keeps its inert copies: back in the ring, its new updates of
  // a key continue its own numbering instead of reissuing counter entries.
  StoreDriver driver(four_of_four(), 15);
  write_every_key(driver, 0);
  ASSERT_TRUE(driver.change_membership(0, MembershipChange::leave));
  driver.run_for(500'000);
  ASSERT_TRUE(driver.change_membership(0, MembershipChange::join));
  write_every_key(driver, 0);  // at once: before any hand-off brings state back
  driver.run_for(1'000'000);
  expect_every_write_at_its_replicas(driver, 2);
  EXPECT_EQ(driver.divergence(), "");
}

// The writes exist only at replica 0 (no gossip, no anti-entropy) when it
// leaves: only the hand-off can carry them.
std::int64_t lost_after_leave(core::PlantedBug bug) {
  DriverOptions options = four_of_four();
  options.gossip = false;
  options.anti_entropy = false;
  options.planted_bug = bug;
  StoreDriver driver(options, 16);
  write_every_key(driver, 0);
  EXPECT_TRUE(driver.change_membership(0, MembershipChange::leave));
  driver.run_for(1'000'000);
  return lost_writes(driver);
}

TEST(Membership, HandOffCarriesWritesOnlyTheLeaverHeld) {
  EXPECT_EQ(lost_after_leave(core::PlantedBug::none), 0);
}

TEST(Membership, PlantedDropWithoutHandOffLosesThem) {
  EXPECT_GT(lost_after_leave(core::PlantedBug::membership_drop_without_handoff), 0);
}

// Store bug 16 (seeds/gc-membership-rf1-seed7.json). With tombstone GC on,
// a stray's register copy is dropped once the key's replicas acknowledged
// it. Replication factor 1, two processes: replica 0, the key's only
// replica, leaves and hands the key to 1, which acknowledges; 0 rejoins
// before its next membership tick, so its stray record (with 1's
// acknowledgement) outlived the episode; 1 hands the key back, 0
// acknowledges, and 0 leaves again, its leave never reaching 1. Before the
// fix 0 took 1's old acknowledgement for a hand-off of the new episode and
// dropped its copy, while 1 (0 the replica in its view, 0's acknowledgement
// in hand) dropped its own: an acknowledged write held by nobody. Whether
// 0 rejoins and leaves between two of its ticks depends on the tick
// offsets, so several seeds run (without the fix 9 of these 20 lose it).
bool register_held_after_leave_rejoin_leave(std::uint64_t seed) {
  DriverOptions options;
  options.replicas = 2;
  options.replication_factor = 1;
  options.initial_members = {0, 1};
  options.tombstone_gc = true;
  StoreDriver driver(options, seed);
  const core::KeyPlacement both(core::HashRing({0, 1}, options.virtual_nodes), 1, 0);
  std::string key;
  for (int index = 0; key.empty(); ++index) {
    const std::string name = "register:" + std::to_string(index);
    if (both.is_replica(0, name)) {
      key = name;
    }
  }
  const auto written = driver.execute(0, command(CommandKind::set, {key}, {"v"}));
  EXPECT_TRUE(written.has_value() && written->status == core::ReplyStatus::ok);
  EXPECT_TRUE(driver.change_membership(0, MembershipChange::leave));
  // Until 1 holds the hand-off, then one latency more for its ack: well
  // before 0's next tick (20 ms after the one that sent it) could drop it.
  const std::uint64_t deadline = driver.now_us() + 200'000;
  while (driver.replica(1)->keyspace().find(key) == nullptr && driver.now_us() < deadline) {
    driver.run_for(100);
  }
  driver.run_for(options.latency_us_max + 1);
  EXPECT_TRUE(driver.replica(1)->keyspace().find(key) != nullptr);
  if (driver.replica(0)->keyspace().find(key) == nullptr) {
    return true;  // 0 ticked already and dropped its copy: not this interleaving
  }
  EXPECT_TRUE(driver.change_membership(0, MembershipChange::join));
  // 1 learns of the join, hands the key back at its next tick; 0, the
  // key's replica again, acknowledges (the only acks sent here).
  const auto acks = [&driver] {
    const auto& kinds = driver.messages_by_kind();
    const auto found =
        kinds.find(static_cast<std::uint8_t>(core::PeerMessageKind::hot_key_handoff_ack));
    return found == kinds.end() ? std::uint64_t{0} : found->second;
  };
  const std::uint64_t acks_before = acks();
  while (acks() == acks_before && driver.now_us() < deadline + 200'000) {
    driver.run_for(50);
  }
  driver.drop_kind_from(0, core::PeerMessageKind::membership_table);  // 1 never hears of it
  EXPECT_TRUE(driver.change_membership(0, MembershipChange::leave));
  driver.run_for(500'000);
  return driver.replica(0)->keyspace().find(key) != nullptr ||
         driver.replica(1)->keyspace().find(key) != nullptr;
}

TEST(Membership, AStrayHandOffNeverCountsAnAcknowledgementFromAnEarlierEpisode) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    EXPECT_TRUE(register_held_after_leave_rejoin_leave(seed)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace crdtsim::testing
