#include "core/replication/tombstone_gc.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>
#include <variant>

#include "core/replication/message_codec.h"
#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

using message_codec::bounded_count;
using message_codec::decode_with;
using message_codec::frame_of;

namespace {

// A slot that holds nothing visible and whose leftovers collection may drop:
// LWW tombstones, an OR-Set or causal counter with no live dot (its causal
// context goes: writers' dot floors keep dots unique, see writer_dot_max),
// an empty grow-only value. A multi-value register (the causal level only,
// which GC refuses) is never dropped: its dots are update dots of the key's
// versions.
bool dead_slot(const KeyValue& value, bool causal_keys) {
  if (std::holds_alternative<MvRegister>(value)) {
    return false;
  }
  // Membership on: a stray keeps its copy of every key but an LWW one, and a
  // dead copy held outside the key's replicas is never collected by a round
  // (the coordinator proposes only what its own state has dead). G-sets and
  // G-counters are kept too, and are dead when empty: an empty copy arises
  // at a replica that got only the empty delta of a GSADD of members it
  // already had, then stopped replicating the key, and the settle phase
  // waited for it forever.
  if (!causal_keys &&
      (std::holds_alternative<ORSet>(value) || std::holds_alternative<CausalCounter>(value) ||
       std::holds_alternative<GSet>(value) || std::holds_alternative<GCounter>(value))) {
    return false;
  }
  return value_empty(value);
}

bool has_map_tombstone(const KeyValue& value) {
  const auto* map = std::get_if<LwwMap>(&value);
  return map != nullptr && map->tombstone_count() > 0;
}

LwwMap live_fields_of(const LwwMap& map) {
  LwwMap live;
  for (const auto& [field, write] : map.entries()) {
    if (!write.tombstone) {
      live.merge(LwwMap().set_field(field, write.value, write.timestamp));
    }
  }
  return live;
}

std::uint64_t context_size(const CausalContext& context) {
  return context.version_vector().size() + context.dot_cloud().size();
}

void encode_keys(Encoder& encoder, const std::vector<GcKeyDigest>& keys) {
  assert(keys.size() <= kGcKeysMax);
  encoder.varint(keys.size());
  for (const GcKeyDigest& entry : keys) {
    encoder.string(entry.key);
    encoder.fixed64(entry.digest);
    encoder.varint(entry.max_time);
    encoder.varint(entry.max_logical);
  }
}

std::vector<GcKeyDigest> decode_keys(Decoder& decoder) {
  std::vector<GcKeyDigest> keys(bounded_count(decoder, 11, kGcKeysMax, "gc key"));
  for (GcKeyDigest& entry : keys) {
    entry.key = decoder.string();
    entry.digest = decoder.fixed64();
    entry.max_time = decoder.varint();
    entry.max_logical = decoder.varint32();
  }
  return keys;
}

}  // namespace

Collectible collectible(const KeyState& state, bool causal_keys) {
  // Version dots and dependencies (sessions, the causal level) are never
  // dropped: GC is refused with them, and a state holding any stays.
  bool all_dead =
      !state.slots().empty() && state.versions().empty() && state.dependencies().empty();
  bool any_map_tombstone = false;
  for (const auto& [type, slot] : state.slots()) {
    all_dead = all_dead && dead_slot(slot.value, causal_keys);
    any_map_tombstone = any_map_tombstone || has_map_tombstone(slot.value);
  }
  if (all_dead) {
    return Collectible::key;
  }
  return any_map_tombstone ? Collectible::fields : Collectible::nothing;
}

KeyState compacted(const KeyState& state) {
  // A copy with only the map slot's tombstones removed: whatever else the
  // state holds (claims, other slots, any section added later) stays as is.
  KeyState result = state;
  if (const LwwMap* map = state.value<LwwMap>()) {
    result.mutable_value<LwwMap>() = live_fields_of(*map);
  }
  assert(collectible(result) != Collectible::fields);
  return result;
}

