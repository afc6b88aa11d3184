#include "core/crdt/or_set.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace crdtsim::core {

namespace {

// The least dot: below every real dot (counters start at 1), so
// (element, kDotMin) sorts before every entry of `element`.
constexpr Dot kDotMin{0, 0};

// True if `slot` holds `element`, whose hash is `hash`.
bool holds(const ORSetSlot& slot, std::uint64_t hash, std::string_view element) {
  return slot.hash == hash && slot.element() == element;
}

std::weak_ordering compare(const ORSetSlot& left, std::uint64_t right_hash,
                           std::string_view right_element, const Dot& right_dot) {
  return ORSetEntryOrder::compare(left.hash, left.element(), left.dot(), right_hash, right_element,
                                  right_dot);
}

std::weak_ordering compare(const ORSetSlot& left, const ORSetSlot& right) {
  return compare(left, right.hash, right.element(), right.dot());
}

}  // namespace

// ---------------------------------------------------------------------------
// ORSetEntries: the ordered linear-probing table.

ORSetEntries::ORSetEntries(const ORSetEntries& other)
    : table_(other.table_),
      single_(other.single_),
      home_count_(other.home_count_),
      size_(other.size_) {
  // The slots were copied bitwise: give every long element its own bytes.
  ORSetSlot* const first = slots();
  for (ORSetSlot* slot = first; slot != first + slot_count(); ++slot) {
    if (slot->used() && slot->on_heap()) {
      *slot = clone_slot(*slot);
    }
  }
}

ORSetEntries::ORSetEntries(ORSetEntries&& other) noexcept
    : table_(std::move(other.table_)),
      single_(other.single_),
      home_count_(other.home_count_),
      size_(other.size_) {
  other.table_.clear();
  other.single_ = ORSetSlot{};
  other.home_count_ = 1;
  other.size_ = 0;
}

ORSetEntries& ORSetEntries::operator=(const ORSetEntries& other) {
  if (&other != this) {
    ORSetEntries copy(other);
    *this = std::move(copy);
  }
  return *this;
}

ORSetEntries& ORSetEntries::operator=(ORSetEntries&& other) noexcept {
  if (&other != this) {
    clear();
    table_ = std::move(other.table_);
    single_ = other.single_;
    home_count_ = other.home_count_;
    size_ = other.size_;
    other.table_.clear();
    other.single_ = ORSetSlot{};
    other.home_count_ = 1;
    other.size_ = 0;
  }
  return *this;
}

ORSetEntries::~ORSetEntries() {
  clear();
}

bool operator==(const ORSetEntries& left, const ORSetEntries& right) {
  // Equal sequences of entries; where they sit in the tables does not matter.
  if (left.size() != right.size()) {
    return false;
  }
  std::size_t left_position = left.next_used(0);
  std::size_t right_position = right.next_used(0);
  for (std::size_t index = 0; index < left.size(); ++index) {
    assert(left_position < left.slot_count());
    assert(right_position < right.slot_count());
    if (compare(left.slots()[left_position], right.slots()[right_position]) != 0) {
      return false;
    }
    left_position = left.next_used(left_position + 1);
    right_position = right.next_used(right_position + 1);
  }
  return true;
}

std::size_t ORSetEntries::home(std::uint64_t hash) const {
  // floor(hash * home_count / 2^64): monotone in the hash, below home_count.
  __extension__ using Wide = unsigned __int128;
  const auto position = static_cast<std::size_t>((Wide{hash} * Wide{home_count_}) >> 64);
  assert(position < home_count_);
  return position;
}

ORSetSlot ORSetEntries::make_slot(std::uint64_t hash, std::string_view element, const Dot& dot) {
  assert(dot.counter > 0);
  assert(element.size() <= ORSet::kElementBytesMax);
  ORSetSlot slot;
  slot.hash = hash;
  slot.counter = dot.counter;
  slot.replica = dot.replica;
  slot.size = static_cast<std::uint32_t>(element.size());
  if (slot.on_heap()) {
    char* const bytes = new char[element.size()];
    std::memcpy(bytes, element.data(), element.size());
    std::memcpy(slot.storage, &bytes, sizeof bytes);
  } else if (!element.empty()) {
    std::memcpy(slot.storage, element.data(), element.size());
  }
  return slot;
}

