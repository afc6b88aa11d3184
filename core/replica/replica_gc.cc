// Replica: the tombstone GC part (protocol and safety argument in
// core/replication/tombstone_gc.h and docs/tombstone-gc.md).
#include <absl/container/btree_map.h>

#include <algorithm>
#include <cassert>
#include <utility>
#include <variant>

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
    case PeerMessageKind::gc_fence: {
      GcFenceRound message;
      if ((decoded = config_.membership.enabled && decode_payload(payload, message, error))) {
        on_gc_fence(from, message, out);
      }
      return true;
    }
    case PeerMessageKind::gc_fenced: {
      GcFenced message;
      if ((decoded = config_.membership.enabled && decode_payload(payload, message, error))) {
        on_gc_fenced(from, message, out);
      }
      return true;
    }
    default:
      return false;
  }
}

std::uint64_t Replica::view_digest() const {
  if (!config_.membership.enabled) {
    return 0;
  }
  return hash64(encode_frame(message_of(membership_)));
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
    if (gc_collectible(state) == Collectible::nothing ||
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
  gc_.set_round_view(view_digest());
  // Every member takes part, not only the key's replicas: one that is not a
  // replica may still hold a copy (a demoted hot key's stray, not yet handed
  // off) or unsent deltas of it, and must have none before the key goes.
  // With membership on, every process: a non-member may hold a stray copy,
  // join during the round, or execute a forward routed by an older view.
  GcPrepare prepare;
  prepare.round = round;
  for (const auto& [key, digest] : keys) {
    const LwwTimestamp newest = keyspace_.find(key)->max_timestamp();
    prepare.keys.push_back(GcKeyDigest{key, digest, newest.time, newest.logical});
  }
  for (const ReplicaId replica : gc_participants()) {
    if (replica == config_.id) {
      on_gc_prepare(replica, prepare, out);
    } else {
      send_peer(replica, PeerMessageKind::gc_prepare, encode_frame(prepare), out);
    }
  }
  stats_.tombstone_gc = gc_.stats();
}

void Replica::on_gc_prepare(ReplicaId from, const GcPrepare& message, Output& out) {
  const TombstoneGc::PreparedRecord* previous = gc_.prepared_record(from);
  if (gc_fence_phase() && previous != nullptr && previous->round == message.round) {
    return;  // a duplicate: its fence phase checks the first answer
  }
  GcPrepared answer;
  answer.round = message.round;
  // The keys of the delta log, computed once, for non-replicas. Owned
  // copies: erase_key below moves the log's entries, and views into them
  // would then name other keys (a short key lives inside its entry).
  std::vector<std::string> logged;
  bool logged_known = false;
  for (const GcKeyDigest& entry : message.keys) {
    const KeyState* state = keyspace_.find(entry.key);
    // Membership on: a process holding exactly S prepares whether or not it
    // replicates the key (a stray copy not yet handed off, or an inert one).
    const bool holds_round_state =
        config_.membership.enabled && state != nullptr && gc_digest(entry.key) == entry.digest;
    if (!replicates(config_.id, entry.key) && !holds_round_state) {
      // Not a replica: it prepares by holding nothing of the key (no copy, no
      // deltas to send), so its fence covers every copy it sent before.
      if (!logged_known) {
        const std::vector<std::string_view> keys = delta_log_.keys();
        logged.assign(keys.begin(), keys.end());
        logged_known = true;
      }
      if (state == nullptr && !std::binary_search(logged.begin(), logged.end(), entry.key)) {
        observe_collected(entry.max_time, entry.max_logical, out);
        answer.keys.push_back(entry.key);
      }
      continue;
    }
    if (state == nullptr || gc_collectible(*state) == Collectible::nothing ||
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
  if (gc_fence_phase()) {
    // What the fence phase checks: the view and placement it prepared in.
    gc_.record_prepared(from,
                        TombstoneGc::PreparedRecord{message.round,
                                                    view_digest(),
                                                    placement_epoch_,
                                                    answer.stamp,
                                                    {answer.keys.begin(), answer.keys.end()}});
  }
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
  // The keys every participant has now prepared.
  std::vector<GcKeyDigest> ready;
  for (const std::string& key : message.keys) {
    const std::optional<std::uint64_t> digest = gc_.round_digest(key);
    if (!digest || gc_.fencing(key)) {
      continue;
    }
    const std::vector<ReplicaId>& participants = gc_participants();
    const bool all = std::all_of(participants.begin(), participants.end(), [&](ReplicaId replica) {
      return gc_.prepared_stamp(replica, key).has_value();
    });
    if (!all) {
      continue;
    }
    ready.push_back(GcKeyDigest{key, *digest});
    if (gc_fence_phase()) {
      gc_.start_fencing(key);
    } else {
      gc_.finish_key(key);
    }
  }
  if (ready.empty()) {
    return;
  }
  if (!gc_fence_phase()) {
    gc_send_commit(std::move(ready), out);
    return;
  }
  // Membership on: nobody collects before every process has raised the
  // fences and confirmed that its view did not change since it prepared.
  GcFenceRound fence;
  fence.round = gc_.round();
  fence.view = gc_.round_view();
  for (const ReplicaId replica : gc_participants()) {
    std::uint64_t stamp = 0;
    for (const GcKeyDigest& entry : ready) {
      stamp = std::max(stamp, *gc_.prepared_stamp(replica, entry.key));
    }
    fence.fences.push_back(GcFence{replica, stamp});
  }
  for (const GcKeyDigest& entry : ready) {
    fence.keys.push_back(entry.key);
  }
  for (const ReplicaId replica : gc_participants()) {
    if (replica == config_.id) {
      on_gc_fence(config_.id, fence, out);
    } else {
      send_peer(replica, PeerMessageKind::gc_fence, encode_frame(fence), out);
    }
  }
}

void Replica::on_gc_fence(ReplicaId from, const GcFenceRound& message, Output& out) {
  // Refused unless this process prepared in that round, in the round's view,
  // and neither its view nor the placement of any key changed since (nor did
  // it restart: the record is volatile). Then, while it waited, it held S
  // (merging old content into S changes nothing) or, outside the key's
  // replicas, took no content of the key at all.
  const TombstoneGc::PreparedRecord* record = gc_.prepared_record(from);
  if (record == nullptr || record->round != message.round || record->view != message.view ||
      record->view != view_digest() || record->placement_epoch != placement_epoch_) {
    return;
  }
  const auto own =
      std::find_if(message.fences.begin(), message.fences.end(),
                   [this](const GcFence& fence) { return fence.replica == config_.id; });
  if (own == message.fences.end() || own->stamp < record->stamp) {
    return;  // not fenced at the stamp it prepared with
  }
  for (const GcFence& fence : message.fences) {
    if (fence.replica != config_.id) {
      gc_.raise_fence(fence.replica, fence.stamp);
    }
  }
  GcFenced answer;
  answer.round = message.round;
  for (const std::string& key : message.keys) {
    if (record->keys.contains(key)) {
      answer.keys.push_back(key);
    }
  }
  if (answer.keys.empty()) {
    return;
  }
  if (from == config_.id) {
    on_gc_fenced(config_.id, answer, out);
  } else {
    send_peer(from, PeerMessageKind::gc_fenced, encode_frame(answer), out);
  }
}

void Replica::on_gc_fenced(ReplicaId from, const GcFenced& message, Output& out) {
  if (!gc_.on_fenced(from, message)) {
    return;  // an answer to an earlier round
  }
  std::vector<GcKeyDigest> ready;
  for (const std::string& key : message.keys) {
    const std::optional<std::uint64_t> digest = gc_.round_digest(key);
    if (!digest || !gc_.fencing(key)) {
      continue;
    }
    const std::vector<ReplicaId>& participants = gc_participants();
    const bool all = std::all_of(participants.begin(), participants.end(),
                                 [&](ReplicaId replica) { return gc_.fenced(replica, key); });
    if (all) {
      ready.push_back(GcKeyDigest{key, *digest});
      gc_.finish_key(key);
    }
  }
  if (ready.empty()) {
    return;
  }
  gc_send_commit(std::move(ready), out);
}

void Replica::gc_send_commit(std::vector<GcKeyDigest> keys, Output& out) {
  // The fences each participant prepared with, for these keys.
  absl::btree_map<ReplicaId, std::uint64_t> fences;
  for (const GcKeyDigest& entry : keys) {
    for (const ReplicaId replica : gc_participants()) {
      std::uint64_t& fence = fences[replica];
      fence = std::max(fence, *gc_.prepared_stamp(replica, entry.key));
    }
  }
  // Every member raises the fences, not only the key's replicas: a member
  // that becomes a replica later (a promoted hot key) must refuse old
  // content as well. A non-replica holds nothing to collect.
  GcCommit commit;
  commit.keys = std::move(keys);
  for (const auto& [fenced, stamp] : fences) {
    commit.fences.push_back(GcFence{fenced, stamp});
  }
  for (const ReplicaId replica : gc_participants()) {
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
    if (state != nullptr && gc_collectible(*state) != Collectible::nothing &&
        gc_digest(entry.key) == entry.digest) {
      gc_collect(entry.key, out);
    }
  }
  stats_.tombstone_gc = gc_.stats();
}

void Replica::gc_collect_unstable(Output& out) {
  std::vector<std::string> keys;
  for (const auto& [key, state] : keyspace_) {
    if (gc_collectible(state) != Collectible::nothing) {
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
  const Collectible what = gc_collectible(*state);
  assert(what != Collectible::nothing);
  // Every later write at this key must beat the collected tombstones.
  const LwwTimestamp newest = state->max_timestamp();
  observe_collected(newest.time, newest.logical, out);
  TombstoneGc::Stats& stats = gc_.stats();
  if (what == Collectible::key) {
    stats.keys_collected += 1;
    const bool causal =
        std::any_of(state->slots().begin(), state->slots().end(), [](const auto& slot) {
          return std::holds_alternative<ORSet>(slot.second.value) ||
                 std::holds_alternative<CausalCounter>(slot.second.value);
        });
    if (causal) {
      out.coverage.push_back("gc.causal_key_collected");  // harness/coverage_points.h
    }
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

Collectible Replica::gc_collectible(const KeyState& state) const {
  // With membership changes, strays keep their set and counter copies (a
  // rejoining replica serves at once), so such keys are never collected
  // (docs/tombstone-gc.md, "Left out").
  return collectible(state, !config_.membership.enabled);
}

void Replica::drop_key(const std::string& key, Output& out) {
  // The writer's own dots leave with the state: from now on it issues past
  // them wherever its context holds none of its own (docs/tombstone-gc.md),
  // so a re-created key cannot reuse one. Durable in the same synced batch
  // as the removal; a volatile restart takes a new writer id instead.
  const KeyState* state = keyspace_.find(key);
  assert(state != nullptr);
  const std::uint64_t own = writer_dot_max(*state, writer_id_);
  if (own > gc_dot_floor_) {
    gc_dot_floor_ = own;
    if (config_.durable) {
      Bytes record;
      Encoder encoder(record);
      encoder.varint(gc_dot_floor_);
      out.storage.push_back(StorageWrite{std::string(kGcDotFloorRecord), std::move(record)});
      out.sync = true;
    }
  }
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
