#pragma once
// Replica: one node of the replicated store, as a sans-IO state machine.
//
// A replica never reads a clock, a socket, a file or a random source. Each
// input (a client request, a peer message, a timer) arrives with the local
// time reading and a random source; each call returns an Output: durable
// writes, messages (complete wire frames) to peers and clients, and timers to
// arm. The caller (the simulator adapter, or later a real network adapter)
// must make the Output's storage writes durable, syncing them if `sync` is
// set, BEFORE it sends any of the Output's messages: that is how a reply
// acknowledges only writes that are on disk.
//
// What a replica does (docs/store.md has the long form):
// - executes commands on keys it replicates (per the consistent-hash ring);
//   forwards the rest to a replica of the key and relays the answer;
// - pushes joined deltas to the other replicas of each key every
//   gossip_interval_us (DeltaLog), acknowledging what it receives;
// - every anti_entropy_interval_us compares a per-peer Merkle tree with a
//   random peer and exchanges the states of keys that differ (AntiEntropy);
// - with durability on, keeps every key's state in durable storage and
//   reloads it on restart.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/lamport_clock.h"
#include "core/clock/write_clock.h"
#include "core/codec/bytes.h"
#include "core/replica/recent_requests.h"
#include "core/replication/anti_entropy.h"
#include "core/replication/delta_log.h"
#include "core/replication/hash_ring.h"
#include "core/replication/heavy_hitters.h"
#include "core/replication/hot_keys.h"
#include "core/replication/membership.h"
#include "core/replication/peer_messages.h"
#include "core/replication/tombstone_gc.h"
#include "core/store/command.h"
#include "core/store/key_index.h"
#include "core/store/keyspace.h"
#include "core/types.h"

namespace crdtsim::core {

using ClientId = std::uint64_t;

// Randomness, drawn from a generator the caller owns (the simulator forks
// one stream per process).
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual std::uint64_t next_u64() = 0;
};

// Deliberate defects, compiled in and off by default. Tests and checkers
// enable one to prove that they catch it (a check that cannot fail is a
// defect of its own). Never enable one outside such a test.
enum class PlantedBug : std::uint8_t {
  none = 0,
  ae_skip_last_subtree = 1,          // anti-entropy never repairs the last key range
  gossip_forget_unacked = 2,         // gossip treats a sent batch as acknowledged
  ack_before_write = 3,              // durable writes are deferred past the reply
  counter_double_apply = 4,          // a duplicated counter delta is applied again, additively
  or_set_remove_unobserved = 5,      // a received remove drops every dot of the element
  session_ignore_token = 6,          // a replica behind a session token answers a read anyway
  causal_forget_dependencies = 7,    // causal level: writes record no causal past
  causal_apply_out_of_order = 8,     // causal level: deltas applied before their past
  hot_key_demotion_drops_state = 9,  // a demoted replica drops the key's unsent deltas, no hand-off
  gc_before_stable = 10,             // tombstone GC collects what this replica alone holds
  mv_register_drop_siblings = 11,    // causal level: a merge keeps one sibling (LWW-like)
  membership_drop_without_handoff = 12,  // a ring change drops keys no longer owned, no hand-off
  mget_no_snapshot = 13,     // causal level: an MGET answers whatever states its parts read
  gc_ignore_dot_floor = 14,  // tombstone GC: a re-created set or counter issues dots from 1 again
  gc_membership_unfenced = 15,       // GC with membership: fixed-ring rounds, no fence phase
  multi_del_drop_removed_dots = 16,  // a multi-key DEL answers without its parts' removed dots
};

// Membership changes (core/replication/membership.h, docs/membership.md): off
// by default, and then nothing of it runs (no timer, message or draw).
struct MembershipConfig {
  bool enabled = false;
  // Every replica process of the cluster, members or not (ReplicaConfig::
  // members are the initial members, a subset). Sorted, distinct.
  std::vector<ReplicaId> processes;
  // Between two gossips of the whole table and hand-off retries.
  std::uint64_t interval_us = 100'000;
};

