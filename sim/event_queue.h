#pragma once
// The simulator's event queue: a radix heap of small POD entries.
//
// Entries are ordered by (time_us, sequence). The sequence number is assigned
// by the queue at push time and strictly increases, so events at the same
// time run in the order they were scheduled, never in pointer or hash order.
// Payloads (message bytes, timer records, actions) live in the simulation's
// slabs; an entry names its payload by (kind, index).
//
// Why a radix heap: the simulation never schedules into the past, so the
// times pushed are at least the time last popped (the base). An entry goes
// into bucket bit_width(time XOR base): bucket 0 holds the entries at the
// base time, and every entry of bucket i is earlier than every entry of a
// bucket above i. Pushing is an append; when bucket 0 runs dry, the lowest
// non-empty bucket is split by its earliest time (the new base), each entry
// moving to a strictly lower bucket. An entry moves at most 63 times, and in
// practice once or twice, against a binary heap's log2(n) swaps per pop and
// per push. Bucket 0 is kept in sequence order (it is sorted when filled by
// a split; later pushes at the base time carry larger sequence numbers), so
// equal times pop in scheduling order.
//
// A push earlier than the base (possible after top() moved the base to an
// entry that has not run yet) rebuilds the buckets around the new base: rare,
// and O(size).

#include <array>
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

  // Requires !full() and time_us >= 0. Returns the sequence number given to
  // the entry.
  std::uint64_t push(TimeUs time_us, EventKind kind, std::uint32_t index);

  // Requires !empty(). The entry with the smallest (time_us, sequence).
  const QueueEntry& top() {
    refill();
    return buckets_[0][front_];
  }
  // Requires !empty(). Removes and returns top().
  QueueEntry pop();

  bool empty() const { return size_ == 0; }
  bool full() const { return size_ >= capacity_max_; }
  std::size_t size() const { return size_; }
  std::uint64_t next_sequence() const { return next_sequence_; }
  // Bytes of memory the buckets hold (capacity, not size).
  std::size_t memory_bytes() const;

 private:
  // Bucket of a time relative to the base: times are non-negative, so the
  // XOR is below 2^63 and the bucket below 64.
  static constexpr std::size_t kBuckets = 64;
  std::size_t bucket_of(TimeUs time_us) const;
  void insert(const QueueEntry& entry);
  // Makes bucket 0 non-empty (requires !empty()).
  void refill() {
    if ((occupied_ & 1U) == 0) {
      split();
    }
  }
  // Moves the earliest entries into the empty bucket 0.
  void split();
  void rebase(TimeUs base_us);

  std::array<std::vector<QueueEntry>, kBuckets> buckets_;
  std::size_t front_ = 0;       // bucket 0's entries before front_ have popped
  std::uint64_t occupied_ = 0;  // bit i: bucket i holds entries (bit 0: not yet popped)
  TimeUs base_us_ = 0;          // <= every queued time
  std::size_t size_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint32_t capacity_max_;
};

}  // namespace crdtsim::sim
