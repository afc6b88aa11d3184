#pragma once
// Hash functions the simulator uses for names, payloads and the trace hash.
// All are fixed, documented algorithms over explicit byte or word encodings,
// so their values are identical on every compiler, build type and machine
// (std::hash is not).

#include <cstdint>
#include <string_view>

#include "sim/types.h"

namespace crdtsim::sim {

// 64-bit FNV-1a over the bytes of `text` (offset basis 0xcbf29ce484222325,
// prime 0x100000001b3). Used to name streams, fault points and coverage points.
std::uint64_t fnv1a64(std::string_view text);

// The SplitMix64 output function (Stafford's "Mix13" variant as used by
// splitmix64.c): a bijective 64-bit mixer.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

// One step of the word-wise chain used by the trace hash and payload digests:
//   h' = ((h XOR w) * 0x9E3779B97F4A7C15) XOR (... >> 29)
// Cheap (one multiply) and sensitive to every bit of w and to word order.
constexpr std::uint64_t chain64(std::uint64_t h, std::uint64_t word) {
  h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29U);
}

inline constexpr std::uint64_t kChainBasis = 0xcbf29ce484222325ULL;

// Digest of a byte buffer: chain64 over its little-endian 64-bit words (the
// last one zero-padded), then over its length, then mix64.
std::uint64_t digest_bytes(ByteView bytes);

}  // namespace crdtsim::sim
