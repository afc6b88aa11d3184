#pragma once
// KeyIndex<T>: finds a T by its key string with one hash and, almost always,
// one key comparison, where an ordered container compares the key at every
// level (keys share long prefixes: "register:12", "register:15").
//
// The index stores views of the keys and pointers to the values: the owner
// keeps both at stable addresses while they are indexed (node-based
// containers), and erases a key here before its bytes go.
//
// Open addressing with linear probing over a power-of-two table at most half
// full, the home slot taken from the hash's top bits; erase moves the later
// entries of its run back (no tombstones). Never iterated: slot order follows
// hash values, which nothing the simulation observes may depend on.

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

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
  KeyIndex(KeyIndex&& other) noexcept
      : slots_(std::move(other.slots_)),
        size_(std::exchange(other.size_, 0)),
        shift_(std::exchange(other.shift_, 64)) {
    other.slots_.clear();
  }
  KeyIndex& operator=(KeyIndex&& other) noexcept {
    slots_ = std::move(other.slots_);
    other.slots_.clear();
    size_ = std::exchange(other.size_, 0);
    shift_ = std::exchange(other.shift_, 64);
    return *this;
  }
  ~KeyIndex() = default;

  // The value indexed under `key`, or nullptr.
  T* find(std::string_view key) const {
    if (size_ == 0) {
      return nullptr;
    }
    const std::uint64_t hash = key_index_hash(key);
    for (std::size_t at = home(hash);; at = next(at)) {
      const Slot& slot = slots_[at];
      if (slot.value == nullptr) {
        return nullptr;
      }
      if (slot.hash == hash && key_index_equal(slot.key, key)) {
        return slot.value;
      }
    }
  }

  // Requires: `key` is not indexed, `value` is not null, and the bytes
  // `key` views stay put until the key is erased.
  void insert(std::string_view key, T* value) {
    assert(value != nullptr && find(key) == nullptr);
    if (2 * (size_ + 1) > slots_.size()) {
      grow();
    }
    place(Slot{key_index_hash(key), key, value});
    size_ += 1;
  }

  // Removes `key`; returns whether it was indexed.
  bool erase(std::string_view key) {
    if (size_ == 0) {
      return false;
    }
    const std::uint64_t hash = key_index_hash(key);
    std::size_t hole = home(hash);
    for (;; hole = next(hole)) {
      if (slots_[hole].value == nullptr) {
        return false;
      }
      if (slots_[hole].hash == hash && key_index_equal(slots_[hole].key, key)) {
        break;
      }
    }
    // Close the hole: a later entry of the run moves into it unless its home
    // lies cyclically in (hole, at], where it would no longer be found.
    for (std::size_t at = next(hole); slots_[at].value != nullptr; at = next(at)) {
      const std::size_t wanted = home(slots_[at].hash);
      const bool stays =
          hole < at ? (hole < wanted && wanted <= at) : (hole < wanted || wanted <= at);
      if (!stays) {
        slots_[hole] = slots_[at];
        hole = at;
      }
    }
    slots_[hole] = Slot{};
    size_ -= 1;
    return true;
  }

  void clear() {
    slots_.clear();
    size_ = 0;
    shift_ = 64;
  }
  // Room for `count` keys without growing.
  void reserve(std::size_t count) {
    while (2 * count > slots_.size()) {
      grow();
    }
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view key;
    T* value = nullptr;  // nullptr: empty slot
  };

  std::size_t home(std::uint64_t hash) const { return static_cast<std::size_t>(hash >> shift_); }
  std::size_t next(std::size_t at) const { return (at + 1) & (slots_.size() - 1); }

  void place(const Slot& entry) {
    std::size_t at = home(entry.hash);
    while (slots_[at].value != nullptr) {
      at = next(at);
    }
    slots_[at] = entry;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const std::size_t capacity = old.empty() ? kCapacityMin : 2 * old.size();
    slots_.assign(capacity, Slot{});
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
    for (const Slot& slot : old) {
      if (slot.value != nullptr) {
        place(slot);
      }
    }
  }

  static constexpr std::size_t kCapacityMin = 16;
  std::vector<Slot> slots_;  // empty, or a power of two
  std::size_t size_ = 0;
  unsigned shift_ = 64;  // 64 - log2(slots_.size())
};

}  // namespace crdtsim::core
