#pragma once
// Grow-only counter (Shapiro et al., "A comprehensive study of Convergent and
// Commutative Replicated Data Types", 2011, G-Counter; delta form after
// Almeida et al. 2018): one 64-bit entry per replica, each replica increments
// only its own entry, merge takes the per-replica maximum, the value is the
// sum of the entries.
//
// Overflow:
// - an increment that would take an entry past 2^64 - 1 is rejected: the
//   counter is unchanged and increment() returns nullopt (no silent
//   saturation, which would lose counts without telling anyone);
// - the sum of the entries can still exceed 2^64 - 1 (several replicas near
//   the limit); value() then saturates at 2^64 - 1 and value_saturated()
//   says so; exact_sum() gives the full 128-bit sum.

#include <boost/container/flat_map.hpp>
#include <cstdint>
#include <optional>

#include "core/codec/bytes.h"
#include "core/types.h"

namespace crdtsim::core {

// A sum of 64-bit entries held exactly: carries * 2^64 + low.
struct ExactSum {
  std::uint64_t carries = 0;
  std::uint64_t low = 0;

  friend bool operator==(const ExactSum&, const ExactSum&) = default;
};

class GCounter {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kGCounter;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Sorted by replica; never holds a zero entry.
  using Entries = boost::container::flat_map<ReplicaId, std::uint64_t>;

  // Adds `amount` to `replica`'s entry. Returns the delta ({replica: new
  // entry}; empty when `amount` is 0), or nullopt, with the counter
  // unchanged, when the entry would pass 2^64 - 1.
  [[nodiscard]] std::optional<GCounter> increment(ReplicaId replica, std::uint64_t amount);

  // Join: the per-replica maximum.
  void merge(const GCounter& other);

  // The sum of the entries, saturated at 2^64 - 1.
  std::uint64_t value() const;
  // True when the sum does not fit in 64 bits (value() is then 2^64 - 1).
  bool value_saturated() const { return exact_sum().carries > 0; }
  ExactSum exact_sum() const;

  // `replica`'s entry (0 if none).
  std::uint64_t get(ReplicaId replica) const;
  const Entries& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  void encode_body(Encoder& encoder) const;
  // Rejects unsorted or duplicate replicas and zero entries.
  static GCounter decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, GCounter& out);

  friend bool operator==(const GCounter&, const GCounter&) = default;

 private:
  Entries entries_;
};

}  // namespace crdtsim::core
