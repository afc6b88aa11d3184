#pragma once
// Canonical byte encoding: the building blocks every CRDT and message uses.
//
// Integers are LEB128 varints (signed ones zigzag first), strings are a varint
// length followed by the bytes. Every decoder step checks bounds; the first
// failure is sticky (later reads return zero values and do nothing), so a
// decode function reads straight through and checks `ok()` once at the end.
// Malformed input can never cause undefined behaviour or a huge allocation.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crdtsim::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

class Encoder {
 public:
  explicit Encoder(Bytes& out) : out_(out) {}

  void u8(std::uint8_t value) { out_.push_back(value); }
  // Inline for the common one-byte case (small counts, ids, kinds).
  void varint(std::uint64_t value) {
    if (value < 0x80) {
      out_.push_back(static_cast<std::uint8_t>(value));
      return;
    }
    varint_long(value);
  }
  void zigzag(std::int64_t value);
  // Fixed-width little-endian, for hashes and checksums.
  void fixed64(std::uint64_t value);
  void string(std::string_view value);

 private:
  // Requires value >= 0x80 (varint writes the one-byte case itself): the
  // loop always emits a continuation byte first.
  void varint_long(std::uint64_t value);

  Bytes& out_;
};

class Decoder {
 public:
  explicit Decoder(ByteView input) : input_(input) {}

  std::uint8_t u8() {
    if (position_ < input_.size() && !failed_) [[likely]] {
      return input_[position_++];
    }
    return u8_slow();
  }
  // Inline for the common one-byte case; longer ones take the checked path.
  std::uint64_t varint() {
    if (position_ < input_.size() && !failed_ && input_[position_] < 0x80) [[likely]] {
      return input_[position_++];
    }
    return varint_long();
  }
  std::int64_t zigzag();
  std::uint64_t fixed64();
  std::string string();
  // The same into `out` (replacing its contents): no temporary string, and
  // `out`'s buffer is reused.
  void string(std::string& out);
  // A varint element count, rejected if the remaining input cannot hold that
  // many elements of at least `min_bytes_each` bytes (bounds allocations).
  // Inline for a one-byte count that fits (value * each <= rest is value <=
  // rest / each, without the division, for the small constants callers pass).
  std::size_t count(std::size_t min_bytes_each) {
    if (position_ < input_.size() && !failed_ && input_[position_] < 0x80) [[likely]] {
      const std::size_t value = input_[position_];
      const std::size_t rest = input_.size() - position_ - 1;
      if (value * (min_bytes_each <= 1 ? 1 : min_bytes_each) <= rest) {
        ++position_;
        return value;
      }
    }
    return count_slow(min_bytes_each);
  }
  // A varint that must fit in 32 bits.
  std::uint32_t varint32() {
    if (position_ < input_.size() && !failed_ && input_[position_] < 0x80) [[likely]] {
      return input_[position_++];
    }
    return varint32_slow();
  }

  // Marks the decode as failed with `reason` (first failure wins).
  void fail(std::string reason);
  bool ok() const { return !failed_; }
  bool at_end() const { return position_ == input_.size(); }
  std::size_t position() const { return position_; }
  std::size_t remaining() const { return input_.size() - position_; }
  const std::string& error() const { return error_; }

 private:
  std::uint8_t u8_slow();
  std::uint64_t varint_long();
  std::size_t count_slow(std::size_t min_bytes_each);
  std::uint32_t varint32_slow();

  ByteView input_;
  std::size_t position_ = 0;
  bool failed_ = false;
  std::string error_;
};

// The result of decoding a whole buffer: a value, or an error saying what was
// wrong and at which byte offset.
template <class T>
struct Decoded {
  std::optional<T> value;
  std::string error;

  explicit operator bool() const { return value.has_value(); }
};

// A type with a canonical, versioned encoding. `encode_body`/`decode_body`
// write and read the state without the two header bytes (type tag, version),
// so that a type can be nested inside another.
template <class T>
concept CanonicallyEncodable = requires(const T& value, Encoder& encoder, Decoder& decoder) {
  { T::kTypeTag } -> std::convertible_to<std::uint8_t>;
  { T::kEncodingVersion } -> std::convertible_to<std::uint8_t>;
  value.encode_body(encoder);
  { T::decode_body(decoder) } -> std::same_as<T>;
};

// The canonical bytes of `value`: type tag, version, body.
// Equal states produce equal bytes.
template <CanonicallyEncodable T>
Bytes encode(const T& value) {
  Bytes out;
  out.reserve(64);  // most states are small: avoid regrowing byte by byte
  Encoder encoder(out);
  encoder.u8(T::kTypeTag);
  encoder.u8(T::kEncodingVersion);
  value.encode_body(encoder);
  return out;
}

// Decodes a whole buffer produced by `encode`. Rejects a wrong tag, an unknown
// version, malformed or non-canonical bodies and trailing bytes.
template <CanonicallyEncodable T>
Decoded<T> decode(ByteView input) {
  Decoder decoder(input);
  const std::uint8_t tag = decoder.u8();
  const std::uint8_t version = decoder.u8();
  if (decoder.ok() && tag != T::kTypeTag) {
    decoder.fail("wrong type tag " + std::to_string(tag) + ", expected " +
                 std::to_string(T::kTypeTag));
  }
  if (decoder.ok() && version != T::kEncodingVersion) {
    decoder.fail("unsupported encoding version " + std::to_string(version));
  }
  Decoded<T> result;
  if (!decoder.ok()) {
    result.error = decoder.error();
    return result;
  }
  T value = T::decode_body(decoder);
  if (decoder.ok() && !decoder.at_end()) {
    decoder.fail(std::to_string(decoder.remaining()) + " trailing bytes");
  }
  if (decoder.ok()) {
    result.value = std::move(value);
  } else {
    result.error = decoder.error();
  }
  return result;
}

// Type tags of the canonical encodings (one byte; never reuse a number).
namespace type_tag {
inline constexpr std::uint8_t kLwwRegister = 1;
inline constexpr std::uint8_t kMvRegister = 2;
inline constexpr std::uint8_t kGCounter = 3;
inline constexpr std::uint8_t kPNCounter = 4;
inline constexpr std::uint8_t kGSet = 5;
inline constexpr std::uint8_t kORSet = 6;
inline constexpr std::uint8_t kLwwMap = 7;
inline constexpr std::uint8_t kVectorClock = 8;
inline constexpr std::uint8_t kCausalContext = 9;
inline constexpr std::uint8_t kDeltaGroup = 10;
inline constexpr std::uint8_t kCommand = 11;
inline constexpr std::uint8_t kReply = 12;
inline constexpr std::uint8_t kKeyState = 13;
inline constexpr std::uint8_t kCausalCounter = 14;
}  // namespace type_tag

}  // namespace crdtsim::core
