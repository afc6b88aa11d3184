#include "core/replication/hash_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "core/codec/hash.h"

namespace crdtsim::core {
namespace {

std::string key_name(int index) {
  return "key-" + std::to_string(index);
}

TEST(Hash, PinnedKnownAnswers) {
  // XXH3-64 outputs are frozen by the xxHash specification; these pins catch
  // an accidental change of hash function, which would move every key.
  EXPECT_EQ(hash64(std::string_view("")), 0x2d06800538d394c2ull);
  EXPECT_NE(hash64(std::string_view("a")), hash64(std::string_view("b")));
  EXPECT_NE(hash64(std::string_view("a"), 1), hash64(std::string_view("a"), 2));
}

TEST(HashRing, PreferenceListHasDistinctReplicasInRingOrder) {
  const HashRing ring({0, 1, 2, 3, 4}, 32);
  for (int index = 0; index < 500; ++index) {
    const auto list = ring.preference_list(key_name(index), 3);
    ASSERT_EQ(list.size(), 3u);
    const std::set<ReplicaId> distinct(list.begin(), list.end());
    EXPECT_EQ(distinct.size(), 3u);
    EXPECT_TRUE(ring.is_replica(list.front(), key_name(index), 3));
    // A longer list extends the shorter one (hot keys add replicas at the end).
    const auto longer = ring.preference_list(key_name(index), 5);
    EXPECT_TRUE(std::equal(list.begin(), list.end(), longer.begin()));
  }
}

TEST(HashRing, FactorAboveMembersIsCapped) {
  const HashRing ring({7, 9}, 4);
  EXPECT_EQ(ring.preference_list("k", 5).size(), 2u);
  const HashRing empty({}, 4);
  EXPECT_TRUE(empty.preference_list("k", 3).empty());
}

TEST(HashRing, VirtualNodesBalanceLoad) {
  const HashRing ring({0, 1, 2, 3, 4}, 128);
  std::map<ReplicaId, int> primaries;
  constexpr int kKeys = 50'000;
  for (int index = 0; index < kKeys; ++index) {
    primaries[ring.preference_list(key_name(index), 1).front()]++;
  }
  ASSERT_EQ(primaries.size(), 5u);
  for (const auto& [replica, count] : primaries) {
    // 128 virtual nodes keep each share within +-25% of the mean (10,000).
    EXPECT_GT(count, 7'500) << "replica " << replica;
    EXPECT_LT(count, 12'500) << "replica " << replica;
  }
}

TEST(HashRing, JoinMovesOnlyAFairShareOfKeys) {
  HashRing ring({0, 1, 2, 3}, 64);
  constexpr int kKeys = 20'000;
  std::vector<ReplicaId> before;
  for (int index = 0; index < kKeys; ++index) {
    before.push_back(ring.preference_list(key_name(index), 1).front());
  }
  ring.add_member(4);
  int moved = 0;
  for (int index = 0; index < kKeys; ++index) {
    const ReplicaId now = ring.preference_list(key_name(index), 1).front();
    if (now != before[static_cast<std::size_t>(index)]) {
      ++moved;
      EXPECT_EQ(now, 4u) << "a key moved between two old members";
    }
  }
  // The new member takes about 1/5 of the keys.
  EXPECT_GT(moved, kKeys / 5 - kKeys / 20);
  EXPECT_LT(moved, kKeys / 5 + kKeys / 20);
  ring.remove_member(4);
  for (int index = 0; index < kKeys; ++index) {
    EXPECT_EQ(ring.preference_list(key_name(index), 1).front(),
              before[static_cast<std::size_t>(index)]);
  }
}

TEST(HashRing, SameMembersInAnyOrderGiveTheSameRing) {
  const HashRing left({3, 1, 2}, 16);
  const HashRing right({1, 2, 3}, 16);
  EXPECT_EQ(left.tokens(), right.tokens());
}

}  // namespace
}  // namespace crdtsim::core
