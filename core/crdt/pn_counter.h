#pragma once
// Positive-negative counter (Shapiro et al. 2011, PN-Counter): two G-counters,
// one for increments (P) and one for decrements (N); the value is P - N.
// Merge joins each half.
//
// Overflow: an increment or decrement that would take the replica's P or N
// entry past 2^64 - 1 is rejected (nullopt, counter unchanged), as in
// GCounter. The difference is computed exactly (128 bits); when it does not
// fit in a signed 64-bit integer, value() clamps it to INT64_MAX or INT64_MIN
// and value_fits() is false.

#include <cstdint>
#include <optional>

#include "core/codec/bytes.h"
#include "core/crdt/g_counter.h"
#include "core/types.h"

namespace crdtsim::core {

class PNCounter {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kPNCounter;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Adds `amount`. Returns the delta (the new P entry of `replica`; empty
  // when `amount` is 0) or nullopt, unchanged, when that entry would overflow.
  [[nodiscard]] std::optional<PNCounter> increment(ReplicaId replica, std::uint64_t amount);
  // Subtracts `amount`: as increment(), on the N half.
  [[nodiscard]] std::optional<PNCounter> decrement(ReplicaId replica, std::uint64_t amount);

  // Join: each half joins.
  void merge(const PNCounter& other);

  // P - N, clamped to [INT64_MIN, INT64_MAX].
  std::int64_t value() const;
  // False when value() was clamped.
  bool value_fits() const;

  const GCounter& increments() const { return increments_; }
  const GCounter& decrements() const { return decrements_; }

  // Body: the P body, then the N body.
  void encode_body(Encoder& encoder) const;
  static PNCounter decode_body(Decoder& decoder);

  friend bool operator==(const PNCounter&, const PNCounter&) = default;

 private:
  GCounter increments_;
  GCounter decrements_;
};

}  // namespace crdtsim::core