struct ReplicaConfig;

// The ring and placement a replica starts from, built once and shared
// read-only by the replicas of one run (each copies them, and owns and
// changes its copy). Building them costs a replica start about 90,000
// instructions (hashing and sorting every virtual node, the preference-list
// table); copying, a few thousand.
struct RingSeed {
  HashRing ring;
  KeyPlacement placement;

  // The ring and placement a replica with `config` builds itself.
  static std::shared_ptr<const RingSeed> of(const ReplicaConfig& config);
};

struct ReplicaConfig {
  ReplicaId id = 0;
  // Every replica, including this one; with membership on, the initial
  // members (this replica may be outside them).
  std::vector<ReplicaId> members;
  std::uint32_t replication_factor = 3;
  std::uint32_t virtual_nodes = 64;
  std::uint64_t gossip_interval_us = 20'000;
  std::uint64_t anti_entropy_interval_us = 200'000;
  std::uint64_t forward_timeout_us = 100'000;
  bool durable = true;
  // Where LWW timestamps come from (core/clock/write_clock.h).
  TimestampSource timestamp_source = TimestampSource::lamport;
  // Per-key update dots (KeyState::versions) and version metadata in
  // replies: required by sessions (a command with a session token is refused
  // with SESSION_BEHIND by a replica whose state misses part of the token).
  bool track_versions = false;
  // The causal level (requires track_versions): every write records the
  // session token it came with as its causal past (KeyState::dependencies),
  // and replies return the dependencies of the keys they name.
  bool causal = false;
  DeltaLog::Config delta_log;
  std::size_t pending_requests_max = 4096;
  PlantedBug planted_bug = PlantedBug::none;
  HotKeysConfig hot_keys;          // off by default (core/replication/hot_keys.h)
  TombstoneGcConfig tombstone_gc;  // off by default
  MembershipConfig membership;     // off by default
  // Optional: RingSeed::of(a config equal to this one but for the id). Null:
  // the replica builds its own. Either way it starts from the same ring.
  std::shared_ptr<const RingSeed> ring_seed;
};

enum class ReplicaTimer : std::uint8_t {
  gossip = 1,
  anti_entropy = 2,
  forward_timeout = 3,
  hot_keys = 4,
  tombstone_gc = 5,
  membership = 6,
};

struct StorageWrite {
  std::string key;
  Bytes value;
  bool erase = false;
};

struct OutgoingMessage {
  enum class Destination : std::uint8_t { peer, client };
  Destination destination = Destination::peer;
  std::uint64_t to = 0;   // ReplicaId or ClientId
  std::uint8_t kind = 0;  // PeerMessageKind, for per-kind accounting
  Bytes frame;
};

struct TimerRequest {
  ReplicaTimer timer = ReplicaTimer::gossip;
  std::uint64_t delay_us = 0;
  std::uint64_t tag = 0;
};

struct Output {
  std::vector<StorageWrite> storage;
  bool sync = false;  // sync storage before sending any message below
  std::vector<OutgoingMessage> messages;
  std::vector<TimerRequest> timers;
  // Named situations reached (static strings), for coverage accounting.
  std::vector<std::string_view> coverage;

  bool empty() const {
    return storage.empty() && !sync && messages.empty() && timers.empty() && coverage.empty();
  }
  // Empties it, keeping the vectors' capacity (for a caller that reuses one).
  void clear() {
    storage.clear();
    sync = false;
    messages.clear();
    timers.clear();
    coverage.clear();
  }
};

