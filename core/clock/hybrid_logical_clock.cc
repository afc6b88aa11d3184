#include "core/clock/hybrid_logical_clock.h"

#include <cassert>
#include <limits>

namespace crdtsim::core {

namespace {

constexpr std::uint64_t kPhysicalMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t kLogicalMax = std::numeric_limits<std::uint32_t>::max();

std::uint64_t saturating_add(std::uint64_t left, std::uint64_t right) {
  return left > kPhysicalMax - right ? kPhysicalMax : left + right;
}

[[maybe_unused]] bool saturated(const HlcTimestamp& timestamp) {
  return timestamp.physical_us == kPhysicalMax && timestamp.logical == kLogicalMax;
}

// The smallest timestamp greater than `timestamp`; the logical counter
// overflows into the physical part.
HlcTimestamp successor(const HlcTimestamp& timestamp) {
  if (timestamp.logical < kLogicalMax) {
    return HlcTimestamp{timestamp.physical_us, timestamp.logical + 1};
  }
  if (timestamp.physical_us < kPhysicalMax) {
    return HlcTimestamp{timestamp.physical_us + 1, 0};
  }
  return timestamp;  // saturated
}

// Kulkarni et al.'s update rules folded into one: with `floor` the greatest
// timestamp the event must exceed, a newer physical reading starts a fresh
// logical count, otherwise the event takes the floor's successor.
HlcTimestamp next_after(const HlcTimestamp& floor, std::uint64_t physical_reading_us) {
  if (physical_reading_us > floor.physical_us) {
    return HlcTimestamp{physical_reading_us, 0};
  }
  return successor(floor);
}

}  // namespace

HlcTimestamp HybridLogicalClock::now(std::uint64_t physical_reading_us) {
  const HlcTimestamp next = next_after(last_, physical_reading_us);
  assert(next > last_ || saturated(next));
  assert(next.physical_us >= physical_reading_us);
  last_ = next;
  return last_;
}

HlcObservation HybridLogicalClock::observe(const HlcTimestamp& remote,
                                           std::uint64_t physical_reading_us) {
  const std::uint64_t physical_bound_us =
      saturating_add(physical_reading_us, options_.max_offset_us);
  HlcObservation observation;
  HlcTimestamp admitted = remote;
  if (remote.physical_us > physical_bound_us) {
    if (options_.offset_policy == HlcOffsetPolicy::reject) {
      observation.status = HlcObserveStatus::rejected;
      observation.timestamp = last_;
      return observation;
    }
    observation.status = HlcObserveStatus::clamped;
    admitted = HlcTimestamp{physical_bound_us, 0};
  }
  assert(admitted.physical_us <= physical_bound_us);
  const HlcTimestamp floor = admitted > last_ ? admitted : last_;
  const HlcTimestamp next = next_after(floor, physical_reading_us);
  assert(next > last_ || saturated(next));
  last_ = next;
  observation.timestamp = last_;
  return observation;
}

}  // namespace crdtsim::core
