#pragma once
// BaselineORSet: the same add-wins, dot-based OR-Set as core::ORSet, built the
// obvious way on the standard node containers: a std::map from element to the
// std::set of its dots, and a causal context of a std::map version vector plus
// a std::set of out-of-order dots. Same operations, same algorithms (merge is
// the same single sorted pass, with hinted inserts) and the same wire format,
// so that the benchmarks measure the data layout side by side, not a weaker
// algorithm. Benchmark-only: it is not part of the store.

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/codec/bytes.h"
#include "core/crdt/dot.h"
#include "core/types.h"

namespace crdtsim::bench {

class BaselineORSet {
 public:
  static constexpr std::uint8_t kTypeTag = core::type_tag::kORSet;
  static constexpr std::uint8_t kEncodingVersion = 1;

  using Dot = core::Dot;
  using ReplicaId = core::ReplicaId;

  BaselineORSet add(ReplicaId replica, std::string_view element) {
    BaselineORSet delta;
    const Dot dot = next_dot(replica);
    auto found = entries_.find(element);
    if (found == entries_.end()) {
      found = entries_.emplace(std::string(element), std::set<Dot>{}).first;
    }
    for (const Dot& old : found->second) {
      delta.add_to_context(old);
    }
    found->second.clear();
    found->second.insert(dot);
    delta.entries_[std::string(element)].insert(dot);
    delta.add_to_context(dot);
    return delta;
  }

  BaselineORSet remove(std::string_view element) {
    BaselineORSet delta;
    const auto found = entries_.find(element);
    if (found == entries_.end()) {
      return delta;
    }
    for (const Dot& old : found->second) {
      delta.add_to_context(old);
    }
    entries_.erase(found);
    return delta;
  }

  BaselineORSet clear() {
    BaselineORSet delta;
    delta.version_vector_ = version_vector_;
    delta.dot_cloud_ = dot_cloud_;
    entries_.clear();
    return delta;
  }

  // One sorted pass over both element maps, like core::ORSet::merge.
  void merge(const BaselineORSet& other) {
    auto mine = entries_.begin();
    auto theirs = other.entries_.begin();
    while (mine != entries_.end() || theirs != other.entries_.end()) {
      if (theirs == other.entries_.end() ||
          (mine != entries_.end() && mine->first < theirs->first)) {
        std::erase_if(mine->second, [&](const Dot& dot) { return other.context_contains(dot); });
        mine = mine->second.empty() ? entries_.erase(mine) : std::next(mine);
        continue;
      }
      if (mine == entries_.end() || theirs->first < mine->first) {
        std::set<Dot> kept;
        for (const Dot& dot : theirs->second) {
          if (!context_contains(dot)) {
            kept.insert(kept.end(), dot);
          }
        }
        if (!kept.empty()) {
          mine = std::next(entries_.emplace_hint(mine, theirs->first, std::move(kept)));
        }
        ++theirs;
        continue;
      }
      merge_dots(mine->second, theirs->second, other);
      mine = mine->second.empty() ? entries_.erase(mine) : std::next(mine);
      ++theirs;
    }
    for (const auto& [replica, counter] : other.version_vector_) {
      auto& mine_counter = version_vector_[replica];
      mine_counter = std::max(mine_counter, counter);
    }
    dot_cloud_.insert(other.dot_cloud_.begin(), other.dot_cloud_.end());
    compact();
  }

  bool contains(std::string_view element) const { return entries_.contains(element); }
  std::size_t size() const { return entries_.size(); }

  // The same layout as core::ORSet: context, then (element, dot) entries.
  void encode_body(core::Encoder& encoder) const {
    encoder.varint(version_vector_.size());
    for (const auto& [replica, counter] : version_vector_) {
      encoder.varint(replica);
      encoder.varint(counter);
    }
    encoder.varint(dot_cloud_.size());
    for (const Dot& dot : dot_cloud_) {
      dot.encode_body(encoder);
    }
    std::size_t entry_count = 0;
    for (const auto& [element, dots] : entries_) {
      entry_count += dots.size();
    }
    encoder.varint(entry_count);
    for (const auto& [element, dots] : entries_) {
      for (const Dot& dot : dots) {
        encoder.string(element);
        dot.encode_body(encoder);
      }
    }
  }

