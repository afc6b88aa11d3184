#pragma once
// CausalCounter: a PN-counter with an observed-remove reset, the causal
// counter of Almeida, Shoker and Baquero, "Delta State Replicated Data Types"
// (2018), section 7. It is the store's INCR/DECR type: a plain PN-counter
// cannot be deleted (its entries only grow), this one can.
//
// State: a dot store Dot -> (increments, decrements) and a causal context of
// every dot seen. Each replica contributes through at most one live dot of its
// own: an increment or decrement at replica r replaces r's live dot by a fresh
// dot carrying r's accumulated pair plus the change. reset() drops every live
// dot and keeps them in the context, so the reset removes exactly what it
// observed.
//
// Meaning of merge (the whole semantics, the OR-Set's dot-store join): an
// entry survives if both sides hold it, or if one side holds it and the other
// side's context has not seen its dot. So an increment concurrent with a
// reset survives (add wins), and it carries its replica's whole accumulated
// pair: the reset did not observe the new dot, so that replica's contribution
// comes back in full. (This is the paper's semantics; removing only the
// observed part would need one live dot per increment.)
//
// Overflow: an increment or decrement that would take the replica's
// accumulated increments or decrements past 2^64 - 1 is rejected (nullopt,
// counter unchanged). The value, the sum of increments minus the sum of
// decrements over live dots, is computed exactly in 128 bits; when it does not
// fit in int64, value() clamps it to INT64_MIN or INT64_MAX and exact_value()
// returns nullopt.

#include <boost/container/flat_map.hpp>
#include <cstdint>
#include <optional>

#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/types.h"

namespace crdtsim::core {

// What one live dot carries: its replica's accumulated increments and
// decrements at the time the dot was made.
struct CounterPair {
  std::uint64_t increments = 0;
  std::uint64_t decrements = 0;

  friend bool operator==(const CounterPair&, const CounterPair&) = default;
};

class CausalCounter {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kCausalCounter;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Sorted by dot. Every entry's dot is in the context.
  using Entries = boost::container::flat_map<Dot, CounterPair>;

  // Adds `amount` (0 too: it still makes a fresh dot, so the counter exists
  // with its value). Guarantees: returns the delta {new dot -> accumulated
  // pair} with context {superseded dots, new dot}; or nullopt, unchanged, when
  // the accumulated increments would pass 2^64 - 1. With tombstone GC,
  // `dot_floor` is the writer's dot floor: as in ORSet::add, a context with no
  // dot of `replica` is seeded first and the delta carries the seed.
  [[nodiscard]] std::optional<CausalCounter> increment(ReplicaId replica, std::uint64_t amount,
                                                       std::uint64_t dot_floor = 0);
  // Subtracts `amount`: as increment(), on the decrements.
  [[nodiscard]] std::optional<CausalCounter> decrement(ReplicaId replica, std::uint64_t amount,
                                                       std::uint64_t dot_floor = 0);

  // Whether increment() (decrement()) of `amount` at `replica` would succeed:
  // the accumulated increments (decrements) stay within 2^64 - 1. Lets a
  // caller check first, without copying the counter, so that a rejected
  // change touches nothing else either.
  bool can_increment(ReplicaId replica, std::uint64_t amount) const;
  bool can_decrement(ReplicaId replica, std::uint64_t amount) const;

  // Removes every live dot this replica has observed (the store's DEL).
  // Guarantees: the counter is empty; returns the delta: no entries and this
  // replica's whole context.
  CausalCounter reset();

  // Join: see the header comment. On a dot present on both sides with
  // different pairs (impossible between honest replicas: a dot's pair never
  // changes) the per-field maximum is kept, so merge stays a join.
  void merge(const CausalCounter& other);
  // The same, returning true exactly when this counter changed. Works in
  // place: no copy of the entries, and the context is merged only when
  // other's holds a dot this one lacks.
  bool merge_changed(const CausalCounter& other);

  // Increments minus decrements over the live dots, clamped to int64.
  std::int64_t value() const;
  // The exact value, or nullopt when it does not fit in int64.
  std::optional<std::int64_t> exact_value() const;

  // The live dot of `replica` with the greatest counter, if any.
  std::optional<Dot> live_dot(ReplicaId replica) const;

  // No live dot: never incremented, or reset since.
  bool empty() const { return entries_.empty(); }
  const Entries& entries() const { return entries_; }
  const CausalContext& context() const { return context_; }

  // Layout: the context, then the entry count and each entry (dot,
  // increments, decrements), strictly increasing by dot.
  void encode_body(Encoder& encoder) const;
  // Rejects a bad context, unsorted or duplicate entries, and entries whose
  // dot is not in the context.
  static CausalCounter decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, CausalCounter& out);

  friend bool operator==(const CausalCounter&, const CausalCounter&) = default;

 private:
  // Replaces `replica`'s live dots by a fresh one carrying `pair`.
  CausalCounter supersede(ReplicaId replica, const CounterPair& pair, std::uint64_t dot_floor);
  // `replica`'s accumulated pair: that of its newest live dot (0, 0 if none).
  CounterPair accumulated(ReplicaId replica) const;

  Entries entries_;
  CausalContext context_;
};

}  // namespace crdtsim::core
