#pragma once
// Tombstone garbage collection: what deletion leaves behind is collected once
// every replica of the key holds it, and never earlier (docs/tombstone-gc.md
// has the long form and the safety argument per fault kind).
//
// What is collected. A key state S is collectible when compacted(S) differs
// from S:
//   - a dead key, whose every slot holds nothing visible (register
//     tombstones, all-tombstone maps, an OR-Set or PN-counter with no live
//     dot and its causal context, an empty grow-only value), goes whole;
//   - in any other key, each LWW map slot loses its field tombstones.
// Dropping a causal context must not let a re-created key reuse a dot: each
// writer id keeps a durable dot floor, the greatest counter of its own dots
// in any state it dropped (writer_dot_max), and issues the first dot of a
// context that holds none of its own past that floor (CausalContext::seed).
//
// When. Stability is established per key by a three-step protocol run by the
// key's first replica (the coordinator), in rounds every interval_us:
//   1. prepare(key, digest(S), newest timestamp of S) to every member (not
//      only the key's replicas). A replica whose own state has the same
//      digest removes the key's entries from its delta log (they are all
//      contained in S, which every replica holds); a member that does not
//      replicate the key must hold nothing of it (no stray copy, no log
//      entry). Either observes S's newest timestamp (durably), advances its
//      GC epoch and answers prepared(stamp) once that is durable.
//   2. When every member answered, commit(key, digest, stamps) to every
//      member.
//   3. A replica receiving commit raises its fence for each replica Q to Q's
//      stamp, and if it still holds exactly S, lets its clock observe S and
//      replaces S by compacted(S).
//
// Why never early. After commit, old content of the key (anything <= S that
// is not S itself: an old delta, an old state) can only come from (a) a delta
// log, (b) a message already in flight, or (c) a state loaded from disk.
// (a): every replica purged its log entries for the key at prepare, and
// anything appended later is new content (it changed S). (b): every peer
// message travels in an envelope carrying the sender's stamp (incarnation,
// epoch) and the receiver's incarnation as the sender knows it; content
// messages (delta batches, anti-entropy states) sent before Q's prepare carry
// a stamp below Q's fence and are dropped, and those sent before a receiver
// restarted carry a stale receiver incarnation and are dropped too (so fences
// need not be durable). (c): prepared is sent only after S is synced, so a
// durable replica restarts with S (harmless: S is not a sub-state of S) or
// with nothing. The clock observation makes every later write at the key
// beat the tombstones that were collected.
//
// With membership changes on, a round goes to every replica process, and a
// fence phase runs between 2 and 3: every process raises the fences and
// confirms (GcFenced) that its view and its placement of the keys did not
// change since it prepared; only then is the commit sent. A ring change
// during a round makes it refuse, so the (a)-(c) argument above holds with
// the roles it prepared in (docs/tombstone-gc.md, "Combinations").

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/bytes.h"
#include "core/store/key_state.h"
#include "core/store/keyspace.h"
#include "core/types.h"

namespace crdtsim::core {

struct TombstoneGcConfig {
  bool enabled = false;
  std::uint64_t interval_us = 100'000;  // between coordinator rounds
};

// What collection would do to a key state.
enum class Collectible : std::uint8_t { nothing = 0, fields = 1, key = 2 };
// Requires nothing. A state with version dots or dependencies (sessions,
// the causal level) is never dropped whole. `causal_keys` false: a dead
// OR-Set or PN-counter slot does not make a key collectible either (with
// membership changes, where strays keep such copies: docs/tombstone-gc.md).
Collectible collectible(const KeyState& state, bool causal_keys = true);
// The greatest counter of `writer`'s dots in any causal context of `state`
// (0 if none): what a replica dropping `state` raises its dot floor to.
std::uint64_t writer_dot_max(const KeyState& state, ReplicaId writer);
// The state that collection leaves (meaningful for Collectible::fields; for
// Collectible::key the key goes entirely).
KeyState compacted(const KeyState& state);

// How much a keyspace holds, for the memory-bounded-under-churn claim.
struct KeyspaceFootprint {
  std::uint64_t keys = 0;                  // keys with a state
  std::uint64_t dead_keys = 0;             // keys held that do not exist
  std::uint64_t register_tombstones = 0;   // register slots holding a deletion
  std::uint64_t map_field_tombstones = 0;  // removed map fields still held
  std::uint64_t context_entries = 0;       // OR-Set and PN-counter version vector + cloud
  std::uint64_t bytes = 0;                 // key bytes + canonical state bytes
  std::uint64_t live_bytes = 0;            // the same for existing keys, compacted

