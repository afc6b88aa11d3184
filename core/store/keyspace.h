#pragma once
// Keyspace: the keys a replica holds, and the execution of client commands
// against them. Sans-IO and deterministic: ordered container, time only from
// the Lamport clock passed in.
//
// Command semantics (Redis-flavoured; a key holds one visible type, see
// key_state.h for the type-conflict rule):
//
// Types. Each command names the type it works on. A command on a key that
// exists with another visible type answers WRONGTYPE and changes nothing
// (multi-key writes check every key first and then write all or none). A key
// that does not exist behaves as empty for reads, whatever type it once had.
//
// Creation. A write to a key that does not exist claims its type at a fresh
// timestamp (greater than every claim and LWW write the key holds here), so
// the newest creation wins a concurrent creation with another type. Creating
// also removes what this replica observed of any hidden, losing content of
// the same type (observed-remove, as DEL does), so a re-created key starts
// empty; grow-only types cannot remove, so their hidden content reappears.
//
// Timestamps. Every LWW write on key K is stamped
// LwwTimestamp::from_lamport(clock.observe(K.max_time()), replica): a write
// issued after this replica saw another write always wins over it.
//
// Registers (lww_register):
//   SET k v        -> "OK". LWW write of v.
//   GET k          -> the value (text), nil if missing; on a pn_counter key
//                     the counter's value (integer). read_timestamps: the
//                     register write returned.
//   MSET k v ...   -> "OK". One SET per key (a repeated key: the last value
//                     wins), one delta per distinct key.
//   MGET k ...     -> one optional text per key: a register's value, a
//                     pn_counter's value in decimal, nil for a missing key or
//                     any other type (never WRONGTYPE).
// Registers at the causal level (ExecuteOptions::multi_value_registers;
// mv_register, an MvRegister whose sibling dots are the writes' update dots):
//   SET k v        -> "OK". Supersedes every sibling this replica holds (with
//                     the session token check, everything the session saw);
//                     writes that did not see each other stay as siblings.
//   GET k          -> nil if missing; the value (text) when the siblings hold
//                     one distinct value; else the sorted, distinct values
//                     (list). siblings: the dots of the siblings returned.
//   MSET k v ...   -> "OK". One SET per distinct key (the last value wins).
//   MGET k ...     -> maybe_list as above when no key holds two distinct
//                     values, else sibling_lists (per key its values).
//   DEL            -> observed-remove of the siblings held here (a concurrent
//                     SET survives). No timestamps are listed for these keys.
// Any type:
//   EXISTS k ...   -> integer: how many of the keys exist (repeats count).
//   TYPE k         -> text: value_type_name() of the visible type, or "none".
//   DEL k ...      -> integer: keys deleted (existing ones). Per type:
//                     register: LWW tombstone at a fresh timestamp;
//                     pn_counter: observed-remove reset (a concurrent INCR
//                     survives); or_set: observed-remove clear (a concurrent
//                     SADD survives); lww_map: each live field gets a
//                     tombstone at that field's own timestamp (a tombstone
//                     beats a value on equal timestamps, so exactly the
//                     observed writes go and a concurrent HSET survives).
//                     g_counter, g_set: NOT_SUPPORTED for the whole command
//                     if any key is an existing grow-only key.
// Counters (pn_counter, a CausalCounter):
//   INCR, INCRBY n, DECR, DECRBY n -> integer: the new value. If the value
//                     would leave int64 (or already does, after concurrent
//                     updates), or the replica's accumulated pair would pass
//                     2^64 - 1: OVERFLOW, nothing changed. dots: the new dot.
// Grow-only counter (g_counter):
//   GINCRBY n (n >= 0) -> integer: the new value; OVERFLOW as above when the
//                     value would pass INT64_MAX.
//   GGET k         -> integer value (0 if missing; clamped to INT64_MAX).
// Sets (or_set, add-wins):
//   SADD k m ...   -> integer: members not present before. Every member gets
//                     a fresh dot (a re-add survives a concurrent SREM).
//                     dots: one per member added.
//   SREM k m ...   -> integer: members removed (observed-remove).
//   SMEMBERS k     -> sorted list. SISMEMBER k m -> 0/1. SCARD k -> count.
// Grow-only set (g_set):
//   GSADD k m ...  -> integer: members not present before.
//   GSMEMBERS k    -> sorted list.
// Maps (lww_map):
//   HSET k f v ... -> integer: fields not live before. All fields share one
//                     fresh timestamp; a repeated field: the last value wins.
//   HGET k f       -> text or nil. read_timestamps: that field's write.
//   HDEL k f ...   -> integer: live fields removed, each by a tombstone at
//                     one fresh timestamp.
//   HGETALL k      -> list field, value, ... sorted by field.
//
// Reply metadata. Writes: written = {replica}, executed_by, lamport =
// clock.value() after the command, timestamps = (key, timestamp) of each LWW
// write or type claim (DEL of a map writes at the fields' own timestamps and
// lists none), dots = (key, dot) of each counter update or set add. Reads:
// executed_by, lamport, read_timestamps. Failures: executed_by and lamport.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock/lamport_clock.h"
#include "core/clock/write_clock.h"
#include "core/store/command.h"
#include "core/store/key_index.h"
#include "core/store/key_state.h"
#include "core/types.h"