  // Validates like core::ORSet (sorted entries, dots in the context), but
  // trusts the context to be canonical.
  static BaselineORSet decode_body(core::Decoder& decoder) {
    BaselineORSet set;
    const std::size_t vector_size = decoder.count(2);
    for (std::size_t index = 0; index < vector_size && decoder.ok(); ++index) {
      const ReplicaId replica = decoder.varint32();
      const std::uint64_t counter = decoder.varint();
      set.version_vector_.emplace_hint(set.version_vector_.end(), replica, counter);
    }
    const std::size_t cloud_size = decoder.count(2);
    for (std::size_t index = 0; index < cloud_size && decoder.ok(); ++index) {
      set.dot_cloud_.insert(set.dot_cloud_.end(), Dot::decode_body(decoder));
    }
    const std::size_t entry_count = decoder.count(3);
    for (std::size_t index = 0; index < entry_count && decoder.ok(); ++index) {
      std::string element = decoder.string();
      const Dot dot = Dot::decode_body(decoder);
      if (!decoder.ok()) {
        break;
      }
      if (!set.context_contains(dot)) {
        decoder.fail("entry dot is not in the causal context");
        break;
      }
      auto last = set.entries_.empty() ? set.entries_.end() : std::prev(set.entries_.end());
      if (last != set.entries_.end() && last->first == element) {
        if (!(*last->second.rbegin() < dot)) {
          decoder.fail("entries not strictly increasing");
          break;
        }
        last->second.insert(last->second.end(), dot);
      } else if (last != set.entries_.end() && !(last->first < element)) {
        decoder.fail("entries not strictly increasing");
        break;
      } else {
        set.entries_.emplace_hint(set.entries_.end(), std::move(element), std::set<Dot>{dot});
      }
    }
    return set;
  }

  friend bool operator==(const BaselineORSet&, const BaselineORSet&) = default;

 private:
  bool context_contains(const Dot& dot) const {
    const auto found = version_vector_.find(dot.replica);
    if (found != version_vector_.end() && dot.counter <= found->second) {
      return true;
    }
    return dot_cloud_.contains(dot);
  }

  Dot next_dot(ReplicaId replica) {
    std::uint64_t current = 0;
    if (const auto found = version_vector_.find(replica); found != version_vector_.end()) {
      current = found->second;
    }
    const auto after = dot_cloud_.lower_bound(Dot{replica + 1, 0});
    if (after != dot_cloud_.begin() && std::prev(after)->replica == replica) {
      current = std::max(current, std::prev(after)->counter);
    }
    const Dot dot{replica, current + 1};
    add_to_context(dot);
    return dot;
  }

  void add_to_context(const Dot& dot) {
    const auto found = version_vector_.find(dot.replica);
    const std::uint64_t counter = found == version_vector_.end() ? 0 : found->second;
    if (dot.counter == counter + 1) {
      version_vector_[dot.replica] = dot.counter;
      compact();
    } else if (dot.counter > counter) {
      dot_cloud_.insert(dot);
    }
  }

  void compact() {
    for (auto it = dot_cloud_.begin(); it != dot_cloud_.end();) {
      auto& counter = version_vector_[it->replica];
      if (it->counter <= counter + 1) {
        counter = std::max(counter, it->counter);
        it = dot_cloud_.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(version_vector_, [](const auto& entry) { return entry.second == 0; });
  }

  // Keeps the dots on both sides, and those of one side the other's context
  // has not seen.
  void merge_dots(std::set<Dot>& mine, const std::set<Dot>& theirs, const BaselineORSet& other) {
    std::erase_if(
        mine, [&](const Dot& dot) { return !theirs.contains(dot) && other.context_contains(dot); });
    for (const Dot& dot : theirs) {
      if (!context_contains(dot)) {
        mine.insert(dot);
      }
    }
  }

  std::map<std::string, std::set<Dot>, std::less<>> entries_;
  std::map<ReplicaId, std::uint64_t> version_vector_;
  std::set<Dot> dot_cloud_;
};

}  // namespace crdtsim::bench
