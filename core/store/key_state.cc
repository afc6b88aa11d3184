#include "core/store/key_state.h"

#include <absl/strings/string_view.h>

#include <algorithm>
#include <cassert>
#include <string>
#include <tuple>
#include <utility>

namespace crdtsim::core {

namespace {

bool known_type(std::uint8_t raw) {
  return raw >= 1 && raw <= kValueTypeMax;
}

// Joins `theirs` into `mine`; returns true exactly when `mine` changed. Each
// check costs what the incoming state (usually a small delta) costs, not the
// size of `mine`.
bool join(LwwRegister& mine, const LwwRegister& theirs) {
  // Exactly merge's condition for taking their write: skip the merge (and
  // its second comparison of the writes) when it would keep ours.
  const bool changed =
      theirs.last_write().has_value() &&
      (!mine.last_write().has_value() || *mine.last_write() < *theirs.last_write());
  if (changed) {
    mine.merge(theirs);
  }
  return changed;
}

bool join(CausalCounter& mine, const CausalCounter& theirs) {
  return mine.merge_changed(theirs);
}

bool join(GCounter& mine, const GCounter& theirs) {
  const bool changed =
      std::any_of(theirs.entries().begin(), theirs.entries().end(),
                  [&mine](const auto& entry) { return mine.get(entry.first) < entry.second; });
  if (changed) {  // else every entry of theirs is at most ours: merge keeps ours
    mine.merge(theirs);
  }
  return changed;
}

bool join(ORSet& mine, const ORSet& theirs) {
  // Merge only adds entries whose dots the context lacks (so the context
  // grows) and only removes entries (so the count shrinks): the state changed
  // iff the context or the entry count did. The context grows iff it lacks
  // one of theirs (no copy of it needed to tell).
  const bool context_grows = !mine.context().includes(theirs.context());
  const std::size_t entries_before = mine.entries().size();
  mine.merge(theirs);
  return context_grows || entries_before != mine.entries().size();
}

bool join(GSet& mine, const GSet& theirs) {
  const bool changed =
      std::any_of(theirs.elements().begin(), theirs.elements().end(),
                  [&mine](const std::string& element) { return !mine.contains(element); });
  if (changed) {  // else we hold every element of theirs: merge adds nothing
    mine.merge(theirs);
  }
  return changed;
}

bool join(LwwMap& mine, const LwwMap& theirs) {
  bool changed = false;
  for (const auto& [field, write] : theirs.entries()) {
    const auto found = mine.entries().find(absl::string_view(field.data(), field.size()));
    if (found == mine.entries().end() || found->second < write) {
      changed = true;
      break;
    }
  }
  if (changed) {  // else no write of theirs beats ours: merge keeps ours
    mine.merge(theirs);
  }
  return changed;
}

bool join(MvRegister& mine, const MvRegister& theirs) {
  // Merge adds entries whose dots the context lacks (the context grows) and
  // removes entries whose dots the other context covers (the count shrinks).
  const bool context_grows = !mine.context().includes(theirs.context());
  const std::size_t entries_before = mine.entries().size();
  mine.merge(theirs);
  return context_grows || entries_before != mine.entries().size();
}

bool join_values(KeyValue& mine, const KeyValue& theirs) {
  assert(mine.index() == theirs.index());
  return std::visit(
      [&theirs](auto& state) {
        using T = std::decay_t<decltype(state)>;
        return join(state, std::get<T>(theirs));
      },
      mine);
}

bool map_has_live_field(const LwwMap& map) {
  return std::any_of(map.entries().begin(), map.entries().end(),
                     [](const auto& entry) { return !entry.second.tombstone; });
}

LwwTimestamp max_timestamp_of(const KeyValue& value) {
  LwwTimestamp result;
  auto raise = [&result](const LwwTimestamp& timestamp) {
    result = std::max(result, LwwTimestamp{timestamp.time, timestamp.logical, 0});
  };
  if (const auto* reg = std::get_if<LwwRegister>(&value)) {
    if (reg->last_write().has_value()) {
      raise(reg->last_write()->timestamp);
    }
  } else if (const auto* map = std::get_if<LwwMap>(&value)) {
    for (const auto& entry : map->entries()) {
      raise(entry.second.timestamp);
    }
  }
  return result;
}

std::uint64_t max_time_of(const KeyValue& value) {
  std::uint64_t result = 0;
  if (const auto* reg = std::get_if<LwwRegister>(&value)) {
    if (reg->last_write().has_value()) {
      result = reg->last_write()->timestamp.time;
    }
  } else if (const auto* map = std::get_if<LwwMap>(&value)) {
    for (const auto& entry : map->entries()) {
      result = std::max(result, entry.second.timestamp.time);
    }
  }
  return result;
}

// Decodes `type`'s CRDT into `value` (which holds an empty LwwRegister, as
// a default-constructed slot does), constructed in place.
template <class T>
void decode_in_place(Decoder& decoder, KeyValue& value) {
  T::decode_body(decoder, value.emplace<T>());
}

void decode_value(ValueType type, Decoder& decoder, KeyValue& value) {
  switch (type) {
    case ValueType::lww_register:
      return decode_in_place<LwwRegister>(decoder, value);
    case ValueType::pn_counter:
      return decode_in_place<CausalCounter>(decoder, value);
    case ValueType::g_counter:
      return decode_in_place<GCounter>(decoder, value);
    case ValueType::or_set:
      return decode_in_place<ORSet>(decoder, value);
    case ValueType::g_set:
      return decode_in_place<GSet>(decoder, value);
    case ValueType::lww_map:
      return decode_in_place<LwwMap>(decoder, value);
    case ValueType::mv_register:
      return decode_in_place<MvRegister>(decoder, value);
    case ValueType::none:
      break;
  }
  decoder.fail("no CRDT for value type none");
}

}  // namespace

KeyValue empty_value_of(ValueType type) {
  switch (type) {
    case ValueType::lww_register:
      return LwwRegister{};
    case ValueType::pn_counter:
      return CausalCounter{};
    case ValueType::g_counter:
      return GCounter{};
    case ValueType::or_set:
      return ORSet{};
    case ValueType::g_set:
      return GSet{};
    case ValueType::lww_map:
      return LwwMap{};
    case ValueType::mv_register:
      return MvRegister{};
    case ValueType::none:
      break;
  }
  assert(false && "no CRDT for value type none");
  return LwwRegister{};
}

bool value_empty(const KeyValue& value) {
  if (const auto* reg = std::get_if<LwwRegister>(&value)) {
    return !reg->value().has_value();
  }
  if (const auto* map = std::get_if<LwwMap>(&value)) {
    return !map_has_live_field(*map);
  }
  return std::visit([](const auto& state) { return state.empty(); }, value);
}

ValueType KeyState::visible_type() const {
  ValueType visible = ValueType::none;
  const LwwTimestamp* best = nullptr;
  // Increasing type order: `>=` hands a tie to the greater type number.
  for (const auto& [type, slot] : slots_) {
    if (best == nullptr || slot.claim >= *best) {
      best = &slot.claim;
      visible = type;
    }
  }
  return visible;
}

bool KeyState::exists() const {
  const ValueType type = visible_type();
  if (type == ValueType::none) {
    return false;
  }
  return !value_empty(slots_.at(type).value);
}

const KeySlot* KeyState::slot(ValueType type) const {
  const auto found = slots_.find(type);
  return found == slots_.end() ? nullptr : &found->second;
}

KeySlot& KeyState::slot_for_write(ValueType type) {
  assert(type != ValueType::none);
  auto found = slots_.find(type);
  if (found == slots_.end()) {
    found = slots_.emplace(type, KeySlot{LwwTimestamp{}, empty_value_of(type)}).first;
  }
  assert(found->second.value.index() + 1 == static_cast<std::size_t>(type));
  return found->second;
}

void KeyState::raise_claim(ValueType type, const LwwTimestamp& claim) {
  KeySlot& target = slot_for_write(type);
  target.claim = std::max(target.claim, claim);
}

bool KeyState::merge(const KeyState& other) {
  if (&other == this) {
    return false;
  }
  bool changed = false;
  for (const auto& [type, theirs] : other.slots_) {
    const auto [position, inserted] = slots_.try_emplace(type, theirs);
    if (inserted) {
      changed = true;
      continue;
    }
    KeySlot& mine = position->second;
    if (mine.claim < theirs.claim) {
      mine.claim = theirs.claim;
      changed = true;
    }
    changed |= join_values(mine.value, theirs.value);
  }
  if (!other.versions_.empty() && !versions_.includes(other.versions_)) {
    versions_.merge(other.versions_);
    changed = true;
  }
  if (!other.dependencies_.empty()) {  // only at the causal level
    changed |= merge_key_versions(dependencies_, other.dependencies_);
  }
  return changed;
}

std::uint64_t KeyState::max_time() const {
  std::uint64_t result = 0;
  for (const auto& [type, slot] : slots_) {
    result = std::max({result, slot.claim.time, max_time_of(slot.value)});
  }
  return result;
}

LwwTimestamp KeyState::max_timestamp() const {
  LwwTimestamp result;
  for (const auto& [type, slot] : slots_) {
    result = std::max({result, LwwTimestamp{slot.claim.time, slot.claim.logical, 0},
                       max_timestamp_of(slot.value)});
  }
  return result;
}

void KeyState::add_dependencies(const KeyVersions& dependencies) {
  merge_key_versions(dependencies_, dependencies);
}

void KeyState::encode_body(Encoder& encoder) const {
  encoder.varint(slots_.size() + (dependencies_.empty() ? 0 : 1) + (versions_.empty() ? 0 : 1));
  for (const auto& [type, slot] : slots_) {
    assert(slot.value.index() + 1 == static_cast<std::size_t>(type));
    encoder.u8(static_cast<std::uint8_t>(type));
    slot.claim.encode_body(encoder);
    std::visit([&encoder](const auto& state) { state.encode_body(encoder); }, slot.value);
  }
  if (!dependencies_.empty()) {
    encoder.u8(kDependenciesEntry);
    encode_key_versions(encoder, dependencies_);
  }
  if (!versions_.empty()) {
    encoder.u8(kVersionsEntry);
    versions_.encode_body(encoder);
  }
}

KeyState KeyState::decode_body(Decoder& decoder) {
  KeyState state;
  decode_body(decoder, state);
  return state;
}

void KeyState::decode_body(Decoder& decoder, KeyState& state) {
  assert(state.empty());
  // Smallest entry: the versions (tag byte, two-byte context); a slot takes
  // at least five (type byte, three-byte claim, one-byte body).
  const std::size_t slot_count = decoder.count(3);
  // Slots arrive in increasing type order: built straight in the map's
  // sequence, each constructed in place (a KeyValue is costly to move).
  Slots::sequence_type slots = state.slots_.extract_sequence();
  for (std::size_t index = 0; index < slot_count && decoder.ok(); ++index) {
    const std::uint8_t raw = decoder.u8();
    if (decoder.ok() && raw == kDependenciesEntry) {
      if (!state.dependencies_.empty()) {
        decoder.fail("key dependencies repeated");
        break;
      }
      state.dependencies_ = decode_key_versions(decoder);
      if (decoder.ok() && (state.dependencies_.empty() || index + 2 < slot_count)) {
        decoder.fail("key dependencies must be non-empty and come after the slots");
      }
      continue;
    }
    if (decoder.ok() && raw == kVersionsEntry) {
      state.versions_ = CausalContext::decode_body(decoder);
      if (decoder.ok() && (index + 1 != slot_count || state.versions_.empty())) {
        decoder.fail("key versions must be the last entry and non-empty");
      }
      break;
    }
    if (decoder.ok() && !known_type(raw)) {
      decoder.fail("unknown value type " + std::to_string(raw));
      break;
    }
    const auto type = static_cast<ValueType>(raw);
    if (!state.dependencies_.empty()) {
      decoder.fail("key slot after the dependencies");
      break;
    }
    if (!slots.empty() && !(slots.back().first < type)) {
      decoder.fail("key slots not strictly increasing by type");
      break;
    }
    const LwwTimestamp claim = LwwTimestamp::decode_body(decoder);
    // The slot is built in place and its CRDT decoded into it.
    auto& [slot_type, slot] = slots.emplace_back();
    slot_type = type;
    slot.claim = claim;
    decode_value(type, decoder, slot.value);
    if (!decoder.ok()) {
      slots.pop_back();
      break;
    }
  }
  state.slots_.adopt_sequence(boost::container::ordered_unique_range, std::move(slots));
}

}  // namespace crdtsim::core
