#pragma once
// Hybrid logical clock, after Kulkarni, Demirbas, Madappa, Avva and Leone,
// "Logical Physical Clocks" (OPODIS 2014), algorithm 2.
//
// A timestamp is (physical_us, logical): physical_us follows the largest
// physical reading seen (local or carried by a message), logical counts events
// within one physical_us. Timestamps respect happened-before like a Lamport
// clock and stay close to physical time.
//
// Sans-IO: the caller passes the physical reading in on every call; the clock
// reads no time source and keeps no global state.
//
// Behaviour at the edges (all deterministic):
// - Physical reading going backwards: ignored; the clock keeps its physical
//   part and counts on in `logical`, so timestamps stay strictly increasing.
// - Remote timestamp too far ahead: a remote physical_us greater than
//   `reading + max_offset_us` is either rejected (HlcOffsetPolicy::reject: the
//   clock is unchanged and observe() reports `rejected`) or clamped
//   (HlcOffsetPolicy::clamp: the remote is taken as (reading + max_offset_us, 0)
//   and observe() reports `clamped`; the clock then no longer orders that
//   message's send before its receive, which is the price of bounding drift).
//   Either way physical_us never exceeds the largest reading seen plus
//   max_offset_us (save the overflow bump below).
// - Logical counter overflow: when `logical` would pass 2^32 - 1 the clock
//   moves to (physical_us + 1, 0) instead (4 billion events in one microsecond
//   do not happen in practice; this keeps timestamps strictly increasing).
// - At (2^64 - 1, 2^32 - 1) the clock saturates and returns the same timestamp.

#include <compare>
#include <cstdint>

#include "core/codec/bytes.h"

namespace crdtsim::core {

// Totally ordered: by physical_us, then logical.
struct HlcTimestamp {
  std::uint64_t physical_us = 0;
  std::uint32_t logical = 0;

  friend auto operator<=>(const HlcTimestamp&, const HlcTimestamp&) = default;
  friend bool operator==(const HlcTimestamp&, const HlcTimestamp&) = default;

  // Nested encoding (no header): two varints.
  void encode_body(Encoder& encoder) const {
    encoder.varint(physical_us);
    encoder.varint(logical);
  }
  static HlcTimestamp decode_body(Decoder& decoder) {
    HlcTimestamp timestamp;
    timestamp.physical_us = decoder.varint();
    timestamp.logical = decoder.varint32();
    return timestamp;
  }
};

enum class HlcOffsetPolicy : std::uint8_t { reject, clamp };

struct HlcOptions {
  // How far a remote physical_us may be ahead of the local reading.
  std::uint64_t max_offset_us = 500'000;
  HlcOffsetPolicy offset_policy = HlcOffsetPolicy::reject;
};

enum class HlcObserveStatus : std::uint8_t { accepted, clamped, rejected };

struct HlcObservation {
  HlcObserveStatus status = HlcObserveStatus::accepted;
  // The clock after the event; when rejected, the clock as it was.
  HlcTimestamp timestamp;
};

class HybridLogicalClock {
 public:
  explicit HybridLogicalClock(HlcOptions options = {}) : options_(options) {}

  // A local or send event at `physical_reading_us`. Guarantees: the result is
  // greater than every timestamp this clock returned before (save saturation)
  // and its physical_us is at least the reading.
  HlcTimestamp now(std::uint64_t physical_reading_us);

  // A receive event for a message stamped `remote`, at `physical_reading_us`.
  // Guarantees, unless rejected: the result is greater than every timestamp
  // returned before, and greater than `remote` unless clamped. When rejected,
  // the clock is unchanged. See the header comment for the offset policy.
  [[nodiscard]] HlcObservation observe(const HlcTimestamp& remote,
                                       std::uint64_t physical_reading_us);

  // The latest timestamp returned ((0, 0) before any event).
  HlcTimestamp current() const { return last_; }
  const HlcOptions& options() const { return options_; }

 private:
  HlcOptions options_;
  HlcTimestamp last_;
};

}  // namespace crdtsim::core
