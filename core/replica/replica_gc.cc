// Replica: the tombstone GC part (protocol and safety argument in
// core/replication/tombstone_gc.h and docs/tombstone-gc.md).
#include <absl/container/btree_map.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/codec/hash.h"
#include "core/replica/replica.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

namespace {

// Delta batches, anti-entropy states and hot-key hand-offs carry key
// content; only they are fenced (everything else is idempotent metadata or a
// command).
bool content_kind(std::uint8_t kind) {
  return kind == static_cast<std::uint8_t>(PeerMessageKind::delta_batch) ||
         kind == static_cast<std::uint8_t>(PeerMessageKind::ae_states) ||
         kind == static_cast<std::uint8_t>(PeerMessageKind::hot_key_handoff);
}

}  // namespace

Bytes Replica::gc_wrap(ReplicaId to, Bytes frame) const {
  assert(gc_enabled());
  return encode_frame(GcEnvelope{gc_.stamp(), gc_.known_incarnation(to), std::move(frame)});
}

std::optional<Bytes> Replica::gc_unwrap(ReplicaId from, ByteView payload) {
  GcEnvelope envelope;
  std::string error;
  FrameView inner;
  if (!decode_payload(payload, envelope, error) ||
      !parse_frame(envelope.inner_frame, inner, error)) {
    stats_.corrupt_messages += 1;
    return std::nullopt;
  }
  gc_.heard(from, envelope.sender_stamp);
  const bool admitted = !content_kind(inner.kind) || gc_.admit_content(from, envelope);
  stats_.tombstone_gc = gc_.stats();
  if (!admitted) {
    return std::nullopt;
  }
  return std::move(envelope.inner_frame);
}

bool Replica::on_gc_message(ReplicaId from, std::uint8_t kind, ByteView payload, Output& out,
                            bool& decoded) {
  if (!gc_enabled()) {
    return false;
  }
  std::string error;
  switch (static_cast<PeerMessageKind>(kind)) {
    case PeerMessageKind::gc_prepare: {
      GcPrepare message;
      if ((decoded = decode_payload(payload, message, error))) {
        on_gc_prepare(from, message, out);
      }
      return true;
    }
    case PeerMessageKind::gc_prepared: {
      GcPrepared message;
      if ((decoded = decode_payload(payload, message, error))) {
        on_gc_prepared(from, message, out);
      }
      return true;
    }
    case PeerMessageKind::gc_commit: {
      GcCommit message;
      if ((decoded = decode_payload(payload, message, error))) {
        on_gc_commit(message, out);
      }
      return true;
    }
    default:
      return false;
  }
}

std::uint64_t Replica::gc_digest(const std::string& key) const {
  const KeyState* state = keyspace_.find(key);
  assert(state != nullptr);
  return hash64(encode(*state), hash64(key));
}

void Replica::gc_round(Output& out) {
  if (config_.planted_bug == PlantedBug::gc_before_stable) {
    gc_collect_unstable(out);
    return;
  }
  if (gc_.round_pending()) {
    return;
  }
  // Keys this replica coordinates (it is their first replica) whose state
  // collection would change, and which this replica's log no longer holds
  // (its deltas reached every peer): most likely the same state everywhere.
  const std::vector<std::string_view> logged = delta_log_.keys();
  absl::btree_map<std::string, std::uint64_t> keys;
  for (const auto& [key, state] : keyspace_) {
    if (keys.size() == kGcKeysMax) {
      break;
    }
    if (collectible(state) == Collectible::nothing ||
        std::binary_search(logged.begin(), logged.end(), std::string_view(key))) {
      continue;
    }
    const ReplicaList replicas = placement_.replicas_of(key);
    if (replicas.empty() || replicas[0] != config_.id) {
      continue;
    }
    keys.emplace(key, gc_digest(key));
  }
  if (keys.empty()) {
    return;
  }
  const std::uint64_t round = gc_.begin_round(keys);
  // Every member takes part, not only the key's replicas: one that is not a
  // replica may still hold a copy (a demoted hot key's stray, not yet handed
  // off) or unsent deltas of it, and must have none before the key goes.
  GcPrepare prepare;
  prepare.round = round;
  for (const auto& [key, digest] : keys) {
    const LwwTimestamp newest = keyspace_.find(key)->max_timestamp();
    prepare.keys.push_back(GcKeyDigest{key, digest, newest.time, newest.logical});
  }
  for (const ReplicaId replica : ring_.members()) {
    if (replica == config_.id) {
      on_gc_prepare(replica, prepare, out);
    } else {
      send_peer(replica, PeerMessageKind::gc_prepare, encode_frame(prepare), out);
    }
  }
  stats_.tombstone_gc = gc_.stats();
}

