#pragma once
// KeyState: one key's replicated state, itself a lattice.
//
// A key holds one slot per value type ever created at it. A slot is
//   (claim, CRDT state)
// where the claim is the greatest LWW timestamp at which that type was
// created at this key, and the CRDT is that type's lattice (LwwRegister,
// CausalCounter, GCounter, ORSet, GSet, LwwMap, or MvRegister for registers
// at the causal level).
//
// Meaning of merge (the whole semantics): slot-wise; a slot present on one
// side only is copied; on both sides the claim is the maximum and the CRDTs
// join. That is a product of lattices, so it is a lattice.
//
// Type-conflict rule: the visible type is the type of the slot with the
// greatest claim (ties, which distinct writes cannot produce, go to the
// greater type number). Two replicas that create one key concurrently with
// different types therefore converge to the type of the later creation (by
// LWW timestamp order: time, then replica id), and the losing slot stays
// hidden. A key exists when its visible slot is non-empty: a register holding
// a value (not a tombstone), a counter with a live dot, a G-counter with an
// entry, a set with an element, a map with a live field.
//
// Creation: a write to a key that does not exist (of any type, the visible
// one included) claims its type at a fresh timestamp, greater than every claim
// it has seen, so the newest creation wins. The keyspace (keyspace.h) decides
// when to claim; this class only keeps slots and joins them.

#include <boost/container/flat_map.hpp>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/causal_counter.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_map.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/mv_register.h"
#include "core/crdt/or_set.h"
#include "core/store/command.h"

namespace crdtsim::core {

// The CRDT of each value type: alternative index = type number - 1.
using KeyValue =
    std::variant<LwwRegister, CausalCounter, GCounter, ORSet, GSet, LwwMap, MvRegister>;

template <class T>
inline constexpr ValueType kValueTypeOf = ValueType::none;
template <>
inline constexpr ValueType kValueTypeOf<LwwRegister> = ValueType::lww_register;
template <>
inline constexpr ValueType kValueTypeOf<CausalCounter> = ValueType::pn_counter;
template <>
inline constexpr ValueType kValueTypeOf<GCounter> = ValueType::g_counter;
template <>
inline constexpr ValueType kValueTypeOf<ORSet> = ValueType::or_set;
template <>
inline constexpr ValueType kValueTypeOf<GSet> = ValueType::g_set;
template <>
inline constexpr ValueType kValueTypeOf<LwwMap> = ValueType::lww_map;
template <>
inline constexpr ValueType kValueTypeOf<MvRegister> = ValueType::mv_register;

// The empty CRDT of `type`. Requires: type != none.
KeyValue empty_value_of(ValueType type);

// True when `value` holds nothing visible (see the header comment).
bool value_empty(const KeyValue& value);

struct KeySlot {
  LwwTimestamp claim;
  KeyValue value;

  friend bool operator==(const KeySlot&, const KeySlot&) = default;
};

class KeyState {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kKeyState;
  static constexpr std::uint8_t kEncodingVersion = 1;

  using Slots = boost::container::flat_map<ValueType, KeySlot>;

  // A state (or delta) of one slot. Requires: `value` is of `type`.
  template <class T>
  static KeyState of(const LwwTimestamp& claim, T value) {
    // The slot is built in the map's sequence and the value moved once (a
    // KeyValue moved through a KeySlot and a map entry is moved three times).
    KeyState state;
    Slots::sequence_type slots;
    auto& [type, slot] = slots.emplace_back();
    type = kValueTypeOf<T>;
    slot.claim = claim;
    slot.value.template emplace<T>(std::move(value));
    state.slots_.adopt_sequence(boost::container::ordered_unique_range, std::move(slots));
    return state;
  }

  // The type of the slot with the greatest claim; none without slots.
  ValueType visible_type() const;
  // The visible slot is non-empty.
  bool exists() const;

  // The slot of `type`, or nullptr.
  const KeySlot* slot(ValueType type) const;
  // The CRDT of `T`'s slot, or nullptr.
  template <class T>
  const T* value() const {
    const KeySlot* found = slot(kValueTypeOf<T>);
    return found == nullptr ? nullptr : &std::get<T>(found->value);
  }
  // The CRDT of `T`'s slot for a local mutation; creates the slot (empty, at
  // claim 0) if missing.
  template <class T>
  T& mutable_value() {
    return std::get<T>(slot_for_write(kValueTypeOf<T>).value);
  }
  // Raises the claim of `type`'s slot to `claim` (creating the slot if
  // missing). Requires: type != none.
  void raise_claim(ValueType type, const LwwTimestamp& claim);

  // Join. Guarantees: returns true exactly when this state changed.
  bool merge(const KeyState& other);

  // The greatest LwwTimestamp time among the claims and the LWW writes held,
  // so that the replica's clock can observe it before writing: a write made
  // after that is then later than all of them.
  std::uint64_t max_time() const;
  // The greatest (time, logical) among the same timestamps (replica 0): what
  // a hybrid logical clock observes before writing.
  LwwTimestamp max_timestamp() const;

  const Slots& slots() const { return slots_; }
  bool empty() const { return slots_.empty() && versions_.empty() && dependencies_.empty(); }

  // Version tracking (on with sessions or the causal level; empty otherwise):
  // the dots of the updates this state holds, one dot per command that wrote
  // the key, issued by the writing replica (one past the greatest counter of
  // that writer seen here). A state holds every update whose dot its versions
  // contain: a delta carries its update's dot and a full state all of them,
  // and both merge with the CRDT state they describe. So "versions include
  // the session token" means "this state holds everything the session saw".
  const CausalContext& versions() const { return versions_; }
  // Issues and adds the next update dot of `writer`.
  Dot next_version(ReplicaId writer) { return versions_.next_dot(writer); }
  void add_version(const Dot& dot) { versions_.add(dot); }

  // The causal level: the causal past of the updates this state holds, as
  // update dots of other keys (the join of the session tokens the writes
  // were made with). Merges by union, like versions.
  const KeyVersions& dependencies() const { return dependencies_; }
  void add_dependencies(const KeyVersions& dependencies);

  // Layout: entry count, then per slot in increasing type order: the type
  // byte, the claim, the CRDT body; then, only if non-empty (and counted as
  // one more entry each), the byte kDependenciesEntry and the dependencies,
  // and the byte kVersionsEntry and the versions. A state without them thus
  // has the bytes it had before they existed.
  void encode_body(Encoder& encoder) const;
  // Rejects unknown or unsorted types and malformed CRDT bodies.
  static KeyState decode_body(Decoder& decoder);
  // The same into `state`, which must be empty: a caller decoding into a
  // container's element saves moving the result (costly: see CausalContext).
  static void decode_body(Decoder& decoder, KeyState& state);

  friend bool operator==(const KeyState&, const KeyState&) = default;

 private:
  static constexpr std::uint8_t kDependenciesEntry = 0xfe;
  static constexpr std::uint8_t kVersionsEntry = 0xff;

  KeySlot& slot_for_write(ValueType type);

  Slots slots_;
  CausalContext versions_;
  KeyVersions dependencies_;
};

}  // namespace crdtsim::core
