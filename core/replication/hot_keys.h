#pragma once
// Hot keys: adaptive replication of frequently accessed keys (ADR-004's "hot
// key detection"; Anna raises a hot key's replication the same way). The long
// form, with the reasoning behind each rule, is docs/hot-keys.md.
//
// Detection. Each replica counts the keys of the client requests it
// coordinates in a SlidingHeavyHitters (window_us, in sub_windows steps).
// Every step (the hot-keys tick) it decides:
// - promote: a key whose estimate reaches promote_threshold and whose
//   decision is "not promoted" gets extra_replicas more replicas;
// - demote: a key this replica promoted (its writer id is in the decision's
//   stamp) whose estimate stays below demote_threshold for cool_ticks
//   consecutive ticks goes back to the base factor (hysteresis: between the
//   thresholds nothing changes, and one quiet step is not enough).
//
// Decisions are replicated state: a HotKeyTable maps each key to a
// HotKeyEntry, a lattice (the greater stamp wins; equal stamps join their
// `ready` sets). Every tick a replica sends every member the entries that
// changed since the last tick, and once per window the whole table, so every
// replica routes alike once the tables have converged.
//
// Placement. A key's replicas are the first factor + extra entries of the
// ring's preference list (KeyPlacement). The first `factor` are its base
// replicas; the others are its extra replicas.
// - Promotion: each base replica pushes its full state of the key to every
//   extra replica not yet ready (hot_key_handoff, every tick until the extra
//   shows up in `ready`). An extra replica that has merged the state of every
//   base replica (for the current decision) adds itself to `ready`. Only base
//   replicas and ready extras serve the key (execute its commands); reads of
//   a promoted key are spread uniformly over them by the coordinator.
// - Demotion: a replica left holding a key it no longer replicates (a
//   "stray": a demoted extra, or a target of a forward sent with an older
//   table) pushes its state to each of the key's replicas until each has
//   acknowledged exactly that state (hot_key_handoff_ack carries the digest
//   received, sent after the receiver's durable sync). So no acknowledged
//   write depends on the stray's copy once it is handed off. The stray keeps
//   its (now inert) copy.
//
// Bounds: table_max keys may be proposed by one replica (a full table
// refuses promotions, counted); a table or message holds at most
// kEntriesMax entries (merges beyond it are refused and counted); one
// hand-off message carries at most kHandoffStatesMax states; a key gets at
// most kExtraMax extra replicas.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/replication/hash_ring.h"
#include "core/replication/replica_list.h"
#include "core/store/key_state.h"
#include "core/types.h"

namespace crdtsim::core {

struct HotKeysConfig {
  bool enabled = false;
  std::uint64_t window_us = 1'000'000;   // the sliding window's length
  std::uint32_t sub_windows = 4;         // a tick every window_us / sub_windows
  std::uint32_t capacity = 32;           // keys monitored per sub-window
  std::uint64_t promote_threshold = 64;  // accesses per window, at one coordinator
  std::uint64_t demote_threshold = 16;   // below it the key cools
  std::uint32_t cool_ticks = 4;          // consecutive cool ticks before demotion
  std::uint32_t extra_replicas = 2;
  std::uint32_t table_max = 64;  // keys one replica's table may hold before promoting

  std::uint64_t tick_us() const { return window_us / sub_windows; }
  friend bool operator==(const HotKeysConfig&, const HotKeysConfig&) = default;
};

// One key's replication decision.
struct HotKeyEntry {
  static constexpr std::uint32_t kExtraMax = 16;

  LwwTimestamp stamp;            // the decision's (Lamport time, writer id)
  std::uint32_t extra = 0;       // replicas beyond the factor; 0: demoted
  std::vector<ReplicaId> ready;  // sorted, distinct: extras that serve the key

  // Joins `other` into this entry; returns whether it changed.
  bool merge(const HotKeyEntry& other);
  bool is_ready(ReplicaId replica) const;
  friend bool operator==(const HotKeyEntry&, const HotKeyEntry&) = default;
};

class HotKeyTable {
 public:
  static constexpr std::size_t kEntriesMax = 1024;

  const HotKeyEntry* find(std::string_view key) const;
  std::uint32_t extra_of(std::string_view key) const;
  // Joins one entry; returns whether the table changed. Refuses (returns
  // false, counts) a new key when the table holds kEntriesMax keys.
  bool merge(const std::string& key, const HotKeyEntry& entry);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::uint64_t refused() const { return refused_; }
  using Map = std::map<std::string, HotKeyEntry, std::less<>>;
  Map::const_iterator begin() const { return entries_.begin(); }
  Map::const_iterator end() const { return entries_.end(); }

 private:
  Map entries_;
  std::uint64_t refused_ = 0;
};

// A key's replica list: the ring's preference list for factor + extra(key),
// where extra comes from the table. Same interface as HashRing::Placement,
// which it replaces in the replica.
class KeyPlacement {
 public:
  KeyPlacement() = default;
  // Requires extra_max <= HotKeyEntry::kExtraMax.
  KeyPlacement(const HashRing& ring, std::uint32_t factor, std::uint32_t extra_max);

  ReplicaList replicas_of(std::string_view key) const;
  // The same, given the key's token (HashRing::key_token(key), asserted).
  ReplicaList replicas_of(std::string_view key, std::uint64_t token) const;
  bool is_replica(ReplicaId replica, std::string_view key) const;
  // The first `factor` replicas: the key's replicas when not promoted.
  ReplicaList base_of(std::string_view key) const { return base_.replicas_of(key); }
  bool is_base(ReplicaId replica, std::string_view key) const {
    return base_.is_replica(replica, key);
  }
  // Every replica the key may ever have (factor + extra_max).
  ReplicaList widest_of(std::string_view key) const;
  // Base replicas and ready extras: the replicas that execute the key's
  // commands, in preference order.
  ReplicaList serving_of(std::string_view key) const;
  std::size_t factor() const { return base_.factor(); }

  HotKeyTable& table() { return table_; }
  const HotKeyTable& table() const { return table_; }

 private:
  HashRing::Placement base_;
  HashRing::Placement widest_;  // only when extra_max > 0
  std::uint32_t extra_max_ = 0;
  HotKeyTable table_;
};

// ---- messages (kinds hot_keys_table, hot_key_handoff, hot_key_handoff_ack)

inline constexpr std::size_t kHandoffStatesMax = 64;

struct HotKeysTableMessage {
  std::vector<std::pair<std::string, HotKeyEntry>> entries;
};

// "Merge the decision and the state of these keys." `has_state` false: the
// sender holds nothing for the key (it still counts as handed off).
struct HotKeyHandoff {
  struct Item {
    std::string key;
    HotKeyEntry entry;
    bool has_state = false;
    KeyState state;
  };
  std::vector<Item> items;
};

// "I hold (at least) the state whose digest is this."
struct HotKeyHandoffAck {
  struct Item {
    std::string key;
    std::uint64_t digest = 0;
  };
  std::vector<Item> items;
};

Bytes encode_frame(const HotKeysTableMessage& message);
Bytes encode_frame(const HotKeyHandoff& message);
Bytes encode_frame(const HotKeyHandoffAck& message);
bool decode_payload(ByteView payload, HotKeysTableMessage& message, std::string& error);
bool decode_payload(ByteView payload, HotKeyHandoff& message, std::string& error);
bool decode_payload(ByteView payload, HotKeyHandoffAck& message, std::string& error);

}  // namespace crdtsim::core