ORSetSlot ORSetEntries::clone_slot(const ORSetSlot& slot) {
  if (!slot.on_heap()) {
    return slot;
  }
  return make_slot(slot.hash, slot.element(), slot.dot());
}

void ORSetEntries::release_slot(ORSetSlot& slot) {
  if (slot.on_heap()) {
    delete[] slot.heap_bytes();
  }
  slot = ORSetSlot{};
}

std::size_t ORSetEntries::lower_bound(std::uint64_t hash, std::string_view element,
                                      const Dot& dot) const {
  // Every slot from an entry's home to the entry is used, and homes grow with
  // the hash: no entry at or above the key sits before the key's home, and
  // the run from there holds the lesser entries first.
  const ORSetSlot* const first = slots();
  const std::size_t count = slot_count();
  std::size_t position = home(hash);
  while (position < count && first[position].used() &&
         compare(first[position], hash, element, dot) < 0) {
    ++position;
  }
  return position;
}

std::size_t ORSetEntries::next_used(std::size_t position) const {
  const ORSetSlot* const first = slots();
  const std::size_t count = slot_count();
  while (position < count && !first[position].used()) {
    ++position;
  }
  return position;
}

bool ORSetEntries::has_sibling(std::size_t position) const {
  // Entries of one element share a hash, hence a home, so they fill adjacent
  // slots: a sibling can only be a neighbour.
  const ORSetSlot* const first = slots();
  const ORSetSlot& slot = first[position];
  assert(slot.used());
  const auto sibling = [&](std::size_t neighbour) {
    return first[neighbour].used() && holds(first[neighbour], slot.hash, slot.element());
  };
  return (position > 0 && sibling(position - 1)) ||
         (position + 1 < slot_count() && sibling(position + 1));
}

bool ORSetEntries::has_room_for_one() const {
  if (table_.empty()) {
    return size_ == 0;
  }
  // Load bound 3/4 of the homes.
  return (size_ + 1) * 4 <= home_count_ * 3;
}

bool ORSetEntries::insert_at(std::size_t position, const ORSetSlot& slot) {
  assert(slot.used());
  assert(position >= home(slot.hash));
  ORSetSlot* const first = slots();
  const std::size_t count = slot_count();
  std::size_t unused = position;
  while (unused < count && first[unused].used()) {
    ++unused;
  }
  if (unused == count) {
    return false;
  }
  std::memmove(first + position + 1, first + position, (unused - position) * sizeof(ORSetSlot));
  first[position] = slot;
  ++size_;
  assert(position == 0 || !first[position - 1].used() || compare(first[position - 1], slot) < 0);
  assert(position + 1 == count || !first[position + 1].used() ||
         compare(slot, first[position + 1]) < 0);
  return true;
}

std::size_t ORSetEntries::insert(const ORSetSlot& slot) {
  if (!has_room_for_one()) {
    grow(size_ + 1);
  }
  for (;;) {
    const std::size_t position = lower_bound(slot.hash, slot.element(), slot.dot());
    assert(position == slot_count() || !slots()[position].used() ||
           compare(slots()[position], slot) > 0);
    if (insert_at(position, slot)) {
      return position;
    }
    grow(size_ + 1);
  }
}

void ORSetEntries::erase_at(std::size_t position, std::size_t count) {
  ORSetSlot* const first = slots();
  const std::size_t total = slot_count();
  assert(position + count <= total);
  assert(count <= size_);
  for (std::size_t index = position; index < position + count; ++index) {
    assert(first[index].used());
    release_slot(first[index]);
  }
  size_ -= count;
  // Shift the rest of the run back: each entry moves to its home or next to
  // the entry before it, whichever is later. An entry already there ends it.
  std::size_t unused = position;
  for (std::size_t index = position + count; index < total && first[index].used(); ++index) {
    const std::size_t target = std::max(home(first[index].hash), unused);
    if (target == index) {
      break;
    }
    assert(target < index);
    first[target] = first[index];
    first[index] = ORSetSlot{};
    unused = target + 1;
  }
}

