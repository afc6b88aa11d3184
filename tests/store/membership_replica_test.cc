// Membership changes, replicas driven directly: a replica that joins gets
// the state of the keys it now replicates; one that leaves hands its keys to
// their new replicas until each acknowledged them (through lost acks and a
// crash of the leaver), never drops below the replication factor, and a
// write only the leaver held survives (and is lost with the planted bug that
// drops keys without hand-off).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace crdtsim::testing
