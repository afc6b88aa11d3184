#include "core/replication/hash_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

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

// Placement answers from a per-token table (small rings) or by walking a
// copy of the tokens (rings whose table would pass kTableEntriesMax): both
// must agree with preference_list for every factor.
void expect_placement_matches(const HashRing& ring, std::uint32_t factor, int keys) {
  const HashRing::Placement placement = ring.placement(factor);
  for (int index = 0; index < keys; ++index) {
    const std::vector<ReplicaId> expected = ring.preference_list(key_name(index), factor);
    const ReplicaList actual = placement.replicas_of(key_name(index));
    ASSERT_EQ(std::vector<ReplicaId>(actual.begin(), actual.end()), expected)
        << "key " << key_name(index) << ", factor " << factor;
    // A caller that kept the key's token gets the same list.
    EXPECT_EQ(placement.replicas_of_token(HashRing::key_token(key_name(index))), actual);
    for (const ReplicaId member : ring.members()) {
      EXPECT_EQ(placement.is_replica(member, key_name(index)),
                ring.is_replica(member, key_name(index), factor));
    }
  }
}

TEST(HashRing, PlacementTableAgreesWithPreferenceLists) {
  const HashRing ring({0, 1, 2, 3, 4}, 64);
  for (const std::uint32_t factor : {1u, 2u, 3u, 5u, 9u}) {
    expect_placement_matches(ring, factor, 2'000);
  }
  const HashRing empty({}, 8);
  EXPECT_TRUE(empty.placement(3).replicas_of("k").empty());
  EXPECT_FALSE(empty.placement(3).is_replica(0, "k"));
}

TEST(HashRing, PlacementTableAgreesOnRingsWithLongRunsOfOneOwner) {
  // The table is filled from each token's successor: few members and many
  // tokens make runs of one owner and lists that must skip repeats.
  for (const std::uint32_t members : {1u, 2u, 3u}) {
    std::vector<ReplicaId> ids;
    for (ReplicaId member = 0; member < members; ++member) {
      ids.push_back(member * 7 + 1);
    }
    const HashRing ring(ids, 256);
    for (const std::uint32_t factor : {1u, 2u, 3u, 4u}) {
      expect_placement_matches(ring, factor, 3'000);
    }
  }
}

TEST(HashRing, PlacementOfALargeRingWalksAndAgrees) {
  // 12 members x 4,096 tokens x 9 ids per list exceeds the table bound, so
  // this placement walks.
  std::vector<ReplicaId> members;
  for (ReplicaId member = 0; member < 12; ++member) {
    members.push_back(member);
  }
  const HashRing ring(members, HashRing::kVirtualNodesMax);
  ASSERT_GT(ring.tokens().size() * 9, HashRing::Placement::kTableEntriesMax);
  expect_placement_matches(ring, 9, 300);
}

TEST(ReplicaList, SpillsPastItsInlineCapacityAndCompares) {
  ReplicaList list;
  for (ReplicaId replica = 0; replica < ReplicaList::kInline + 3; ++replica) {
    list.push_back(replica);
  }
  ASSERT_EQ(list.size(), ReplicaList::kInline + 3);
  for (std::size_t index = 0; index < list.size(); ++index) {
    EXPECT_EQ(list[index], index);
  }
  const ReplicaList copy = list;
  EXPECT_EQ(copy, list);
  ReplicaList shorter(list.begin(), list.begin() + 2);
  EXPECT_LT(shorter, list);
  list.clear();
  EXPECT_TRUE(list.empty());
  list.push_back(7);
  EXPECT_EQ(std::vector<ReplicaId>(list.begin(), list.end()), std::vector<ReplicaId>{7});
}

}  // namespace
}  // namespace crdtsim::core