struct ReplicaStats {
  std::uint64_t commands_executed = 0;
  std::uint64_t commands_forwarded = 0;
  std::uint64_t forward_timeouts = 0;
  std::uint64_t corrupt_messages = 0;          // frames or payloads that failed to decode
  std::uint64_t duplicate_requests = 0;        // client or forwarded requests seen twice
  std::uint64_t deltas_applied = 0;            // received deltas that changed state
  std::uint64_t deltas_redundant = 0;          // received deltas that changed nothing
  std::uint64_t keys_repaired = 0;             // anti-entropy states that changed state
  std::uint64_t recovered_keys = 0;            // keys reloaded from durable storage
  std::uint64_t recovered_corrupt = 0;         // durable records that failed to decode
  std::uint64_t session_behind = 0;            // commands refused: state behind the session token
  std::uint64_t session_pulls = 0;             // state requests sent to catch up with a token
  std::uint64_t causal_buffered = 0;           // received deltas held back until their past arrived
  std::uint64_t causal_buffer_dropped = 0;     // ... dropped with the buffer full (anti-entropy)
  std::uint64_t forwarded_writes_refused = 0;  // GC on: forwarded writes of keys not served here
  std::uint64_t mget_snapshot_rereads = 0;     // MGET parts read again for a causal snapshot
  std::uint64_t mget_snapshot_refused = 0;     // MGETs refused: no snapshot within the rounds
  // Hot keys (zero unless enabled).
  std::uint64_t hot_key_promotions = 0;          // decisions this replica made
  std::uint64_t hot_key_demotions = 0;           // decisions this replica made
  std::uint64_t hot_key_promotions_refused = 0;  // its table was full
  std::uint64_t hot_key_became_ready = 0;        // times it became a ready extra replica
  std::uint64_t hot_key_reads_by_extra = 0;      // reads it served as an extra replica
  std::uint64_t hot_key_handoffs_merged = 0;     // hand-off states that changed state here
  std::uint64_t hot_key_strays_handed_off = 0;   // keys it stopped replicating, handed off
  TombstoneGc::Stats tombstone_gc;               // all zero while GC is off
  // Membership (zero unless enabled).
  std::uint64_t membership_changes = 0;          // joins and leaves this replica made
  std::uint64_t membership_changes_refused = 0;  // no-ops, or a leave below the factor
  std::uint64_t membership_views = 0;            // times its ring changed
  std::uint64_t membership_keys_handed_off = 0;  // strays every replica acknowledged
};

class Replica {
 public:
  // Storage keys of the replica's own records (key states use "k/<key>").
  static constexpr std::string_view kIncarnationRecord = "meta/incarnation";
  static constexpr std::string_view kClockRecord = "meta/clock_ceiling";
  // The greatest timestamp of a key state collected or prepared for
  // collection (tombstone GC): observed again on restart.
  static constexpr std::string_view kGcTimeFloorRecord = "meta/gc_time_floor";
  // The writer's dot floor (tombstone GC, durable replicas): the greatest
  // counter of its own dots in any key state it dropped. Written in the same
  // synced batch as the drop, recovered on restart.
  static constexpr std::string_view kGcDotFloorRecord = "meta/gc_dot_floor";
  static constexpr std::string_view kMembershipRecord = "meta/membership";
  // The clock's durable ceiling moves in steps of this much.
  static constexpr std::uint64_t kClockLeaseStep = 1 << 12;
  // The storage key of `key`'s state record.
  static std::string key_record(std::string_view key);

  // `recovered`: the replica's durable storage after a restart (empty on
  // first start). Corrupt records are skipped and counted, never trusted.
  // Requires: config.id in config.members, id < 65536, factor >= 1.
  Replica(ReplicaConfig config, const std::map<std::string, Bytes>& recovered);

  // Arms the periodic timers (with a random first offset) and persists the
  // incarnation number.
  Output start(std::uint64_t now_us, RandomSource& random);

