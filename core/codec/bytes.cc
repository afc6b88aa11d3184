#include "core/codec/bytes.h"

#include <array>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

namespace crdtsim::core {

void Encoder::varint_long(std::uint64_t value) {
  assert(value >= 0x80);
  // Byte by byte: an inline push_back per byte costs less than building
  // the bytes aside and appending them with a range insert, whose generic
  // path (moving the elements after the insertion point, then copying)
  // makes library calls for a few bytes.
  do {
    out_.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  } while (value >= 0x80);
  out_.push_back(static_cast<std::uint8_t>(value));
}

void Encoder::zigzag(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  varint((bits << 1) ^ (value < 0 ? ~std::uint64_t{0} : std::uint64_t{0}));
}

void Encoder::fixed64(std::uint64_t value) {
  std::array<std::uint8_t, 8> bytes{};
  for (std::size_t index = 0; index < bytes.size(); ++index) {
    bytes[index] = static_cast<std::uint8_t>(value >> (8 * index));
  }
  out_.insert(out_.end(), bytes.begin(), bytes.end());
}

void Encoder::string(std::string_view value) {
  varint(value.size());
  // As bytes: an insert of the vector's own element type copies with one
  // memmove, not a conversion loop.
  const auto* first = reinterpret_cast<const std::uint8_t*>(value.data());
  out_.insert(out_.end(), first, first + value.size());
}

void Decoder::fail(std::string reason) {
  if (failed_) {
    return;
  }
  failed_ = true;
  error_ = "at byte " + std::to_string(position_) + ": " + std::move(reason);
}

std::uint8_t Decoder::u8_slow() {
  if (failed_) {
    return 0;
  }
  if (position_ >= input_.size()) {
    fail("unexpected end of input");
    return 0;
  }
  return input_[position_++];
}

std::uint64_t Decoder::varint_long() {
  if (failed_) {
    return 0;
  }
  // What a loop of u8() does, with the failure checked once: nothing below
  // fails without returning.
  std::uint64_t value = 0;
  // A 64-bit varint has at most 10 bytes; the 10th may only carry one bit.
  for (int index = 0; index < 10; ++index) {
    if (position_ >= input_.size()) {
      fail("unexpected end of input");
      return 0;
    }
    const std::uint8_t byte = input_[position_++];
    if (index == 9 && byte > 1) {
      fail("varint overflows 64 bits");
      return 0;
    }
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * index);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && index > 0) {
        fail("non-canonical varint (trailing zero byte)");
        return 0;
      }
      return value;
    }
  }
  fail("varint longer than 10 bytes");
  return 0;
}

std::int64_t Decoder::zigzag() {
  const std::uint64_t raw = varint();
  const std::uint64_t magnitude = raw >> 1;
  const std::uint64_t sign_mask = (raw & 1) != 0 ? ~std::uint64_t{0} : std::uint64_t{0};
  return static_cast<std::int64_t>(magnitude ^ sign_mask);
}

std::uint64_t Decoder::fixed64() {
  std::uint64_t value = 0;
  if (!failed_ && input_.size() - position_ >= 8) {
    // All eight bytes are there: no check per byte, and on a little-endian
    // host one unaligned load.
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&value, input_.data() + position_, 8);
      position_ += 8;
    } else {
      for (int shift = 0; shift < 64; shift += 8) {
        value |= static_cast<std::uint64_t>(input_[position_++]) << shift;
      }
    }
    return value;
  }
  for (int shift = 0; shift < 64; shift += 8) {
    value |= static_cast<std::uint64_t>(u8()) << shift;
  }
  return failed_ ? 0 : value;
}

std::string Decoder::string() {
  const std::size_t length = count(1);
  if (failed_) {
    return {};
  }
  std::string value(reinterpret_cast<const char*>(input_.data() + position_), length);
  position_ += length;
  return value;
}

void Decoder::string(std::string& out) {
  const std::size_t length = count(1);
  if (failed_) {
    out.clear();
    return;
  }
  out.assign(reinterpret_cast<const char*>(input_.data() + position_), length);
  position_ += length;
}

std::size_t Decoder::count_slow(std::size_t min_bytes_each) {
  const std::uint64_t value = varint();
  if (failed_) {
    return 0;
  }
  // (Most callers pass 1: skip the division for them.)
  const std::size_t limit = min_bytes_each <= 1 ? remaining() : remaining() / min_bytes_each;
  if (value > limit) {
    fail("count " + std::to_string(value) + " exceeds the " + std::to_string(remaining()) +
         " bytes left");
    return 0;
  }
  return static_cast<std::size_t>(value);
}

std::uint32_t Decoder::varint32_slow() {
  const std::uint64_t value = varint();
  if (value > std::numeric_limits<std::uint32_t>::max()) {
    fail("value " + std::to_string(value) + " does not fit in 32 bits");
    return 0;
  }
  return static_cast<std::uint32_t>(value);
}

}  // namespace crdtsim::core
