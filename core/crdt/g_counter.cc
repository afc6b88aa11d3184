#include "core/crdt/g_counter.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

namespace crdtsim::core {

std::optional<GCounter> GCounter::increment(ReplicaId replica, std::uint64_t amount) {
  GCounter delta;
  if (amount == 0) {
    return delta;
  }
  const std::uint64_t current = get(replica);
  if (amount > std::numeric_limits<std::uint64_t>::max() - current) {
    return std::nullopt;
  }
  const std::uint64_t updated = current + amount;
  assert(updated > current);
  entries_[replica] = updated;
  delta.entries_.emplace(replica, updated);
  return delta;
}

void GCounter::merge(const GCounter& other) {
  // A small `other` (a delta) merges by lookups, O(m log n); states of
  // similar size merge in one linear pass over both sorted entry lists.
  if (other.entries_.size() * 8 < entries_.size()) {
    for (const auto& [replica, count] : other.entries_) {
      assert(count > 0);
      std::uint64_t& mine = entries_[replica];
      mine = std::max(mine, count);
    }
    return;
  }
  Entries joined;
  joined.reserve(entries_.size() + other.entries_.size());
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() || (mine != entries_.end() && mine->first < theirs->first)) {
      joined.emplace_hint(joined.end(), *mine++);
    } else if (mine == entries_.end() || theirs->first < mine->first) {
      joined.emplace_hint(joined.end(), *theirs++);
    } else {
      joined.emplace_hint(joined.end(), mine->first, std::max(mine->second, theirs->second));
      ++mine;
      ++theirs;
    }
  }
  entries_ = std::move(joined);
}

ExactSum GCounter::exact_sum() const {
  ExactSum sum;
  for (const auto& entry : entries_) {
    const std::uint64_t before = sum.low;
    sum.low += entry.second;
    sum.carries += sum.low < before ? 1 : 0;
  }
  return sum;
}

std::uint64_t GCounter::value() const {
  const ExactSum sum = exact_sum();
  return sum.carries > 0 ? std::numeric_limits<std::uint64_t>::max() : sum.low;
}

std::uint64_t GCounter::get(ReplicaId replica) const {
  const auto found = entries_.find(replica);
  return found == entries_.end() ? 0 : found->second;
}

void GCounter::encode_body(Encoder& encoder) const {
  encoder.varint(entries_.size());
  for (const auto& [replica, count] : entries_) {
    assert(count > 0);
    encoder.varint(replica);
    encoder.varint(count);
  }
}

GCounter GCounter::decode_body(Decoder& decoder) {
  GCounter counter;
  decode_body(decoder, counter);
  return counter;
}

void GCounter::decode_body(Decoder& decoder, GCounter& counter) {
  const std::size_t size = decoder.count(2);
  for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
    const ReplicaId replica = decoder.varint32();
    const std::uint64_t count = decoder.varint();
    if (!decoder.ok()) {
      break;
    }
    if (count == 0) {
      decoder.fail("G-counter entry of 0 is not canonical");
    } else if (!counter.entries_.empty() && replica <= counter.entries_.rbegin()->first) {
      decoder.fail("G-counter replicas not strictly increasing");
    } else {
      counter.entries_.emplace_hint(counter.entries_.end(), replica, count);
    }
  }
}

}  // namespace crdtsim::core