  Output on_client_request(std::uint64_t now_us, ClientId client, ByteView frame,
                           RandomSource& random);
  Output on_peer_message(std::uint64_t now_us, ReplicaId from, ByteView frame,
                         RandomSource& random);
  Output on_timer(std::uint64_t now_us, ReplicaTimer timer, std::uint64_t tag,
                  RandomSource& random);
  // The same three inputs, writing their Output into `out`, which must be
  // empty (Output::clear()): a caller that reuses one Output across inputs
  // (the simulator adapter) keeps its vectors' capacity instead of
  // allocating them afresh for every input.
  void on_client_request(std::uint64_t now_us, ClientId client, ByteView frame,
                         RandomSource& random, Output& out);
  void on_peer_message(std::uint64_t now_us, ReplicaId from, ByteView frame, RandomSource& random,
                       Output& out);
  void on_timer(std::uint64_t now_us, ReplicaTimer timer, std::uint64_t tag, RandomSource& random,
                Output& out);
  // Membership on: this replica joins the ring, or decommissions itself. A
  // replica changes only its own entry, stamped past every stamp it issued,
  // so its latest change wins everywhere. Refused (an empty Output, counted)
  // when it changes nothing, or when a leave would leave fewer members than
  // the replication factor in this replica's view. Otherwise the change is
  // persisted (synced) and sent to every process at once; keys this replica
  // no longer replicates are handed off to their replicas until each has
  // acknowledged them (the replica keeps its inert copy: docs/membership.md
  // says why it must not drop it).
  Output on_membership_change(std::uint64_t now_us, MembershipChange change, RandomSource& random);

  // White-box access for checkers and tests.
  const ReplicaConfig& config() const { return config_; }
  const Keyspace& keyspace() const { return keyspace_; }
  const HashRing& ring() const { return ring_; }
  bool replicates(ReplicaId replica, std::string_view key) const;
  // This replica executes the key's commands: a base replica or a ready
  // extra (KeyPlacement::serving_of).
  bool serves(std::string_view key) const;
  // What tombstone GC would collect of `state` here (collectible() with
  // this replica's configuration).
  Collectible gc_collectible(const KeyState& state) const;
  std::vector<ReplicaId> replicas_of(std::string_view key) const;
  const ReplicaStats& stats() const { return stats_; }
  const DeltaLog& delta_log() const { return delta_log_; }
  const AntiEntropy& anti_entropy() const { return anti_entropy_; }
  const HotKeyTable& hot_keys() const { return placement_.table(); }
  // The id written into dots and timestamps: the replica id, qualified by the
  // incarnation when durability is off (so a restarted, empty replica never
  // reuses a dot it issued before the crash).
  ReplicaId writer_id() const { return writer_id_; }
  std::uint64_t incarnation() const { return incarnation_; }
  std::uint64_t lamport() const { return clock_.value(); }
  const WriteClock& write_clock() const { return clock_; }
  // Brings every per-peer Merkle tree up to date (normally done lazily).
  void refresh_trees();
  // What the keyspace holds (keys, tombstones, bytes): see tombstone_gc.h.
  KeyspaceFootprint footprint() const { return measure(keyspace_); }
  const TombstoneGc& tombstone_gc() const { return gc_; }
  // The writer's dot floor (see kGcDotFloorRecord); 0 while GC is off.
  std::uint64_t dot_floor() const { return gc_dot_floor_; }
  const MembershipTable& membership() const { return membership_; }
  // Keys held but not replicated here, not yet acknowledged by every replica.
  std::size_t strays_pending() const { return strays_.size(); }

 private:
  struct Part {
    Command command;
    // Positions in the client's command of a multi-key command's keys
    // (empty for a single-key command: only aggregate() reads them).
    std::vector<std::size_t> key_indices;
    ReplicaList targets;  // preference list; empty = local
    std::size_t attempt = 0;
    bool done = false;
    Reply reply;  // default until the part completes (a forwarded part's decodes here)
  };
  struct Pending {
    ClientId client = 0;
    std::uint64_t request_id = 0;
    Command command;
    std::vector<Part> parts;
    std::size_t outstanding = 0;
    std::uint32_t snapshot_rounds = 0;  // causal MGET: parts read again so far
  };
  struct Forward {
    std::uint64_t pending_id = 0;
    std::size_t part = 0;
  };