void ORSetEntries::grow(std::size_t entries_min) {
  assert(entries_min >= size_);
  rebuild(std::max({kHomeCountMin, entries_min * 2, home_count_ + home_count_ / 2}));
}

void ORSetEntries::shrink_if_sparse() {
  // Load under 1/8: back to 1/2. Growing needs the load to reach 3/4 again,
  // so alternating adds and removes cannot make every step rebuild.
  if (home_count_ > kHomeCountSparseMin && size_ * 8 < home_count_) {
    rebuild(std::max(kHomeCountMin, size_ * 2));
  }
}

void ORSetEntries::rebuild(std::size_t homes) {
  assert(homes >= kHomeCountMin);
  for (;;) {
    std::vector<ORSetSlot> table(homes + std::min(kSpillSlotsMax, homes / 8 + 2));
    const std::size_t saved_homes = std::exchange(home_count_, homes);
    // Entries in order, each at its home or right after the previous one.
    std::size_t next = 0;
    bool fits = true;
    const ORSetSlot* const first = slots();
    for (const ORSetSlot* slot = first; slot != first + slot_count() && fits; ++slot) {
      if (slot->used()) {
        const std::size_t position = std::max(home(slot->hash), next);
        fits = position < table.size();
        if (fits) {
          table[position] = *slot;
          next = position + 1;
        }
      }
    }
    if (fits) {
      table_ = std::move(table);
      single_ = ORSetSlot{};
      return;
    }
    home_count_ = saved_homes;
    homes *= 2;
  }
}

void ORSetEntries::assign_single(const ORSetSlot& slot) {
  clear();
  single_ = slot;
  size_ = 1;
}

void ORSetEntries::clear() {
  ORSetSlot* const first = slots();
  for (ORSetSlot* slot = first; slot != first + slot_count(); ++slot) {
    if (slot->used()) {
      release_slot(*slot);
    }
  }
  std::vector<ORSetSlot>().swap(table_);
  single_ = ORSetSlot{};
  home_count_ = 1;
  size_ = 0;
}

// ---------------------------------------------------------------------------
// ORSet

std::size_t ORSet::run_of(std::size_t position, std::uint64_t hash,
                          std::string_view element) const {
  const ORSetSlot* const first = entries_.slots();
  const std::size_t count = entries_.slot_count();
  std::size_t end = position;
  while (end < count && first[end].used() && holds(first[end], hash, element)) {
    ++end;
  }
  return end - position;
}

std::size_t ORSet::count_elements() const {
  std::size_t count = 0;
  const ORSetSlot* previous = nullptr;
  const ORSetSlot* const first = entries_.slots();
  for (const ORSetSlot* slot = first; slot != first + entries_.slot_count(); ++slot) {
    if (!slot->used()) {
      continue;
    }
    if (previous == nullptr || !holds(*slot, previous->hash, previous->element())) {
      ++count;
    }
    previous = slot;
  }
  return count;
}

ORSet ORSet::add(ReplicaId replica, std::string_view element, std::uint64_t dot_floor) {
  assert(element.size() <= kElementBytesMax);
  assert(entries_.size() < kEntriesMax);
  // One search from the element's home: its entries start at `position`.
  const std::uint64_t hash = hash64(element);
  if (!entries_.has_room_for_one()) {
    entries_.grow(entries_.size() + 1);
  }
  std::size_t position = entries_.lower_bound(hash, element, kDotMin);
  const std::size_t superseded = run_of(position, hash, element);
  ORSet delta;
  for (std::size_t index = position; index < position + superseded; ++index) {
    delta.context_.add(entries_.slots()[index].dot());
  }
  const bool seeded = context_.seed(replica, dot_floor);
  const Dot dot = context_.next_dot(replica);
  if (seeded) {
    delta.context_.add_through(dot);
  } else {
    delta.context_.add(dot);
  }
  if (superseded > 0) {
    // Reuse the first entry's slot (and its bytes): the element keeps its
    // place, only the dot changes; the other superseded entries go.
    ORSetSlot& kept = entries_.slots()[position];
    kept.counter = dot.counter;
    kept.replica = dot.replica;
    entries_.erase_at(position + 1, superseded - 1);
  } else {
    const ORSetSlot slot = ORSetEntries::make_slot(hash, element, dot);
    if (!entries_.insert_at(position, slot)) {
      position = entries_.insert(slot);
    }
    ++element_count_;
  }
  delta.entries_.assign_single(ORSetEntries::clone_slot(entries_.slots()[position]));
  delta.element_count_ = 1;
  assert(contains(element));
  assert(element_count_ <= entries_.size());
  assert(delta.entries_.size() == 1);
  return delta;
}

