#pragma once
// Helpers shared by the peer-message codecs (peer_messages.cc, hot_keys.cc,
// tombstone_gc.cc): one frame per message, whole-payload decoding, bounded
// counts.

#include <cstddef>
#include <string>

#include "core/codec/bytes.h"
#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"

namespace crdtsim::core::message_codec {

// Encodes the payload straight into the frame (one buffer, no copy).
template <class Body>
Bytes frame_of(PeerMessageKind kind, Body&& write_body) {
  Bytes frame;
  frame.reserve(256);
  const std::size_t start = begin_frame(frame, static_cast<std::uint8_t>(kind));
  Encoder encoder(frame);
  write_body(encoder);
  end_frame(frame, start);
  return frame;
}

// Runs `read_body` over the whole payload; fails on trailing bytes.
template <class Body>
bool decode_with(ByteView payload, std::string& error, Body&& read_body) {
  Decoder decoder(payload);
  read_body(decoder);
  if (decoder.ok() && !decoder.at_end()) {
    decoder.fail(std::to_string(decoder.remaining()) + " trailing bytes");
  }
  if (!decoder.ok()) {
    error = decoder.error();
    return false;
  }
  return true;
}

// A bounded count: rejects more than `limit` items as well as more than the
// input could hold at `min_bytes_each`.
inline std::size_t bounded_count(Decoder& decoder, std::size_t min_bytes_each, std::size_t limit,
                                 const char* what) {
  const std::size_t count = decoder.count(min_bytes_each);
  if (decoder.ok() && count > limit) {
    decoder.fail(std::string(what) + " count " + std::to_string(count) + " exceeds " +
                 std::to_string(limit));
    return 0;
  }
  return count;
}

}  // namespace crdtsim::core::message_codec
