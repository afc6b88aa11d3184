// The replica's side of hot keys: counting accesses, deciding promotions and
// demotions, gossiping the decisions, spreading reads, and handing key state
// to new extra replicas and away from replicas that stopped replicating a
// key. The design and its guarantees are in core/replication/hot_keys.h and
// docs/hot-keys.md.

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>

#include "core/codec/hash.h"
#include "core/replica/replica.h"

namespace crdtsim::core {

namespace {

// Which exact state a hand-off carried (the receiver acks it back).
std::uint64_t state_digest(std::string_view key, const KeyState& state) {
  return hash64(encode(state), hash64(key));
}

// Every slot an LWW register or map: a copy that holds no per-writer
// history (timestamps come from the durable clock, never reissued).
bool lww_only(const KeyState& state) {
  return std::all_of(state.slots().begin(), state.slots().end(), [](const auto& item) {
    return std::holds_alternative<LwwRegister>(item.second.value) ||
           std::holds_alternative<LwwMap>(item.second.value);
  });
}

bool single_key_read(CommandKind kind) {
  return !is_write(kind) && kind != CommandKind::mget && kind != CommandKind::exists;
}

void insert_sorted(std::vector<ReplicaId>& ids, ReplicaId id) {
  const auto at = std::lower_bound(ids.begin(), ids.end(), id);
  if (at == ids.end() || *at != id) {
    ids.insert(at, id);
  }
}

}  // namespace

void Replica::note_access(const Command& command) {
  for (const std::string& key : command.keys) {
    hot_counter_.record(key);
  }
}

void Replica::note_served(const Command& command) {
  const bool read = !is_write(command.kind);
  for (const std::string& key : command.keys) {
    if (!replicates(config_.id, key)) {
      // Executed with an older table (a forward): hand it to the replicas.
      strays_[key];
    } else if (read && !placement_.is_base(config_.id, key)) {
      stats_.hot_key_reads_by_extra += 1;
    }
  }
}

void Replica::spread_reads(std::vector<Part>& parts, RandomSource& random) const {
  if (placement_.table().empty()) {
    return;
  }
  for (Part& part : parts) {
    // A part with targets runs elsewhere; a promoted key's read goes to a
    // uniformly chosen serving replica, the others stay as fallbacks.
    if (part.targets.size() < 2 || !single_key_read(part.command.kind) ||
        placement_.table().extra_of(part.command.keys.front()) == 0) {
      continue;
    }
    const std::size_t first = static_cast<std::size_t>(random.next_u64() % part.targets.size());
    std::vector<ReplicaId> rotated(part.targets.begin(), part.targets.end());
    std::rotate(rotated.begin(), rotated.begin() + static_cast<std::ptrdiff_t>(first),
                rotated.end());
    part.targets.assign(rotated.begin(), rotated.end());
  }
}

void Replica::hot_keys_tick(Output& out) {
  if (hot_ticks_since_start_ < std::numeric_limits<std::uint32_t>::max()) {
    hot_ticks_since_start_ += 1;
  }
  decide_hot_keys(out);
  hot_counter_.rotate();
  // Progress towards readiness counts for one decision only.
  for (auto it = handoff_progress_.begin(); it != handoff_progress_.end();) {
    const HotKeyEntry* entry = placement_.table().find(it->first);
    it = entry == nullptr || entry->stamp != it->second.stamp ? handoff_progress_.erase(it)
                                                              : std::next(it);
  }
  push_handoffs(out);
  hot_ticks_ += 1;
  // To every member: the entries that changed since the last tick, and once
  // per window the whole table (small, bounded), so a lost copy is replaced.
  HotKeysTableMessage message;
  if (hot_ticks_ % config_.hot_keys.sub_windows == 0) {
    for (const auto& [key, entry] : placement_.table()) {
      message.entries.emplace_back(key, entry);
    }
  } else {
    for (const std::string& key : hot_changed_) {
      message.entries.emplace_back(key, *placement_.table().find(key));
    }
  }
  hot_changed_.clear();
  if (message.entries.empty()) {
    return;
  }
  const Bytes frame = encode_frame(message);
  for (const ReplicaId peer : others()) {
    send_peer(peer, PeerMessageKind::hot_keys_table, frame, out);
  }
}

HotKeyEntry Replica::fresh_decision(const std::string& key, std::uint32_t extra, Output& out) {
  const HotKeyEntry* current = placement_.table().find(key);
  // Greater than the decision it replaces, and than any this replica made.
  const std::uint64_t time = clock_.observe(current == nullptr ? 0 : current->stamp.time);
  persist_clock(out);
  HotKeyEntry entry;
  entry.stamp = LwwTimestamp::from_lamport(time, writer_id_);
  entry.extra = extra;
  assert(current == nullptr || current->stamp < entry.stamp);
  return entry;
}

void Replica::decide_hot_keys(Output& out) {
  const HotKeysConfig& hot = config_.hot_keys;
  for (const SlidingHeavyHitters::Reported& reported : hot_counter_.above(hot.promote_threshold)) {
    const HotKeyEntry* current = placement_.table().find(reported.key);
    if (current != nullptr && current->extra > 0) {
      continue;
    }
    if (current == nullptr && placement_.table().size() >= hot.table_max) {
      stats_.hot_key_promotions_refused += 1;
      continue;
    }
    merge_decision(reported.key, fresh_decision(reported.key, hot.extra_replicas, out));
    cool_ticks_.erase(reported.key);
    stats_.hot_key_promotions += 1;
    out.coverage.push_back("hot_key.promoted");
  }
  // Demotion: only the replica that made the promotion decides it (one
  // voice per key, so replicas seeing different shares of the traffic do
  // not flap it), after cool_ticks quiet ticks in a row.
  std::vector<std::string> cooled;
  for (const auto& [key, entry] : placement_.table()) {
    if (entry.extra == 0 || entry.stamp.replica != writer_id_ ||
        hot_counter_.estimate(key) >= hot.demote_threshold) {
      cool_ticks_.erase(key);
      continue;
    }
    std::uint32_t& ticks = cool_ticks_[key];
    ticks += 1;
    if (ticks >= hot.cool_ticks) {
      cooled.push_back(key);
    }
  }
  for (const std::string& key : cooled) {
    merge_decision(key, fresh_decision(key, 0, out));
    cool_ticks_.erase(key);
    stats_.hot_key_demotions += 1;
    out.coverage.push_back("hot_key.demoted");
  }
  assert(cool_ticks_.size() <= placement_.table().size());
}

bool Replica::merge_decision(const std::string& key, const HotKeyEntry& entry) {
  const ReplicaList before = placement_.replicas_of(key);
  if (!placement_.table().merge(key, entry)) {
    return false;
  }
  hot_changed_.insert(key);
  const ReplicaList after = placement_.replicas_of(key);
  if (before == after) {
    return true;  // readiness only
  }
  placement_epoch_ += 1;
  // The key's Merkle leaves move to the trees of its new peers: drop it from
  // every tree it may be in, and let the refresh put it where it belongs now.
  for (const ReplicaId peer : placement_.widest_of(key)) {
    if (peer != config_.id) {
      anti_entropy_.tree(peer).erase(key);
    }
  }
  mark_dirty(key);
  const bool was_replica = std::find(before.begin(), before.end(), config_.id) != before.end();
  if (!was_replica && placement_.is_replica(config_.id, key)) {
    forget_stray(key);  // its replica again: acknowledgements so far are stale
  }
  if (was_replica && !placement_.is_replica(config_.id, key) && keyspace_.find(key) != nullptr) {
    if (config_.planted_bug == PlantedBug::hot_key_demotion_drops_state) {
      delta_log_.forget_key(key);  // and, below, never handed off
    } else {
      strays_[key];
    }
  }
  return true;
}

void Replica::push_handoffs(Output& out) {
  std::map<ReplicaId, HotKeyHandoff> batches;
  push_promotion_states(batches);
  push_stray_states(batches, out);
  for (const auto& [peer, batch] : batches) {
    send_peer(peer, PeerMessageKind::hot_key_handoff, encode_frame(batch), out);
  }
}

void Replica::push_promotion_states(std::map<ReplicaId, HotKeyHandoff>& batches) const {
  // A base replica pushes its state of each promoted key to the extra
  // replicas not yet ready, every tick until they are.
  for (const auto& [key, entry] : placement_.table()) {
    if (entry.extra == 0 || !placement_.is_base(config_.id, key)) {
      continue;
    }
    const ReplicaList replicas = placement_.replicas_of(key);
    const KeyState* state = keyspace_.find(key);
    for (std::size_t index = placement_.factor(); index < replicas.size(); ++index) {
      HotKeyHandoff& batch = batches[replicas[index]];
      if (entry.is_ready(replicas[index]) || batch.items.size() == kHandoffStatesMax) {
        continue;  // ready; or the rest goes next tick
      }
      batch.items.push_back(HotKeyHandoff::Item{key, entry, state != nullptr,
                                                state != nullptr ? *state : KeyState{}});
    }
  }
}

void Replica::push_stray_states(std::map<ReplicaId, HotKeyHandoff>& batches, Output& out) {
  // A replica holding a key it does not replicate pushes its state to each
  // of the key's replicas until each has acknowledged exactly that state.
  // With tombstone GC on it then drops its copy: the replicas hold all of
  // it, and a copy kept outside the key's replicas would block collection
  // of the key forever (every member must hold nothing of a key, or exactly
  // what its replicas hold, before it is collected). With membership on as
  // well, only a copy without writer history goes (see below).
  for (auto it = strays_.begin(); it != strays_.end();) {
    const std::string& key = it->first;
    const KeyState* state = keyspace_.find(key);
    if (state == nullptr || replicates(config_.id, key) ||
        config_.planted_bug == PlantedBug::hot_key_demotion_drops_state) {
      it = strays_.erase(it);
      continue;
    }
    const std::uint64_t digest = state_digest(key, *state);
    const HotKeyEntry* entry = placement_.table().find(key);
    const ReplicaList replicas = placement_.replicas_of(key);
    // A view without members has nobody to hand the key to: keep trying.
    bool handed_off = !replicas.empty();
    for (const ReplicaId replica : replicas) {
      const auto acked = it->second.find(replica);
      if (acked != it->second.end() && acked->second == digest) {
        continue;
      }
      handed_off = false;
      HotKeyHandoff& batch = batches[replica];
      if (batch.items.size() < kHandoffStatesMax) {
        batch.items.push_back(
            HotKeyHandoff::Item{key, entry != nullptr ? *entry : HotKeyEntry{}, true, *state});
      }
    }
    // With GC on (membership off) a copy with per-writer history (sets,
    // counters) goes only once this replica knows a decision for the key,
    // or after two windows (every member sends its whole table once per
    // window). A restarted replica's table starts empty: it took keys it was
    // still a ready extra of for strays, dropped them, then (in the
    // decision's ready set) served them again from nothing, and its next
    // write restarted its history, losing or doubling its earlier
    // increments. A deferred copy stays a stray, reconsidered every tick.
    const bool history_free = lww_only(*state);
    if (handed_off && gc_enabled() && !config_.membership.enabled && !history_free &&
        entry == nullptr && hot_ticks_since_start_ < 2 * config_.hot_keys.sub_windows) {
      ++it;
      continue;
    }
    if (handed_off) {
      stats_.hot_key_strays_handed_off += 1;
      if (config_.membership.enabled) {
        stats_.membership_keys_handed_off += 1;
        out.coverage.push_back("membership.key_handed_off");
      }
      // With membership on, only a copy without a per-writer history goes
      // (LWW slots only): a counter or set copy keeps its writer's entries
      // and dots for the day this replica writes the key again
      // (docs/membership.md, "Why strays keep their copy").
      if (gc_enabled() && (!config_.membership.enabled || history_free)) {
        drop_key(key, out);
      }
      it = strays_.erase(it);
    } else {
      ++it;
    }
  }
}

void Replica::forget_stray(const std::string& key) {
  // An acknowledgement says that the acknowledging replica held exactly this
  // state when it replicated the key, in the view the hand-off was made in.
  // Once this replica replicates the key again, those replicas may hand
  // their copies back to it and drop them (an LWW copy with GC on), so an
  // acknowledgement from before then proves nothing about a later stray
  // episode: each episode starts with none. Without this, a replica that
  // left, rejoined and left again before its next membership tick found its
  // old acknowledgement and dropped its copy, while the replica it had once
  // handed the key to, which had handed it back, dropped its own copy on
  // this replica's acknowledgement (store bug 16).
  strays_.erase(key);
}

void Replica::on_hot_keys_table(const HotKeysTableMessage& message) {
  for (const auto& [key, entry] : message.entries) {
    merge_decision(key, entry);
  }
}

void Replica::on_hot_key_handoff(ReplicaId from, const HotKeyHandoff& message, Output& out) {
  HotKeyHandoffAck ack;
  for (const HotKeyHandoff::Item& item : message.items) {
    if (item.entry.stamp != LwwTimestamp{}) {
      merge_decision(item.key, item.entry);
    }
    if (!replicates(config_.id, item.key)) {
      continue;  // not ours by our table: the sender retries once tables agree
    }
    if (item.has_state && !item.state.empty() && keyspace_.apply(item.key, item.state)) {
      stats_.hot_key_handoffs_merged += 1;
      persist_key(item.key, mark_dirty(item.key), out);
    }
    ack.items.push_back(
        HotKeyHandoffAck::Item{item.key, item.has_state ? state_digest(item.key, item.state) : 0});
    if (placement_.is_base(from, item.key) && item.entry.stamp != LwwTimestamp{}) {
      note_handoff_from(from, item.key, item.entry.stamp);
    }
  }
  if (!ack.items.empty()) {
    out.sync = out.sync || config_.durable;  // the ack vouches for a durable copy
    send_peer(from, PeerMessageKind::hot_key_handoff_ack, encode_frame(ack), out);
  }
}

void Replica::note_handoff_from(ReplicaId from, const std::string& key, const LwwTimestamp& stamp) {
  const HotKeyEntry* entry = placement_.table().find(key);
  if (entry == nullptr || entry->extra == 0 || entry->stamp != stamp ||
      placement_.is_base(config_.id, key) || entry->is_ready(config_.id)) {
    return;
  }
  HandoffProgress& progress = handoff_progress_[key];
  if (progress.stamp != stamp) {
    progress = HandoffProgress{stamp, {}};
  }
  insert_sorted(progress.from, from);
  const ReplicaList base = placement_.base_of(key);
  const bool all = std::all_of(base.begin(), base.end(), [&progress](ReplicaId replica) {
    return std::binary_search(progress.from.begin(), progress.from.end(), replica);
  });
  if (!all) {
    return;
  }
  // Holds every base replica's state as of the decision: serve the key.
  HotKeyEntry ready = *entry;
  insert_sorted(ready.ready, config_.id);
  merge_decision(key, ready);
  handoff_progress_.erase(key);
  stats_.hot_key_became_ready += 1;
  assert(placement_.table().find(key)->is_ready(config_.id));
}

void Replica::on_hot_key_handoff_ack(ReplicaId from, const HotKeyHandoffAck& message) {
  for (const HotKeyHandoffAck::Item& item : message.items) {
    const auto found = strays_.find(item.key);
    if (found != strays_.end()) {
      found->second[from] = item.digest;
    }
  }
}

}  // namespace crdtsim::core