std::uint64_t writer_dot_max(const KeyState& state, ReplicaId writer) {
  std::uint64_t result = 0;
  for (const auto& [type, slot] : state.slots()) {
    if (const auto* set = std::get_if<ORSet>(&slot.value)) {
      result = std::max(result, set->context().max_counter(writer));
    } else if (const auto* counter = std::get_if<CausalCounter>(&slot.value)) {
      result = std::max(result, counter->context().max_counter(writer));
    } else if (const auto* reg = std::get_if<MvRegister>(&slot.value)) {
      result = std::max(result, reg->context().max_counter(writer));
    }
  }
  return std::max(result, state.versions().max_counter(writer));
}

KeyspaceFootprint& KeyspaceFootprint::operator+=(const KeyspaceFootprint& other) {
  keys += other.keys;
  dead_keys += other.dead_keys;
  register_tombstones += other.register_tombstones;
  map_field_tombstones += other.map_field_tombstones;
  context_entries += other.context_entries;
  bytes += other.bytes;
  live_bytes += other.live_bytes;
  return *this;
}

KeyspaceFootprint measure(const Keyspace& keyspace) {
  KeyspaceFootprint footprint;
  for (const auto& [key, state] : keyspace) {
    footprint.keys += 1;
    const bool exists = state.exists();
    footprint.dead_keys += exists ? 0U : 1U;
    for (const auto& [type, slot] : state.slots()) {
      if (const auto* reg = std::get_if<LwwRegister>(&slot.value)) {
        footprint.register_tombstones += reg->cleared() ? 1U : 0U;
      } else if (const auto* map = std::get_if<LwwMap>(&slot.value)) {
        footprint.map_field_tombstones += map->tombstone_count();
      } else if (const auto* set = std::get_if<ORSet>(&slot.value)) {
        footprint.context_entries += context_size(set->context());
      } else if (const auto* counter = std::get_if<CausalCounter>(&slot.value)) {
        footprint.context_entries += context_size(counter->context());
      }
    }
    footprint.bytes += key.size() + encode(state).size();
    if (exists) {
      footprint.live_bytes += key.size() + encode(compacted(state)).size();
    }
  }
  return footprint;
}

// ---- wire messages ----------------------------------------------------------

Bytes encode_frame(const GcEnvelope& message) {
  return frame_of(PeerMessageKind::gc_envelope, [&](Encoder& encoder) {
    encoder.varint(message.sender_stamp);
    encoder.varint(message.receiver_incarnation);
    encoder.varint(message.inner_frame.size());
    for (const std::uint8_t byte : message.inner_frame) {
      encoder.u8(byte);
    }
  });
}

Bytes encode_frame(const GcPrepare& message) {
  return frame_of(PeerMessageKind::gc_prepare, [&](Encoder& encoder) {
    encoder.varint(message.round);
    encode_keys(encoder, message.keys);
  });
}

Bytes encode_frame(const GcPrepared& message) {
  return frame_of(PeerMessageKind::gc_prepared, [&](Encoder& encoder) {
    assert(message.keys.size() <= kGcKeysMax);
    encoder.varint(message.round);
    encoder.varint(message.stamp);
    encoder.varint(message.keys.size());
    for (const std::string& key : message.keys) {
      encoder.string(key);
    }
  });
}

Bytes encode_frame(const GcCommit& message) {
  return frame_of(PeerMessageKind::gc_commit, [&](Encoder& encoder) {
    assert(message.fences.size() <= kGcFencesMax);
    encoder.varint(message.fences.size());
    for (const GcFence& fence : message.fences) {
      encoder.varint(fence.replica);
      encoder.varint(fence.stamp);
    }
    encode_keys(encoder, message.keys);
  });
}

Bytes encode_frame(const GcFenceRound& message) {
  return frame_of(PeerMessageKind::gc_fence, [&](Encoder& encoder) {
    assert(message.fences.size() <= kGcFencesMax);
    assert(message.keys.size() <= kGcKeysMax);
    encoder.varint(message.round);
    encoder.fixed64(message.view);
    encoder.varint(message.fences.size());
    for (const GcFence& fence : message.fences) {
      encoder.varint(fence.replica);
      encoder.varint(fence.stamp);
    }
    encoder.varint(message.keys.size());
    for (const std::string& key : message.keys) {
      encoder.string(key);
    }
  });
}

