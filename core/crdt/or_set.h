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

#include <cassert>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
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

namespace crdtsim::core {

// One live add: `element` was added by the event `dot`. `hash` is
// hash64(element) (XXH3-64, the same on every build). This is the public view
// of an entry; the set stores entries in the compact ORSetSlot form.
struct ORSetEntry {
  std::string element;
  Dot dot;
  std::uint64_t hash = 0;

  friend bool operator==(const ORSetEntry&, const ORSetEntry&) = default;
};

// Entries are ordered by (hash64(element), element, dot): a canonical total
// order (the hash is a fixed function of the bytes, so the order is the same on
// every machine), in which the dots of one element are adjacent and both sides
// of a merge can be walked in one sorted pass. Element bytes are compared only
// on equal hashes.
struct ORSetEntryOrder {
  static std::weak_ordering compare(std::uint64_t left_hash, std::string_view left_element,
                                    const Dot& left_dot, std::uint64_t right_hash,
                                    std::string_view right_element, const Dot& right_dot) {
    if (left_hash != right_hash) {
      return left_hash < right_hash ? std::weak_ordering::less : std::weak_ordering::greater;
    }
    const int by_element = left_element.compare(right_element);
    if (by_element != 0) {
      return by_element < 0 ? std::weak_ordering::less : std::weak_ordering::greater;
    }
    if (left_dot == right_dot) {
      return std::weak_ordering::equivalent;
    }
    return left_dot < right_dot ? std::weak_ordering::less : std::weak_ordering::greater;
  }

  std::weak_ordering operator()(const ORSetEntry& left, const ORSetEntry& right) const {
    return compare(left.hash, left.element, left.dot, right.hash, right.element, right.dot);
  }
};

// One entry as the set stores it: 40 bytes and trivially copyable, so the
// table moves entries with memmove and never runs string code to do it.
// Elements of up to kInlineBytes bytes live in the slot; a longer element lives
// in a heap block that the owning ORSetEntries allocates and frees (a slot
// itself owns nothing). An unused table slot has counter 0 (no dot has).
struct ORSetSlot {
  static constexpr std::size_t kInlineBytes = 16;

  std::uint64_t hash = 0;
  std::uint64_t counter = 0;  // the dot's counter; 0: an unused slot
  ReplicaId replica = 0;      // the dot's replica
  std::uint32_t size = 0;     // element bytes
  // The element's bytes if size <= kInlineBytes, else a `char*` to them.
  char storage[kInlineBytes] = {};

  bool used() const { return counter != 0; }
  Dot dot() const { return Dot{replica, counter}; }
  bool on_heap() const { return size > kInlineBytes; }
  const char* heap_bytes() const {
    const char* bytes = nullptr;
    std::memcpy(&bytes, storage, sizeof bytes);
    return bytes;
  }
  std::string_view element() const { return {on_heap() ? heap_bytes() : storage, size}; }
};
static_assert(std::is_trivially_copyable_v<ORSetSlot>);
static_assert(sizeof(ORSetSlot) == 40);

// The entries of one ORSet, sorted by ORSetEntryOrder: a read-only sequence
// (range-for, begin/end, size, empty, ==) over a table of ORSetSlots that is
// kept in that order: an ordered, tombstone-free linear-probing table.
//
// Layout: an entry whose hash is h has the home position
// floor(h * home_count / 2^64), a monotone function of the hash, and sits at or
// after its home with every slot from its home up to it in use; unused slots
// may lie between runs. Because homes are monotone in the hash, the used slots
// read left to right are the entries in order, so a merge or an encode walks
// the table once, and a search starts at the entry's home and scans a few
// adjacent slots (one or two cache lines) instead of descending a tree. Inserts
// shift the rest of a run right by one slot; erases shift it back.
//
// The smallest table is the one slot held inside the object: an add delta's
// single entry costs no heap allocation.
class ORSetEntries {
 public:
  // Iterates the entries in order. Dereferencing yields an ORSetEntry by value
  // (built from the slot), so a reference to it lasts only as long as the
  // full expression or range-for body that holds it.
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = ORSetEntry;
    using difference_type = std::ptrdiff_t;
    using reference = ORSetEntry;
    struct pointer {
      ORSetEntry entry;
      const ORSetEntry* operator->() const { return &entry; }
    };

    const_iterator() = default;
    ORSetEntry operator*() const {
      return ORSetEntry{std::string(slot_->element()), slot_->dot(), slot_->hash};
    }
    pointer operator->() const { return pointer{**this}; }
    const_iterator& operator++() {
      slot_ = next_used(slot_ + 1, end_);
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator& left, const const_iterator& right) {
      return left.slot_ == right.slot_;
    }

   private:
    friend class ORSetEntries;
    const_iterator(const ORSetSlot* slot, const ORSetSlot* end)
        : slot_(next_used(slot, end)), end_(end) {}
    static const ORSetSlot* next_used(const ORSetSlot* slot, const ORSetSlot* end) {
      while (slot != end && !slot->used()) {
        ++slot;
      }
      return slot;
    }

