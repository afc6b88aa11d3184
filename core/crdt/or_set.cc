#include "core/crdt/or_set.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace crdtsim::core {

namespace {

// The least dot: below every real dot (counters start at 1), so
// (element, kDotMin) sorts before every entry of `element`.
constexpr Dot kDotMin{0, 0};

// True if `entry` holds `element`, whose hash is `hash`.
bool holds(const ORSetEntry& entry, std::uint64_t hash, std::string_view element) {
  return entry.hash == hash && entry.element == element;
}

}  // namespace

std::pair<ORSet::Entries::Tree::iterator, ORSet::Entries::Tree::iterator> ORSet::element_range(
    std::uint64_t hash, std::string_view element) {
  assert(hash == hash64(element));
  Entries::Tree& tree = entries_.tree();
  const auto first = tree.lower_bound(ORSetEntryOrder::Key{hash, element, kDotMin});
  auto last = first;
  while (last != tree.end() && holds(*last, hash, element)) {
    ++last;
  }
  return {first, last};
}

std::size_t ORSet::count_elements() const {
  std::size_t count = 0;
  const ORSetEntry* previous = nullptr;
  for (const ORSetEntry& entry : entries_) {
    if (previous == nullptr || !holds(entry, previous->hash, previous->element)) {
      ++count;
    }
    previous = &entry;
  }
  return count;
}

ORSet ORSet::add(ReplicaId replica, std::string_view element) {
  assert(element.size() <= kElementBytesMax);
  assert(entries_.size() < kEntriesMax);
  // One tree search: the element's entries start at `first`; the new entry
  // goes where they were (or where the element belongs), inserted by hint.
  const std::uint64_t hash = hash64(element);
  auto [first, last] = element_range(hash, element);
  const bool was_present = first != last;
  ORSet delta;
  for (auto it = first; it != last; ++it) {
    delta.context_.add(it->dot);
  }
  const Dot dot = context_.next_dot(replica);
  delta.context_.add(dot);
  ORSetEntry entry{std::string(element), dot, hash};
  delta.entries_ = Entries(entry);
  delta.element_count_ = 1;
  Entries::Tree& tree = entries_.tree();
  if (was_present) {
    first = tree.erase(first, last);
  } else {
    ++element_count_;
  }
  tree.insert(first, std::move(entry));
  assert(contains(element));
  assert(element_count_ <= entries_.size());
  assert(delta.entries_.size() == 1);
  return delta;
}

ORSet ORSet::remove(std::string_view element) {
  ORSet delta;
  const auto [first, last] = element_range(hash64(element), element);
  if (first == last) {
    return delta;
  }
  for (auto it = first; it != last; ++it) {
    delta.context_.add(it->dot);
  }
  entries_.tree().erase(first, last);
  assert(element_count_ > 0);
  --element_count_;
  assert(!contains(element));
  return delta;
}

ORSet ORSet::clear() {
  ORSet delta;
  delta.context_ = context_;
  entries_.clear();
  element_count_ = 0;
  assert(delta.entries_.empty());
  return delta;
}

void ORSet::merge(const ORSet& other) {
  if (&other == this) {
    return;
  }
  // One sorted pass over both entry sequences. `mine` is always a valid
  // iterator: erase and insert return one.
  bool changed = false;
  Entries::Tree& tree = entries_.tree();
  auto mine = tree.begin();
  auto theirs = other.entries_.begin();
  const auto theirs_end = other.entries_.end();
  const ORSetEntryOrder order;
  while (theirs != theirs_end || mine != tree.end()) {
    const bool mine_first =
        theirs == theirs_end || (mine != tree.end() && order(*mine, *theirs) < 0);
    if (mine_first) {
      // Only here: the other side removed it if its context saw the dot.
      if (other.context_.contains(mine->dot)) {
        mine = tree.erase(mine);
        changed = true;
      } else {
        ++mine;
      }
      continue;
    }
    const bool theirs_first = mine == tree.end() || order(*theirs, *mine) < 0;
    if (theirs_first) {
      // Only there: this side removed it if its context saw the dot.
      if (!context_.contains(theirs->dot)) {
        mine = std::next(tree.insert(mine, *theirs));
        changed = true;
      }
      ++theirs;
      continue;
    }
    // On both sides: kept.
    ++mine;
    ++theirs;
  }
  context_.merge(other.context_);
  if (changed) {
    element_count_ = count_elements();
  }
  assert(entries_.size() <= kEntriesMax);
  assert(element_count_ <= entries_.size());
}

bool ORSet::contains(std::string_view element) const {
  const std::uint64_t hash = hash64(element);
  const auto first = entries_.lower_bound(ORSetEntryOrder::Key{hash, element, kDotMin});
  return first != entries_.end() && holds(*first, hash, element);
}

std::vector<std::string> ORSet::elements() const {
  std::vector<std::string> result;
  result.reserve(element_count_);
  // An element's entries are adjacent: one pass collects each once.
  const ORSetEntry* previous = nullptr;
  for (const ORSetEntry& entry : entries_) {
    if (previous == nullptr || !holds(entry, previous->hash, previous->element)) {
      result.push_back(entry.element);
    }
    previous = &entry;
  }
  assert(result.size() == element_count_);
  std::sort(result.begin(), result.end());
  assert(std::adjacent_find(result.begin(), result.end()) == result.end());
  return result;
}

void ORSet::encode_body(Encoder& encoder) const {
  context_.encode_body(encoder);
  encoder.varint(entries_.size());
  for (const ORSetEntry& entry : entries_) {
    encoder.string(entry.element);
    entry.dot.encode_body(encoder);
  }
}

ORSet ORSet::decode_body(Decoder& decoder) {
  ORSet set;
  set.context_ = CausalContext::decode_body(decoder);
  // An entry takes at least 3 bytes: an empty string and a two-byte dot.
  const std::size_t entry_count = decoder.count(3);
  const ORSetEntryOrder order;
  for (std::size_t index = 0; index < entry_count && decoder.ok(); ++index) {
    ORSetEntry entry;
    entry.element = decoder.string();
    entry.dot = Dot::decode_body(decoder);
    if (!decoder.ok()) {
      break;
    }
    entry.hash = hash64(entry.element);
    if (entry.element.size() > kElementBytesMax) {
      decoder.fail("element of " + std::to_string(entry.element.size()) + " bytes exceeds the " +
                   std::to_string(kElementBytesMax) + "-byte bound");
    } else if (!set.entries_.empty() && order(*set.entries_.tree().rbegin(), entry) >= 0) {
      decoder.fail("entries not strictly increasing by (hash64(element), element, dot)");
    } else if (!set.context_.contains(entry.dot)) {
      decoder.fail("entry dot (" + std::to_string(entry.dot.replica) + ", " +
                   std::to_string(entry.dot.counter) + ") is not in the causal context");
    } else {
      Entries::Tree& tree = set.entries_.tree();
      tree.insert(tree.end(), std::move(entry));
    }
  }
  set.element_count_ = set.count_elements();
  return set;
}

}  // namespace crdtsim::core