Bytes encode_frame(const GcFenced& message) {
  return frame_of(PeerMessageKind::gc_fenced, [&](Encoder& encoder) {
    assert(message.keys.size() <= kGcKeysMax);
    encoder.varint(message.round);
    encoder.varint(message.keys.size());
    for (const std::string& key : message.keys) {
      encoder.string(key);
    }
  });
}

bool decode_payload(ByteView payload, GcEnvelope& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.sender_stamp = decoder.varint();
    message.receiver_incarnation = decoder.varint();
    const std::size_t size = decoder.count(1);
    if (decoder.ok() && size > kPayloadBytesMax + kFrameOverheadBytes) {
      decoder.fail("envelope frame too long");
      return;
    }
    message.inner_frame.resize(size);
    for (std::uint8_t& byte : message.inner_frame) {
      byte = decoder.u8();
    }
  });
}

bool decode_payload(ByteView payload, GcPrepare& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.round = decoder.varint();
    message.keys = decode_keys(decoder);
  });
}

bool decode_payload(ByteView payload, GcPrepared& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.round = decoder.varint();
    message.stamp = decoder.varint();
    message.keys.resize(bounded_count(decoder, 1, kGcKeysMax, "gc key"));
    for (std::string& key : message.keys) {
      key = decoder.string();
    }
  });
}

bool decode_payload(ByteView payload, GcCommit& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.fences.resize(bounded_count(decoder, 2, kGcFencesMax, "gc fence"));
    for (GcFence& fence : message.fences) {
      fence.replica = decoder.varint32();
      fence.stamp = decoder.varint();
    }
    message.keys = decode_keys(decoder);
  });
}

bool decode_payload(ByteView payload, GcFenceRound& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.round = decoder.varint();
    message.view = decoder.fixed64();
    message.fences.resize(bounded_count(decoder, 2, kGcFencesMax, "gc fence"));
    for (GcFence& fence : message.fences) {
      fence.replica = decoder.varint32();
      fence.stamp = decoder.varint();
    }
    message.keys.resize(bounded_count(decoder, 1, kGcKeysMax, "gc key"));
    for (std::string& key : message.keys) {
      key = decoder.string();
    }
  });
}

bool decode_payload(ByteView payload, GcFenced& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.round = decoder.varint();
    message.keys.resize(bounded_count(decoder, 1, kGcKeysMax, "gc key"));
    for (std::string& key : message.keys) {
      key = decoder.string();
    }
  });
}

// ---- per-replica protocol state -------------------------------------------

std::uint32_t TombstoneGc::round_ticks_for(std::uint64_t interval_us, std::uint64_t round_wait_us) {
  if (interval_us == 0) {
    return kRoundTicksFloor;  // GC off (a scenario refuses 0 when it is on)
  }
  const std::uint64_t ticks = round_wait_us / interval_us + (round_wait_us % interval_us != 0);
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
      ticks, kRoundTicksFloor, std::numeric_limits<std::uint32_t>::max()));
}

void TombstoneGc::start(std::uint64_t incarnation, bool rounds_by_incarnation,
                        std::uint32_t round_ticks_floor) {
  assert(incarnation < (std::uint64_t{1} << (64 - kEpochBits)));
  assert(round_ticks_floor >= kRoundTicksFloor);
  incarnation_ = incarnation;
  round_ticks_floor_ = round_ticks_floor;
  round_ticks_max_ = round_ticks_floor;
  epoch_ = 0;
  round_ = rounds_by_incarnation ? incarnation << kEpochBits : 0;
}

std::uint64_t TombstoneGc::advance_epoch() {
  epoch_ += 1;
  assert(epoch_ < (std::uint64_t{1} << kEpochBits));
  return stamp();
}

void TombstoneGc::heard(ReplicaId peer, std::uint64_t sender_stamp) {
  std::uint64_t& known = known_incarnations_[peer];
  known = std::max(known, sender_stamp >> kEpochBits);
}

std::uint64_t TombstoneGc::known_incarnation(ReplicaId peer) const {
  const auto found = known_incarnations_.find(peer);
  return found == known_incarnations_.end() ? 0 : found->second;
}

bool TombstoneGc::admit_content(ReplicaId peer, const GcEnvelope& envelope) {
  if (envelope.receiver_incarnation != incarnation_) {
    stats_.messages_stale += 1;
    return false;
  }
  if (envelope.sender_stamp < fence(peer)) {
    stats_.messages_fenced += 1;
    return false;
  }
  return true;
}