    const ORSetSlot* slot_ = nullptr;
    const ORSetSlot* end_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = ORSetEntry;
  using size_type = std::size_t;

  ORSetEntries() = default;
  // Copies own their own heap element bytes: nothing is shared.
  ORSetEntries(const ORSetEntries& other);
  ORSetEntries(ORSetEntries&& other) noexcept;
  ORSetEntries& operator=(const ORSetEntries& other);
  ORSetEntries& operator=(ORSetEntries&& other) noexcept;
  ~ORSetEntries();

  const_iterator begin() const { return {slots(), slots() + slot_count()}; }
  const_iterator end() const { return {slots() + slot_count(), slots() + slot_count()}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  friend bool operator==(const ORSetEntries& left, const ORSetEntries& right);

 private:
  friend class ORSet;

  // Extra slots past the last home position, where the runs that start near
  // the end spill over: homes / 8 + 2, at most kSpillSlotsMax (so a small
  // table stays small). A run that would spill past them grows the table.
  static constexpr std::size_t kSpillSlotsMax = 32;
  static constexpr std::size_t kHomeCountMin = 8;
  // Tables this small are never shrunk.
  static constexpr std::size_t kHomeCountSparseMin = 64;

  ORSetSlot* slots() { return table_.empty() ? &single_ : table_.data(); }
  const ORSetSlot* slots() const { return table_.empty() ? &single_ : table_.data(); }
  std::size_t slot_count() const { return table_.empty() ? 1 : table_.size(); }
  std::size_t home(std::uint64_t hash) const;

  // A slot holding (hash, element, dot), with a heap copy of a long element.
  static ORSetSlot make_slot(std::uint64_t hash, std::string_view element, const Dot& dot);
  // A slot equal to `slot`, with its own heap copy of a long element.
  static ORSetSlot clone_slot(const ORSetSlot& slot);
  static void release_slot(ORSetSlot& slot);

  // The position of the first entry not less than (hash, element, dot), or of
  // the unused slot (or slot_count()) where such an entry would go.
  std::size_t lower_bound(std::uint64_t hash, std::string_view element, const Dot& dot) const;
  // The first used position at or after `position`, or slot_count().
  std::size_t next_used(std::size_t position) const;
  // True if a neighbour of the used slot at `position` holds the same element.
  bool has_sibling(std::size_t position) const;
  // True if one more entry fits under the load bound without growing.
  bool has_room_for_one() const;

  // Stores `slot` at `position`, shifting the run from there right by one.
  // Requires: `position` is where lower_bound places `slot`, or an unused slot
  // between the previous entry and it that is at or after the slot's home.
  // Returns false, changing nothing, if the run would spill past the table.
  // Takes ownership of the slot's heap bytes on success.
  bool insert_at(std::size_t position, const ORSetSlot& slot);
  // Inserts `slot` (taking ownership) wherever it belongs, growing as needed;
  // returns its position. Requires: no equal entry.
  std::size_t insert(const ORSetSlot& slot);
  // Erases the `count` entries at [position, position + count) (all used) and
  // shifts the rest of the run back toward its homes.
  void erase_at(std::size_t position, std::size_t count);
  // Rebuilds the table with room for `entries_min` entries at load <= 1/2,
  // and at least 1.5 times the current homes.
  void grow(std::size_t entries_min);
  // Rebuilds a large table that is mostly unused at load 1/2.
  void shrink_if_sparse();
  // Moves every entry into a new table of at least `homes` homes (more if the
  // entries would spill past its end).
  void rebuild(std::size_t homes);
  // Stores a one-entry sequence of `slot` (taking ownership) in the inline slot.
  void assign_single(const ORSetSlot& slot);
  void clear();

  // Empty: the table is `single_` alone (one home, no spill slots).
  std::vector<ORSetSlot> table_;
  ORSetSlot single_;
  std::size_t home_count_ = 1;
  std::size_t size_ = 0;
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
  // With tombstone GC, `dot_floor` is the writer's dot floor: if the context
  // holds no dot of `replica`, it is seeded first (CausalContext::seed) and
  // the delta's context carries the seed.
  // Requires: element.size() <= kElementBytesMax.
  ORSet add(ReplicaId replica, std::string_view element, std::uint64_t dot_floor = 0);

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
  // The dots of `element`'s entries (empty if absent), ascending.
  std::vector<Dot> dots_of(std::string_view element) const;
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
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, ORSet& out);

  friend bool operator==(const ORSet& left, const ORSet& right) {
    return left.entries_ == right.entries_ && left.context_ == right.context_;
  }

 private:
  // The number of entries of `element` (hash64(element) is `hash`) from
  // `position` on.
  std::size_t run_of(std::size_t position, std::uint64_t hash, std::string_view element) const;
  std::size_t count_elements() const;
  // Merge's insert of an entry only the other side holds, before this side's
  // next unvisited entry at `mine` (updated if the entries move).
  void insert_before(std::size_t& mine, const ORSetSlot& theirs);

  Entries entries_;
  CausalContext context_;
  // Distinct elements among `entries_` (kept so that size() is O(1)).
  std::size_t element_count_ = 0;
};

}  // namespace crdtsim::core