  void recover(const std::map<std::string, Bytes>& recovered);
  // Executes `command` here (or refuses it: behind the session token).
  // Requires: validate(command) passes (checked on arrival; parts of a
  // valid command and the planted bugs' commands are valid by construction).
  // Returns the execution with its reply final and its deltas consumed
  // (empty): a caller that answers from the execution's reply moves no
  // reply.
  Execution execute_local(std::uint64_t now_us, const Command& command, Output& out);
  Execution execute_here(std::uint64_t now_us, const Command& command, Output& out);
  Execution refuse_behind_session(const std::string& key, Output& out);
  // Session check: the keys of `command` (that this replica holds) whose
  // state here misses part of the session token. Asks the key's other
  // replicas for their states of them, so that a retry can succeed.
  std::vector<std::string> behind_session(const Command& command, Output& out);
  // Causal level, an MGET whose parts all answered: the parts whose state of
  // some key misses that key's past named by the dependencies of the states
  // the parts returned (`past` receives their union). Empty = one causal
  // snapshot.
  static std::vector<std::size_t> snapshot_gaps(const Pending& pending, KeyVersions& past);
  // Reads those parts again with `past` added to their session token
  // (bounded rounds). False if the pending is answered or still waits.
  bool reread_for_snapshot(std::uint64_t now_us, std::uint64_t pending_id, Output& out);
  struct DirtyKey;
  // Writes `key`'s state to storage, and remembers its Merkle leaf digest
  // (computed from the same bytes) for the next refresh_trees, in
  // `dirty` (key's entry of dirty_keys_, as mark_dirty returns it).
  void persist_key(const std::string& key, DirtyKey& dirty, Output& out);
  // The same with `key`'s state at hand (the keyspace's, unchanged since).
  void persist_key(const std::string& key, const KeyState& state, DirtyKey& dirty, Output& out);
  void persist_clock(Output& out);
  // Every change of a key's state calls this (then persist_key, if
  // durable). Returns key's entry of dirty_keys_, valid until dirty_keys_
  // next changes.
  DirtyKey& mark_dirty(std::string_view key);
  // The same, given the key's token (HashRing::key_token(key), asserted).
  DirtyKey& mark_dirty(std::string_view key, std::uint64_t token);
  // The indices of dirty_keys_'s latest record of each key, in key order
  // (a reference to scratch space, valid until the next call).
  const std::vector<std::uint32_t>& latest_dirty_records();
  // Keeps only those records, in that order.
  void compact_dirty_keys();

  // Where `key`'s commands execute: empty = here, else the replicas to
  // forward them to, in order.
  ReplicaList execution_targets(std::string_view key) const;
  // The parts of a multi-key command: its keys grouped by where they
  // execute (execution_targets).
  std::vector<Part> split(const Command& command) const;
  void send_part(std::uint64_t pending_id, std::size_t part_index, Output& out);
  // Marks the part done. Requires: its reply is in place (Part::reply).
  void complete_part(std::uint64_t now_us, std::uint64_t pending_id, std::size_t part_index,
                     Output& out);
  // The causal level reads an MGET's parts again until they form one
  // causal snapshot (reread_for_snapshot) before it answers.
  bool snapshot_read(CommandKind kind) const;
  void finish(std::uint64_t now_us, std::uint64_t pending_id, Output& out);
  // The reply to a command of several parts. Requires: more than one part.
  Reply aggregate(const Pending& pending) const;