  KeyspaceFootprint& operator+=(const KeyspaceFootprint& other);
  friend bool operator==(const KeyspaceFootprint&, const KeyspaceFootprint&) = default;
};
KeyspaceFootprint measure(const Keyspace& keyspace);

// ---- wire messages ----------------------------------------------------------

// Bounds on one message.
inline constexpr std::size_t kGcKeysMax = 256;
inline constexpr std::size_t kGcFencesMax = 64;

// Wraps every peer message while GC is enabled.
struct GcEnvelope {
  std::uint64_t sender_stamp = 0;          // (incarnation << 40) | epoch
  std::uint64_t receiver_incarnation = 0;  // as the sender knows it
  Bytes inner_frame;                       // a complete frame
};

struct GcKeyDigest {
  std::string key;
  std::uint64_t digest = 0;
  // The greatest (time, logical) of an LWW timestamp S holds: every member
  // observes it when it prepares, so that a later write of the key anywhere
  // (a replica that never held S, such as a hot key's new extra replica)
  // beats what collection removed.
  std::uint64_t max_time = 0;
  std::uint32_t max_logical = 0;

  friend bool operator==(const GcKeyDigest&, const GcKeyDigest&) = default;
};

struct GcPrepare {
  std::uint64_t round = 0;
  std::vector<GcKeyDigest> keys;
};

struct GcPrepared {
  std::uint64_t round = 0;
  std::uint64_t stamp = 0;        // the sender's stamp after preparing
  std::vector<std::string> keys;  // the prepared ones (digest matched)
};

struct GcFence {
  ReplicaId replica = 0;
  std::uint64_t stamp = 0;

  friend bool operator==(const GcFence&, const GcFence&) = default;
};

struct GcCommit {
  std::vector<GcFence> fences;
  std::vector<GcKeyDigest> keys;
};

// Membership on: the fence phase between prepared and commit (coordinator
// to every process). `view` is the digest of the coordinator's membership
// table when the round began; `fences` the stamps every process prepared
// with; `keys` the keys every process prepared.
struct GcFenceRound {
  std::uint64_t round = 0;
  std::uint64_t view = 0;
  std::vector<GcFence> fences;
  std::vector<std::string> keys;
};

// A process's answer to GcFenceRound: it raised the fences, and held the
// round's view from its prepare until now; `keys` those it prepared.
struct GcFenced {
  std::uint64_t round = 0;
  std::vector<std::string> keys;
};

Bytes encode_frame(const GcEnvelope& message);
Bytes encode_frame(const GcPrepare& message);
Bytes encode_frame(const GcPrepared& message);
Bytes encode_frame(const GcCommit& message);
Bytes encode_frame(const GcFenceRound& message);
Bytes encode_frame(const GcFenced& message);
bool decode_payload(ByteView payload, GcEnvelope& message, std::string& error);
bool decode_payload(ByteView payload, GcPrepare& message, std::string& error);
bool decode_payload(ByteView payload, GcPrepared& message, std::string& error);
bool decode_payload(ByteView payload, GcCommit& message, std::string& error);
bool decode_payload(ByteView payload, GcFenceRound& message, std::string& error);
bool decode_payload(ByteView payload, GcFenced& message, std::string& error);

// ---- per-replica protocol state -------------------------------------------

// The stamps, fences and coordinator round of one replica. Pure bookkeeping:
// the replica (replica_gc.cc) applies the decisions to its keyspace, log and
// storage.
class TombstoneGc {
 public:
  static constexpr std::uint64_t kEpochBits = 40;
  // A round waits at least this many GC ticks for its answers before a new
  // round replaces it (a round trip may take longer than one interval).
  // Counted in ticks alone, an interval below an eighth of a round trip
  // replaced every round before its answers came back and nothing was ever
  // collected. So the wait starts at a floor given to start() (at least the
  // store's forward timeout, round_ticks_for), and an answer to a round that
  // timed out proves it shorter than a round trip: the wait doubles, up to
  // kRoundTicksCap (or the floor, if higher), which covers round trips the
  // configuration does not announce (a latency tail). A round that completes
  // takes a quarter off, down to the floor.
  static constexpr std::uint32_t kRoundTicksFloor = 8;
  static constexpr std::uint32_t kRoundTicksCap = kRoundTicksFloor << 10;

  // The floor of a round's wait: kRoundTicksFloor, or more when that many
  // intervals are shorter than `round_wait_us`.
  static std::uint32_t round_ticks_for(std::uint64_t interval_us, std::uint64_t round_wait_us);

  struct Stats {
    std::uint64_t rounds = 0;
    std::uint64_t keys_prepared = 0;
    std::uint64_t keys_collected = 0;    // dropped whole
    std::uint64_t keys_compacted = 0;    // map field tombstones dropped
    std::uint64_t fields_collected = 0;  // map field tombstones dropped
    std::uint64_t messages_fenced = 0;   // content messages dropped by a fence
    std::uint64_t messages_stale = 0;    // content messages for an earlier incarnation
  };

  // Membership on: what a process answered to one coordinator's round, so
  // that the fence phase can tell whether its view (and its placement of
  // the keys) stayed the same since. Volatile: a restart forgets it, and a
  // restarted process then refuses the fence phase of earlier rounds.
  struct PreparedRecord {
    std::uint64_t round = 0;
    std::uint64_t view = 0;             // digest of its membership table
    std::uint64_t placement_epoch = 0;  // Replica's count of placement changes
    std::uint64_t stamp = 0;            // the stamp it prepared with
    absl::btree_set<std::string> keys;  // the keys it prepared
  };