void TombstoneGc::raise_fence(ReplicaId peer, std::uint64_t stamp) {
  std::uint64_t& current = fences_[peer];
  current = std::max(current, stamp);
}

std::uint64_t TombstoneGc::fence(ReplicaId peer) const {
  const auto found = fences_.find(peer);
  return found == fences_.end() ? 0 : found->second;
}

bool TombstoneGc::round_pending() {
  round_ticks_ += 1;
  if (round_keys_.empty()) {
    return false;
  }
  if (round_ticks_ <= round_ticks_max_) {
    return true;
  }
  timed_out_round_ = round_;  // a new round may replace it now
  return false;
}

void TombstoneGc::on_earlier_round_answer(std::uint64_t round) {
  if (round != timed_out_round_) {
    return;  // a duplicate or late answer to a round that completed
  }
  // The answer came after the round was given up: wait longer from now on
  // (once per timed-out round), so that rounds can complete at all when a
  // round trip takes more than the wait.
  timed_out_round_ = 0;
  const std::uint64_t cap = std::max<std::uint64_t>(kRoundTicksCap, round_ticks_floor_);
  round_ticks_max_ =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{round_ticks_max_} * 2, cap));
}

std::uint64_t TombstoneGc::begin_round(absl::btree_map<std::string, std::uint64_t> keys) {
  round_ += 1;
  round_ticks_ = 0;
  round_keys_ = std::move(keys);
  acks_.clear();
  round_view_ = 0;
  fencing_keys_.clear();
  fenced_.clear();
  stats_.rounds += 1;
  return round_;
}

bool TombstoneGc::on_prepared(ReplicaId replica, const GcPrepared& message) {
  if (message.round != round_) {
    on_earlier_round_answer(message.round);
    return false;
  }
  Ack& ack = acks_[replica];
  ack.stamp = std::max(ack.stamp, message.stamp);
  for (const std::string& key : message.keys) {
    if (round_keys_.contains(key)) {
      ack.keys.insert(key);
    }
  }
  return true;
}

std::optional<std::uint64_t> TombstoneGc::round_digest(const std::string& key) const {
  const auto found = round_keys_.find(key);
  if (found == round_keys_.end()) {
    return std::nullopt;
  }
  return found->second;
}

std::optional<std::uint64_t> TombstoneGc::prepared_stamp(ReplicaId replica,
                                                         const std::string& key) const {
  const auto found = acks_.find(replica);
  if (found == acks_.end() || !found->second.keys.contains(key)) {
    return std::nullopt;
  }
  return found->second.stamp;
}

void TombstoneGc::finish_key(const std::string& key) {
  fencing_keys_.erase(key);
  if (round_keys_.erase(key) != 0 && round_keys_.empty()) {
    // The round completed: let a wait that answers to timed-out rounds
    // stretched shrink back by a quarter, so that one latency spike does not
    // keep every later round that loses a message waiting that long.
    round_ticks_max_ = std::max(round_ticks_floor_, round_ticks_max_ - round_ticks_max_ / 4);
  }
}

bool TombstoneGc::on_fenced(ReplicaId replica, const GcFenced& message) {
  if (message.round != round_) {
    on_earlier_round_answer(message.round);
    return false;
  }
  absl::btree_set<std::string>& keys = fenced_[replica];
  for (const std::string& key : message.keys) {
    if (fencing_keys_.contains(key)) {
      keys.insert(key);
    }
  }
  return true;
}

bool TombstoneGc::fenced(ReplicaId replica, const std::string& key) const {
  const auto found = fenced_.find(replica);
  return found != fenced_.end() && found->second.contains(key);
}

void TombstoneGc::record_prepared(ReplicaId coordinator, PreparedRecord record) {
  prepared_records_[coordinator] = std::move(record);
}

const TombstoneGc::PreparedRecord* TombstoneGc::prepared_record(ReplicaId coordinator) const {
  const auto found = prepared_records_.find(coordinator);
  return found == prepared_records_.end() ? nullptr : &found->second;
}

}  // namespace crdtsim::core