  // Consumes the batch: applied entries move into the delta log.
  void on_delta_batch(std::uint64_t now_us, ReplicaId from, DeltaBatch& batch, Output& out);
  // Merges one received delta, persists and relays it to `targets` (the
  // key's replicas; moving it into the delta log). `token`: the key's
  // (HashRing::key_token). Returns true if it changed the state.
  bool apply_delta(std::uint64_t now_us, ReplicaId from, DeltaBatch::Entry&& entry,
                   std::uint64_t token, const ReplicaList& targets, Output& out);
  // The causal level: every update `delta` depends on, of a key this
  // replica holds, is here (for `key` itself, here or in the delta).
  bool causally_ready(const std::string& key, const KeyState& delta) const;
  // Holds back a delta whose past has not arrived (bounded: when full, the
  // delta is dropped and anti-entropy later brings it with its past).
  void buffer_delta(ReplicaId from, const DeltaBatch::Entry& entry);
  // Applies every held-back delta whose past has arrived since.
  void drain_causal_buffer(std::uint64_t now_us, Output& out);
  // PlantedBug::counter_double_apply and or_set_remove_unobserved.
  std::vector<std::string> removal_targets(const DeltaBatch::Entry& entry) const;
  // PlantedBug::mv_register_drop_siblings: after a merge, keeps only the
  // greatest sibling of `key`'s multi-value register, silently.
  void planted_drop_siblings(const std::string& key);
  void planted_delta_bug(std::uint64_t now_us, const DeltaBatch::Entry& entry, bool changed,
                         const std::vector<std::string>& removed, Output& out);
  void on_ae_compare(ReplicaId from, const AeCompare& message, Output& out);
  void on_ae_entries(ReplicaId from, const AeEntries& message, Output& out);
  void on_ae_states(std::uint64_t now_us, ReplicaId from, const AeStates& message, Output& out);
  void on_forward_request(std::uint64_t now_us, ReplicaId from, const ForwardRequest& message,
                          Output& out);
  // Decodes a forward reply's payload; one that is awaited decodes into its
  // part's reply and completes the part. False if the payload is malformed.
  bool on_forward_reply(std::uint64_t now_us, ByteView payload, Output& out);
  void on_forward_timeout(std::uint64_t now_us, std::uint64_t forward_id, Output& out);

  void gossip(std::uint64_t now_us, Output& out);

  // Hot keys (replica_hot_keys.cc).
  void note_access(const Command& command);
  void note_served(const Command& command);
  void spread_reads(std::vector<Part>& parts, RandomSource& random) const;
  void hot_keys_tick(Output& out);
  void decide_hot_keys(Output& out);
  HotKeyEntry fresh_decision(const std::string& key, std::uint32_t extra, Output& out);
  bool merge_decision(const std::string& key, const HotKeyEntry& entry);
  void push_handoffs(Output& out);
  void push_promotion_states(std::map<ReplicaId, HotKeyHandoff>& batches) const;
  void push_stray_states(std::map<ReplicaId, HotKeyHandoff>& batches, Output& out);
  // Removes `key`'s state from the keyspace and from durable storage, first
  // raising the dot floor past this writer's dots in it (durably).
  void drop_key(const std::string& key, Output& out);
  // Ends a stray hand-off, acknowledgements included, once this replica
  // replicates the key again.
  void forget_stray(const std::string& key);
  void on_hot_keys_table(const HotKeysTableMessage& message);
  void on_hot_key_handoff(ReplicaId from, const HotKeyHandoff& message, Output& out);
  void on_hot_key_handoff_ack(ReplicaId from, const HotKeyHandoffAck& message);
  void note_handoff_from(ReplicaId from, const std::string& key, const LwwTimestamp& stamp);
  void start_anti_entropy(RandomSource& random, Output& out);
  // Every process this replica sends gossip and tables to: the peers, or
  // with membership on every other replica process.
  const std::vector<ReplicaId>& others() const {
    return config_.membership.enabled ? processes_ : peers_;
  }
  // Stray keys are handed off (hot keys or membership on).
  bool handoff_enabled() const { return config_.hot_keys.enabled || config_.membership.enabled; }

