#pragma once
// Last-writer-wins register (Shapiro, Preguiça, Baquero and Zawirski, "A
// comprehensive study of Convergent and Commutative Replicated Data Types",
// 2011, LWW-Register). Its whole meaning is `merge`: keep the greater write.
//
// Writes are totally ordered by (timestamp, tombstone, value): the
// LwwTimestamp order first (time, logical, replica); on an exactly equal
// timestamp (two writes can only share one through a misbehaving clock) a
// tombstone beats a value and a greater value (bytewise) beats a smaller one.
// The order is total, so the winner never depends on the merge order.
//
// Clearing (the store's DEL) is a write of a tombstone: a timestamped write
// with no value. A tombstone is ordered like any write, so a later write
// revives the register and an earlier one stays deleted.

#include <cassert>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"

namespace crdtsim::core {

// One write of an LWW type (register, map field): a value or a tombstone.
struct LwwWrite {
  LwwTimestamp timestamp;
  bool tombstone = false;
  std::string value;  // empty when `tombstone`

  // Member order is the comparison order (see the header comment).
  friend auto operator<=>(const LwwWrite&, const LwwWrite&) = default;
  friend bool operator==(const LwwWrite&, const LwwWrite&) = default;

  // Nested encoding: timestamp, a kind byte (0 value, 1 tombstone), and the
  // value for kind 0.
  void encode_body(Encoder& encoder) const;
  // Rejects an unknown kind byte.
  static LwwWrite decode_body(Decoder& decoder);
};

class LwwRegister {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kLwwRegister;
  static constexpr std::uint8_t kEncodingVersion = 1;

  // The empty register: never written; below every write.
  LwwRegister() = default;
  static LwwRegister holding(LwwWrite write);

  // Writes `value` at `timestamp`. Requires: `timestamp` comes from the
  // writing replica's clock, with its replica id, after that clock observed
  // this register's timestamp (then the write wins). Guarantees: returns the
  // delta, a register holding just this write; if the write loses to the
  // current one (a stale timestamp), nothing changes and the delta is empty.
  LwwRegister write(std::string value, const LwwTimestamp& timestamp);

  // Writes a tombstone at `timestamp` (DEL): as write(), with no value.
  LwwRegister clear(const LwwTimestamp& timestamp);

  // Join: keeps the greater of the two writes.
  void merge(const LwwRegister& other);

  // The current value; nullopt if never written or cleared. The view lives
  // as long as the register is not modified.
  std::optional<std::string_view> value() const;

  bool empty() const { return !write_.has_value(); }
  bool cleared() const { return write_.has_value() && write_->tombstone; }
  // The winning write, if any.
  const std::optional<LwwWrite>& last_write() const { return write_; }

  // Body: 0 for the empty register, or 1 and the write.
  void encode_body(Encoder& encoder) const;
  static LwwRegister decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, LwwRegister& out);

  friend bool operator==(const LwwRegister&, const LwwRegister&) = default;

 private:
  // Installs `write` if it beats the current one; returns the delta.
  LwwRegister apply_local(LwwWrite write);

  std::optional<LwwWrite> write_;
};

}  // namespace crdtsim::core
