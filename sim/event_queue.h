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
// times pushed are at least the time last popped. An entry goes into bucket
// bit_width(time XOR base): every entry of bucket i is earlier than every
// entry of a bucket above i. Pushing is an append.
//
// The earliest entries wait in `run_`, sorted, and pop from its back. When
// it runs dry, the lowest non-empty bucket becomes the next run: sorted as a
// whole when it is small (the common case: a few messages in flight), and
// its latest time becomes the base; a large bucket is first split the radix
// way (its earliest time becomes the base and each entry moves to a strictly
// lower bucket) until the lowest bucket is small. Sorting a few entries once
// costs less than moving each of them down the buckets two or three times.
//
// Invariants: base <= every bucket entry's time, and every run entry's time
// <= base, so every run entry precedes every bucket entry (equal times pop
// in sequence order, and a later push has a larger sequence). A push earlier
// than the base (a delivery due before the latest run entry, or one
// scheduled after top() made a run of entries that have not run yet) is
// inserted into the run at its place.

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "sim/check.h"
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
  // Inline, with pop(): once each per event.
  std::uint64_t push(TimeUs time_us, EventKind kind, std::uint32_t index) {
    CRDTSIM_CHECK(!full());
    CRDTSIM_CHECK(time_us >= 0);
    const QueueEntry entry{time_us, next_sequence_++, index, kind};
    if (time_us < base_us_) {
      insert_into_run(entry);
    } else {
      insert(entry);  // after every run entry (and every entry of its bucket)
    }
    ++size_;
    return entry.sequence;
  }

  // Requires !empty(). The entry with the smallest (time_us, sequence).
  const QueueEntry& top() {
    refill();
    return run_.back();
  }
  // Requires !empty(). Removes and returns top().
  QueueEntry pop() {
    refill();
    const QueueEntry result = run_.back();
    run_.pop_back();
    --size_;
    return result;
  }

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
  // Buckets of at most this many entries become the run by one sort; larger
  // ones are split first.
  static constexpr std::size_t kRunSortMax = 8;
  std::size_t bucket_of(TimeUs time_us) const {
    return static_cast<std::size_t>(
        std::bit_width(static_cast<std::uint64_t>(time_us) ^ static_cast<std::uint64_t>(base_us_)));
  }
  void insert(const QueueEntry& entry) {
    const std::size_t bucket = bucket_of(entry.time_us);
    buckets_[bucket].push_back(entry);
    occupied_ |= std::uint64_t{1} << bucket;
  }
  // Inserts an entry due no later than the base into the run, at its place.
  void insert_into_run(const QueueEntry& entry);
  // Makes the run non-empty (requires !empty()).
  void refill() {
    if (run_.empty()) {
      next_run();
    }
  }
  // Moves the earliest entries into the empty run.
  void next_run();
  // Splits the lowest bucket around its earliest time (the new base).
  void split(std::size_t lowest);

  // The earliest entries, sorted by (time, sequence) descending: the next
  // to pop is the last.
  std::vector<QueueEntry> run_;
  std::array<std::vector<QueueEntry>, kBuckets> buckets_;
  std::uint64_t occupied_ = 0;  // bit i: bucket i holds entries
  TimeUs base_us_ = 0;          // <= every bucket entry's time, >= every run entry's
  std::size_t size_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint32_t capacity_max_;
};

}  // namespace crdtsim::sim
