#pragma once
// Membership: which replica processes are members of the ring, as replicated
// state (issue 7 item 6; the long form is docs/membership.md).
//
// A MembershipTable maps every replica process of the cluster to a
// MembershipEntry {stamp, status}. Its merge is a lattice, entry by entry:
// the greater (stamp, status) wins, so merging is commutative, associative
// and idempotent, and every replica that has seen the same entries holds the
// same table whatever the order. Stamps are LWW timestamps from the Lamport
// clock of the replica that made the change; only a replica changes its own
// entry (it joins or decommissions itself), so its later change always
// carries the greater stamp. Every replica starts from the same initial
// table (the configured initial members, stamp zero).
//
// The ring of a replica is the table's members. A replica gossips its whole
// table (membership_table) to every process at each membership tick and at
// once after a change, and keeps it in durable storage (both durability
// modes: like the incarnation record, it is metadata).
//
// Bounds: a table holds at most kEntriesMax (HashRing::kMembersMax) entries;
// a message as many.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/replication/hash_ring.h"
#include "core/types.h"

namespace crdtsim::core {

enum class MemberStatus : std::uint8_t {
  out = 0,     // not a member: never joined, or decommissioned
  member = 1,  // owns a share of the ring
};

enum class MembershipChange : std::uint8_t { join = 0, leave = 1 };

struct MembershipEntry {
  LwwTimestamp stamp;  // zero: the initial configuration
  MemberStatus status = MemberStatus::out;

  // Joins `other` into this entry (the greater (stamp, status) wins);
  // returns whether it changed.
  bool merge(const MembershipEntry& other);
  friend bool operator==(const MembershipEntry&, const MembershipEntry&) = default;
};

class MembershipTable {
 public:
  static constexpr std::size_t kEntriesMax = HashRing::kMembersMax;

  MembershipTable() = default;
  // Every process of `processes` with stamp zero, a member iff in `members`.
  // Requires: processes distinct, at most kEntriesMax; members among them.
  MembershipTable(const std::vector<ReplicaId>& processes, const std::vector<ReplicaId>& members);

  // Joins one entry; returns whether the table changed. Refuses (returns
  // false) a new replica when the table holds kEntriesMax entries.
  bool merge(ReplicaId replica, const MembershipEntry& entry);
  const MembershipEntry* find(ReplicaId replica) const;
  bool is_member(ReplicaId replica) const;
  // The members, sorted.
  std::vector<ReplicaId> members() const;
  std::size_t member_count() const;
  std::size_t size() const { return entries_.size(); }

  using Map = std::map<ReplicaId, MembershipEntry>;
  Map::const_iterator begin() const { return entries_.begin(); }
  Map::const_iterator end() const { return entries_.end(); }
  friend bool operator==(const MembershipTable&, const MembershipTable&) = default;

 private:
  Map entries_;
};

// The whole table, as gossiped and as stored.
struct MembershipMessage {
  std::vector<std::pair<ReplicaId, MembershipEntry>> entries;
};

MembershipMessage message_of(const MembershipTable& table);
Bytes encode_frame(const MembershipMessage& message);
bool decode_payload(ByteView payload, MembershipMessage& message, std::string& error);

}  // namespace crdtsim::core
