#include "core/replication/anti_entropy.h"

#include <algorithm>
#include <cassert>

namespace crdtsim::core {

const MerkleTree* AntiEntropy::find_tree(ReplicaId peer) const {
  const auto found = trees_.find(peer);
  return found == trees_.end() ? nullptr : &found->second;
}

AeCompare AntiEntropy::start_round(ReplicaId peer) {
  stats_.rounds_started += 1;
  stats_.summaries_sent += 1;
  return AeCompare{{AeCompare::Item{TokenPrefix{}, tree(peer).root()}}};
}

AntiEntropy::CompareAnswer AntiEntropy::on_compare(ReplicaId peer, const AeCompare& message) {
  CompareAnswer answer;
  const MerkleTree& local = tree(peer);
  std::vector<MerkleTree::Entry> listed;
  for (const AeCompare::Item& item : message.items) {
    const MerkleTree::Summary mine = local.summary(item.prefix);
    if (mine == item.summary) {
      continue;
    }
    if (skip_last_subtree && item.prefix.depth > 0 &&
        item.prefix.bits == ~(~std::uint64_t{0} >> item.prefix.depth)) {
      continue;
    }
    // Listing is cheap when the sum is small, and when this side holds
    // nothing under the prefix (an empty listing makes the peer send all).
    const bool small = mine.count + item.summary.count <= kListKeysMax || mine.count == 0;
    const bool full = answer.compare.items.size() + 2 > kAePrefixesMax;
    if (small || item.prefix.depth == TokenPrefix::kDepthMax || full) {
      if (answer.entries.prefixes.size() == kAePrefixesMax ||
          listed.size() + mine.count > kAeEntriesMax) {
        continue;  // this message is full; a later round resumes here
      }
      answer.entries.prefixes.push_back(item.prefix);
      local.list(item.prefix, listed);
      continue;
    }
    for (unsigned bit = 0; bit < 2; ++bit) {
      const TokenPrefix child = item.prefix.child(bit);
      answer.compare.items.push_back(AeCompare::Item{child, local.summary(child)});
    }
  }
  answer.entries.entries.reserve(listed.size());
  for (MerkleTree::Entry& entry : listed) {
    answer.entries.entries.push_back(AeEntries::Entry{std::move(entry.key), entry.digest});
  }
  stats_.summaries_sent += answer.compare.items.size();
  stats_.entries_listed += answer.entries.entries.size();
  return answer;
}

AntiEntropy::ListingDiff AntiEntropy::on_entries(ReplicaId peer, const AeEntries& message) {
  ListingDiff diff;
  const MerkleTree& local = tree(peer);
  std::vector<MerkleTree::Entry> mine;
  for (const TokenPrefix& prefix : message.prefixes) {
    local.list(prefix, mine);
  }
  // Both listings by key: std::map keeps the walk ordered and deterministic.
  std::map<std::string_view, std::uint64_t> theirs;
  for (const AeEntries::Entry& entry : message.entries) {
    theirs.emplace(entry.key, entry.digest);
  }
  std::map<std::string_view, std::uint64_t> ours;
  for (const MerkleTree::Entry& entry : mine) {
    ours.emplace(entry.key, entry.digest);
  }
  for (const auto& [key, digest] : ours) {
    const auto other = theirs.find(key);
    if (other == theirs.end()) {
      diff.send.emplace_back(key);
    } else if (other->second != digest) {
      diff.send.emplace_back(key);
      diff.wanted.emplace_back(key);
    }
  }
  for (const auto& [key, digest] : theirs) {
    if (!ours.contains(key)) {
      diff.wanted.emplace_back(key);
    }
  }
  std::sort(diff.wanted.begin(), diff.wanted.end());
  return diff;
}

}  // namespace crdtsim::core
