#pragma once
// DeltaGroup<T>: a batch of deltas of one lattice type, as in Almeida et al.,
// "Delta State Replicated Data Types" (2018), section 4 (delta-intervals).
// A delta is itself a state, and merge is a join (associative, commutative,
// idempotent), so joining the deltas first and merging the result once has
// the same effect as merging each delta in turn: the group is kept as that
// single join, whatever the number of parts.

#include <cstdint>

#include "core/codec/bytes.h"

namespace crdtsim::core {

template <class T>
concept Lattice = CanonicallyEncodable<T> && requires(T& state, const T& other) {
  state.merge(other);
};

template <Lattice T>
class DeltaGroup {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kDeltaGroup;
  static constexpr std::uint8_t kEncodingVersion = 1;

  DeltaGroup() = default;

  // Adds one delta. Guarantees: apply_to() then has the effect of applying
  // every delta added so far, in any order.
  void add(const T& delta) { joined_.merge(delta); }

  // Adds every delta of `other`.
  void merge(const DeltaGroup& other) { joined_.merge(other.joined_); }

  // Merges the whole batch into `state`.
  void apply_to(T& state) const { state.merge(joined_); }

  // The join of the parts: itself a delta of T.
  const T& joined() const { return joined_; }

  // Body: T's type tag and version (so a group of one type never decodes as
  // a group of another), then T's body.
  void encode_body(Encoder& encoder) const {
    encoder.u8(T::kTypeTag);
    encoder.u8(T::kEncodingVersion);
    joined_.encode_body(encoder);
  }
  static DeltaGroup decode_body(Decoder& decoder) {
    DeltaGroup group;
    const std::uint8_t tag = decoder.u8();
    const std::uint8_t version = decoder.u8();
    if (decoder.ok() && tag != T::kTypeTag) {
      decoder.fail("delta group of type tag " + std::to_string(tag) + ", expected " +
                   std::to_string(T::kTypeTag));
    }
    if (decoder.ok() && version != T::kEncodingVersion) {
      decoder.fail("delta group of unsupported version " + std::to_string(version));
    }
    if (decoder.ok()) {
      group.joined_ = T::decode_body(decoder);
    }
    return group;
  }

  friend bool operator==(const DeltaGroup&, const DeltaGroup&) = default;

 private:
  T joined_;
};

}  // namespace crdtsim::core
