#include "core/wire/frame.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "core/codec/hash.h"

namespace crdtsim::core {

namespace {

// A little-endian field of `width` (at most 8) bytes. On a little-endian
// host one unaligned load (memcpy folds to a single move); elsewhere byte by
// byte.
std::uint64_t read_le(ByteView bytes, std::size_t offset, std::size_t width) {
  assert(width <= 8 && offset + width <= bytes.size());
  std::uint64_t value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, bytes.data() + offset, width);
  } else {
    for (std::size_t index = 0; index < width; ++index) {
      value |= static_cast<std::uint64_t>(bytes[offset + index]) << (8 * index);
    }
  }
  return value;
}

}  // namespace

std::size_t begin_frame(Bytes& out, std::uint8_t kind) {
  const std::size_t start = out.size();
  out.insert(out.end(), {0, 0, 0, 0, kWireVersion, kind});
  return start;
}

void end_frame(Bytes& out, std::size_t start) {
  assert(out.size() >= start + 6);
  const std::size_t payload_bytes = out.size() - start - 6;
  assert(payload_bytes <= kPayloadBytesMax);
  const auto length = static_cast<std::uint32_t>(payload_bytes);
  // Through one pointer: a byte store through out[] could alias the
  // vector's own pointers, which would then be reloaded per byte.
  std::uint8_t* const header = out.data() + start;
  for (std::size_t index = 0; index < 4; ++index) {
    header[index] = static_cast<std::uint8_t>(length >> (8 * index));
  }
  const std::uint64_t checksum = hash64(ByteView(out.data() + start + 4, 2 + payload_bytes));
  Encoder encoder(out);
  encoder.fixed64(checksum);
}

void append_frame(Bytes& out, std::uint8_t kind, ByteView payload) {
  assert(payload.size() <= kPayloadBytesMax);
  const std::size_t start = begin_frame(out, kind);
  out.insert(out.end(), payload.begin(), payload.end());
  end_frame(out, start);
}

Bytes make_frame(std::uint8_t kind, ByteView payload) {
  Bytes out;
  out.reserve(kFrameOverheadBytes + payload.size());
  append_frame(out, kind, payload);
  return out;
}

bool parse_frame(ByteView bytes, FrameView& frame, std::string& error) {
  if (bytes.size() < kFrameOverheadBytes) {
    error = "frame of " + std::to_string(bytes.size()) + " bytes is shorter than its header";
    return false;
  }
  const std::uint64_t length = read_le(bytes, 0, 4);
  if (length > kPayloadBytesMax) {
    error = "frame payload length " + std::to_string(length) + " exceeds the maximum";
    return false;
  }
  if (bytes.size() != kFrameOverheadBytes + length) {
    error = "frame length field says " + std::to_string(length) + " payload bytes but " +
            std::to_string(bytes.size() - kFrameOverheadBytes) + " arrived";
    return false;
  }
  const std::uint64_t expected = read_le(bytes, 6 + length, 8);
  const std::uint64_t actual = hash64(bytes.subspan(4, 2 + length));
  if (expected != actual) {
    error = "frame checksum mismatch";
    return false;
  }
  if (bytes[4] != kWireVersion) {
    error = "unsupported wire version " + std::to_string(bytes[4]);
    return false;
  }
  frame.kind = bytes[5];
  frame.payload = bytes.subspan(6, length);
  return true;
}

}  // namespace crdtsim::core
