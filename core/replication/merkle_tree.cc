#include "core/replication/merkle_tree.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/replication/hash_ring.h"
#include "core/store/key_index.h"

namespace crdtsim::core {

namespace {

unsigned token_bit(std::uint64_t token, std::uint8_t depth) {
  assert(depth < TokenPrefix::kDepthMax);
  return static_cast<unsigned>((token >> (63 - depth)) & 1u);
}

// The first entry of a sorted leaf not less than (token, key), and whether
// it is (token, key) itself. Tokens are 64-bit hashes: the search compares
// them only, and keys only among the entries of an equal token (one, or a
// collision): one equality test when the key is there.
template <class Entries>
auto find_entry(Entries& entries, std::uint64_t token, std::string_view key) {
  // A leaf holds at most kLeafKeysMax + 1 entries (until it splits): a
  // scan is cheaper than a bisection.
  auto found = entries.begin();
  while (found != entries.end() && found->token < token) {
    ++found;
  }
  // Equality first: inline for short keys, and the answer unless two keys
  // share the token.
  bool exact = false;
  while (found != entries.end() && found->token == token) {
    exact = key_index_equal(found->key, key);
    if (exact || std::string_view(found->key).compare(key) > 0) {
      break;
    }
    ++found;
  }
  return std::pair{found, exact};
}

}  // namespace

bool TokenPrefix::contains(std::uint64_t token) const {
  if (depth == 0) {
    return true;
  }
  const std::uint64_t mask = depth >= 64 ? ~std::uint64_t{0} : ~(~std::uint64_t{0} >> depth);
  return (token & mask) == bits;
}

TokenPrefix TokenPrefix::child(unsigned bit) const {
  assert(depth < kDepthMax);
  assert(bit <= 1);
  TokenPrefix result{bits, static_cast<std::uint8_t>(depth + 1)};
  result.bits |= static_cast<std::uint64_t>(bit) << (63 - depth);
  return result;
}

MerkleTree::MerkleTree() {
  nodes_.emplace_back();
}

void MerkleTree::clear() {
  nodes_.clear();
  free_nodes_.clear();
  nodes_.emplace_back();
}

std::uint32_t MerkleTree::new_node() {
  if (!free_nodes_.empty()) {
    const std::uint32_t index = free_nodes_.back();
    free_nodes_.pop_back();
    nodes_[index] = Node{};
    return index;
  }
  assert(nodes_.size() < kNone);
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void MerkleTree::free_node(std::uint32_t index) {
  assert(index != 0);
  nodes_[index] = Node{};
  free_nodes_.push_back(index);
}

std::uint32_t MerkleTree::find_leaf(std::uint64_t token, std::vector<std::uint32_t>& path) const {
  path.clear();
  std::uint32_t node = 0;
  std::uint8_t depth = 0;
  while (!nodes_[node].is_leaf()) {
    path.push_back(node);
    node = nodes_[node].children[token_bit(token, depth)];
    ++depth;
    assert(depth <= TokenPrefix::kDepthMax);
  }
  path.push_back(node);
  return node;
}

void MerkleTree::upsert(std::string_view key, std::uint64_t digest) {
  upsert(key, HashRing::key_token(key), digest);
}

void MerkleTree::upsert(std::string_view key, std::uint64_t token, std::uint64_t digest) {
  assert(token == HashRing::key_token(key));
  // The leaf, then the same path again from the root to update the sums
  // (cheaper than recording it).
  const auto [leaf, depth] = descend(TokenPrefix{token, TokenPrefix::kDepthMax});
  auto& entries = nodes_[leaf].entries;
  const auto [found, exists] = find_entry(entries, token, key);
  const std::uint64_t old_digest = exists ? found->digest : 0;
  if (exists) {
    found->digest = digest;
  } else {
    entries.insert(found, Entry{token, std::string(key), digest});
  }
  std::uint32_t node = 0;
  for (std::uint8_t level = 0;; ++level) {
    nodes_[node].hash += digest - old_digest;
    nodes_[node].count += exists ? 0 : 1;
    if (node == leaf) {
      break;
    }
    node = nodes_[node].children[token_bit(token, level)];
  }
  if (nodes_[leaf].entries.size() > kLeafKeysMax && depth < TokenPrefix::kDepthMax) {
    split(leaf, depth);
  }
}

void MerkleTree::split(std::uint32_t leaf, std::uint8_t depth) {
  // Entries are sorted by token, so the children take a prefix and a suffix.
  const std::uint32_t low = new_node();
  const std::uint32_t high = new_node();
  std::vector<Entry> entries = std::move(nodes_[leaf].entries);
  nodes_[leaf].entries.clear();
  nodes_[leaf].children[0] = low;
  nodes_[leaf].children[1] = high;
  for (Entry& entry : entries) {
    Node& child = nodes_[token_bit(entry.token, depth) == 0 ? low : high];
    child.hash += entry.digest;
    child.count += 1;
    child.entries.push_back(std::move(entry));
  }
  // All keys may share the next bit: split again below (bounded by depth 64).
  for (const std::uint32_t child : {low, high}) {
    if (nodes_[child].entries.size() > kLeafKeysMax && depth + 1 < TokenPrefix::kDepthMax) {
      split(child, static_cast<std::uint8_t>(depth + 1));
    }
  }
}

void MerkleTree::erase(std::string_view key) {
  erase(key, HashRing::key_token(key));
}

void MerkleTree::erase(std::string_view key, std::uint64_t token) {
  assert(token == HashRing::key_token(key));
  const std::uint32_t leaf = find_leaf(token, path_scratch_);
  auto& entries = nodes_[leaf].entries;
  const auto [found, exists] = find_entry(entries, token, key);
  if (!exists) {
    return;
  }
  const std::uint64_t old_digest = found->digest;
  entries.erase(found);
  for (const std::uint32_t node : path_scratch_) {
    nodes_[node].hash -= old_digest;
    nodes_[node].count -= 1;
  }
  // Collapse the highest ancestor that now fits in one leaf, so memory tracks
  // the live key count.
  for (const std::uint32_t node : path_scratch_) {
    if (!nodes_[node].is_leaf() && nodes_[node].count <= kLeafKeysMax / 2) {
      collapse(node);
      break;
    }
  }
}

void MerkleTree::gather(std::uint32_t node, std::vector<Entry>& out) const {
  const Node& current = nodes_[node];
  if (current.is_leaf()) {
    out.insert(out.end(), current.entries.begin(), current.entries.end());
    return;
  }
  gather(current.children[0], out);
  gather(current.children[1], out);
}

void MerkleTree::collapse(std::uint32_t node) {
  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(nodes_[node].count));
  gather(node, entries);
  // Free the subtree below `node` (iteratively, with an explicit stack).
  std::vector<std::uint32_t> stack{nodes_[node].children[0], nodes_[node].children[1]};
  while (!stack.empty()) {
    const std::uint32_t current = stack.back();
    stack.pop_back();
    if (!nodes_[current].is_leaf()) {
      stack.push_back(nodes_[current].children[0]);
      stack.push_back(nodes_[current].children[1]);
    }
    free_node(current);
  }
  nodes_[node].children[0] = kNone;
  nodes_[node].children[1] = kNone;
  nodes_[node].entries = std::move(entries);
  assert(nodes_[node].entries.size() == nodes_[node].count);
}

bool MerkleTree::contains(std::string_view key) const {
  const std::uint64_t token = HashRing::key_token(key);
  const std::uint32_t leaf = find_leaf(token, path_scratch_);
  const auto& entries = nodes_[leaf].entries;
  return std::any_of(entries.begin(), entries.end(),
                     [&](const Entry& entry) { return entry.token == token && entry.key == key; });
}

std::pair<std::uint32_t, std::uint8_t> MerkleTree::descend(const TokenPrefix& prefix) const {
  std::uint32_t node = 0;
  std::uint8_t depth = 0;
  while (depth < prefix.depth && !nodes_[node].is_leaf()) {
    node = nodes_[node].children[token_bit(prefix.bits, depth)];
    ++depth;
  }
  return {node, depth};
}

MerkleTree::Summary MerkleTree::root() const {
  return Summary{nodes_[0].hash, nodes_[0].count};
}

MerkleTree::Summary MerkleTree::summary(const TokenPrefix& prefix) const {
  const auto [node, depth] = descend(prefix);
  if (depth == prefix.depth) {
    return Summary{nodes_[node].hash, nodes_[node].count};
  }
  Summary result;
  for (const Entry& entry : nodes_[node].entries) {
    if (prefix.contains(entry.token)) {
      result.hash += entry.digest;
      result.count += 1;
    }
  }
  return result;
}

void MerkleTree::list(const TokenPrefix& prefix, std::vector<Entry>& out) const {
  const auto [node, depth] = descend(prefix);
  if (depth == prefix.depth) {
    gather(node, out);
    return;
  }
  for (const Entry& entry : nodes_[node].entries) {
    if (prefix.contains(entry.token)) {
      out.push_back(entry);
    }
  }
}

}  // namespace crdtsim::core
