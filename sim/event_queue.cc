#include "sim/event_queue.h"

#include <algorithm>
#include <bit>

#include "sim/check.h"

namespace crdtsim::sim {

EventQueue::EventQueue(std::uint32_t capacity_max) : capacity_max_(capacity_max) {
  CRDTSIM_CHECK(capacity_max > 0);
}

std::size_t EventQueue::bucket_of(TimeUs time_us) const {
  return static_cast<std::size_t>(
      std::bit_width(static_cast<std::uint64_t>(time_us) ^ static_cast<std::uint64_t>(base_us_)));
}

void EventQueue::insert(const QueueEntry& entry) {
  const std::size_t bucket = bucket_of(entry.time_us);
  buckets_[bucket].push_back(entry);
  occupied_ |= std::uint64_t{1} << bucket;
}

std::uint64_t EventQueue::push(TimeUs time_us, EventKind kind, std::uint32_t index) {
  CRDTSIM_CHECK(!full());
  CRDTSIM_CHECK(time_us >= 0);
  if (time_us < base_us_) [[unlikely]] {
    rebase(time_us);
  }
  const QueueEntry entry{time_us, next_sequence_++, index, kind};
  insert(entry);  // in bucket 0, after every entry there: a larger sequence
  ++size_;
  return entry.sequence;
}

QueueEntry EventQueue::pop() {
  refill();
  std::vector<QueueEntry>& current = buckets_[0];
  const QueueEntry result = current[front_++];
  if (front_ == current.size()) {
    current.clear();
    front_ = 0;
    occupied_ &= ~std::uint64_t{1};
  }
  --size_;
  return result;
}

void EventQueue::split() {
  CRDTSIM_CHECK(size_ > 0);
  // The lowest non-empty bucket holds the earliest entries; its earliest
  // time becomes the base, and every entry moves to a lower bucket.
  const auto lowest = static_cast<std::size_t>(std::countr_zero(occupied_));
  std::vector<QueueEntry>& source = buckets_[lowest];
  occupied_ &= ~(std::uint64_t{1} << lowest);
  if (source.size() == 1) {
    // The common case: a lone entry becomes bucket 0 as it is (bucket 0 is
    // empty, and its storage is kept for the other bucket).
    base_us_ = source.front().time_us;
    buckets_[0].swap(source);
    occupied_ |= 1U;
    return;
  }
  TimeUs earliest_us = source.front().time_us;
  for (const QueueEntry& entry : source) {
    earliest_us = std::min(earliest_us, entry.time_us);
  }
  base_us_ = earliest_us;
  for (const QueueEntry& entry : source) {
    insert(entry);
  }
  source.clear();
  // Entries reach a bucket out of sequence order when split from above;
  // bucket 0 is popped front to back, so it is put in order.
  std::vector<QueueEntry>& current = buckets_[0];
  if (current.size() > 1) {
    std::sort(current.begin(), current.end(),
              [](const QueueEntry& a, const QueueEntry& b) { return a.sequence < b.sequence; });
  }
}

void EventQueue::rebase(TimeUs base_us) {
  std::vector<QueueEntry> all;
  all.reserve(size_);
  all.insert(all.end(), buckets_[0].begin() + static_cast<std::ptrdiff_t>(front_),
             buckets_[0].end());
  for (std::size_t bucket = 1; bucket < kBuckets; ++bucket) {
    all.insert(all.end(), buckets_[bucket].begin(), buckets_[bucket].end());
  }
  for (std::vector<QueueEntry>& bucket : buckets_) {
    bucket.clear();
  }
  front_ = 0;
  occupied_ = 0;
  base_us_ = base_us;
  for (const QueueEntry& entry : all) {
    insert(entry);  // every entry is later than the new base: none in bucket 0
  }
}

std::size_t EventQueue::memory_bytes() const {
  std::size_t bytes = 0;
  for (const std::vector<QueueEntry>& bucket : buckets_) {
    bytes += bucket.capacity() * sizeof(QueueEntry);
  }
  return bytes;
}

}  // namespace crdtsim::sim