namespace crdtsim::core {

// The outcome of one command: the reply, and the replication delta of each
// key it changed, in the order the command names the keys (each key once).
struct ExecuteOptions {
  // Version tracking (KeyState::versions): every key a command changes gets
  // the command's update dot in its state and its delta, and the reply lists
  // the versions of every key the command names (ReplyMetadata::versions).
  bool track_versions = false;
  // The causal level (requires track_versions): the session token the
  // command came with. Every key the command changes records it in its
  // state's and its delta's dependencies, and the
  // reply lists the dependencies of every key named.
  const KeyVersions* dependencies = nullptr;
  // The causal level (requires track_versions): register commands work on
  // multi-value registers (mv_register) instead of LWW registers: concurrent
  // writes become siblings (see the header comment).
  bool multi_value_registers = false;
  // Tombstone GC on. Dots: every dot issued in a key whose causal context
  // holds none of the writer's goes past `dot_floor`, the greatest counter of
  // the writer's own dots in any key state it dropped (CausalContext::seed),
  // so a key re-created after collection never reuses a dot. Reply metadata:
  // removed_dots lists the dots of the entries the command removed here
  // (not every dot of a removal's context, which a seed makes as large as
  // the writer's history).
  bool tombstone_gc = false;
  std::uint64_t dot_floor = 0;
  // The caller has validated the command (validate() passed): it is not
  // checked again (asserted in debug builds).
  bool validated = false;
};

struct Execution {
  Reply reply;
  std::vector<std::pair<std::string, KeyState>> deltas;
};

class Keyspace {
 public:
  // Ordered for iteration (by key, bytewise), node-based so that every
  // state keeps its address until its key is erased: the hash index below
  // points into the nodes.
  using Map = std::map<std::string, KeyState, std::less<>>;

  Keyspace() = default;
  // A copy indexes its own nodes (the copied index points into `other`).
  Keyspace(const Keyspace& other);
  Keyspace& operator=(const Keyspace& other);
  // A move keeps the nodes, so the moved index stays valid.
  Keyspace(Keyspace&&) noexcept = default;
  Keyspace& operator=(Keyspace&&) noexcept = default;
  ~Keyspace() = default;

  // Executes `command` at `replica` against every key it names (placement is
  // the caller's business). Requires: `clock` is the replica's own clock.
  // Guarantees: a malformed command gets BAD_REQUEST and changes nothing; a
  // failed command changes nothing; applying the returned deltas to a replica
  // that holds this keyspace's state before the command gives the state after
  // it (the delta law), and the deltas also carry the type claims.
  Execution execute(const Command& command, ReplicaId replica, LamportClock& clock);
  // The same with timestamps from `clock` (see write_clock.h) and `options`.
  // Requires: `clock` is the replica's own, its physical reading set.
  Execution execute(const Command& command, ReplicaId replica, WriteClock& clock,
                    const ExecuteOptions& options);

  // Merges a remote delta or full state of `key`. Guarantees: returns true
  // exactly when the local state changed; an empty delta is ignored.
  bool apply(std::string_view key, const KeyState& delta);
  // The same, returning the key's state when the delta changed it (nullptr
  // otherwise), for callers that go on to read it (persisting): one search
  // instead of two. The pointer is valid until the key is erased.
  const KeyState* apply_changed(std::string_view key, const KeyState& delta);

  // The state of `key`, or nullptr if this keyspace never held one. Valid
  // until the key is erased.
  const KeyState* find(std::string_view key) const;
  // Keys with a state, existing or not (a deleted key keeps its tombstones).
  std::size_t size() const { return keys_.size(); }
  // Ordered by key (bytewise): deterministic iteration.
  Map::const_iterator begin() const { return keys_.begin(); }
  Map::const_iterator end() const { return keys_.end(); }
  // Drops `key`'s state (hand-off to another replica). Returns true if held.
  bool erase(std::string_view key);

  // For tests: the index holds exactly the map's keys, each pointing at its
  // node's state.
  bool index_consistent() const;

  // Equal states by key; the index follows from the map.
  friend bool operator==(const Keyspace& left, const Keyspace& right) {
    return left.keys_ == right.keys_;
  }

 private:
  friend class CommandExecutor;
  KeyState* find_mutable(std::string_view key);
  // `key`'s state, inserted empty if missing.
  KeyState& state_for_write(std::string_view key);
  void build_index();

  Map keys_;
  // Every key of keys_ (viewing the node's own key) to its state: a lookup
  // hashes the key once and compares it about once, where the ordered map
  // compares it at every level. Never iterated: iteration goes through
  // keys_.
  KeyIndex<KeyState> index_;
};

}  // namespace crdtsim::core
