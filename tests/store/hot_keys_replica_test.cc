// Hot keys, replicas driven directly: a key read often enough gets extra
// replicas, which receive its state before they serve it and then take a
// share of the reads; once it cools it goes back to its base replicas, and a
// write acknowledged only by an extra replica survives the demotion (and is
// lost with the planted bug that skips the hand-off).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/store/store_driver.h"

namespace crdtsim::testing {
namespace {

using core::CommandKind;
using core::ReplicaId;

constexpr char kKey[] = "counter:0";

DriverOptions five_replicas() {
  DriverOptions options;
  options.replicas = 5;
  options.replication_factor = 3;
  return options;
}

core::HotKeysConfig hot_config() {
  core::HotKeysConfig hot;
  hot.enabled = true;
  hot.window_us = 100'000;
  hot.sub_windows = 2;  // a tick every 50 ms
  hot.capacity = 8;
  hot.promote_threshold = 10;
  hot.demote_threshold = 2;
  hot.cool_ticks = 2;
  hot.extra_replicas = 2;
  return hot;
}

// Reads the key `count` times through coordinator `at` (without waiting).
void burst_of_reads(StoreDriver& driver, ReplicaId at, int count) {
  for (int index = 0; index < count; ++index) {
    driver.submit(at, command(CommandKind::get, {kKey}));
  }
}

std::int64_t counter_at(const StoreDriver& driver, ReplicaId id) {
  const core::KeyState* state = driver.replica(id)->keyspace().find(kKey);
  if (state == nullptr || state->value<core::CausalCounter>() == nullptr) {
    return 0;
  }
  return state->value<core::CausalCounter>()->value();
}

// Drives a burst of reads until every replica's table shows the key promoted
// with both extra replicas ready; returns the widened replica list.
core::ReplicaList promote(StoreDriver& driver) {
  for (int round = 0; round < 20; ++round) {
    burst_of_reads(driver, 0, 12);
    driver.run_for(50'000);
    bool ready = true;
    for (ReplicaId id = 0; id < 5; ++id) {
      const core::HotKeyEntry* entry = driver.replica(id)->hot_keys().find(kKey);
      ready = ready && entry != nullptr && entry->extra == 2 && entry->ready.size() == 2;
    }
    if (ready) {
      const std::vector<ReplicaId> replicas = driver.replica(0)->replicas_of(kKey);
      return core::ReplicaList(replicas.begin(), replicas.end());
    }
  }
  ADD_FAILURE() << "the key was never promoted with ready extra replicas";
  return {};
}

void cool_down(StoreDriver& driver) {
  for (int round = 0; round < 40; ++round) {
    driver.run_for(50'000);
    bool demoted = true;
    for (ReplicaId id = 0; id < 5; ++id) {
      const core::HotKeyEntry* entry = driver.replica(id)->hot_keys().find(kKey);
      demoted = demoted && entry != nullptr && entry->extra == 0;
    }
    if (demoted) {
      driver.run_for(500'000);  // hand-offs
      return;
    }
  }
  ADD_FAILURE() << "the key never cooled down";
}

TEST(HotKeysReplica, PromotionHandsTheStateOverBeforeExtrasServe) {
  StoreDriver driver(five_replicas(), hot_config(), 7);
  ASSERT_TRUE(driver.execute(1, command(CommandKind::incrby, {kKey}, {}, 7)));
  driver.run_for(100'000);
  const core::ReplicaList replicas = promote(driver);
  ASSERT_EQ(replicas.size(), 5u);
  // Ready extras hold the state written before the promotion.
  EXPECT_EQ(counter_at(driver, replicas[3]), 7);
  EXPECT_EQ(counter_at(driver, replicas[4]), 7);
  std::uint64_t promotions = 0;
  for (ReplicaId id = 0; id < 5; ++id) {
    promotions += driver.replica(id)->stats().hot_key_promotions;
  }
  EXPECT_EQ(promotions, 1u);
  // Reads coordinated anywhere now reach the extras too, and see the value.
  std::uint64_t by_extra = 0;
  for (int index = 0; index < 40; ++index) {
    const auto reply =
        driver.execute(static_cast<ReplicaId>(index % 5), command(CommandKind::get, {kKey}));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->value.integer, 7);
    by_extra +=
        reply->metadata.executed_by == replicas[3] || reply->metadata.executed_by == replicas[4];
  }
  EXPECT_GT(by_extra, 0u);
  EXPECT_GT(driver.replica(replicas[3])->stats().hot_key_reads_by_extra +
                driver.replica(replicas[4])->stats().hot_key_reads_by_extra,
            0u);
  cool_down(driver);
  EXPECT_EQ(driver.replica(0)->replicas_of(kKey).size(), 3u);
  EXPECT_EQ(driver.divergence(), "");
}

// Gossip and anti-entropy off: only the hot-key hand-offs move state, so a
// write acknowledged by an extra replica reaches the base replicas only if
// the demotion hands it off.
std::int64_t base_value_after_demotion(core::PlantedBug bug) {
  DriverOptions options = five_replicas();
  options.gossip = false;
  options.anti_entropy = false;
  options.planted_bug = bug;
  StoreDriver driver(options, hot_config(), 11);
  const core::ReplicaList replicas = promote(driver);
  EXPECT_EQ(replicas.size(), 5u);
  if (replicas.size() != 5) {
    return -1;
  }
  const auto reply = driver.execute(replicas[4], command(CommandKind::incrby, {kKey}, {}, 5));
  EXPECT_TRUE(reply && reply->status == core::ReplyStatus::ok);
  EXPECT_EQ(reply->metadata.executed_by, replicas[4]);
  cool_down(driver);
  std::int64_t smallest = counter_at(driver, replicas[0]);
  for (std::size_t index = 1; index < 3; ++index) {
    smallest = std::min(smallest, counter_at(driver, replicas[index]));
  }
  return smallest;
}

TEST(HotKeysReplica, DemotionHandsAnExtraReplicasWritesToTheBaseReplicas) {
  EXPECT_EQ(base_value_after_demotion(core::PlantedBug::none), 5);
}

TEST(HotKeysReplica, PlantedDemotionThatDropsTheStateLosesTheWrite) {
  EXPECT_EQ(base_value_after_demotion(core::PlantedBug::hot_key_demotion_drops_state), 0);
}

TEST(HotKeysReplica, DisabledHotKeysSendNothingNew) {
  core::HotKeysConfig hot = hot_config();
  hot.enabled = false;
  StoreDriver driver(five_replicas(), hot, 3);
  burst_of_reads(driver, 0, 50);
  driver.run_for(500'000);
  EXPECT_EQ(driver.replica(0)->hot_keys().size(), 0u);
  for (const auto kind :
       {core::PeerMessageKind::hot_keys_table, core::PeerMessageKind::hot_key_handoff,
        core::PeerMessageKind::hot_key_handoff_ack}) {
    EXPECT_FALSE(driver.messages_by_kind().contains(static_cast<std::uint8_t>(kind)));
  }
}

}  // namespace
}  // namespace crdtsim::testing
