#pragma once
// A process's simulated durable storage: a key/value disk with write and sync.
//
// Reads see every write (like a page cache). sync() makes all writes so far
// durable. crash() forgets every write since the last sync: the disk returns
// to its synced contents. The disk belongs to the simulation, not to the
// process object, so it survives the process's crash and restart.
// Keys iterate in sorted order (std::map), so a process reloading its state
// sees a deterministic order.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/types.h"

namespace crdtsim::sim {

struct DiskLimits {
  std::size_t keys_max = 100'000;
  std::size_t value_bytes_max = 1U << 20U;
};

class Disk {
 public:
  using Contents = std::map<std::string, Bytes, std::less<>>;

  explicit Disk(const DiskLimits& limits = {}) : limits_(limits) {}

  // Stores value under key (not yet durable). Returns false, changing
  // nothing, if the value is larger than value_bytes_max or the key is new
  // and the disk already holds keys_max keys.
  bool write(std::string_view key, ByteView value);
  // Removes key (not yet durable). Returns whether it was present.
  bool remove(std::string_view key);
  // The current value of key (including unsynced writes), or nullptr. The
  // pointer is valid until the next write/remove/crash.
  const Bytes* read(std::string_view key) const;
  // Every current key and value, in key order.
  const Contents& contents() const { return current_; }

  // Makes every write so far durable. Returns the number of keys flushed.
  std::size_t sync();
  // Loses every write since the last sync. Returns the number of keys lost.
  std::size_t crash();

  std::size_t unsynced_keys() const;

 private:
  void mark_dirty(std::string_view key);
  void dedupe_dirty();

  Contents current_;
  Contents durable_;
  // Keys written or removed since the last sync, possibly repeated: a flat
  // vector, reused across syncs (short keys stay in the strings' inline
  // storage). Sorted and deduplicated before use, and whenever it doubles,
  // so it stays within twice the number of distinct unsynced keys.
  std::vector<std::string> dirty_;
  std::size_t dirty_distinct_ = 0;  // size after the last deduplication
  DiskLimits limits_;
};

}  // namespace crdtsim::sim