void Replica::on_gc_prepare(ReplicaId from, const GcPrepare& message, Output& out) {
  GcPrepared answer;
  answer.round = message.round;
  std::vector<std::string_view> logged;  // computed once, for non-replicas
  bool logged_known = false;
  for (const GcKeyDigest& entry : message.keys) {
    const KeyState* state = keyspace_.find(entry.key);
    if (!replicates(config_.id, entry.key)) {
      // Not a replica: it prepares by holding nothing of the key (no copy, no
      // deltas to send), so its fence covers every copy it sent before.
      if (!logged_known) {
        logged = delta_log_.keys();
        logged_known = true;
      }
      if (state == nullptr &&
          !std::binary_search(logged.begin(), logged.end(), std::string_view(entry.key))) {
        observe_collected(entry.max_time, entry.max_logical, out);
        answer.keys.push_back(entry.key);
      }
      continue;
    }
    if (state == nullptr || collectible(*state) == Collectible::nothing ||
        gc_digest(entry.key) != entry.digest) {
      continue;
    }
    // Every replica of the key holds S, which contains each of these
    // entries: none is needed, and none may be sent after the commit.
    delta_log_.erase_key(entry.key);
    observe_collected(entry.max_time, entry.max_logical, out);
    answer.keys.push_back(entry.key);
  }
  if (answer.keys.empty()) {
    return;
  }
  answer.stamp = gc_.advance_epoch();
  gc_.stats().keys_prepared += answer.keys.size();
  stats_.tombstone_gc = gc_.stats();
  // S must be on disk before anyone may collect it: a durable replica that
  // restarted with an older state could otherwise serve a sub-state of S.
  out.sync = out.sync || config_.durable;
  if (from == config_.id) {
    on_gc_prepared(config_.id, answer, out);
  } else {
    send_peer(from, PeerMessageKind::gc_prepared, encode_frame(answer), out);
  }
}

void Replica::on_gc_prepared(ReplicaId from, const GcPrepared& message, Output& out) {
  if (!gc_.on_prepared(from, message)) {
    return;  // an answer to an earlier round
  }
  // The keys every replica has now prepared, with the fences they need.
  absl::btree_map<ReplicaId, std::uint64_t> fences;
  std::vector<GcKeyDigest> ready;
  for (const std::string& key : message.keys) {
    const std::optional<std::uint64_t> digest = gc_.round_digest(key);
    if (!digest) {
      continue;
    }
    const std::vector<ReplicaId>& members = ring_.members();
    const bool all = std::all_of(members.begin(), members.end(), [&](ReplicaId replica) {
      return gc_.prepared_stamp(replica, key).has_value();
    });
    if (!all) {
      continue;
    }
    for (const ReplicaId replica : members) {
      std::uint64_t& fence = fences[replica];
      fence = std::max(fence, *gc_.prepared_stamp(replica, key));
    }
    ready.push_back(GcKeyDigest{key, *digest});
    gc_.finish_key(key);
  }
  if (ready.empty()) {
    return;
  }
  // Every member raises the fences, not only the key's replicas: a member
  // that becomes a replica later (a promoted hot key) must refuse old
  // content as well. A non-replica holds nothing to collect.
  GcCommit commit;
  commit.keys = std::move(ready);
  for (const auto& [fenced, stamp] : fences) {
    commit.fences.push_back(GcFence{fenced, stamp});
  }
  for (const ReplicaId replica : ring_.members()) {
    if (replica == config_.id) {
      on_gc_commit(commit, out);
    } else {
      send_peer(replica, PeerMessageKind::gc_commit, encode_frame(commit), out);
    }
  }
}

