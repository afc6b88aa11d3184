#include "core/replication/delta_log.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace crdtsim::core {

DeltaLog::DeltaLog(Config config, std::vector<ReplicaId> peers) : config_(config) {
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  peers_.reserve(peers.size());
  for (const ReplicaId peer : peers) {
    peers_.emplace_back(peer, Peer{});
  }
}

const DeltaLog::Peer* DeltaLog::find_peer(ReplicaId id) const {
  for (const auto& [peer_id, peer] : peers_) {
    if (peer_id == id) {
      return &peer;
    }
  }
  return nullptr;
}

DeltaLog::Peer* DeltaLog::find_peer(ReplicaId id) {
  return const_cast<Peer*>(std::as_const(*this).find_peer(id));
}

std::uint64_t DeltaLog::append(std::string key, ReplicaId origin, ReplicaId via, KeyState&& delta,
                               std::uint64_t now_us, std::span<const ReplicaId> targets) {
  for (auto& [id, peer] : peers_) {
    if (peer.acked_seq == head_seq()) {
      peer.last_progress_us = now_us;  // its backlog starts now
    }
  }
  const std::uint64_t seq = next_seq_++;
  stats_.appended += 1;
  if (peers_.empty()) {
    return seq;  // a replica alone: nobody to gossip to
  }
  // Built in place: an Entry (key, state, list) is costly to move. (Field by
  // field: clang 14 has no parenthesized aggregate initialization.)
  Entry& entry = entries_.emplace_back();
  entry.seq = seq;
  entry.key = std::move(key);
  entry.origin = origin;
  entry.via = via;
  entry.delta = std::move(delta);
  entry.targets.assign(targets.begin(), targets.end());
  for (const ReplicaId target : targets) {
    if (target < 64) {
      entry.targets_below_64 |= std::uint64_t{1} << target;
    }
  }
  return seq;
}

bool DeltaLog::buffering_for(ReplicaId peer) const {
  const Peer* record = find_peer(peer);
  return record != nullptr && record->buffering;
}

DeltaLog::Entries::iterator DeltaLog::first_from(std::uint64_t seq) {
  if (entries_.empty() || seq <= entries_.front().seq) {
    return entries_.begin();
  }
  // Entries hold consecutive seqs unless erase_key removed some: then the
  // entry at the offset is not `seq`'s and a search finds the first after.
  const std::uint64_t offset = seq - entries_.front().seq;
  if (offset < entries_.size() && entries_[offset].seq == seq) {
    return entries_.begin() + static_cast<std::ptrdiff_t>(offset);
  }
  return std::lower_bound(
      entries_.begin(), entries_.end(), seq,
      [](const Entry& entry, std::uint64_t probe) { return entry.seq < probe; });
}

void DeltaLog::drop_backlog(Peer& peer) {
  peer.acked_seq = head_seq();
  peer.sent_seq = head_seq();
  if (peer.buffering) {
    stats_.buffers_dropped += 1;
  }
  peer.buffering = false;
}

bool DeltaLog::select(ReplicaId peer_id, std::uint64_t now_us, Selection& selection) {
  Peer* const found = find_peer(peer_id);
  assert(found != nullptr);
  Peer& peer = *found;
  const std::uint64_t backlog = head_seq() - peer.acked_seq;
  if (peer.buffering && backlog > 0 &&
      (backlog > config_.peer_backlog_max ||
       now_us - std::min(now_us, peer.last_progress_us) > config_.peer_silence_us_max)) {
    drop_backlog(peer);
  }
  if (!peer.buffering) {
    peer.acked_seq = head_seq();
    peer.sent_seq = head_seq();
    trim();
    return false;
  }
  if (peer.sent_seq > peer.acked_seq && now_us - peer.last_progress_us >= config_.retransmit_us) {
    peer.sent_seq = peer.acked_seq;  // no ack in time: send again
  }
  if (peer.sent_seq == head_seq()) {
    return false;  // nothing appended since the last batch (most ticks)
  }
  selection.first_seq = peer.sent_seq + 1;
  // Join the due entries per key; groups are emitted in key order
  // (deterministic). Keys are views into the entries: nothing is copied for
  // a key with one entry.
  // `group_of` (key, index into `groups`), sorted by key: small (a batch
  // names few keys), searched by bisection.
  std::vector<std::pair<std::string_view, std::size_t>>& group_of = group_of_scratch_;
  std::vector<Group>& groups = selection.groups;
  group_of.clear();
  groups.clear();
  joined_scratch_.clear();
  std::uint64_t last_seq = peer.sent_seq;
  const auto first = first_from(peer.sent_seq + 1);
  const auto by_key = [](const std::pair<std::string_view, std::size_t>& slot,
                         std::string_view key) { return slot.first < key; };
  for (auto it = first; it != entries_.end(); ++it) {
    if (it->origin != peer_id && it->via != peer_id && routed_to(*it, peer_id)) {
      const std::string_view key = it->key;
      const auto slot = std::lower_bound(group_of.begin(), group_of.end(), key, by_key);
      if (slot == group_of.end() || slot->first != key) {
        if (groups.size() == kBatchKeysMax) {
          break;  // the rest goes in the next batch
        }
        group_of.emplace(slot, key, groups.size());
        groups.push_back(Group{key, it->origin, &*it, kNotJoined});
      } else {
        Group& group = groups[slot->second];
        if (group.joined == kNotJoined) {
          group.joined = joined_scratch_.size();
          joined_scratch_.push_back(group.single->delta);
        }
        joined_scratch_[group.joined].merge(it->delta);
        if (group.origin != it->origin) {
          group.origin = it->via;  // mixed origins: exclude only the sender
        }
      }
    }
    last_seq = it->seq;
  }
  if (last_seq == peer.sent_seq) {
    return false;
  }
  const bool in_flight = peer.sent_seq > peer.acked_seq;
  peer.sent_seq = last_seq;
  if (groups.empty()) {
    // Nothing routed to this peer: it trivially has these entries. Unless an
    // earlier batch is still unacknowledged: acking past it would lose it.
    if (!in_flight) {
      peer.acked_seq = last_seq;
      peer.last_progress_us = now_us;
      trim();
    }
    return false;
  }
  selection.last_seq = last_seq;
  stats_.batches += 1;
  return true;
}

