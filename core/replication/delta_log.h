#pragma once
// DeltaLog: the outgoing side of push delta gossip, after the delta-interval
// anti-entropy algorithm of Almeida, Shoker and Baquero ("Delta State
// Replicated Data Types", 2018, algorithm 2).
//
// Every local write (and every received delta that changed local state) is
// appended with a sequence number. For each peer the log remembers the
// greatest sequence number the peer acknowledged; a gossip tick joins the
// unacknowledged entries routed to that peer, per key, into one DeltaBatch.
// Entries are never sent back to the replica that wrote them nor to the one
// they came from (Enes et al., "Efficient Synchronization of State-based
// CRDTs", ICDE 2019, found this back-propagation to be the main waste).
// Entries every peer has acknowledged are dropped.
//
// Bounded: when a peer has left more than `peer_backlog_max` entries
// unacknowledged, or stayed silent for `peer_silence_us_max` with entries
// pending, the log stops buffering for it (its cursor jumps to the head) and
// anti-entropy repairs whatever it missed. Hearing from the peer again
// resumes buffering from then on.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replication/hash_ring.h"
#include "core/replication/peer_messages.h"
#include "core/store/key_state.h"
#include "core/types.h"

namespace crdtsim::core {

class DeltaLog {
 public:
  struct Config {
    std::uint64_t peer_backlog_max = 4096;
    std::uint64_t peer_silence_us_max = 2'000'000;
    // Unacknowledged entries are sent again after this long without an ack.
    std::uint64_t retransmit_us = 200'000;
    // A planted bug for tests: treat a batch as acknowledged once sent.
    bool forget_unacked = false;
  };

  struct Stats {
    std::uint64_t appended = 0;
    std::uint64_t batches = 0;
    std::uint64_t buffers_dropped = 0;  // times a peer's backlog was abandoned
  };

  DeltaLog(Config config, std::vector<ReplicaId> peers);

  // Appends a delta of `key` written by `origin` and received from `via`
  // (both equal to the local replica for a local write), to be routed to
  // `targets` (the key's replicas, computed once here so that gossip ticks
  // never walk the ring). Returns its seq.
  std::uint64_t append(std::string key, ReplicaId origin, ReplicaId via, KeyState&& delta,
                       std::uint64_t now_us, std::span<const ReplicaId> targets);

  // The next batch for `peer`, or nullopt if nothing is due. Marks the
  // entries as sent.
  std::optional<DeltaBatch> next_batch(ReplicaId peer, std::uint64_t now_us);
  // The same batch as next_batch, as its wire frame (encode_frame of it),
  // encoded from the log's entries without copying them into a DeltaBatch.
  std::optional<Bytes> next_batch_frame(ReplicaId peer, std::uint64_t now_us);

  // An ack of the batch [first_seq, last_seq]. Advances the peer's cursor to
  // last_seq only if first_seq <= cursor + 1 (no earlier batch missing).
  void on_ack(ReplicaId peer, std::uint64_t first_seq, std::uint64_t last_seq,
              std::uint64_t now_us);
  // PlantedBug::hot_key_demotion_drops_state only: the key's entries are
  // routed to nobody from now on (its unsent deltas are dropped).
  void forget_key(std::string_view key);
  // Any message from `peer` proves it reachable: resumes buffering for it.
  void on_heard_from(ReplicaId peer, std::uint64_t now_us);

  // Tombstone GC: drops every entry of `key` (each peer holds a state that
  // contains them all). Returns how many were dropped.
  std::size_t erase_key(std::string_view key);
  // The keys with at least one entry, in key order.
  std::vector<std::string_view> keys() const;

  std::uint64_t head_seq() const { return next_seq_ - 1; }
  std::size_t size() const { return entries_.size(); }
  bool buffering_for(ReplicaId peer) const;
  const Stats& stats() const { return stats_; }

 private:
  struct Entry {
    std::uint64_t seq = 0;
    std::string key;
    ReplicaId origin = 0;
    ReplicaId via = 0;
    KeyState delta;
    ReplicaList targets;  // the replicas of `key`
    // Bit r set: replica r (below 64) is in `targets`; select tests a bit
    // per entry and peer instead of searching the list.
    std::uint64_t targets_below_64 = 0;
  };
  static bool routed_to(const Entry& entry, ReplicaId peer) {
    if (peer < 64) {
      return ((entry.targets_below_64 >> peer) & 1U) != 0;
    }
    return std::find(entry.targets.begin(), entry.targets.end(), peer) != entry.targets.end();
  }
  // The entries of one key in a batch: a single entry's delta is used in
  // place; several are joined into joined_scratch_[joined].
  static constexpr std::size_t kNotJoined = SIZE_MAX;
  struct Group {
    std::string_view key;  // points into the first entry (stable while selecting)
    ReplicaId origin = 0;
    const Entry* single = nullptr;
    std::size_t joined = kNotJoined;
  };
  struct Selection {
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::vector<Group> groups;  // in order of first appearance
  };
  struct Peer {
    std::uint64_t acked_seq = 0;
    std::uint64_t sent_seq = 0;
    std::uint64_t last_progress_us = 0;  // last ack, resume, or start of backlog
    std::uint64_t last_heard_us = 0;
    bool buffering = true;
  };

  void drop_backlog(Peer& peer);
  // An Entry is 272 bytes, so std::deque holds one per block: a heap block
  // per append, a free per trim. boost::container::deque takes a block size
  // (16 entries saved 0.5% of a standard run), but Boost 1.74's, Debian 12's,
  // does pointer arithmetic on the null map of an empty deque in clear()
  // and move assignment, which UBSan reports: it cannot be used here.
  using Entries = std::deque<Entry>;

  // The first entry whose seq is at least `seq` (end() if none).
  Entries::iterator first_from(std::uint64_t seq);
  void trim();
  // The shared part of next_batch and next_batch_frame: picks the due
  // entries, joined per key, and updates the peer's cursors. Returns false
  // when nothing is to be sent.
  bool select(ReplicaId peer_id, std::uint64_t now_us, Selection& selection);
  // PlantedBug::gossip_forget_unacked: treats the batch up to `last_seq` as
  // acknowledged by `peer_id`.
  void forget(ReplicaId peer_id, std::uint64_t last_seq);

  // The peer's record (nullptr if `id` is not a peer).
  Peer* find_peer(ReplicaId id);
  const Peer* find_peer(ReplicaId id) const;
  const KeyState& delta_of(const Group& group) const {
    return group.joined == kNotJoined ? group.single->delta : joined_scratch_[group.joined];
  }
  // Ends a selection: empties the scratch space.
  void clear_selection();

  Config config_;
  // Scratch space of select and next_batch_frame, reused across gossip
  // ticks so that a tick allocates nothing in the steady state. Empty
  // between calls (the groups point into entries_). group_of_scratch_ is
  // (key, index into the groups), sorted by key: a batch's groups in key
  // order without moving them.
  Selection selection_scratch_;
  std::vector<std::pair<std::string_view, std::size_t>> group_of_scratch_;
  std::vector<KeyState> joined_scratch_;
  std::vector<DeltaBatchEntryView> views_scratch_;
  // Sorted by id; few (the other replicas), so searched linearly.
  std::vector<std::pair<ReplicaId, Peer>> peers_;
  Entries entries_;  // ascending seq
  std::uint64_t next_seq_ = 1;
  Stats stats_;
};

}  // namespace crdtsim::core