void Replica::on_gc_commit(const GcCommit& message, Output& out) {
  // Fences first: from here on, content a replica sent before it prepared
  // is refused, so nothing older than S can reach the collected key.
  for (const GcFence& fence : message.fences) {
    if (fence.replica != config_.id) {
      gc_.raise_fence(fence.replica, fence.stamp);
    }
  }
  for (const GcKeyDigest& entry : message.keys) {
    const KeyState* state = keyspace_.find(entry.key);
    // A changed state (new content since prepare) is kept whole.
    if (state != nullptr && collectible(*state) != Collectible::nothing &&
        gc_digest(entry.key) == entry.digest) {
      gc_collect(entry.key, out);
    }
  }
  stats_.tombstone_gc = gc_.stats();
}

void Replica::gc_collect_unstable(Output& out) {
  std::vector<std::string> keys;
  for (const auto& [key, state] : keyspace_) {
    if (collectible(state) != Collectible::nothing) {
      keys.push_back(key);
    }
  }
  for (const std::string& key : keys) {
    gc_collect(key, out);
  }
  stats_.tombstone_gc = gc_.stats();
}

void Replica::gc_collect(const std::string& key, Output& out) {
  const KeyState* state = keyspace_.find(key);
  assert(state != nullptr);
  const Collectible what = collectible(*state);
  assert(what != Collectible::nothing);
  // Every later write at this key must beat the collected tombstones.
  const LwwTimestamp newest = state->max_timestamp();
  observe_collected(newest.time, newest.logical, out);
  TombstoneGc::Stats& stats = gc_.stats();
  if (what == Collectible::key) {
    stats.keys_collected += 1;
    drop_key(key, out);
  } else {
    KeyState rest = compacted(*state);
    for (const auto& [type, slot] : state->slots()) {
      if (const auto* map = std::get_if<LwwMap>(&slot.value)) {
        stats.fields_collected += map->tombstone_count();
      }
    }
    stats.keys_compacted += 1;
    keyspace_.erase(key);
    keyspace_.apply(key, rest);
    persist_key(key, mark_dirty(key), out);
  }
  persist_clock(out);
  out.sync = out.sync || config_.durable;
  out.coverage.push_back(what == Collectible::key ? "gc.key_collected" : "gc.fields_collected");
}

void Replica::drop_key(const std::string& key, Output& out) {
  keyspace_.erase(key);
  mark_dirty(key);
  if (config_.durable) {
    out.storage.push_back(StorageWrite{key_record(key), {}, true});
  }
}

void Replica::observe_collected(std::uint64_t time, std::uint32_t logical, Output& out) {
  // The Lamport clock is covered by its durable ceiling; an HLC restarts
  // from the physical clock and the states it reloads, which no longer hold
  // a collected key, so the floor is kept durable on its own.
  clock_.observe(time, logical);
  persist_clock(out);
  if (std::pair(time, logical) <= std::pair(gc_time_floor_.time, gc_time_floor_.logical)) {
    return;
  }
  gc_time_floor_ = LwwTimestamp{time, logical, 0};
  if (config_.durable) {
    Bytes record;
    Encoder encoder(record);
    encoder.varint(time);
    encoder.varint(logical);
    out.storage.push_back(StorageWrite{std::string(kGcTimeFloorRecord), std::move(record)});
    out.sync = true;
  }
}

}  // namespace crdtsim::core
