#pragma once
// CausalContext: the set of dots a replica has seen, kept compact as a
// version vector (every dot (r, 1..n)) plus a "dot cloud" of dots seen out of
// order. The canonical form is compacted: no cloud dot is covered by, or
// contiguous with, the version vector entry of its replica.

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>
#include <cstdint>

#include "core/codec/bytes.h"
#include "core/crdt/dot.h"
#include "core/types.h"

namespace crdtsim::core {

class CausalContext {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kCausalContext;
  static constexpr std::uint8_t kEncodingVersion = 1;

  using VersionVector = boost::container::flat_map<ReplicaId, std::uint64_t>;
  using DotCloud = boost::container::flat_set<Dot>;

  // True if `dot` has been seen.
  bool contains(const Dot& dot) const;

  // The greatest counter seen from `replica` (in the vector or the cloud).
  std::uint64_t max_counter(ReplicaId replica) const;

  // Generates the next dot of `replica` (one past the greatest seen), adds it
  // and returns it. Requires: the greatest counter is below 2^64 - 1.
  Dot next_dot(ReplicaId replica);

  // Adds one dot, keeping the canonical form.
  void add(const Dot& dot);

  // Join: the union of both sets of dots, in canonical form.
  void merge(const CausalContext& other);

  // True if every dot of `other` is in this context.
  bool includes(const CausalContext& other) const;

  const VersionVector& version_vector() const { return version_vector_; }
  const DotCloud& dot_cloud() const { return dot_cloud_; }
  bool empty() const { return version_vector_.empty() && dot_cloud_.empty(); }

  void encode_body(Encoder& encoder) const;
  // Rejects unsorted, duplicate, zero or non-compacted entries.
  static CausalContext decode_body(Decoder& decoder);

  friend bool operator==(const CausalContext&, const CausalContext&) = default;

 private:
  // Folds cloud dots into the version vector where they became contiguous and
  // drops cloud dots the vector covers.
  void compact();

  VersionVector version_vector_;
  DotCloud dot_cloud_;
};

}  // namespace crdtsim::core
