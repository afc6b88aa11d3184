#pragma once
// KeyIndex<T>: finds a T by its key string with one hash and, almost always,
// one key comparison, where an ordered container compares the key at every
// level (keys share long prefixes: "register:12", "register:15").
//
// The index stores views of the keys and pointers to the values: the owner
// keeps both at stable addresses while they are indexed (node-based
// containers), and erases a key here before its bytes go.
//
// The table is Abseil's flat_hash_map (a library, not a hand-written table:
// a hand-written linear-probing table measured 0.58 M instructions per
// standard run cheaper, 1.5%, not worth its code). Its hash and equality are
// the short-key functions below: Abseil's default hash cost another 0.2 M.
// Never iterated: slot order follows hash values (and Abseil salts each
// table's probing with its address), which nothing the simulation observes
// may depend on.

#include <absl/container/flat_hash_map.h>

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace crdtsim::core {

namespace key_index_detail {

// Fixed-size loads (a variable-size memcpy is a library call).
inline std::uint64_t load8(const char* bytes) {
  std::uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}
inline std::uint64_t load4(const char* bytes) {
  std::uint32_t word = 0;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

}  // namespace key_index_detail

// A hash for short keys: their first and last eight bytes (overlapping
// below sixteen; four below eight; three bytes below four), every eight
// bytes of longer keys, mixed by multiplication.
// Not a stable or portable value: for in-memory indexes only.
inline std::uint64_t key_index_hash(std::string_view key) {
  using key_index_detail::load4;
  using key_index_detail::load8;
  constexpr std::uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio
  const char* bytes = key.data();
  std::size_t left = key.size();
  std::uint64_t hash = (key.size() + 1) * kMultiplier;
  for (; left > 16; left -= 8, bytes += 8) {
    hash = (hash ^ load8(bytes)) * kMultiplier;
  }
  if (left >= 8) {
    hash = (hash ^ load8(bytes)) * kMultiplier;
    hash = (hash ^ load8(bytes + left - 8)) * kMultiplier;
  } else if (left >= 4) {
    hash = (hash ^ (load4(bytes) | load4(bytes + left - 4) << 32)) * kMultiplier;
  } else if (left > 0) {
    const auto byte = [bytes](std::size_t at) {
      return std::uint64_t{static_cast<unsigned char>(bytes[at])};
    };
    hash = (hash ^ (byte(0) | byte(left / 2) << 8 | byte(left - 1) << 16)) * kMultiplier;
  }
  // A product's top bits depend on every bit of its factors: the index
  // takes its slot from them.
  return hash;
}

// Whether two keys are equal; keys of 4 to 16 bytes compared by the same
// overlapping word loads as the hash instead of a memcmp call.
inline bool key_index_equal(std::string_view left, std::string_view right) {
  using key_index_detail::load4;
  using key_index_detail::load8;
  const std::size_t size = left.size();
  if (size != right.size()) {
    return false;
  }
  const char* a = left.data();
  const char* b = right.data();
  if (size >= 8 && size <= 16) {
    return load8(a) == load8(b) && load8(a + size - 8) == load8(b + size - 8);
  }
  if (size >= 4 && size < 8) {
    return load4(a) == load4(b) && load4(a + size - 4) == load4(b + size - 4);
  }
  return left == right;
}

// Bytes [from, from + 8) of `key` as a big-endian word, zero past the key's
// end. Comparing keys' words at 0, 8, ... orders them as bytewise
// comparison does, up to keys equal on those words (equal keys, or keys
// that differ only by trailing zero bytes or beyond the words compared):
// a sort can compare two integers instead of two strings.
inline std::uint64_t key_order_word(std::string_view key, std::size_t from) {
  if (key.size() >= from + 8) {
    std::uint64_t word = key_index_detail::load8(key.data() + from);
    if constexpr (std::endian::native == std::endian::little) {
      word = __builtin_bswap64(word);
    }
    return word;
  }
  std::uint64_t word = 0;
  for (std::size_t at = from; at < key.size(); ++at) {
    word |= std::uint64_t{static_cast<unsigned char>(key[at])} << (56 - 8 * (at - from));
  }
  return word;
}

// A key with its first 16 bytes as two big-endian words: ordered as
// bytewise comparison orders the keys, reading the strings only for keys
// equal on both words and longer than 16 bytes. For sorts and searches
// that compare each key several times. The view must outlive the rank.
struct KeyRank {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::string_view key;

  static KeyRank of(std::string_view key) {
    return KeyRank{key_order_word(key, 0), key_order_word(key, 8), key};
  }
};

// Negative, zero or positive as left.key.compare(right.key).
inline int compare(const KeyRank& left, const KeyRank& right) {
  if (left.high != right.high) {
    return left.high < right.high ? -1 : 1;
  }
  if (left.low != right.low) {
    return left.low < right.low ? -1 : 1;
  }
  if (left.key.size() <= 16 && right.key.size() <= 16) {
    // Equal bytes up to the shorter key's end, then zeros: the longer one
    // follows.
    return left.key.size() < right.key.size() ? -1 : (left.key.size() == right.key.size() ? 0 : 1);
  }
  return left.key.compare(right.key);
}

template <class T>
class KeyIndex {
 public:
  KeyIndex() = default;
  // Not copyable: a copy would view the original owner's keys.
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;
  // Moved with its owner's nodes; the source is left empty.
  KeyIndex(KeyIndex&& other) noexcept : map_(std::move(other.map_)) { other.map_.clear(); }
  KeyIndex& operator=(KeyIndex&& other) noexcept {
    map_ = std::move(other.map_);
    other.map_.clear();
    return *this;
  }
  ~KeyIndex() = default;

  // The value indexed under `key`, or nullptr.
  T* find(std::string_view key) const {
    const auto found = map_.find(key);
    return found == map_.end() ? nullptr : found->second;
  }

  // Requires: `key` is not indexed, `value` is not null, and the bytes
  // `key` views stay put until the key is erased.
  void insert(std::string_view key, T* value) {
    assert(value != nullptr);
    [[maybe_unused]] const bool inserted = map_.emplace(key, value).second;
    assert(inserted);
  }

  // Removes `key`; returns whether it was indexed.
  bool erase(std::string_view key) { return map_.erase(key) != 0; }

  void clear() { map_.clear(); }
  // Room for `count` keys without growing.
  void reserve(std::size_t count) { map_.reserve(count); }
  std::size_t size() const { return map_.size(); }

 private:
  struct Hash {
    std::size_t operator()(std::string_view key) const {
      return static_cast<std::size_t>(key_index_hash(key));
    }
  };
  struct Equal {
    bool operator()(std::string_view left, std::string_view right) const {
      return key_index_equal(left, right);
    }
  };
  absl::flat_hash_map<std::string_view, T*, Hash, Equal> map_;
};

}  // namespace crdtsim::core
