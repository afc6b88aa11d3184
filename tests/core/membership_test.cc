// The membership table: its merge is a lattice (entry by entry, the greater
// (stamp, status) wins), members follow the entries, and the wire form
// round-trips and rejects what it must.
#include "core/replication/membership.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"

namespace crdtsim::core {
namespace {

MembershipEntry entry(std::uint64_t time, ReplicaId writer, MemberStatus status) {
  return MembershipEntry{LwwTimestamp::from_lamport(time, writer), status};
}

std::vector<MembershipEntry> samples() {
  return {MembershipEntry{},
          entry(0, 0, MemberStatus::member),
          entry(1, 2, MemberStatus::out),
          entry(1, 2, MemberStatus::member),
          entry(2, 1, MemberStatus::out),
          entry(7, 1, MemberStatus::member)};
}

MembershipEntry merged(MembershipEntry left, const MembershipEntry& right) {
  left.merge(right);
  return left;
}

TEST(MembershipEntry, MergeIsALattice) {
  for (const MembershipEntry& a : samples()) {
    EXPECT_EQ(merged(a, a), a);  // idempotent
    for (const MembershipEntry& b : samples()) {
      EXPECT_EQ(merged(a, b), merged(b, a));  // commutative
      for (const MembershipEntry& c : samples()) {
        EXPECT_EQ(merged(merged(a, b), c), merged(a, merged(b, c)));  // associative
      }
    }
  }
}

TEST(MembershipEntry, TheGreaterStampWinsWhateverTheStatus) {
  MembershipEntry current = entry(5, 3, MemberStatus::member);
  EXPECT_FALSE(current.merge(entry(4, 9, MemberStatus::out)));
  EXPECT_EQ(current.status, MemberStatus::member);
  EXPECT_TRUE(current.merge(entry(6, 3, MemberStatus::out)));
  EXPECT_EQ(current.status, MemberStatus::out);
  EXPECT_FALSE(current.merge(entry(6, 3, MemberStatus::out)));  // a duplicate changes nothing
}

TEST(MembershipTable, StartsFromTheInitialMembers) {
  const MembershipTable table({0, 1, 2, 3, 4}, {1, 3, 4});
  EXPECT_EQ(table.size(), 5U);
  EXPECT_EQ(table.members(), (std::vector<ReplicaId>{1, 3, 4}));
  EXPECT_EQ(table.member_count(), 3U);
  EXPECT_FALSE(table.is_member(0));
  EXPECT_TRUE(table.is_member(3));
  EXPECT_FALSE(table.is_member(9));  // not a process of the cluster
}

TEST(MembershipTable, TablesThatSawTheSameChangesAgreeInAnyOrder) {
  const std::vector<std::pair<ReplicaId, MembershipEntry>> changes = {
      {0, entry(3, 0, MemberStatus::out)},
      {4, entry(1, 4, MemberStatus::member)},
      {4, entry(5, 4, MemberStatus::out)},
      {0, entry(9, 0, MemberStatus::member)},
  };
  MembershipTable forward({0, 1, 2, 3, 4}, {0, 1, 2});
  MembershipTable backward = forward;
  for (const auto& [replica, change] : changes) {
    forward.merge(replica, change);
  }
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    backward.merge(it->first, it->second);
  }
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward.members(), (std::vector<ReplicaId>{0, 1, 2}));
}

TEST(MembershipTable, RefusesNewReplicasBeyondItsBound) {
  std::vector<ReplicaId> processes;
  for (ReplicaId id = 0; id < MembershipTable::kEntriesMax; ++id) {
    processes.push_back(id);
  }
  MembershipTable table(processes, {0});
  EXPECT_FALSE(table.merge(5000, entry(1, 5000, MemberStatus::member)));
  EXPECT_EQ(table.size(), MembershipTable::kEntriesMax);
}

MembershipMessage decoded(const Bytes& frame, bool& ok, std::string& error) {
  FrameView view;
  MembershipMessage message;
  ok = parse_frame(frame, view, error) &&
       view.kind == static_cast<std::uint8_t>(PeerMessageKind::membership_table) &&
       decode_payload(view.payload, message, error);
  return message;
}

TEST(MembershipMessage, RoundTrips) {
  MembershipTable table({0, 1, 2, 3}, {0, 1, 2});
  table.merge(3, entry(12, 3, MemberStatus::member));
  bool ok = false;
  std::string error;
  const MembershipMessage message = decoded(encode_frame(message_of(table)), ok, error);
  ASSERT_TRUE(ok) << error;
  MembershipTable copy({0, 1, 2, 3}, {0, 1, 2});
  for (const auto& [replica, change] : message.entries) {
    copy.merge(replica, change);
  }
  EXPECT_EQ(copy, table);
}

TEST(MembershipMessage, RejectsUnsortedEntriesAndUnknownStatuses) {
  MembershipMessage unsorted;
  unsorted.entries = {{2, MembershipEntry{}}, {1, MembershipEntry{}}};
  bool ok = true;
  std::string error;
  decoded(encode_frame(unsorted), ok, error);
  EXPECT_FALSE(ok);
  EXPECT_NE(error.find("not sorted"), std::string::npos) << error;

  MembershipMessage bad_status;
  bad_status.entries = {{1, MembershipEntry{{}, static_cast<MemberStatus>(7)}}};
  decoded(encode_frame(bad_status), ok, error);
  EXPECT_FALSE(ok);
  EXPECT_NE(error.find("member status 7"), std::string::npos) << error;
}

}  // namespace
}  // namespace crdtsim::core
