#include "core/replication/delta_log.h"

#include <absl/container/btree_map.h>

#include <algorithm>
#include <cassert>
#include <utility>

namespace crdtsim::core {

DeltaLog::DeltaLog(Config config, std::vector<ReplicaId> peers) : config_(config) {
  for (const ReplicaId peer : peers) {
    peers_.emplace(peer, Peer{});
  }
}

std::uint64_t DeltaLog::append(std::string key, ReplicaId origin, ReplicaId via, KeyState delta,
                               std::uint64_t now_us, std::vector<ReplicaId> targets) {
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
  entries_.push_back(Entry{seq, std::move(key), origin, via, std::move(delta), std::move(targets)});
  return seq;
}

bool DeltaLog::buffering_for(ReplicaId peer) const {
  const auto found = peers_.find(peer);
  return found != peers_.end() && found->second.buffering;
}

void DeltaLog::drop_backlog(Peer& peer) {
  peer.acked_seq = head_seq();
  peer.sent_seq = head_seq();
  if (peer.buffering) {
    stats_.buffers_dropped += 1;
  }
  peer.buffering = false;
}

std::optional<DeltaBatch> DeltaLog::next_batch(ReplicaId peer_id, std::uint64_t now_us) {
  const auto found = peers_.find(peer_id);
  assert(found != peers_.end());
  Peer& peer = found->second;
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
    return std::nullopt;
  }
  if (peer.sent_seq > peer.acked_seq && now_us - peer.last_progress_us >= config_.retransmit_us) {
    peer.sent_seq = peer.acked_seq;  // no ack in time: send again
  }
  const std::uint64_t first_seq = peer.sent_seq + 1;
  // Join the due entries per key, in key order (deterministic).
  absl::btree_map<std::string, DeltaBatch::Entry> joined;
  std::uint64_t last_seq = peer.sent_seq;
  const auto first =
      std::lower_bound(entries_.begin(), entries_.end(), peer.sent_seq + 1,
                       [](const Entry& entry, std::uint64_t seq) { return entry.seq < seq; });
  for (auto it = first; it != entries_.end(); ++it) {
    const bool to_peer =
        std::find(it->targets.begin(), it->targets.end(), peer_id) != it->targets.end();
    if (it->origin != peer_id && it->via != peer_id && to_peer) {
      auto slot = joined.find(it->key);
      if (slot == joined.end()) {
        if (joined.size() == kBatchKeysMax) {
          break;  // the rest goes in the next batch
        }
        joined.emplace(it->key, DeltaBatch::Entry{it->key, it->origin, it->delta});
      } else {
        slot->second.delta.merge(it->delta);
        if (slot->second.origin != it->origin) {
          slot->second.origin = it->via;  // mixed origins: exclude only the sender
        }
      }
    }
    last_seq = it->seq;
  }
  if (last_seq == peer.sent_seq) {
    return std::nullopt;
  }
  const bool in_flight = peer.sent_seq > peer.acked_seq;
  peer.sent_seq = last_seq;
  if (joined.empty()) {
    // Nothing routed to this peer: it trivially has these entries. Unless an
    // earlier batch is still unacknowledged: acking past it would lose it.
    if (!in_flight) {
      peer.acked_seq = last_seq;
      peer.last_progress_us = now_us;
      trim();
    }
    return std::nullopt;
  }
  DeltaBatch batch;
  batch.first_seq = first_seq;
  batch.last_seq = last_seq;
  batch.entries.reserve(joined.size());
  for (auto& [key, entry] : joined) {
    batch.entries.push_back(std::move(entry));
  }
  stats_.batches += 1;
  if (config_.forget_unacked) {
    peer.acked_seq = last_seq;
    trim();
  }
  return batch;
}

void DeltaLog::on_ack(ReplicaId peer_id, std::uint64_t first_seq, std::uint64_t last_seq,
                      std::uint64_t now_us) {
  const auto found = peers_.find(peer_id);
  if (found == peers_.end() || last_seq > head_seq() || first_seq > last_seq) {
    return;  // not a peer, or an ack for entries never sent: ignore
  }
  Peer& peer = found->second;
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
  const auto found = peers_.find(peer_id);
  if (found == peers_.end()) {
    return;
  }
  Peer& peer = found->second;
  peer.last_heard_us = now_us;
  if (!peer.buffering) {
    peer.buffering = true;
    peer.acked_seq = head_seq();
    peer.sent_seq = head_seq();
    peer.last_progress_us = now_us;
  }
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
