#include "core/crdt/causal_counter.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <string>
#include <utility>

namespace crdtsim::core {

namespace {

constexpr std::uint64_t kCounterMax = std::numeric_limits<std::uint64_t>::max();

// Whether an accumulated total can take `amount` more: the one overflow test
// of increment(), decrement() and their can_ checks.
bool total_fits(std::uint64_t total, std::uint64_t amount) {
  return total <= kCounterMax - amount;
}
constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

// A 128-bit two's complement number: high * 2^64 + low, `high` signed. The
// sums of at most 2^32 entries keep `high` far from overflowing.
struct Wide {
  std::int64_t high = 0;
  std::uint64_t low = 0;
};

void add_unsigned(Wide& wide, std::uint64_t value) {
  const std::uint64_t before = wide.low;
  wide.low += value;  // modulo 2^64, the carry goes to `high`
  if (wide.low < before) {
    ++wide.high;
  }
}

void subtract_unsigned(Wide& wide, std::uint64_t value) {
  const std::uint64_t before = wide.low;
  wide.low -= value;  // modulo 2^64, the borrow comes from `high`
  if (wide.low > before) {
    --wide.high;
  }
}

bool fits_int64(const Wide& wide) {
  return (wide.high == 0 && wide.low < kSignBit) || (wide.high == -1 && wide.low >= kSignBit);
}

Wide exact_sum(const CausalCounter::Entries& entries) {
  Wide sum;
  for (const auto& [dot, pair] : entries) {
    add_unsigned(sum, pair.increments);
    subtract_unsigned(sum, pair.decrements);
  }
  return sum;
}

Dot first_dot_of(ReplicaId replica) {
  return Dot{replica, 0};
}

}  // namespace

CounterPair CausalCounter::accumulated(ReplicaId replica) const {
  const std::optional<Dot> dot = live_dot(replica);
  if (!dot.has_value()) {
    return CounterPair{};
  }
  return entries_.at(*dot);
}

std::optional<Dot> CausalCounter::live_dot(ReplicaId replica) const {
  // Sorted by (replica, counter): the last entry below the next replica's
  // first dot is this replica's newest, if it belongs to this replica.
  auto after = entries_.end();
  if (replica != std::numeric_limits<ReplicaId>::max()) {
    after = entries_.lower_bound(first_dot_of(replica + 1));
  }
  if (after == entries_.begin()) {
    return std::nullopt;
  }
  const Dot& last = std::prev(after)->first;
  if (last.replica != replica) {
    return std::nullopt;
  }
  return last;
}

CausalCounter CausalCounter::supersede(ReplicaId replica, const CounterPair& pair,
                                       std::uint64_t dot_floor) {
  CausalCounter delta;
  // At its own replica there is at most one; elsewhere stale ones may linger
  // until that replica's context arrives, and all of them go.
  auto first = entries_.lower_bound(first_dot_of(replica));
  auto last = first;
  while (last != entries_.end() && last->first.replica == replica) {
    delta.context_.add(last->first);
    ++last;
  }
  entries_.erase(first, last);
  const bool seeded = context_.seed(replica, dot_floor);
  const Dot dot = context_.next_dot(replica);
  if (seeded) {
    delta.context_.add_through(dot);
  } else {
    delta.context_.add(dot);
  }
  entries_.emplace(dot, pair);
  delta.entries_.emplace(dot, pair);
  assert(live_dot(replica) == dot);
  assert(delta.context_.contains(dot));
  return delta;
}

bool CausalCounter::can_increment(ReplicaId replica, std::uint64_t amount) const {
  return total_fits(accumulated(replica).increments, amount);
}

bool CausalCounter::can_decrement(ReplicaId replica, std::uint64_t amount) const {
  return total_fits(accumulated(replica).decrements, amount);
}

std::optional<CausalCounter> CausalCounter::increment(ReplicaId replica, std::uint64_t amount,
                                                      std::uint64_t dot_floor) {
  CounterPair pair = accumulated(replica);
  if (!total_fits(pair.increments, amount)) {
    return std::nullopt;
  }
  pair.increments += amount;
  return supersede(replica, pair, dot_floor);
}

std::optional<CausalCounter> CausalCounter::decrement(ReplicaId replica, std::uint64_t amount,
                                                      std::uint64_t dot_floor) {
  CounterPair pair = accumulated(replica);
  if (!total_fits(pair.decrements, amount)) {
    return std::nullopt;
  }
  pair.decrements += amount;
  return supersede(replica, pair, dot_floor);
}

CausalCounter CausalCounter::reset() {
  CausalCounter delta;
  delta.context_ = context_;
  entries_.clear();
  assert(empty());
  assert(delta.entries_.empty());
  return delta;
}

void CausalCounter::merge(const CausalCounter& other) {
  merge_changed(other);
}

bool CausalCounter::merge_changed(const CausalCounter& other) {
  if (&other == this) {
    return false;
  }
  // Every dot of other's entries is in other's context: when this context
  // holds all of other's, no entry of other's is new here and the context
  // stays as it is.
  const bool context_grows = !context_.includes(other.context_);
  bool changed = context_grows;
  // This side's entries, in place: a dot on both sides keeps the per-field
  // maximum; a dot only here goes if other's context saw it (other removed
  // it), else stays.
  Entries::sequence_type entries = entries_.extract_sequence();
  std::size_t kept = 0;
  for (std::size_t index = 0; index < entries.size(); ++index) {
    auto& [dot, pair] = entries[index];
    const auto theirs = other.entries_.find(dot);
    if (theirs != other.entries_.end()) {
      if (pair.increments < theirs->second.increments) {
        pair.increments = theirs->second.increments;
        changed = true;
      }
      if (pair.decrements < theirs->second.decrements) {
        pair.decrements = theirs->second.decrements;
        changed = true;
      }
    } else if (other.context_.contains(dot)) {
      changed = true;
      continue;
    }
    if (kept != index) {
      entries[kept] = entries[index];
    }
    ++kept;
  }
  entries.resize(kept);
  entries_.adopt_sequence(boost::container::ordered_unique_range, std::move(entries));
  if (!context_grows) {
    return changed;
  }
  // Other's entries this side has not seen (nor removed) join it; the
  // context checked is this side's before the merge.
  for (const auto& entry : other.entries_) {
    if (!context_.contains(entry.first)) {
      entries_.insert(entry);
    }
  }
  context_.merge(other.context_);
  return true;
}

std::int64_t CausalCounter::value() const {
  const Wide sum = exact_sum(entries_);
  if (fits_int64(sum)) {
    // Two's complement reinterpretation of the low word (defined in C++20).
    return static_cast<std::int64_t>(sum.low);
  }
  return sum.high < 0 ? std::numeric_limits<std::int64_t>::min()
                      : std::numeric_limits<std::int64_t>::max();
}

std::optional<std::int64_t> CausalCounter::exact_value() const {
  const Wide sum = exact_sum(entries_);
  if (!fits_int64(sum)) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(sum.low);
}

void CausalCounter::encode_body(Encoder& encoder) const {
  context_.encode_body(encoder);
  encoder.varint(entries_.size());
  for (const auto& [dot, pair] : entries_) {
    dot.encode_body(encoder);
    encoder.varint(pair.increments);
    encoder.varint(pair.decrements);
  }
}

CausalCounter CausalCounter::decode_body(Decoder& decoder) {
  CausalCounter counter;
  decode_body(decoder, counter);
  return counter;
}

void CausalCounter::decode_body(Decoder& decoder, CausalCounter& counter) {
  CausalContext::decode_body(decoder, counter.context_);
  // An entry takes at least 4 bytes: a two-byte dot and two varints.
  const std::size_t entry_count = decoder.count(4);
  for (std::size_t index = 0; index < entry_count && decoder.ok(); ++index) {
    const Dot dot = Dot::decode_body(decoder);
    CounterPair pair;
    pair.increments = decoder.varint();
    pair.decrements = decoder.varint();
    if (!decoder.ok()) {
      break;
    }
    if (!counter.entries_.empty() && !(counter.entries_.rbegin()->first < dot)) {
      decoder.fail("counter entries not strictly increasing by dot");
    } else if (!counter.context_.contains(dot)) {
      decoder.fail("entry dot (" + std::to_string(dot.replica) + ", " +
                   std::to_string(dot.counter) + ") is not in the causal context");
    } else {
      counter.entries_.emplace_hint(counter.entries_.end(), dot, pair);
    }
  }
}

}  // namespace crdtsim::core
