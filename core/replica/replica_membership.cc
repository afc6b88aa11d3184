// The replica's side of membership changes: its own joins and leaves, the
// replicated table, and what a change of the ring does to the keys it holds.
// The design and its guarantees are in core/replication/membership.h and
// docs/membership.md; the hand-off itself is the hot keys' stray mechanism
// (replica_hot_keys.cc).

#include <algorithm>
#include <cassert>

#include "core/replica/replica.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

void Replica::recover_membership(const std::map<std::string, Bytes>& recovered) {
  const auto found = recovered.find(std::string(kMembershipRecord));
  if (found == recovered.end()) {
    return;
  }
  FrameView frame;
  std::string error;
  MembershipMessage message;
  if (!parse_frame(found->second, frame, error) ||
      frame.kind != static_cast<std::uint8_t>(PeerMessageKind::membership_table) ||
      !decode_payload(frame.payload, message, error)) {
    stats_.recovered_corrupt += 1;  // gossip brings the table back
    return;
  }
  for (const auto& [replica, entry] : message.entries) {
    if (membership_.find(replica) != nullptr) {
      membership_.merge(replica, entry);
    }
  }
  Output ignored;  // no key is loaded yet: nothing to hand off or drop
  apply_view(ignored);
  assert(ignored.storage.empty() && ignored.messages.empty());
}

Output Replica::on_membership_change(std::uint64_t now_us, MembershipChange change,
                                     RandomSource& random) {
  (void)now_us;
  (void)random;
  Output out;
  assert(config_.membership.enabled);
  const MembershipEntry* current = membership_.find(config_.id);
  assert(current != nullptr);
  const MemberStatus wanted =
      change == MembershipChange::join ? MemberStatus::member : MemberStatus::out;
  const bool below_factor =
      change == MembershipChange::leave && membership_.member_count() <= config_.replication_factor;
  if (current->status == wanted || below_factor) {
    stats_.membership_changes_refused += 1;
    return out;
  }
  // Past every stamp this replica issued (the clock's durable ceiling
  // survives restarts), so this change wins over its earlier ones.
  const std::uint64_t time = clock_.observe(current->stamp.time);
  persist_clock(out);
  const MembershipEntry entry{LwwTimestamp::from_lamport(time, writer_id_), wanted};
  assert(current->stamp < entry.stamp);
  const bool changed = membership_.merge(config_.id, entry);
  assert(changed);
  (void)changed;
  stats_.membership_changes += 1;
  persist_membership(out);
  out.sync = true;
  apply_view(out);
  broadcast_membership(out);
  out.coverage.push_back(change == MembershipChange::join ? "membership.joined"
                                                          : "membership.left");
  assert(membership_.is_member(config_.id) == (change == MembershipChange::join));
  return out;
}

void Replica::on_membership_table(const MembershipMessage& message, Output& out) {
  bool changed = false;
  for (const auto& [replica, entry] : message.entries) {
    // Only the cluster's processes: an unknown id is ignored.
    if (membership_.find(replica) != nullptr) {
      changed |= membership_.merge(replica, entry);
    }
  }
  if (!changed) {
    return;
  }
  persist_membership(out);
  out.sync = true;
  apply_view(out);
}

void Replica::apply_view(Output& out) {
  const std::vector<ReplicaId> members = membership_.members();
  if (members == ring_.members()) {
    return;
  }
  stats_.membership_views += 1;
  placement_epoch_ += 1;
  ring_ = HashRing(members, config_.virtual_nodes);
  HotKeyTable table = placement_.table();  // decisions outlive the ring
  placement_ = KeyPlacement(ring_, config_.replication_factor,
                            config_.hot_keys.enabled ? config_.hot_keys.extra_replicas : 0);
  placement_.table() = std::move(table);
  peers_.clear();
  std::copy_if(members.begin(), members.end(), std::back_inserter(peers_),
               [this](ReplicaId member) { return member != config_.id; });
  // Every key's Merkle leaves move to the trees of its peers under the new
  // ring: start over, and let the lazy refresh rebuild them.
  anti_entropy_.clear();
  std::vector<std::string> dropped;
  for (const auto& [key, state] : keyspace_) {
    mark_dirty(key);
    if (replicates(config_.id, key)) {
      // Its replica again: the acknowledgements of an earlier stray
      // hand-off are stale (store bug 16, see forget_stray).
      forget_stray(key);
      continue;
    }
    if (config_.planted_bug == PlantedBug::membership_drop_without_handoff) {
      dropped.push_back(key);
    } else {
      strays_[key];  // handed off (push_stray_states)
    }
  }
  for (const std::string& key : dropped) {
    delta_log_.forget_key(key);  // and its unsent deltas with it
    keyspace_.erase(key);
    if (config_.durable) {
      out.storage.push_back(StorageWrite{key_record(key), {}, true});
    }
  }
}

void Replica::persist_membership(Output& out) const {
  out.storage.push_back(
      StorageWrite{std::string(kMembershipRecord), encode_frame(message_of(membership_))});
}

void Replica::broadcast_membership(Output& out) const {
  const Bytes frame = encode_frame(message_of(membership_));
  for (const ReplicaId process : processes_) {
    send_peer(process, PeerMessageKind::membership_table, frame, out);
  }
}

void Replica::membership_tick(Output& out) {
  // The whole table every tick (small, bounded), so a lost copy is replaced;
  // and the hand-off of strays, until each is acknowledged.
  broadcast_membership(out);
  std::map<ReplicaId, HotKeyHandoff> batches;
  push_stray_states(batches, out);
  for (const auto& [peer, batch] : batches) {
    send_peer(peer, PeerMessageKind::hot_key_handoff, encode_frame(batch), out);
  }
}

}  // namespace crdtsim::core
