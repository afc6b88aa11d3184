#pragma once
// ORSet: an add-wins observed-remove set of strings, in the optimized,
// tombstone-free form of Bieniusa et al., "An optimized conflict-free
// replicated set" (2012), with the delta mutators of the AWORSet in Almeida,
// Shoker and Baquero, "Delta State Replicated Data Types" (2018), section 7.
//
// State: a set of (element, dot) entries, one per live add, and a causal
// context holding every dot this replica has seen. An element is in the set
// while it has at least one entry. Removing an element drops its entries and
// leaves nothing behind but the dots already in the context, so a removed
// element costs no per-element tombstone.
//
// Meaning of merge (the whole semantics): an entry survives if both sides hold
// it, or if one side holds it and the other side's context has not seen its
// dot (the other side has not removed it; it just has not heard of it). An add
// concurrent with a remove therefore survives (add wins), and a remove only
// removes the adds it observed.

#include <absl/base/config.h>
#include <absl/container/btree_set.h>
#include <absl/types/compare.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/codec/hash.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/types.h"

// ORSetEntries::Tree names absl's internal B-tree parameters (to set the node
// size); those are not a stable API. Re-check the alias against
// absl/container/btree_set.h before moving to another absl release.
#if ABSL_LTS_RELEASE_VERSION != 20220623
#error "ORSet::Entries is written against absl 20220623 (Debian 12); re-check it"
#endif

namespace crdtsim::core {

// One live add: `element` was added by the event `dot`. `hash` is
// hash64(element) (XXH3-64, the same on every build), kept so that ordering
// entries costs one integer compare in all but hash-collision cases.
struct ORSetEntry {
  std::string element;
  Dot dot;
  std::uint64_t hash = 0;

  friend bool operator==(const ORSetEntry&, const ORSetEntry&) = default;
};

// Entries are ordered by (hash64(element), element, dot): a canonical total
// order (the hash is a fixed function of the bytes, so the order is the same on
// every machine), in which the dots of one element are adjacent and both sides
// of a merge can be walked in one sorted pass. Comparing the stored 64-bit
// hashes first makes a search step one integer compare; element bytes are
// compared only on equal hashes. The order is three-way (absl::weak_ordering)
// and transparent, so lookups by string_view never allocate. Nodes are searched
// linearly (absl's documented opt-in): a forward scan touches cache lines in
// order.
struct ORSetEntryOrder {
  using is_transparent = void;
  using absl_btree_prefer_linear_node_search = std::true_type;

  struct Key {
    std::uint64_t hash;
    std::string_view element;
    Dot dot;
  };

  static absl::weak_ordering compare(std::uint64_t left_hash, std::string_view left_element,
                                     const Dot& left_dot, std::uint64_t right_hash,
                                     std::string_view right_element, const Dot& right_dot) {
    if (left_hash != right_hash) {
      return left_hash < right_hash ? absl::weak_ordering::less : absl::weak_ordering::greater;
    }
    const int by_element = left_element.compare(right_element);
    if (by_element != 0) {
      return by_element < 0 ? absl::weak_ordering::less : absl::weak_ordering::greater;
    }
    if (left_dot == right_dot) {
      return absl::weak_ordering::equivalent;
    }
    return left_dot < right_dot ? absl::weak_ordering::less : absl::weak_ordering::greater;
  }

  absl::weak_ordering operator()(const ORSetEntry& left, const ORSetEntry& right) const {
    return compare(left.hash, left.element, left.dot, right.hash, right.element, right.dot);
  }
  absl::weak_ordering operator()(const ORSetEntry& left, const Key& right) const {
    return compare(left.hash, left.element, left.dot, right.hash, right.element, right.dot);
  }
  absl::weak_ordering operator()(const Key& left, const ORSetEntry& right) const {
    return compare(left.hash, left.element, left.dot, right.hash, right.element, right.dot);
  }
};

// The entries of one ORSet, sorted by ORSetEntryOrder: a read-only sequence
// (range-for, begin/end, size, empty, ==) over either one inline entry or a
// B-tree. Every add delta holds exactly one entry; keeping it inline spares the
// delta a tree node (a heap allocation and a free per add). The first
// mutation through tree() moves an inline entry into the tree.
class ORSetEntries {
 public:
  // absl::btree_set<ORSetEntry, ORSetEntryOrder> with 1024-byte nodes instead
  // of absl's fixed 256: eighteen 56-byte slots per node instead of four, so a
  // 100,000-entry set is about three levels shallower (fewer cache misses per
  // search; measured 170 against 190 ns per lookup for 512-byte nodes) and
  // needs fewer node headers and child pointers per entry. The public
  // btree_set template has no node-size parameter, so this spells out its
  // definition with absl's internal set_params; it is pinned to the absl
  // release it was written against (see the check at the top of this file).
  static constexpr int kNodeBytes = 1024;
  using Tree = absl::container_internal::btree_set_container<
      absl::container_internal::btree<absl::container_internal::set_params<
          ORSetEntry, ORSetEntryOrder, std::allocator<ORSetEntry>, kNodeBytes,
          /*IsMulti=*/false>>>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = ORSetEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = const ORSetEntry*;
    using reference = const ORSetEntry&;

