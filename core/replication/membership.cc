#include "core/replication/membership.h"

#include <algorithm>
#include <cassert>
#include <tuple>

#include "core/replication/message_codec.h"
#include "core/replication/peer_messages.h"

namespace crdtsim::core {

using message_codec::bounded_count;
using message_codec::decode_with;
using message_codec::frame_of;

bool MembershipEntry::merge(const MembershipEntry& other) {
  // Equal stamps come only from the initial table, which every replica
  // shares; the status still breaks the tie so that the merge is a lattice.
  if (std::tie(other.stamp, other.status) <= std::tie(stamp, status)) {
    return false;
  }
  *this = other;
  return true;
}

MembershipTable::MembershipTable(const std::vector<ReplicaId>& processes,
                                 const std::vector<ReplicaId>& members) {
  assert(processes.size() <= kEntriesMax);
  for (const ReplicaId process : processes) {
    const bool member = std::find(members.begin(), members.end(), process) != members.end();
    const bool inserted =
        entries_
            .emplace(process,
                     MembershipEntry{{}, member ? MemberStatus::member : MemberStatus::out})
            .second;
    assert(inserted);
    (void)inserted;
  }
  assert(member_count() == members.size());
}

bool MembershipTable::merge(ReplicaId replica, const MembershipEntry& entry) {
  const auto found = entries_.find(replica);
  if (found != entries_.end()) {
    return found->second.merge(entry);
  }
  if (entries_.size() >= kEntriesMax) {
    return false;
  }
  entries_.emplace(replica, entry);
  return true;
}

const MembershipEntry* MembershipTable::find(ReplicaId replica) const {
  const auto found = entries_.find(replica);
  return found == entries_.end() ? nullptr : &found->second;
}

bool MembershipTable::is_member(ReplicaId replica) const {
  const MembershipEntry* entry = find(replica);
  return entry != nullptr && entry->status == MemberStatus::member;
}

std::vector<ReplicaId> MembershipTable::members() const {
  std::vector<ReplicaId> result;
  for (const auto& [replica, entry] : entries_) {
    if (entry.status == MemberStatus::member) {
      result.push_back(replica);  // map order: sorted
    }
  }
  return result;
}

std::size_t MembershipTable::member_count() const {
  return static_cast<std::size_t>(
      std::count_if(entries_.begin(), entries_.end(),
                    [](const auto& item) { return item.second.status == MemberStatus::member; }));
}

MembershipMessage message_of(const MembershipTable& table) {
  MembershipMessage message;
  message.entries.assign(table.begin(), table.end());
  return message;
}

Bytes encode_frame(const MembershipMessage& message) {
  assert(message.entries.size() <= MembershipTable::kEntriesMax);
  return frame_of(PeerMessageKind::membership_table, [&](Encoder& encoder) {
    encoder.varint(message.entries.size());
    for (const auto& [replica, entry] : message.entries) {
      encoder.varint(replica);
      entry.stamp.encode_body(encoder);
      encoder.u8(static_cast<std::uint8_t>(entry.status));
    }
  });
}

bool decode_payload(ByteView payload, MembershipMessage& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t count =
        bounded_count(decoder, 5, MembershipTable::kEntriesMax, "membership entry");
    for (std::size_t index = 0; decoder.ok() && index < count; ++index) {
      const ReplicaId replica = decoder.varint32();
      MembershipEntry entry;
      entry.stamp = LwwTimestamp::decode_body(decoder);
      const std::uint8_t status = decoder.u8();
      if (decoder.ok() && status > static_cast<std::uint8_t>(MemberStatus::member)) {
        decoder.fail("member status " + std::to_string(status) + " is not 0 or 1");
      }
      if (decoder.ok() && !message.entries.empty() && replica <= message.entries.back().first) {
        decoder.fail("membership entries not sorted and distinct");
      }
      entry.status = static_cast<MemberStatus>(status);
      message.entries.emplace_back(replica, entry);
    }
  });
}

}  // namespace crdtsim::core
