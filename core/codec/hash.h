#pragma once
// The store's one hash function: XXH3-64 from xxHash 0.8 (its output is frozen
// by the xxHash specification since 0.8.0), so ring tokens and Merkle digests
// are identical on every machine, compiler and build type.

#include <cstdint>
#include <string_view>

#include "core/codec/bytes.h"

namespace crdtsim::core {

std::uint64_t hash64(ByteView bytes, std::uint64_t seed = 0);
std::uint64_t hash64(std::string_view text, std::uint64_t seed = 0);

}  // namespace crdtsim::core
