#pragma once
// Wire frames: how every message between replicas (and between clients and
// replicas) crosses a network, simulated or real.
//
//   offset  size  field
//   0       4     payload length L, little-endian (bounded by kPayloadBytesMax)
//   4       1     wire version (kWireVersion)
//   5       1     message kind
//   6       L     payload (the message's canonical encoding)
//   6+L     8     checksum: XXH3-64 of bytes [4, 6+L), little-endian
//
// A frame that is truncated, too long, of an unknown version, or whose
// checksum does not match is rejected with an error; the caller drops it and
// counts it. Nothing in a frame is trusted before the checksum passes.

#include <cstdint>
#include <string>

#include "core/codec/bytes.h"

namespace crdtsim::core {

inline constexpr std::uint8_t kWireVersion = 1;
inline constexpr std::uint32_t kPayloadBytesMax = 64u << 20;  // 64 MiB
inline constexpr std::size_t kFrameOverheadBytes = 4 + 1 + 1 + 8;

struct FrameView {
  std::uint8_t kind = 0;
  ByteView payload;
};

// Appends one frame holding `payload` to `out`.
// Requires: payload.size() <= kPayloadBytesMax.
void append_frame(Bytes& out, std::uint8_t kind, ByteView payload);
Bytes make_frame(std::uint8_t kind, ByteView payload);

// Building a frame in place, without a separate payload buffer: begin_frame
// appends the header (length to be filled in) and returns the frame's start;
// the caller appends the payload to `out`; end_frame fills in the length and
// appends the checksum. The bytes equal append_frame's for that payload.
// Requires for end_frame: the payload appended since begin_frame is at most
// kPayloadBytesMax bytes.
std::size_t begin_frame(Bytes& out, std::uint8_t kind);
void end_frame(Bytes& out, std::size_t start);

// Parses exactly one frame occupying all of `bytes`. On success the payload
// view points into `bytes`. On failure returns false and sets `error`.
bool parse_frame(ByteView bytes, FrameView& frame, std::string& error);

}  // namespace crdtsim::core
