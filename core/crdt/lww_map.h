#pragma once
// Last-writer-wins map: field -> LWW register (the LWW-element map of Shapiro
// et al. 2011, with each field an LwwRegister; see lww_register.h for the
// total order on writes and its tie-breaks). Merge is the per-field register
// merge.
//
// Removing a field writes a timestamped tombstone for it: a later set revives
// the field, an earlier one loses to the removal. Tombstones are kept in the
// state (they must outlive every concurrent write they beat); a later issue's
// tombstone GC collects them once every replica has seen them.

#include <absl/container/btree_map.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/crdt/lww_register.h"

namespace crdtsim::core {

class LwwMap {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kLwwMap;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // Every field ever written, live or tombstoned, sorted bytewise.
  using Fields = absl::btree_map<std::string, LwwWrite>;

  // Sets `field` to `value` at `timestamp` (same requirements as
  // LwwRegister::write). Returns the delta: a map of just this write, or the
  // empty map when the field's current write wins (stale timestamp).
  LwwMap set_field(std::string field, std::string value, const LwwTimestamp& timestamp);

  // Removes `field` at `timestamp` by writing a tombstone; delta as above.
  LwwMap remove_field(std::string field, const LwwTimestamp& timestamp);

  // Join: per field, the greater write.
  void merge(const LwwMap& other);

  // The value of `field`; nullopt if never set or removed. The view lives as
  // long as the map is not modified.
  std::optional<std::string_view> get(std::string_view field) const;

  // The live (not removed) fields, sorted bytewise.
  std::vector<std::string> fields() const;

  std::size_t tombstone_count() const;
  // Every field, tombstones included.
  const Fields& entries() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  // Body: the count, then (field, write) in increasing field order.
  void encode_body(Encoder& encoder) const;
  // Rejects fields that are not strictly increasing.
  static LwwMap decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, LwwMap& out);

  friend bool operator==(const LwwMap&, const LwwMap&) = default;

 private:
  // Installs `write` for `field` if it beats the current one; returns the delta.
  LwwMap apply_local(std::string field, LwwWrite write);

  Fields fields_;
};

}  // namespace crdtsim::core