void DeltaLog::clear_selection() {
  selection_scratch_.groups.clear();
  group_of_scratch_.clear();
  joined_scratch_.clear();
}

std::optional<DeltaBatch> DeltaLog::next_batch(ReplicaId peer_id, std::uint64_t now_us) {
  Selection& selection = selection_scratch_;
  if (!select(peer_id, now_us, selection)) {
    return std::nullopt;
  }
  DeltaBatch batch;
  batch.first_seq = selection.first_seq;
  batch.last_seq = selection.last_seq;
  batch.entries.reserve(selection.groups.size());
  for (const auto& [key, index] : group_of_scratch_) {  // key order
    const Group& group = selection.groups[index];
    batch.entries.push_back(DeltaBatch::Entry{std::string(group.key), group.origin,
                                              group.joined != kNotJoined
                                                  ? std::move(joined_scratch_[group.joined])
                                                  : group.single->delta});
  }
  clear_selection();
  // Trim last: the groups point into the entries.
  if (config_.forget_unacked) {
    forget(peer_id, selection.last_seq);
  }
  return batch;
}

std::optional<Bytes> DeltaLog::next_batch_frame(ReplicaId peer_id, std::uint64_t now_us) {
  Selection& selection = selection_scratch_;
  if (!select(peer_id, now_us, selection)) {
    return std::nullopt;
  }
  std::vector<DeltaBatchEntryView>& views = views_scratch_;
  views.clear();
  views.reserve(selection.groups.size());
  for (const auto& [key, index] : group_of_scratch_) {  // key order
    const Group& group = selection.groups[index];
    views.push_back(DeltaBatchEntryView{group.key, group.origin, &delta_of(group)});
  }
  Bytes frame = encode_delta_batch_frame(selection.first_seq, selection.last_seq, views);
  views.clear();
  clear_selection();
  if (config_.forget_unacked) {
    forget(peer_id, selection.last_seq);
  }
  return frame;
}

void DeltaLog::forget(ReplicaId peer_id, std::uint64_t last_seq) {
  Peer* const peer = find_peer(peer_id);
  assert(peer != nullptr);
  peer->acked_seq = last_seq;
  trim();
}

void DeltaLog::on_ack(ReplicaId peer_id, std::uint64_t first_seq, std::uint64_t last_seq,
                      std::uint64_t now_us) {
  Peer* const found = find_peer(peer_id);
  if (found == nullptr || last_seq > head_seq() || first_seq > last_seq) {
    return;  // not a peer, or an ack for entries never sent: ignore
  }
  Peer& peer = *found;
  peer.last_heard_us = now_us;
  // A batch past a gap proves nothing about the gap: wait for the
  // retransmission that covers it.
  if (first_seq <= peer.acked_seq + 1 && last_seq > peer.acked_seq) {
    peer.acked_seq = last_seq;
    peer.sent_seq = std::max(peer.sent_seq, last_seq);
    peer.last_progress_us = now_us;
    trim();
  }
}

void DeltaLog::on_heard_from(ReplicaId peer_id, std::uint64_t now_us) {
  Peer* const found = find_peer(peer_id);
  if (found == nullptr) {
    return;
  }
  Peer& peer = *found;
  peer.last_heard_us = now_us;
  if (!peer.buffering) {
    peer.buffering = true;
    peer.acked_seq = head_seq();
    peer.sent_seq = head_seq();
    peer.last_progress_us = now_us;
    // Entries appended while the peer was not buffered now count as
    // acknowledged by it: drop those every peer has. Left for a later ack
    // or tick, they stayed for good once writes stopped (a gossip tick with
    // nothing new never trims), and tombstone GC, which skips keys its log
    // still holds, never collected them.
    trim();
  }
}

void DeltaLog::forget_key(std::string_view key) {
  for (Entry& entry : entries_) {
    if (entry.key == key) {
      entry.targets.clear();
      entry.targets_below_64 = 0;
    }
  }
}

std::size_t DeltaLog::erase_key(std::string_view key) {
  const std::size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [key](const Entry& entry) { return entry.key == key; }),
                 entries_.end());
  return before - entries_.size();
}

std::vector<std::string_view> DeltaLog::keys() const {
  std::vector<std::string_view> result;
  result.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    result.push_back(entry.key);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

void DeltaLog::trim() {
  std::uint64_t min_acked = head_seq();
  for (const auto& [id, peer] : peers_) {
    min_acked = std::min(min_acked, peer.acked_seq);
  }
  while (!entries_.empty() && entries_.front().seq <= min_acked) {
    entries_.pop_front();
  }
}

}  // namespace crdtsim::core
