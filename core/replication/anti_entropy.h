#pragma once
// AntiEntropy: Merkle-tree repair between pairs of replicas.
//
// The replica keeps one MerkleTree per peer over the keys both replicate
// (digest of a key = hash64 of its name and canonical state). A round:
//
//   A -> B  AeCompare{root summary}
//   B: for each item, compares with its own summary of that prefix;
//      equal: done; both sides small (<= kListKeysMax keys together) or at
//      depth 64: answers AeEntries{its listing of the prefix};
//      otherwise: answers AeCompare{its summaries of the two children}.
//   A runs the same comparison on B's AeCompare, so the walk descends one
//   level per message, only into differing subtrees.
//   AeEntries -> the receiver diffs the listing against its own, sends
//      AeStates{its states of keys that differ or the other lacks,
//               wanted: keys it lacks or that differ}; the other merges and
//      answers the wanted states.
//
// Agreeing replicas exchange one root comparison. Repairing d keys among N
// costs O(d log N) summaries and O(d) key states. Every message stands alone:
// a lost one ends the round; the next round starts again from the root.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/replication/merkle_tree.h"
#include "core/replication/peer_messages.h"
#include "core/types.h"

namespace crdtsim::core {

class AntiEntropy {
 public:
  // Prefixes holding at most this many keys on both sides together are
  // listed rather than split further.
  static constexpr std::uint64_t kListKeysMax = 16;

  struct Stats {
    std::uint64_t rounds_started = 0;
    std::uint64_t summaries_sent = 0;
    std::uint64_t entries_listed = 0;
  };

  // A planted bug for tests: never descend into, or list, the last subtree
  // (the prefix of all one bits) below the root.
  bool skip_last_subtree = false;

  // The tree shared with `peer` (created empty on first use).
  MerkleTree& tree(ReplicaId peer) { return trees_[peer]; }
  const MerkleTree* find_tree(ReplicaId peer) const;
  void clear() { trees_.clear(); }

  AeCompare start_round(ReplicaId peer);

  // The answer to an AeCompare from `peer`: summaries to descend into and/or
  // a listing. Either part may be empty (then nothing is sent for it).
  struct CompareAnswer {
    AeCompare compare;
    AeEntries entries;
  };
  CompareAnswer on_compare(ReplicaId peer, const AeCompare& message);

  // The diff of a peer's listing against the local tree.
  struct ListingDiff {
    std::vector<std::string> send;    // keys whose local state the peer needs
    std::vector<std::string> wanted;  // keys whose state the peer should send
  };
  ListingDiff on_entries(ReplicaId peer, const AeEntries& message);

  const Stats& stats() const { return stats_; }

 private:
  std::map<ReplicaId, MerkleTree> trees_;
  Stats stats_;
};

}  // namespace crdtsim::core
