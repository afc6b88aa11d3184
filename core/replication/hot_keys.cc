#include "core/replication/hot_keys.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/replication/hash_ring.h"
#include "core/replication/message_codec.h"
#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

using message_codec::bounded_count;
using message_codec::decode_with;
using message_codec::frame_of;

// ---- the decision lattice ----------------------------------------------------------

bool HotKeyEntry::merge(const HotKeyEntry& other) {
  if (other.stamp < stamp) {
    return false;
  }
  if (stamp < other.stamp) {
    *this = other;
    return true;
  }
  // One stamp is one decision, so `extra` agrees; the ready sets union.
  assert(extra == other.extra);
  std::vector<ReplicaId> joined;
  std::set_union(ready.begin(), ready.end(), other.ready.begin(), other.ready.end(),
                 std::back_inserter(joined));
  if (joined.size() == ready.size()) {
    return false;
  }
  ready = std::move(joined);
  return true;
}

bool HotKeyEntry::is_ready(ReplicaId replica) const {
  return std::binary_search(ready.begin(), ready.end(), replica);
}

const HotKeyEntry* HotKeyTable::find(std::string_view key) const {
  const auto found = entries_.find(key);
  return found == entries_.end() ? nullptr : &found->second;
}

std::uint32_t HotKeyTable::extra_of(std::string_view key) const {
  const HotKeyEntry* entry = find(key);
  return entry == nullptr ? 0 : entry->extra;
}

bool HotKeyTable::merge(const std::string& key, const HotKeyEntry& entry) {
  assert(entry.extra <= HotKeyEntry::kExtraMax);
  const auto found = entries_.find(key);
  if (found != entries_.end()) {
    return found->second.merge(entry);
  }
  if (entries_.size() >= kEntriesMax) {
    refused_ += 1;
    return false;
  }
  entries_.emplace(key, entry);
  assert(entries_.size() <= kEntriesMax);
  return true;
}

// ---- placement -----------------------------------------------------------------------

KeyPlacement::KeyPlacement(const HashRing& ring, std::uint32_t factor, std::uint32_t extra_max)
    : base_(ring, factor), extra_max_(extra_max) {
  assert(extra_max <= HotKeyEntry::kExtraMax);
  if (extra_max > 0) {
    widest_ = HashRing::Placement(ring, factor + extra_max);
  }
}

ReplicaList KeyPlacement::widest_of(std::string_view key) const {
  return extra_max_ == 0 ? base_.replicas_of(key) : widest_.replicas_of(key);
}

ReplicaList KeyPlacement::replicas_of(std::string_view key) const {
  return replicas_of(key, HashRing::key_token(key));
}

ReplicaList KeyPlacement::replicas_of(std::string_view key, std::uint64_t token) const {
  assert(token == HashRing::key_token(key));
  const std::uint32_t extra = table_.empty() ? 0 : table_.extra_of(key);
  if (extra == 0 || extra_max_ == 0) {
    return base_.replicas_of_token(token);
  }
  const ReplicaList widest = widest_.replicas_of_token(token);
  const std::size_t count = std::min<std::size_t>(
      widest.size(), base_.factor() + std::min<std::uint32_t>(extra, extra_max_));
  return ReplicaList(widest.begin(), widest.begin() + count);
}

bool KeyPlacement::is_replica(ReplicaId replica, std::string_view key) const {
  if (table_.empty()) {
    return base_.is_replica(replica, key);
  }
  const ReplicaList list = replicas_of(key);
  return std::find(list.begin(), list.end(), replica) != list.end();
}

ReplicaList KeyPlacement::serving_of(std::string_view key) const {
  const HotKeyEntry* entry = table_.empty() ? nullptr : table_.find(key);
  if (entry == nullptr || entry->extra == 0) {
    return base_.replicas_of(key);
  }
  const ReplicaList list = replicas_of(key);
  ReplicaList serving;
  for (std::size_t index = 0; index < list.size(); ++index) {
    if (index < base_.factor() || entry->is_ready(list[index])) {
      serving.push_back(list[index]);
    }
  }
  return serving;
}

// ---- messages ------------------------------------------------------------------------

