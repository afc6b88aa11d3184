#pragma once
// CausalContext: the set of dots a replica has seen, kept compact as a
// version vector (every dot (r, 1..n)) plus a "dot cloud" of dots seen out of
// order. The canonical form is compacted: no cloud dot is covered by, or
// contiguous with, the version vector entry of its replica.

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>
#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

#include "core/codec/bytes.h"
#include "core/crdt/dot.h"
#include "core/types.h"

namespace crdtsim::core {

class CausalContext {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kCausalContext;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Sorted flat containers over small vectors with inline room for a few
  // entries: the context of a delta (one to a few dots) and the vector of a
  // small cluster then live inside the object and cost no heap allocation.
  static constexpr std::size_t kVersionVectorInline = 2;
  static constexpr std::size_t kDotCloudInline = 2;
  using VersionVector = boost::container::flat_map<
      ReplicaId, std::uint64_t, std::less<ReplicaId>,
      boost::container::small_vector<std::pair<ReplicaId, std::uint64_t>, kVersionVectorInline>>;
  using DotCloud = boost::container::flat_set<Dot, std::less<Dot>,
                                              boost::container::small_vector<Dot, kDotCloudInline>>;

  // Special members are defined out of line (see causal_context.cc): GCC 12
  // reports a false -Wstringop-overread in boost's small_vector move when it
  // is inlined into callers.
  CausalContext();
  CausalContext(const CausalContext& other);
  CausalContext(CausalContext&& other) noexcept;
  CausalContext& operator=(const CausalContext& other);
  CausalContext& operator=(CausalContext&& other) noexcept;
  ~CausalContext();

  // True if `dot` has been seen.
  bool contains(const Dot& dot) const;

  // The greatest counter seen from `replica` (in the vector or the cloud).
  std::uint64_t max_counter(ReplicaId replica) const;

  // Generates the next dot of `replica` (one past the greatest seen), adds it
  // and returns it. Requires: the greatest counter is below 2^64 - 1.
  // Constant work plus one vector search when the cloud holds no dot of
  // `replica` (the common case).
  Dot next_dot(ReplicaId replica);

  // Dot uniqueness across tombstone GC (docs/tombstone-gc.md): `floor` is
  // the greatest counter of `replica`'s own dots in any key state its writer
  // dropped. If this context holds no dot of `replica` and floor > 0, adds
  // every dot (replica, 1..floor), the seed, and returns true; the next
  // next_dot(replica) then issues floor + 1 and keeps the context compact.
  // The seed names only dots the writer never issued for this key, or issued
  // before the key was collected (all dead). Otherwise changes nothing.
  // Requires: floor < 2^64 - 1.
  bool seed(ReplicaId replica, std::uint64_t floor);

  // Adds one dot, keeping the canonical form. Folds only `dot.replica`'s cloud
  // dots, so a contiguous dot costs no pass over the whole cloud.
  void add(const Dot& dot);
  // Adds every dot (dot.replica, 1..dot.counter): a seeded update's delta
  // carries its seed this way, so that replicas converge byte for byte.
  void add_through(const Dot& dot);

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
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, CausalContext& out);

  friend bool operator==(const CausalContext&, const CausalContext&) = default;

 private:
  // Folds cloud dots into the version vector where they became contiguous and
  // drops cloud dots the vector covers.
  void compact();
  // True if the cloud holds a dot of `replica`.
  bool cloud_has_replica(ReplicaId replica) const;
  // After `replica`'s vector entry grew to `counter`: folds the replica's
  // cloud dots that became contiguous with it.
  void fold_cloud_into_vector(ReplicaId replica, std::uint64_t& counter);

  VersionVector version_vector_;
  DotCloud dot_cloud_;
};

}  // namespace crdtsim::core
