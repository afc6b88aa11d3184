#pragma once
// MerkleTree: an incrementally maintained Merkle tree over (key, digest) pairs,
// shaped as a binary trie on the bits of each key's 64-bit token (hash64(key)).
//
// Why a trie and not a fixed-depth tree: a node splits only when it holds more
// than kLeafKeysMax keys, so leaves hold a handful of keys whatever N is and
// depth grows as log2(N / kLeafKeysMax). Repairing d divergent keys among N
// then walks O(d log N) hashes and lists O(d) leaves, where a fixed-depth tree
// (Cassandra's) streams every key of each bad leaf.
//
// A node's hash is the wrapping sum of its keys' digests (digests are XXH3
// outputs over key and canonical state, so a sum collides with probability
// about 2^-64), which makes an update O(depth): add the new digest, subtract
// the old one, along one path. Because the hash of any prefix is a pure
// function of the set of (key, digest) pairs under it, two trees with the same
// contents agree on every prefix even when their shapes differ (splits depend
// on history).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crdtsim::core {

// The keys whose token starts with the `depth` most significant bits of
// `bits` (the other bits of `bits` are zero). Depth 0 is the root.
struct TokenPrefix {
  std::uint64_t bits = 0;
  std::uint8_t depth = 0;

  static constexpr std::uint8_t kDepthMax = 64;

  bool contains(std::uint64_t token) const;
  TokenPrefix child(unsigned bit) const;  // requires depth < kDepthMax
  friend bool operator==(const TokenPrefix&, const TokenPrefix&) = default;
};

class MerkleTree {
 public:
  static constexpr std::uint32_t kLeafKeysMax = 8;

  struct Summary {
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    friend bool operator==(const Summary&, const Summary&) = default;
  };

  struct Entry {
    std::uint64_t token = 0;
    std::string key;
    std::uint64_t digest = 0;
  };

  MerkleTree();

  // Inserts `key` or replaces its digest. O(depth).
  void upsert(std::string_view key, std::uint64_t digest);
  // Removes `key` if present. O(depth).
  void erase(std::string_view key);
  // The same, given the key's token (HashRing::key_token(key), asserted):
  // a key refreshed in several peers' trees is hashed once.
  void upsert(std::string_view key, std::uint64_t token, std::uint64_t digest);
  void erase(std::string_view key, std::uint64_t token);
  bool contains(std::string_view key) const;

  Summary root() const;
  // Hash and key count of every key under `prefix`; O(depth + leaf size).
  Summary summary(const TokenPrefix& prefix) const;
  // Appends the entries under `prefix`, sorted by (token, key).
  void list(const TokenPrefix& prefix, std::vector<Entry>& out) const;

  std::uint64_t size() const { return root().count; }
  std::size_t node_count() const { return nodes_.size() - free_nodes_.size(); }
  void clear();

 private:
  struct Node {
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    std::uint32_t children[2] = {kNone, kNone};  // both kNone for a leaf
    std::vector<Entry> entries;                  // sorted by (token, key); leaves only
    bool is_leaf() const { return children[0] == kNone; }
  };
  static constexpr std::uint32_t kNone = 0xffffffffu;

  std::uint32_t new_node();
  void free_node(std::uint32_t index);
  // Walks to the leaf holding `token`, recording the path (node indices).
  std::uint32_t find_leaf(std::uint64_t token, std::vector<std::uint32_t>& path) const;
  // The deepest node on the way to `prefix` (the prefix's own node, or the
  // leaf that holds it), and its depth.
  std::pair<std::uint32_t, std::uint8_t> descend(const TokenPrefix& prefix) const;
  void split(std::uint32_t leaf, std::uint8_t depth);
  void collapse(std::uint32_t node);
  void gather(std::uint32_t node, std::vector<Entry>& out) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<std::uint32_t> free_nodes_;
  mutable std::vector<std::uint32_t> path_scratch_;
};

}  // namespace crdtsim::core