namespace {

void encode_entry(Encoder& encoder, const HotKeyEntry& entry) {
  entry.stamp.encode_body(encoder);
  encoder.varint(entry.extra);
  encoder.varint(entry.ready.size());
  for (const ReplicaId replica : entry.ready) {
    encoder.varint(replica);
  }
}

HotKeyEntry decode_entry(Decoder& decoder) {
  HotKeyEntry entry;
  entry.stamp = LwwTimestamp::decode_body(decoder);
  entry.extra = decoder.varint32();
  if (decoder.ok() && entry.extra > HotKeyEntry::kExtraMax) {
    decoder.fail("extra replicas " + std::to_string(entry.extra) + " exceed " +
                 std::to_string(HotKeyEntry::kExtraMax));
  }
  // Not bounded by `extra`: with membership changes the decision outlives
  // the ring, so replicas that became ready as the key's extras under
  // earlier views stay in the set next to the current ones (the merge
  // unions them). Refusing such an entry refused the whole table or
  // hand-off carrying it, at every receiver, for good: tables never agreed
  // and strays were never acknowledged. The ids are distinct processes.
  const std::size_t ready = decoder.count(1);
  if (decoder.ok() && ready > HashRing::kMembersMax) {
    decoder.fail("more ready replicas than processes");
  }
  for (std::size_t index = 0; decoder.ok() && index < ready; ++index) {
    const ReplicaId replica = decoder.varint32();
    if (!entry.ready.empty() && replica <= entry.ready.back()) {
      decoder.fail("ready replicas not sorted and distinct");
    }
    entry.ready.push_back(replica);
  }
  return entry;
}

}  // namespace

Bytes encode_frame(const HotKeysTableMessage& message) {
  assert(message.entries.size() <= HotKeyTable::kEntriesMax);
  return frame_of(PeerMessageKind::hot_keys_table, [&](Encoder& encoder) {
    encoder.varint(message.entries.size());
    for (const auto& [key, entry] : message.entries) {
      encoder.string(key);
      encode_entry(encoder, entry);
    }
  });
}

Bytes encode_frame(const HotKeyHandoff& message) {
  assert(message.items.size() <= kHandoffStatesMax);
  return frame_of(PeerMessageKind::hot_key_handoff, [&](Encoder& encoder) {
    encoder.varint(message.items.size());
    for (const HotKeyHandoff::Item& item : message.items) {
      encoder.string(item.key);
      encode_entry(encoder, item.entry);
      encoder.u8(item.has_state ? 1 : 0);
      if (item.has_state) {
        item.state.encode_body(encoder);
      }
    }
  });
}

Bytes encode_frame(const HotKeyHandoffAck& message) {
  assert(message.items.size() <= kHandoffStatesMax);
  return frame_of(PeerMessageKind::hot_key_handoff_ack, [&](Encoder& encoder) {
    encoder.varint(message.items.size());
    for (const HotKeyHandoffAck::Item& item : message.items) {
      encoder.string(item.key);
      encoder.fixed64(item.digest);
    }
  });
}

bool decode_payload(ByteView payload, HotKeysTableMessage& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t count = bounded_count(decoder, 1, HotKeyTable::kEntriesMax, "hot key entry");
    for (std::size_t index = 0; decoder.ok() && index < count; ++index) {
      std::string key = decoder.string();
      HotKeyEntry entry = decode_entry(decoder);
      message.entries.emplace_back(std::move(key), std::move(entry));
    }
  });
}

bool decode_payload(ByteView payload, HotKeyHandoff& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t count = bounded_count(decoder, 1, kHandoffStatesMax, "hand-off state");
    for (std::size_t index = 0; decoder.ok() && index < count; ++index) {
      HotKeyHandoff::Item item;
      item.key = decoder.string();
      item.entry = decode_entry(decoder);
      const std::uint8_t has_state = decoder.u8();
      if (decoder.ok() && has_state > 1) {
        decoder.fail("has_state flag " + std::to_string(has_state) + " is not 0 or 1");
      }
      item.has_state = has_state == 1;
      if (item.has_state) {
        item.state = KeyState::decode_body(decoder);
      }
      message.items.push_back(std::move(item));
    }
  });
}

bool decode_payload(ByteView payload, HotKeyHandoffAck& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t count = bounded_count(decoder, 1, kHandoffStatesMax, "hand-off ack");
    for (std::size_t index = 0; decoder.ok() && index < count; ++index) {
      HotKeyHandoffAck::Item item;
      item.key = decoder.string();
      item.digest = decoder.fixed64();
      message.items.push_back(std::move(item));
    }
  });
}

}  // namespace crdtsim::core
