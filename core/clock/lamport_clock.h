#pragma once
// Lamport's logical clock (Lamport, "Time, Clocks, and the Ordering of Events
// in a Distributed System", 1978): a counter that every local or send event
// advances and every receive event pushes past the sender's value, so that
// a happened-before b implies clock(a) < clock(b).

#include <algorithm>
#include <cstdint>
#include <limits>

namespace crdtsim::core {

class LamportClock {
 public:
  LamportClock() = default;
  explicit LamportClock(std::uint64_t value) : value_(value) {}

  // The value of the latest event (0 before any event).
  std::uint64_t value() const { return value_; }

  // A local or send event. Guarantees: the result is greater than every value
  // returned before. At 2^64 - 1 the clock saturates (returns the same value):
  // counting never gets there; only a faulty peer's value can (see observe).
  std::uint64_t tick() {
    value_ = saturating_increment(value_);
    return value_;
  }

  // A receive event for a message stamped `remote`. Guarantees: the result is
  // greater than both `remote` and every value returned before, except when
  // `remote` is 2^64 - 1, where the clock saturates as in tick().
  std::uint64_t observe(std::uint64_t remote) {
    value_ = saturating_increment(std::max(value_, remote));
    return value_;
  }

  friend bool operator==(const LamportClock&, const LamportClock&) = default;

 private:
  static std::uint64_t saturating_increment(std::uint64_t value) {
    return value == std::numeric_limits<std::uint64_t>::max() ? value : value + 1;
  }

  std::uint64_t value_ = 0;
};

}  // namespace crdtsim::core
