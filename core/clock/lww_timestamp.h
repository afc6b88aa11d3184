#pragma once
// LwwTimestamp: the total order that last-writer-wins types use to pick a
// winner. Ordered lexicographically by (time, logical, replica): the replica
// id breaks ties between replicas that wrote at the same clock value, so the
// winner never depends on the order in which merges happen.
//
// A timestamp comes from a Lamport clock (time = Lamport value, logical = 0)
// or from a hybrid logical clock (time = physical_us, logical = logical).
// One store uses one kind: comparing a Lamport value with an HLC time is
// meaningless.

#include <compare>
#include <cstdint>

#include "core/clock/hybrid_logical_clock.h"
#include "core/codec/bytes.h"
#include "core/types.h"

namespace crdtsim::core {

struct LwwTimestamp {
  std::uint64_t time = 0;
  std::uint32_t logical = 0;
  ReplicaId replica = 0;

  static LwwTimestamp from_lamport(std::uint64_t lamport_value, ReplicaId replica) {
    return LwwTimestamp{lamport_value, 0, replica};
  }
  static LwwTimestamp from_hlc(const HlcTimestamp& hlc, ReplicaId replica) {
    return LwwTimestamp{hlc.physical_us, hlc.logical, replica};
  }

  // Member order is the comparison order.
  friend auto operator<=>(const LwwTimestamp&, const LwwTimestamp&) = default;
  friend bool operator==(const LwwTimestamp&, const LwwTimestamp&) = default;

  // Nested encoding (no header): three varints.
  void encode_body(Encoder& encoder) const {
    encoder.varint(time);
    encoder.varint(logical);
    encoder.varint(replica);
  }
  static LwwTimestamp decode_body(Decoder& decoder) {
    LwwTimestamp timestamp;
    timestamp.time = decoder.varint();
    timestamp.logical = decoder.varint32();
    timestamp.replica = decoder.varint32();
    return timestamp;
  }
};

}  // namespace crdtsim::core