  // Stamps continue from `incarnation` (a restart starts a new incarnation,
  // so stamps grow across restarts without being persisted). With
  // `rounds_by_incarnation` (membership on) round numbers are qualified by
  // the incarnation too, so that a restarted coordinator's rounds never
  // repeat a number its participants recorded.
  // `round_ticks_floor`: how many ticks a coordinator's round waits for its
  // answers at least (round_ticks_for; at least kRoundTicksFloor).
  void start(std::uint64_t incarnation, bool rounds_by_incarnation = false,
             std::uint32_t round_ticks_floor = kRoundTicksFloor);
  std::uint64_t incarnation() const { return incarnation_; }
  std::uint64_t stamp() const { return (incarnation_ << kEpochBits) | epoch_; }
  // A new epoch: every message sent from now on carries a greater stamp.
  std::uint64_t advance_epoch();

  // Learns the peer's incarnation from any envelope it sent.
  void heard(ReplicaId peer, std::uint64_t sender_stamp);
  std::uint64_t known_incarnation(ReplicaId peer) const;

  // Whether a content message (delta batch, anti-entropy states) in
  // `envelope` from `peer` may be applied; counts the ones that may not.
  bool admit_content(ReplicaId peer, const GcEnvelope& envelope);
  void raise_fence(ReplicaId peer, std::uint64_t stamp);
  std::uint64_t fence(ReplicaId peer) const;

  // Coordinator, on each GC tick: whether the current round still has keys
  // waiting for answers and is younger than round_ticks_max() ticks (then no
  // new round starts). Counts the tick.
  bool round_pending();
  // How many ticks a round waits now (the floor, doubled by every answer to
  // a round that had timed out, at most kRoundTicksCap or the floor; a round
  // that completes shrinks it by a quarter, down to the floor).
  std::uint32_t round_ticks_max() const { return round_ticks_max_; }
  // Coordinator: a new round over `keys` (replaces any unfinished one).
  std::uint64_t begin_round(absl::btree_map<std::string, std::uint64_t> keys);
  // Records that `replica` prepared `keys` with `stamp` in `round`. Returns
  // false for an ack of another round.
  bool on_prepared(ReplicaId replica, const GcPrepared& message);
  // The digest of `key` in the current round, if it is in it.
  std::optional<std::uint64_t> round_digest(const std::string& key) const;
  // Whether `replica` prepared `key` in the current round; its stamp.
  std::optional<std::uint64_t> prepared_stamp(ReplicaId replica, const std::string& key) const;
  // Removes `key` from the current round (committed, or given up).
  void finish_key(const std::string& key);

  // Membership on. Coordinator: the digest of its view when the current
  // round began; `key` (every process prepared it) enters the fence phase;
  // records a GcFenced answer (false for another round); whether `replica`
  // answered GcFenced for `key` in the current round.
  std::uint64_t round() const { return round_; }
  void set_round_view(std::uint64_t view) { round_view_ = view; }
  std::uint64_t round_view() const { return round_view_; }
  void start_fencing(const std::string& key) { fencing_keys_.insert(key); }
  bool fencing(const std::string& key) const { return fencing_keys_.contains(key); }
  bool on_fenced(ReplicaId replica, const GcFenced& message);
  bool fenced(ReplicaId replica, const std::string& key) const;
  // Participant: records its answer to `coordinator`'s round (replacing any
  // earlier round's); the record of `coordinator`'s latest round it
  // prepared, if any.
  void record_prepared(ReplicaId coordinator, PreparedRecord record);
  const PreparedRecord* prepared_record(ReplicaId coordinator) const;

  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }

 private:
  struct Ack {
    std::uint64_t stamp = 0;
    absl::btree_set<std::string> keys;
  };

  // An answer (prepared or fenced) to `round`, which is not the current one.
  void on_earlier_round_answer(std::uint64_t round);

  std::uint64_t incarnation_ = 0;
  std::uint64_t epoch_ = 0;
  absl::btree_map<ReplicaId, std::uint64_t> known_incarnations_;
  absl::btree_map<ReplicaId, std::uint64_t> fences_;
  std::uint64_t round_ = 0;
  std::uint32_t round_ticks_ = 0;
  std::uint32_t round_ticks_floor_ = kRoundTicksFloor;
  std::uint32_t round_ticks_max_ = kRoundTicksFloor;
  // The last round that timed out with keys still waiting (0: none; a round
  // that began is never numbered 0).
  std::uint64_t timed_out_round_ = 0;
  absl::btree_map<std::string, std::uint64_t> round_keys_;  // key -> digest
  absl::btree_map<ReplicaId, Ack> acks_;
  // Membership on (the fence phase).
  std::uint64_t round_view_ = 0;
  absl::btree_set<std::string> fencing_keys_;
  absl::btree_map<ReplicaId, absl::btree_set<std::string>> fenced_;
  absl::btree_map<ReplicaId, PreparedRecord> prepared_records_;  // per coordinator
  Stats stats_;
};

}  // namespace crdtsim::core