  // Membership (replica_membership.cc).
  void recover_membership(const std::map<std::string, Bytes>& recovered);
  void on_membership_table(const MembershipMessage& message, Output& out);
  // Rebuilds the ring, placement, peers and Merkle trees from the table if
  // its members changed; keys no longer replicated become strays.
  void apply_view(Output& out);
  void persist_membership(Output& out) const;
  void broadcast_membership(Output& out) const;
  void membership_tick(Output& out);

  // Tombstone GC (replica_gc.cc; protocol in core/replication/tombstone_gc.h).
  bool gc_enabled() const { return config_.tombstone_gc.enabled; }
  // Wraps a peer frame in the GC envelope (stamps for fencing).
  Bytes gc_wrap(ReplicaId to, Bytes frame) const;
  // Unwraps an envelope: nullopt if malformed or not to be applied.
  std::optional<Bytes> gc_unwrap(ReplicaId from, ByteView payload);
  // Handles the GC message kinds; false if `kind` is not one of them.
  bool on_gc_message(ReplicaId from, std::uint8_t kind, ByteView payload, Output& out,
                     bool& decoded);
  void gc_round(Output& out);
  void gc_collect_unstable(Output& out);  // PlantedBug::gc_before_stable
  void on_gc_prepare(ReplicaId from, const GcPrepare& message, Output& out);
  void on_gc_prepared(ReplicaId from, const GcPrepared& message, Output& out);
  void on_gc_commit(const GcCommit& message, Output& out);
  // Membership on: the fence phase (replica_gc.cc has the argument).
  void on_gc_fence(ReplicaId from, const GcFenceRound& message, Output& out);
  void on_gc_fenced(ReplicaId from, const GcFenced& message, Output& out);
  // Sends `commit` for the keys every process is done with in the current
  // round (prepared; with the fence phase, fenced too).
  void gc_send_commit(std::vector<GcKeyDigest> keys, Output& out);
  // Whether a round passes through the fence phase: membership on (and not
  // the planted bug that skips it).
  bool gc_fence_phase() const {
    return config_.membership.enabled && config_.planted_bug != PlantedBug::gc_membership_unfenced;
  }
  // Who takes part in a round: the ring's members, or with membership on
  // every replica process (any of them may hold, receive or write the key).
  const std::vector<ReplicaId>& gc_participants() const {
    return gc_fence_phase() ? config_.membership.processes : ring_.members();
  }
  // The digest of the membership table (0 with membership off).
  std::uint64_t view_digest() const;
  // Replaces `key`'s state by what collection leaves of it.
  void gc_collect(const std::string& key, Output& out);
  // Lets the write clock pass (time, logical), a timestamp a collection
  // removes or may remove, durably: every later write beats it.
  void observe_collected(std::uint64_t time, std::uint32_t logical, Output& out);
  std::uint64_t gc_digest(const std::string& key) const;
  AeStates states_of(const std::vector<std::string>& keys) const;
  void send_peer(ReplicaId to, PeerMessageKind kind, Bytes frame, Output& out) const;
  void send_client(ClientId client, Bytes frame, Output& out) const;
  // Sends `reply` to the client and remembers it for duplicates of the request.
  void answer_client(ClientId client, std::uint64_t request_id, const Reply& reply, Output& out);

