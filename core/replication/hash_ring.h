#pragma once
// Consistent-hash ring with virtual nodes (Karger et al. 1997; Dynamo's
// preference lists, DeCandia et al. 2007).
//
// Each member owns `virtual_nodes` tokens, token i of replica r being
// hash64(r as 4 little-endian bytes, i as 4 little-endian bytes). A key's
// token is hash64(key). The key's preference list is the first `factor`
// distinct members met walking clockwise from the key's token (wrapping),
// which is also the order in which a coordinator prefers them. Ties between
// equal tokens are broken by replica id, so the ring is a pure function of
// (members, virtual_nodes).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/replication/replica_list.h"
#include "core/types.h"

namespace crdtsim::core {

class HashRing {
 public:
  // Bounds: a ring is for a cluster, not a data centre.
  static constexpr std::uint32_t kMembersMax = 1024;
  static constexpr std::uint32_t kVirtualNodesMax = 4096;

  struct Token {
    std::uint64_t position = 0;
    ReplicaId replica = 0;
    friend auto operator<=>(const Token&, const Token&) = default;
  };

  // Requires: 1 <= virtual_nodes <= kVirtualNodesMax, members distinct,
  // members.size() <= kMembersMax.
  HashRing(std::vector<ReplicaId> members, std::uint32_t virtual_nodes);

  // The first min(factor, members) distinct replicas clockwise from the key.
  std::vector<ReplicaId> preference_list(std::string_view key, std::uint32_t factor) const;
  bool is_replica(ReplicaId replica, std::string_view key, std::uint32_t factor) const;

  static std::uint64_t key_token(std::string_view key);

  const std::vector<ReplicaId>& members() const { return members_; }
  std::uint32_t virtual_nodes() const { return virtual_nodes_; }
  const std::vector<Token>& tokens() const { return tokens_; }

  // Ring changes (join, decommission) rebuild the token list.
  void add_member(ReplicaId replica);
  void remove_member(ReplicaId replica);

  // Placement: the preference lists of one ring for one factor, answered
  // without walking the ring. A key's list depends only on the first token at
  // or after the key's token, so it is precomputed per token (when the table
  // holds at most kTableEntriesMax ids; a larger ring walks a copy of its
  // tokens instead). Same answers as preference_list(key, factor); a snapshot:
  // later ring changes need a new Placement.
  class Placement {
   public:
    static constexpr std::size_t kTableEntriesMax = std::size_t{1} << 18;

    Placement() = default;
    Placement(const HashRing& ring, std::uint32_t factor);

    ReplicaList replicas_of(std::string_view key) const;
    bool is_replica(ReplicaId replica, std::string_view key) const;
    // The same for a key whose token (key_token(key)) the caller already
    // has: a key changed once is placed several times (applied, relayed, its
    // Merkle leaves refreshed), and hashing it is most of a lookup.
    ReplicaList replicas_of_token(std::uint64_t token) const;
    std::size_t factor() const { return wanted_; }

   private:
    // The index of the first token at or after `token` (wrapping to 0).
    std::size_t token_index(std::uint64_t token) const;
    void walk(std::size_t index, ReplicaList& out) const;
    void build_buckets();
    // The table's list of token `index` (wanted_ ids).
    std::vector<ReplicaId>::iterator row_of(std::size_t index);

    std::size_t wanted_ = 0;                // min(factor, members)
    std::vector<std::uint64_t> positions_;  // the ring's token positions, sorted
    // bucket_starts_[b]: the first token whose position's top bucket_bits_
    // bits are at least b (2^bucket_bits_ + 1 entries).
    static constexpr std::size_t kBucketBitsMax = 16;
    unsigned bucket_bits_ = 1;
    std::vector<std::uint32_t> bucket_starts_;
    std::vector<ReplicaId> owners_;  // the replica of each token
    std::vector<ReplicaId> table_;   // wanted_ ids per token, or empty
  };
  Placement placement(std::uint32_t factor) const { return Placement(*this, factor); }

 private:
  void rebuild();

  std::vector<ReplicaId> members_;  // sorted, distinct
  std::uint32_t virtual_nodes_;
  std::vector<Token> tokens_;  // sorted by (position, replica)
};

}  // namespace crdtsim::core