ORSet ORSet::remove(std::string_view element) {
  ORSet delta;
  const std::uint64_t hash = hash64(element);
  const std::size_t position = entries_.lower_bound(hash, element, kDotMin);
  const std::size_t removed = run_of(position, hash, element);
  if (removed == 0) {
    return delta;
  }
  for (std::size_t index = position; index < position + removed; ++index) {
    delta.context_.add(entries_.slots()[index].dot());
  }
  entries_.erase_at(position, removed);
  entries_.shrink_if_sparse();
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
  // One sorted pass over both tables. `mine` is the position of this side's
  // next unvisited entry (or slot_count()); erases and inserts keep every
  // unvisited entry at or after it. The element count is kept up to date at
  // each erase and insert (an element's entries sit in adjacent slots).
  std::size_t mine = entries_.next_used(0);
  // Keeps or drops this side's entry at `mine`, which the other side lacks.
  const auto visit_mine_only = [&] {
    if (other.context_.contains(entries_.slots()[mine].dot())) {
      // The other side removed it: its context saw the dot.
      if (!entries_.has_sibling(mine)) {
        --element_count_;
      }
      entries_.erase_at(mine, 1);
      mine = entries_.next_used(mine);
    } else {
      mine = entries_.next_used(mine + 1);
    }
  };
  const ORSetSlot* const theirs_first = other.entries_.slots();
  const ORSetSlot* const theirs_end = theirs_first + other.entries_.slot_count();
  for (const ORSetSlot* theirs = theirs_first; theirs != theirs_end; ++theirs) {
    if (!theirs->used()) {
      continue;
    }
    // One comparison per step: `order` places this side's entry against
    // theirs (greater: theirs comes first, or this side has no more).
    std::weak_ordering order = std::weak_ordering::greater;
    while (mine < entries_.slot_count()) {
      order = compare(entries_.slots()[mine], *theirs);
      if (order >= 0) {
        break;
      }
      visit_mine_only();
      order = std::weak_ordering::greater;
    }
    if (order == 0) {
      // On both sides: kept.
      mine = entries_.next_used(mine + 1);
    } else if (!context_.contains(theirs->dot())) {
      // Only there, and this side has not removed it (its context has not
      // seen the dot).
      insert_before(mine, *theirs);
    }
  }
  while (mine < entries_.slot_count()) {
    visit_mine_only();
  }
  entries_.shrink_if_sparse();
  context_.merge(other.context_);
  assert(entries_.size() <= kEntriesMax);
  assert(element_count_ <= entries_.size());
  assert(element_count_ == count_elements());
}

void ORSet::insert_before(std::size_t& mine, const ORSetSlot& theirs) {
  // `theirs` goes right before this side's next unvisited entry (at `mine`),
  // or into the unused slots before it, as close to its home as they allow.
  const ORSetSlot slot = ORSetEntries::clone_slot(theirs);
  for (;;) {
    if (entries_.has_room_for_one()) {
      const std::size_t home = entries_.home(slot.hash);
      std::size_t position = mine;
      while (position > home && !entries_.slots()[position - 1].used()) {
        --position;
      }
      if (entries_.insert_at(position, slot)) {
        if (!entries_.has_sibling(position)) {
          ++element_count_;
        }
        mine = position == mine ? mine + 1 : mine;
        return;
      }
    }
    // Grow; every entry before `theirs` has been visited, so the next
    // unvisited one is the first entry above it.
    entries_.grow(entries_.size() + 1);
    mine = entries_.next_used(entries_.lower_bound(slot.hash, slot.element(), slot.dot()));
  }
}