  ReplicaConfig config_;
  HashRing ring_;
  KeyPlacement placement_;            // ring_'s preference lists, widened for hot keys
  std::vector<ReplicaId> peers_;      // members other than this replica, sorted
  MembershipTable membership_;        // empty unless membership is on
  std::vector<ReplicaId> processes_;  // membership on: every other replica process
  Keyspace keyspace_;
  WriteClock clock_;
  std::uint64_t clock_ceiling_ = 0;
  std::uint64_t incarnation_ = 0;
  ReplicaId writer_id_ = 0;
  DeltaLog delta_log_;
  AntiEntropy anti_entropy_;
  // Keys whose Merkle leaves are stale: one record per change, with the
  // leaf digest of the state persisted after it (nullopt: not persisted
  // since). Every change of a key lands here and refresh_trees is rare, so
  // a change appends without a search; compact_dirty_keys sorts and
  // deduplicates (for refresh_trees, and whenever the records double past
  // the last compaction: bounded by twice the key count plus
  // kDirtyRecordsMin, even if no refresh runs).
  // The record keeps the key's token (HashRing::key_token(key), computed
  // once per change): persist_key seeds the leaf digest with it, and
  // refresh_trees places the key and updates each peer's tree with it.
  struct DirtyKey {
    std::string key;
    std::uint64_t token = 0;
    std::optional<std::uint64_t> persisted_digest;
  };
  static constexpr std::size_t kDirtyRecordsMin = 256;
  std::vector<DirtyKey> dirty_keys_;
  std::size_t dirty_keys_compacted_ = 0;            // records left by the last compaction
  std::vector<std::uint32_t> dirty_order_scratch_;  // see latest_dirty_records
  // Every received delta batch is decoded here, so that its entries' vector
  // keeps its capacity from one batch to the next (decode_payload clears it).
  DeltaBatch delta_batch_scratch_;
  // The same for requests: a command decodes into the strings and vectors
  // of the previous one (unless that one moved into a part).
  ClientRequest client_request_scratch_;
  ForwardRequest forward_request_scratch_;
  // A dirty record's place in key order: its key ranked, its index.
  struct DirtyRank {
    KeyRank rank;
    std::uint32_t index = 0;
  };
  std::vector<DirtyRank> dirty_rank_scratch_;  // see latest_dirty_records
  std::map<std::uint64_t, Pending> pending_;
  std::map<std::uint64_t, Forward> forwards_;
  std::uint64_t next_pending_id_ = 1;
  std::uint64_t next_forward_id_ = 1;
  struct BufferedDelta {
    ReplicaId from = 0;
    DeltaBatch::Entry entry;
  };
  static constexpr std::size_t kCausalBufferMax = 1024;
  std::vector<BufferedDelta> causal_buffer_;   // the causal level: deltas awaiting their past
  std::vector<StorageWrite> deferred_writes_;  // PlantedBug::ack_before_write only
  RecentRequests recent_clients_;              // client requests, by (client, request id)
  RecentRequests recent_forwards_;             // forwarded requests, by (coordinator, forward id)
  // Hot keys: the access counter; consecutive cool ticks of keys this
  // replica promoted; per key where it is an unready extra, the base
  // replicas whose state it merged (under the decision's stamp); keys it
  // may hold without replicating them, and the digests their replicas acked.
  struct HandoffProgress {
    LwwTimestamp stamp;
    std::vector<ReplicaId> from;  // sorted
  };
  SlidingHeavyHitters hot_counter_{1, 1};
  std::set<std::string, std::less<>> hot_changed_;  // entries changed since the last gossip
  std::uint64_t hot_ticks_ = 0;
  std::map<std::string, std::uint32_t, std::less<>> cool_ticks_;
  std::map<std::string, HandoffProgress, std::less<>> handoff_progress_;
  std::map<std::string, std::map<ReplicaId, std::uint64_t>, std::less<>> strays_;
  // Hot-key ticks since this incarnation started (saturating): its table
  // starts empty and is complete (every member sent its whole table) only
  // after a window; see push_stray_states.
  std::uint32_t hot_ticks_since_start_ = 0;
  ReplicaStats stats_;
  TombstoneGc gc_;
  LwwTimestamp gc_time_floor_;      // see kGcTimeFloorRecord
  std::uint64_t gc_dot_floor_ = 0;  // see kGcDotFloorRecord
  // Counts the changes of which keys this replica replicates (ring changes,
  // hot-key decisions that move a key): the fence phase of tombstone GC
  // refuses a round during which it moved.
  std::uint64_t placement_epoch_ = 0;
};

}  // namespace crdtsim::core
