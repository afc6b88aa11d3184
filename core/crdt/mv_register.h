#pragma once
// Multi-value register for the causal consistency mode: the delta MV-register
// of Almeida, Shoker and Baquero, "Delta State Replicated Data Types" (2018),
// section 7 (a dot function from dots to values plus a causal context).
//
// Each write gets a fresh dot and supersedes exactly the writes its replica
// had observed; writes that did not observe each other (concurrent writes)
// all survive as siblings until a later write that saw them replaces them.
// Merge keeps an entry if both sides have it, or if the other side has not
// seen its dot; a dot the other side has seen but no longer holds was
// superseded there. No tombstones: the causal context remembers the dots.
//
// Clearing (DEL in causal mode) removes every observed sibling and adds no
// value; writes concurrent with the clear survive it.
//
// The store (core/store/keyspace.h) writes with the key's update dot and
// passes the key's versions as `observed`, so a write supersedes exactly
// the writes its replica had received, and its reply tells which.

#include <boost/container/flat_map.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/types.h"

namespace crdtsim::core {

class MvRegister {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kMvRegister;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // The live siblings, by dot. Invariant: every dot is in the context.
  using Entries = boost::container::flat_map<Dot, std::string>;

  // Writes `value` at `replica`. Guarantees: the register then holds just
  // this value; returns the delta (the new entry, and a context of its dot
  // plus the dots of the siblings it supersedes).
  MvRegister write(ReplicaId replica, std::string value);
  // The same with a dot chosen by the caller, superseding also every write
  // whose dot `observed` holds (the store passes the key's update dots, the
  // versions its replica holds, and uses the key's new update dot as `dot`:
  // a sibling names the write that made it, and a write supersedes exactly
  // the writes its replica had received). Requires: `dot` is fresh (its
  // writer issued it just now) and not in `observed`. Returns the delta: the
  // new entry, and a context of `dot`, `observed` and the siblings held.
  MvRegister write(const Dot& dot, std::string value, const CausalContext& observed);

  // Removes every sibling (DEL). Returns the delta: no entries, a context of
  // the removed dots.
  MvRegister clear();
  // The same, superseding also every write whose dot `observed` holds.
  MvRegister clear(const CausalContext& observed);

  // Removes the one sibling with `dot`, if held (an observed remove of one
  // write). Returns the delta: no entries, a context of that dot (empty if
  // not held). The store never removes one sibling alone; only the planted
  // bug PlantedBug::mv_register_drop_siblings does. `dot` is taken by value:
  // callers pass a dot of entries(), which the removal invalidates.
  MvRegister remove(Dot dot);

  // Join of the causal dot stores (see the header comment).
  void merge(const MvRegister& other);

  // The sibling values, sorted bytewise, without duplicates (two concurrent
  // writes of the same value read as one).
  std::vector<std::string> values() const;

  const Entries& entries() const { return entries_; }
  const CausalContext& context() const { return context_; }
  bool empty() const { return entries_.empty(); }

  // Body: entries as (dot, value) sorted by dot, then the context.
  void encode_body(Encoder& encoder) const;
  // Rejects unsorted or duplicate dots and entries whose dot the context
  // does not contain.
  static MvRegister decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, MvRegister& out);

  friend bool operator==(const MvRegister&, const MvRegister&) = default;

 private:
  // The context made of the dots of the current entries.
  CausalContext observed_dots() const;

  Entries entries_;
  CausalContext context_;
};

}  // namespace crdtsim::core