bool ORSet::contains(std::string_view element) const {
  const std::uint64_t hash = hash64(element);
  const std::size_t position = entries_.lower_bound(hash, element, kDotMin);
  return position < entries_.slot_count() && entries_.slots()[position].used() &&
         holds(entries_.slots()[position], hash, element);
}

std::vector<Dot> ORSet::dots_of(std::string_view element) const {
  const std::uint64_t hash = hash64(element);
  const std::size_t position = entries_.lower_bound(hash, element, kDotMin);
  const std::size_t count = run_of(position, hash, element);
  std::vector<Dot> dots;
  dots.reserve(count);
  for (std::size_t index = position; index < position + count; ++index) {
    dots.push_back(entries_.slots()[index].dot());
  }
  return dots;
}

std::vector<std::string> ORSet::elements() const {
  std::vector<std::string> result;
  result.reserve(element_count_);
  // An element's entries are adjacent: one pass collects each once.
  const ORSetSlot* previous = nullptr;
  const ORSetSlot* const first = entries_.slots();
  for (const ORSetSlot* slot = first; slot != first + entries_.slot_count(); ++slot) {
    if (!slot->used()) {
      continue;
    }
    if (previous == nullptr || !holds(*slot, previous->hash, previous->element())) {
      result.emplace_back(slot->element());
    }
    previous = slot;
  }
  assert(result.size() == element_count_);
  std::sort(result.begin(), result.end());
  assert(std::adjacent_find(result.begin(), result.end()) == result.end());
  return result;
}

void ORSet::encode_body(Encoder& encoder) const {
  context_.encode_body(encoder);
  encoder.varint(entries_.size());
  const ORSetSlot* const first = entries_.slots();
  for (const ORSetSlot* slot = first; slot != first + entries_.slot_count(); ++slot) {
    if (slot->used()) {
      encoder.string(slot->element());
      slot->dot().encode_body(encoder);
    }
  }
}

ORSet ORSet::decode_body(Decoder& decoder) {
  ORSet set;
  decode_body(decoder, set);
  return set;
}

void ORSet::decode_body(Decoder& decoder, ORSet& set) {
  CausalContext::decode_body(decoder, set.context_);
  // An entry takes at least 3 bytes: an empty string and a two-byte dot.
  const std::size_t entry_count = decoder.count(3);
  if (entry_count > 1) {
    // Room for the declared entries at load 3/4 (the count is bounded by the
    // input's size).
    set.entries_.rebuild(std::max(ORSetEntries::kHomeCountMin, entry_count * 4 / 3 + 1));
  }
  std::size_t last = 0;
  for (std::size_t index = 0; index < entry_count && decoder.ok(); ++index) {
    const std::string element = decoder.string();
    const Dot dot = Dot::decode_body(decoder);
    if (!decoder.ok()) {
      break;
    }
    const std::uint64_t hash = hash64(element);
    if (element.size() > kElementBytesMax) {
      decoder.fail("element of " + std::to_string(element.size()) + " bytes exceeds the " +
                   std::to_string(kElementBytesMax) + "-byte bound");
    } else if (!set.entries_.empty() &&
               compare(set.entries_.slots()[last], hash, element, dot) >= 0) {
      decoder.fail("entries not strictly increasing by (hash64(element), element, dot)");
    } else if (!set.context_.contains(dot)) {
      decoder.fail("entry dot (" + std::to_string(dot.replica) + ", " +
                   std::to_string(dot.counter) + ") is not in the causal context");
    } else {
      last = set.entries_.insert(ORSetEntries::make_slot(hash, element, dot));
    }
  }
  set.element_count_ = set.count_elements();
}

}  // namespace crdtsim::core
