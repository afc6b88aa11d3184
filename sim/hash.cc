#include "sim/hash.h"

#include <bit>
#include <cstddef>
#include <cstring>

namespace crdtsim::sim {

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

namespace {

// Little-endian load of up to 8 bytes (explicit shifts: host byte order never
// leaks into the value).
std::uint64_t load_le(ByteView bytes, std::size_t offset, std::size_t count) {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < count; ++i) {
    word |= static_cast<std::uint64_t>(bytes[offset + i]) << (8U * i);
  }
  return word;
}

// A full 8-byte little-endian word: one load on little-endian hosts.
std::uint64_t load_le64(ByteView bytes, std::size_t offset) {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + offset, sizeof(word));
    return word;
  } else {
    return load_le(bytes, offset, 8);
  }
}

}  // namespace

std::uint64_t digest_bytes(ByteView bytes) {
  std::uint64_t hash = kChainBasis;
  std::size_t offset = 0;
  for (; offset + 8 <= bytes.size(); offset += 8) {
    hash = chain64(hash, load_le64(bytes, offset));
  }
  if (offset < bytes.size()) {
    const std::size_t rest = bytes.size() - offset;
    // The last 1-7 bytes as a zero-padded little-endian word. With a full
    // word before them: the last 8 bytes loaded at once, shifted right past
    // the bytes already chained (the same value as the byte loop, cheaper).
    const std::uint64_t tail = offset >= 8
                                   ? load_le64(bytes, bytes.size() - 8) >> (8U * (8U - rest))
                                   : load_le(bytes, offset, rest);
    hash = chain64(hash, tail);
  }
  hash = chain64(hash, static_cast<std::uint64_t>(bytes.size()));
  return mix64(hash);
}

}  // namespace crdtsim::sim
