#pragma once
// VectorClock: one event counter per replica (Fidge 1988, Mattern 1989).
// Compares by the happened-before partial order; merge is the pointwise max,
// which makes it a join-semilattice. Kept in a flat map because a key has a
// handful of replicas: contiguous, sorted, cheap to compare and encode.

#include <boost/container/flat_map.hpp>
#include <cstdint>

#include "core/codec/bytes.h"
#include "core/types.h"

namespace crdtsim::core {

// How two vector clocks relate under happened-before.
enum class ClockOrder : std::uint8_t {
  before,      // every entry <= the other's, and they differ
  after,       // every entry >= the other's, and they differ
  equal,       // same entries
  concurrent,  // some entry smaller, some entry greater
};

class VectorClock {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kVectorClock;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Sorted by replica; never holds a zero (a missing replica counts 0).
  using Entries = boost::container::flat_map<ReplicaId, std::uint64_t>;

  // The counter of `replica` (0 if it has no event).
  std::uint64_t get(ReplicaId replica) const;

  // Records one more event of `replica` and returns its new counter.
  // Saturates at 2^64 - 1 (unreachable by counting; only a faulty peer's
  // clock, merged in, can carry it).
  std::uint64_t increment(ReplicaId replica);

  // Join: the pointwise maximum.
  void merge(const VectorClock& other);

  // Guarantees: equal iff the entries are equal; before iff merging this into
  // `other` leaves `other` unchanged and they differ; after symmetrically;
  // concurrent otherwise.
  ClockOrder compare(const VectorClock& other) const;

  const Entries& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  void encode_body(Encoder& encoder) const;
  // Rejects unsorted or duplicate replicas and zero counters.
  static VectorClock decode_body(Decoder& decoder);

  friend bool operator==(const VectorClock&, const VectorClock&) = default;

 private:
  Entries entries_;
};

}  // namespace crdtsim::core
