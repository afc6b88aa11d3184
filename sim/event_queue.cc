#include "sim/event_queue.h"

#include <algorithm>
#include <bit>

#include "sim/check.h"

namespace crdtsim::sim {

EventQueue::EventQueue(std::uint32_t capacity_max) : capacity_max_(capacity_max) {
  CRDTSIM_CHECK(capacity_max > 0);
}

void EventQueue::insert_into_run(const QueueEntry& entry) {
  // The run is descending: the new entry goes after (nearer the front than)
  // every entry due at its time or earlier, since its sequence is the
  // largest, and before every later one. Usually few entries are earlier:
  // they shift by one from the back (cheaper than a memmove call).
  run_.push_back(entry);
  std::size_t place = run_.size() - 1;
  while (place > 0 && run_[place - 1].time_us <= entry.time_us) {
    run_[place] = run_[place - 1];
    --place;
  }
  run_[place] = entry;
}

void EventQueue::next_run() {
  CRDTSIM_CHECK(size_ > 0);
  CRDTSIM_CHECK(run_.empty());
  auto lowest = static_cast<std::size_t>(std::countr_zero(occupied_));
  // (Bucket 0's entries all have the base time: splitting it would not
  // shrink it.)
  while (lowest != 0 && buckets_[lowest].size() > kRunSortMax) {
    split(lowest);
    lowest = static_cast<std::size_t>(std::countr_zero(occupied_));
  }
  // Every entry of the lowest bucket is earlier than every other bucket
  // entry. Its latest time becomes the base: the buckets above stay valid
  // (the new base shares their bits above this bucket's bit with the old
  // one), and the ones below are empty.
  std::vector<QueueEntry>& source = buckets_[lowest];
  occupied_ &= ~(std::uint64_t{1} << lowest);
  run_.swap(source);  // the bucket keeps the run's old storage
  if (run_.size() > 1) {
    std::sort(run_.begin(), run_.end(), [](const QueueEntry& a, const QueueEntry& b) {
      return a.time_us != b.time_us ? a.time_us > b.time_us : a.sequence > b.sequence;
    });
  }
  base_us_ = run_.front().time_us;
}

void EventQueue::split(std::size_t lowest) {
  // The bucket's earliest time becomes the base, and every entry moves to a
  // strictly lower bucket (the earliest ones to bucket 0).
  std::vector<QueueEntry>& source = buckets_[lowest];
  occupied_ &= ~(std::uint64_t{1} << lowest);
  TimeUs earliest_us = source.front().time_us;
  for (const QueueEntry& entry : source) {
    earliest_us = std::min(earliest_us, entry.time_us);
  }
  base_us_ = earliest_us;
  for (const QueueEntry& entry : source) {
    insert(entry);
  }
  source.clear();
}

std::size_t EventQueue::memory_bytes() const {
  std::size_t bytes = run_.capacity() * sizeof(QueueEntry);
  for (const std::vector<QueueEntry>& bucket : buckets_) {
    bytes += bucket.capacity() * sizeof(QueueEntry);
  }
  return bytes;
}

}  // namespace crdtsim::sim
