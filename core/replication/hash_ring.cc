#include "core/replication/hash_ring.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <utility>

#include "core/codec/hash.h"

namespace crdtsim::core {

namespace {

std::uint64_t virtual_node_token(ReplicaId replica, std::uint32_t index) {
  std::array<std::uint8_t, 8> bytes{};
  for (std::size_t shift = 0; shift < 4; ++shift) {
    bytes[shift] = static_cast<std::uint8_t>(replica >> (8 * shift));
    bytes[4 + shift] = static_cast<std::uint8_t>(index >> (8 * shift));
  }
  return hash64(ByteView(bytes.data(), bytes.size()));
}

}  // namespace

HashRing::HashRing(std::vector<ReplicaId> members, std::uint32_t virtual_nodes)
    : members_(std::move(members)), virtual_nodes_(virtual_nodes) {
  assert(virtual_nodes_ >= 1);
  assert(virtual_nodes_ <= kVirtualNodesMax);
  std::sort(members_.begin(), members_.end());
  assert(std::adjacent_find(members_.begin(), members_.end()) == members_.end());
  assert(members_.size() <= kMembersMax);
  rebuild();
}

void HashRing::rebuild() {
  tokens_.clear();
  tokens_.reserve(members_.size() * virtual_nodes_);
  for (const ReplicaId replica : members_) {
    for (std::uint32_t index = 0; index < virtual_nodes_; ++index) {
      tokens_.push_back(Token{virtual_node_token(replica, index), replica});
    }
  }
  std::sort(tokens_.begin(), tokens_.end());
}

std::uint64_t HashRing::key_token(std::string_view key) {
  return hash64(key);
}

std::vector<ReplicaId> HashRing::preference_list(std::string_view key, std::uint32_t factor) const {
  std::vector<ReplicaId> result;
  const std::size_t wanted = std::min<std::size_t>(factor, members_.size());
  if (wanted == 0) {
    return result;
  }
  result.reserve(wanted);
  const std::uint64_t position = key_token(key);
  auto start = std::lower_bound(tokens_.begin(), tokens_.end(), Token{position, 0});
  std::size_t index = static_cast<std::size_t>(start - tokens_.begin());
  // Visits each token at most once: bounded by the ring size.
  for (std::size_t visited = 0; visited < tokens_.size() && result.size() < wanted; ++visited) {
    const ReplicaId replica = tokens_[(index + visited) % tokens_.size()].replica;
    if (std::find(result.begin(), result.end(), replica) == result.end()) {
      result.push_back(replica);
    }
  }
  assert(result.size() == wanted);
  return result;
}

HashRing::Placement::Placement(const HashRing& ring, std::uint32_t factor)
    : wanted_(std::min<std::size_t>(factor, ring.members().size())) {
  const std::vector<Token>& tokens = ring.tokens();
  positions_.reserve(tokens.size());
  owners_.reserve(tokens.size());
  for (const Token& token : tokens) {
    positions_.push_back(token.position);
    owners_.push_back(token.replica);
  }
  build_buckets();
  if (wanted_ == 0 || tokens.size() * wanted_ > kTableEntriesMax) {
    return;
  }
  // A token's list is its owner followed by the next token's list without
  // that owner, cut to wanted_: filled from the last token backwards, one
  // short step per token instead of a walk each (every replica start builds
  // one). The last token's list wraps around the ring, so it is walked.
  const std::size_t count = tokens.size();
  table_.resize(count * wanted_);
  ReplicaList last;
  walk(count - 1, last);
  std::copy(last.begin(), last.end(), row_of(count - 1));
  for (std::size_t index = count - 1; index-- > 0;) {
    const ReplicaId owner = owners_[index];
    const auto next = row_of(index + 1);
    const auto row = row_of(index);
    row[0] = owner;
    std::size_t filled = 1;
    // The next list holds wanted_ distinct ids, the owner at most once: the
    // first wanted_ of them always fill the row.
    for (std::size_t position = 0; filled < wanted_; ++position) {
      assert(position < wanted_);
      if (next[static_cast<std::ptrdiff_t>(position)] != owner) {
        row[static_cast<std::ptrdiff_t>(filled++)] = next[static_cast<std::ptrdiff_t>(position)];
      }
    }
  }
}

std::vector<ReplicaId>::iterator HashRing::Placement::row_of(std::size_t index) {
  return table_.begin() + static_cast<std::ptrdiff_t>(index * wanted_);
}

void HashRing::Placement::build_buckets() {
  // About one token per bucket, at most 2^kBucketBitsMax buckets.
  bucket_bits_ = static_cast<unsigned>(
      std::clamp<std::size_t>(std::bit_width(positions_.size()), 1, kBucketBitsMax));
  const std::size_t buckets = std::size_t{1} << bucket_bits_;
  bucket_starts_.assign(buckets + 1, 0);
  std::size_t token = 0;
  for (std::size_t bucket = 0; bucket <= buckets; ++bucket) {
    while (token < positions_.size() && (positions_[token] >> (64 - bucket_bits_)) < bucket) {
      ++token;
    }
    bucket_starts_[bucket] = static_cast<std::uint32_t>(token);
  }
}

std::size_t HashRing::Placement::token_index(std::uint64_t position) const {
  // Tokens order by (position, replica), so the first token not below
  // Token{position, 0} is the first with a position not below the key's.
  // Positions are hashes (uniform): the key's bucket narrows the search to
  // the few tokens that share its top bits; tokens before the bucket lie
  // below the key, tokens after it above.
  const std::uint64_t bucket = position >> (64 - bucket_bits_);
  const auto first = positions_.begin() + bucket_starts_[bucket];
  const auto last = positions_.begin() + bucket_starts_[bucket + 1];
  const auto index =
      static_cast<std::size_t>(std::lower_bound(first, last, position) - positions_.begin());
  return index == positions_.size() ? 0 : index;
}

void HashRing::Placement::walk(std::size_t index, ReplicaList& out) const {
  out.clear();
  // Visits each token at most once: bounded by the ring size.
  for (std::size_t visited = 0; visited < owners_.size() && out.size() < wanted_; ++visited) {
    const ReplicaId replica = owners_[(index + visited) % owners_.size()];
    if (std::find(out.begin(), out.end(), replica) == out.end()) {
      out.push_back(replica);
    }
  }
  assert(out.size() == wanted_);
}

ReplicaList HashRing::Placement::replicas_of(std::string_view key) const {
  return replicas_of_token(key_token(key));
}

ReplicaList HashRing::Placement::replicas_of_token(std::uint64_t token) const {
  ReplicaList result;
  if (wanted_ == 0) {
    return result;
  }
  const std::size_t index = token_index(token);
  if (table_.empty()) {
    walk(index, result);
    return result;
  }
  const auto first = table_.begin() + static_cast<std::ptrdiff_t>(index * wanted_);
  result.assign(first, first + static_cast<std::ptrdiff_t>(wanted_));
  return result;
}

bool HashRing::Placement::is_replica(ReplicaId replica, std::string_view key) const {
  if (wanted_ == 0) {
    return false;
  }
  if (table_.empty()) {
    const ReplicaList list = replicas_of(key);
    return std::find(list.begin(), list.end(), replica) != list.end();
  }
  const auto first =
      table_.begin() + static_cast<std::ptrdiff_t>(token_index(key_token(key)) * wanted_);
  return std::find(first, first + static_cast<std::ptrdiff_t>(wanted_), replica) !=
         first + static_cast<std::ptrdiff_t>(wanted_);
}

bool HashRing::is_replica(ReplicaId replica, std::string_view key, std::uint32_t factor) const {
  const std::vector<ReplicaId> list = preference_list(key, factor);
  return std::find(list.begin(), list.end(), replica) != list.end();
}

void HashRing::add_member(ReplicaId replica) {
  assert(members_.size() < kMembersMax);
  const auto found = std::lower_bound(members_.begin(), members_.end(), replica);
  if (found != members_.end() && *found == replica) {
    return;
  }
  members_.insert(found, replica);
  rebuild();
}

void HashRing::remove_member(ReplicaId replica) {
  const auto found = std::lower_bound(members_.begin(), members_.end(), replica);
  if (found == members_.end() || *found != replica) {
    return;
  }
  members_.erase(found);
  rebuild();
}

}  // namespace crdtsim::core
