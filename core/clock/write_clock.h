#pragma once
// WriteClock: where a replica's LWW timestamps come from.
//
// Three sources, one per store (timestamps of different sources do not
// compare meaningfully):
// - lamport (the default): time = a Lamport clock that first observes every
//   timestamp the key holds here, so a write issued after this replica saw
//   another write of the key always wins over it. Ignores physical time.
// - hlc: a hybrid logical clock (ADR 0003's mitigation for skewed clocks):
//   time = (physical_us, logical) that first observes every timestamp the key
//   holds here, so it wins over everything it saw like Lamport, and stays
//   close to physical time. Physical jumps backwards cannot reorder writes.
// - physical: time = the local physical reading alone, with a counter within
//   one microsecond. A write can lose to an older one it has already seen when
//   the local clock runs behind or jumps back: the configuration ADR 0003
//   warns about. It exists to show that loss (scenarios/demo/), never as a
//   store setting to rely on.
//
// Sans-IO: the caller passes the physical reading in (set_physical_now)
// before each command; nothing here reads a clock.

#include <cstdint>
#include <limits>

#include "core/clock/hybrid_logical_clock.h"
#include "core/clock/lamport_clock.h"
#include "core/clock/lww_timestamp.h"
#include "core/types.h"

namespace crdtsim::core {

enum class TimestampSource : std::uint8_t { lamport = 0, hlc = 1, physical = 2 };

class WriteClock {
 public:
  explicit WriteClock(TimestampSource source = TimestampSource::lamport,
                      LamportClock lamport = LamportClock())
      : source_(source),
        lamport_(lamport),
        // The store orders writes by these timestamps: a remote timestamp far
        // ahead (a peer whose clock jumped forward) must still be passed, or a
        // later write would lose. The offset bound is therefore not enforced.
        hlc_(HlcOptions{std::numeric_limits<std::uint64_t>::max(), HlcOffsetPolicy::reject}) {}

  TimestampSource source() const { return source_; }
  void set_physical_now(std::uint64_t now_us) { physical_now_us_ = now_us; }

  // A timestamp for a write of a key by `replica`, where `seen` is the
  // greatest (time, logical) the key holds here. Guarantees, for lamport and
  // hlc: the result is greater than `seen` and than every timestamp this
  // clock returned before. For physical: only that it is the local reading.
  LwwTimestamp fresh(std::uint64_t seen_time, std::uint32_t seen_logical, ReplicaId replica) {
    const std::uint64_t lamport_value = lamport_.observe(seen_time);
    switch (source_) {
      case TimestampSource::lamport:
        return LwwTimestamp::from_lamport(lamport_value, replica);
      case TimestampSource::hlc: {
        const HlcObservation observed =
            hlc_.observe(HlcTimestamp{seen_time, seen_logical}, physical_now_us_);
        return LwwTimestamp::from_hlc(observed.timestamp, replica);
      }
      case TimestampSource::physical:
        break;
    }
    if (physical_now_us_ == physical_last_us_) {
      physical_logical_ += 1;
    } else {
      physical_last_us_ = physical_now_us_;
      physical_logical_ = 0;
    }
    return LwwTimestamp{physical_now_us_, physical_logical_, replica};
  }

  // Recovery: a state reloaded from storage held timestamps up to these.
  void observe(std::uint64_t seen_time, std::uint32_t seen_logical) {
    lamport_.observe(seen_time);
    if (source_ == TimestampSource::hlc) {
      (void)hlc_.observe(HlcTimestamp{seen_time, seen_logical}, physical_now_us_);
    }
  }

  // A receive event on the Lamport clock alone (for stamps other than LWW
  // writes, e.g. hot-key decisions). Returns the new Lamport value.
  std::uint64_t observe(std::uint64_t seen_time) { return lamport_.observe(seen_time); }

  // The Lamport clock (ticks in every mode; reported in reply metadata).
  const LamportClock& lamport() const { return lamport_; }
  std::uint64_t value() const { return lamport_.value(); }

 private:
  TimestampSource source_;
  LamportClock lamport_;
  HybridLogicalClock hlc_;
  std::uint64_t physical_now_us_ = 0;
  std::uint64_t physical_last_us_ = std::numeric_limits<std::uint64_t>::max();
  std::uint32_t physical_logical_ = 0;
};

}  // namespace crdtsim::core
