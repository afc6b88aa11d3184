#pragma once
// A process's simulated durable storage: a key/value disk with write and sync.
//
// Reads see every write (like a page cache). sync() makes all writes so far
// durable. crash() forgets every write since the last sync: the disk returns
// to its synced contents. The disk belongs to the simulation, not to the
// process object, so it survives the process's crash and restart.
// contents() lists keys in sorted order (std::map), so a process reloading
// its state sees a deterministic order. The records themselves sit in a hash
// map (a write is one hash and one key compare, where a tree of long, similar
// keys costs several compares); its order is never observed. The map hashes
// keys with fnv1a64, the digest the trace records for every disk event, so
// a caller that has it passes it (HashedKey) and the key is hashed once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/hash.h"
#include "sim/types.h"

namespace crdtsim::sim {

struct DiskLimits {
  std::size_t keys_max = 100'000;
  std::size_t value_bytes_max = 1U << 20U;
};

// A disk key with its digest. Requires digest == fnv1a64(name).
struct HashedKey {
  std::string_view name;
  std::uint64_t digest = 0;
};

class Disk {
 public:
  using Contents = std::map<std::string, Bytes>;

  explicit Disk(const DiskLimits& limits = {}) : limits_(limits) {}

  // Stores value under key (not yet durable). Returns false, changing
  // nothing, if the value is larger than value_bytes_max or the key is new
  // and the disk already holds keys_max keys.
  bool write(std::string_view key, ByteView value) { return write(hashed(key), value); }
  bool write(HashedKey key, ByteView value);
  // The same, taking the value's storage (`value` is left with unspecified
  // contents).
  bool write_owned(std::string_view key, Bytes&& value) {
    return write_owned(hashed(key), std::move(value));
  }
  bool write_owned(HashedKey key, Bytes&& value);
  // Removes key (not yet durable). Returns whether it was present.
  bool remove(std::string_view key) { return remove(hashed(key)); }
  bool remove(HashedKey key);
  // The current value of key (including unsynced writes), or nullptr. The
  // pointer is valid until the next write/remove/sync/crash.
  const Bytes* read(std::string_view key) const;
  // A copy of every current key and value, in key order.
  Contents contents() const;

  // Makes every write so far durable. Returns the number of keys flushed.
  std::size_t sync();
  // Loses every write since the last sync. Returns the number of keys lost.
  std::size_t crash();

  std::size_t unsynced_keys() const { return dirty_.size(); }

 private:
  // One key. A clean record's current value is also its durable one, so
  // only the current value is kept. The first write or remove after a sync
  // swaps the value into `undo` (the durable value, kept for crash()) and
  // marks the record dirty; sync() then just forgets the undo values and
  // crash() swaps them back. Both touch only the dirty records, and the two
  // buffers are reused, so steady writing allocates nothing.
  struct Record {
    Bytes value;
    Bytes undo;                 // while dirty: the durable value
    bool present = false;       // the key currently exists
    bool undo_present = false;  // while dirty: the key exists durably
    bool dirty = false;
  };
  static HashedKey hashed(std::string_view key) { return HashedKey{key, fnv1a64(key)}; }
  // Looks records up by HashedKey (or string_view) without building a
  // std::string; a HashedKey's digest is its hash.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return fnv1a64(key); }
    std::size_t operator()(const HashedKey& key) const noexcept { return key.digest; }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view left, std::string_view right) const noexcept {
      return left == right;
    }
    bool operator()(const HashedKey& left, std::string_view right) const noexcept {
      return left.name == right;
    }
    bool operator()(std::string_view left, const HashedKey& right) const noexcept {
      return left == right.name;
    }
  };
  using Records = std::unordered_map<std::string, Record, KeyHash, KeyEqual>;
  using Entry = Records::value_type;

  // The record write() stores into, marked dirty and present, or nullptr
  // if the write is refused.
  Record* writable(HashedKey key, std::size_t value_size);
  // Marks the record dirty (saving its durable value) if it is not already.
  void touch(Entry& record);
  // Leaves a dirty record clean: drops it if its key is absent.
  void settle(Entry& record);

  // Every key present now, durably, or both (a record of a key absent both
  // ways is dropped when it is settled).
  Records records_;
  // The dirty records, each once, in order of first change (a rehash moves
  // no element, so the pointers stay valid until settle() erases one).
  std::vector<Entry*> dirty_;
  std::size_t present_ = 0;  // records with present set
  DiskLimits limits_;
};

}  // namespace crdtsim::sim
