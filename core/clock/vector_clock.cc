#include "core/clock/vector_clock.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace crdtsim::core {

std::uint64_t VectorClock::get(ReplicaId replica) const {
  const auto found = entries_.find(replica);
  return found == entries_.end() ? 0 : found->second;
}

std::uint64_t VectorClock::increment(ReplicaId replica) {
  std::uint64_t& counter = entries_[replica];
  if (counter < std::numeric_limits<std::uint64_t>::max()) {
    ++counter;
  }
  assert(counter > 0);
  return counter;
}

void VectorClock::merge(const VectorClock& other) {
  for (const auto& [replica, counter] : other.entries_) {
    assert(counter > 0);
    std::uint64_t& mine = entries_[replica];
    mine = std::max(mine, counter);
  }
}

ClockOrder VectorClock::compare(const VectorClock& other) const {
  bool some_less = false;
  bool some_greater = false;
  // Both maps are sorted by replica: one merge-like pass visits every replica
  // present in either; a missing entry counts as 0 (and stored ones are > 0).
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() || (mine != entries_.end() && mine->first < theirs->first)) {
      some_greater = true;
      ++mine;
    } else if (mine == entries_.end() || theirs->first < mine->first) {
      some_less = true;
      ++theirs;
    } else {
      some_less |= mine->second < theirs->second;
      some_greater |= mine->second > theirs->second;
      ++mine;
      ++theirs;
    }
  }
  if (some_less && some_greater) {
    return ClockOrder::concurrent;
  }
  if (some_less) {
    return ClockOrder::before;
  }
  return some_greater ? ClockOrder::after : ClockOrder::equal;
}

void VectorClock::encode_body(Encoder& encoder) const {
  encoder.varint(entries_.size());
  for (const auto& [replica, counter] : entries_) {
    assert(counter > 0);
    encoder.varint(replica);
    encoder.varint(counter);
  }
}

VectorClock VectorClock::decode_body(Decoder& decoder) {
  VectorClock clock;
  const std::size_t size = decoder.count(2);
  for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
    const ReplicaId replica = decoder.varint32();
    const std::uint64_t counter = decoder.varint();
    if (!decoder.ok()) {
      break;
    }
    if (counter == 0) {
      decoder.fail("vector clock entry of 0 is not canonical");
    } else if (!clock.entries_.empty() && replica <= clock.entries_.rbegin()->first) {
      decoder.fail("vector clock replicas not strictly increasing");
    } else {
      clock.entries_.emplace_hint(clock.entries_.end(), replica, counter);
    }
  }
  return clock;
}

}  // namespace crdtsim::core
