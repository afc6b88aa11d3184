#pragma once
// The simulator's event queue: a binary min-heap of small POD entries.
//
// Entries are ordered by (time_us, sequence). The sequence number is assigned
// by the queue at push time and strictly increases, so events at the same
// time run in the order they were scheduled, never in pointer or hash order.
// Payloads (message bytes, timer records, actions) live in the simulation's
// slabs; an entry names its payload by (kind, index).

#include <cstdint>
#include <vector>

#include "sim/types.h"

namespace crdtsim::sim {

enum class EventKind : std::uint8_t {
  start = 1,    // index: process id to start
  deliver = 2,  // index: message slot
  timer = 3,    // index: timer slot
  action = 4,   // index: action slot
};

struct QueueEntry {
  TimeUs time_us;
  std::uint64_t sequence;
  std::uint32_t index;
  EventKind kind;
};

class EventQueue {
 public:
  // capacity_max: the most entries the queue may ever hold (a bound, not a
  // reservation).
  explicit EventQueue(std::uint32_t capacity_max);

  // Requires !full(). Returns the sequence number given to the entry.
  std::uint64_t push(TimeUs time_us, EventKind kind, std::uint32_t index);

  // Requires !empty(). The entry with the smallest (time_us, sequence).
  const QueueEntry& top() const { return heap_.front(); }
  // Requires !empty(). Removes and returns top().
  QueueEntry pop();

  bool empty() const { return heap_.empty(); }
  bool full() const { return heap_.size() >= capacity_max_; }
  std::size_t size() const { return heap_.size(); }
  std::uint64_t next_sequence() const { return next_sequence_; }
  // Bytes of memory the heap array holds (capacity, not size).
  std::size_t memory_bytes() const { return heap_.capacity() * sizeof(QueueEntry); }

 private:
  // (time_us, sequence) as one 128-bit number: a single branch-free compare.
  __extension__ using Key = unsigned __int128;
  static Key key(const QueueEntry& entry) {
    return (static_cast<Key>(static_cast<std::uint64_t>(entry.time_us)) << 64U) | entry.sequence;
  }
  static bool before(const QueueEntry& a, const QueueEntry& b) { return key(a) < key(b); }
  void sift_up(std::size_t hole, QueueEntry entry);
  std::size_t hole_to_leaf();

  std::vector<QueueEntry> heap_;
  std::uint64_t next_sequence_ = 0;
  std::uint32_t capacity_max_;
};

}  // namespace crdtsim::sim