    const_iterator() = default;
    reference operator*() const { return inline_entry_ != nullptr ? *inline_entry_ : *tree_it_; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (inline_entry_ != nullptr) {
        inline_entry_ = nullptr;
      } else {
        ++tree_it_;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator&, const const_iterator&) = default;

   private:
    friend class ORSetEntries;
    const_iterator(Tree::const_iterator tree_it, const ORSetEntry* inline_entry)
        : tree_it_(tree_it), inline_entry_(inline_entry) {}

    // In inline mode `tree_it_` is the (empty) tree's end and `inline_entry_`
    // points at the entry until the iterator passes it.
    Tree::const_iterator tree_it_;
    const ORSetEntry* inline_entry_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = ORSetEntry;
  using size_type = std::size_t;

  ORSetEntries() = default;
  // Requires nothing: an entries sequence of exactly `entry`, held inline.
  explicit ORSetEntries(ORSetEntry entry) : inline_(std::move(entry)) {}

  const_iterator begin() const {
    return {tree_.begin(), inline_.has_value() ? &*inline_ : nullptr};
  }
  const_iterator end() const { return {tree_.end(), nullptr}; }
  std::size_t size() const { return inline_.has_value() ? 1 : tree_.size(); }
  bool empty() const { return !inline_.has_value() && tree_.empty(); }

  // The first entry not less than `key`.
  const_iterator lower_bound(const ORSetEntryOrder::Key& key) const {
    if (inline_.has_value()) {
      const bool before = ORSetEntryOrder{}(*inline_, key) < 0;
      return before ? end() : begin();
    }
    return {tree_.lower_bound(key), nullptr};
  }

  // The tree, for mutation; moves an inline entry into it first.
  Tree& tree() {
    if (inline_.has_value()) {
      assert(tree_.empty());
      tree_.insert(std::move(*inline_));
      inline_.reset();
    }
    return tree_;
  }
  void clear() {
    inline_.reset();
    tree_.clear();
  }

  friend bool operator==(const ORSetEntries& left, const ORSetEntries& right) {
    return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin());
  }

 private:
  // Invariant: when `inline_` holds an entry, `tree_` is empty.
  Tree tree_;
  std::optional<ORSetEntry> inline_;
};

class ORSet {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kORSet;
  // Version 2: entries ordered by (hash64(element), element, dot); version 1
  // ordered them by (element, dot).
  static constexpr std::uint8_t kEncodingVersion = 2;

  // Bounds: an element is at most 1 MiB; a set holds at most 2^32 entries.
  static constexpr std::size_t kElementBytesMax = std::size_t{1} << 20;
  static constexpr std::size_t kEntriesMax = std::size_t{1} << 32;

  using Entries = ORSetEntries;

  // Adds `element` with a fresh dot of `replica`, superseding the element's
  // current entries. Returns the delta: the new entry, and a context of the new
  // dot plus the superseded dots (so merging the delta drops them elsewhere too).
  // Requires: element.size() <= kElementBytesMax.
  ORSet add(ReplicaId replica, std::string_view element);

  // Removes the adds of `element` this replica has observed. Returns the delta:
  // no entries, a context of the removed dots. Adds not yet observed here
  // (concurrent ones) survive the remove wherever it is merged.
  ORSet remove(std::string_view element);

  // Removes every observed element. Returns the delta: no entries and this
  // replica's whole causal context, which names every removed dot and is
  // usually smaller than listing them because the context is compacted.
  ORSet clear();

  // Join: see the header comment. Linear in the size of both states: both
  // entry sequences are walked once, in order.
  void merge(const ORSet& other);

  bool contains(std::string_view element) const;
  // The number of distinct elements.
  std::size_t size() const { return element_count_; }
  bool empty() const { return entries_.empty(); }
  // The distinct elements, sorted ascending bytewise (entries() is in hash
  // order; this sorts).
  std::vector<std::string> elements() const;

  const Entries& entries() const { return entries_; }
  const CausalContext& context() const { return context_; }

  // Layout: the context, then the entry count and each entry (element string,
  // dot), strictly increasing by (hash64(element), element, dot). The hash is
  // not encoded: decode recomputes it.
  void encode_body(Encoder& encoder) const;
  // Rejects a bad context, unsorted or duplicate entries, entries whose dot the
  // context does not hold, empty input where an entry is due.
  static ORSet decode_body(Decoder& decoder);

  friend bool operator==(const ORSet& left, const ORSet& right) {
    return left.entries_ == right.entries_ && left.context_ == right.context_;
  }

 private:
  // The range of `element`'s entries: [first, last). `hash` is
  // hash64(element).
  std::pair<Entries::Tree::iterator, Entries::Tree::iterator> element_range(
      std::uint64_t hash, std::string_view element);
  std::size_t count_elements() const;

  Entries entries_;
  CausalContext context_;
  // Distinct elements among `entries_` (kept so that size() is O(1)).
  std::size_t element_count_ = 0;
};

}  // namespace crdtsim::core
