#include "sim/event_queue.h"

#include "sim/check.h"

namespace crdtsim::sim {

EventQueue::EventQueue(std::uint32_t capacity_max) : capacity_max_(capacity_max) {
  CRDTSIM_CHECK(capacity_max > 0);
  heap_.reserve(capacity_max < 64 ? capacity_max : 64);
}

std::uint64_t EventQueue::push(TimeUs time_us, EventKind kind, std::uint32_t index) {
  CRDTSIM_CHECK(!full());
  CRDTSIM_CHECK(time_us >= 0);
  const QueueEntry entry{time_us, next_sequence_++, index, kind};
  heap_.push_back(entry);
  sift_up(heap_.size() - 1, entry);
  return entry.sequence;
}

// Floyd's bottom-up pop (as libstdc++'s pop_heap): walk the hole left by the
// top down to a leaf along the smaller children (one compare per level), put
// the last entry there and sift it up (it rarely moves far).
QueueEntry EventQueue::pop() {
  CRDTSIM_CHECK(!heap_.empty());
  const QueueEntry result = heap_.front();
  const QueueEntry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    sift_up(hole_to_leaf(), last);
  }
  return result;
}

// Hole technique: move parents down until the entry's place is found, then
// write it once.
void EventQueue::sift_up(std::size_t hole, QueueEntry entry) {
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / 2;
    if (!before(entry, heap_[parent])) {
      break;
    }
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
}

std::size_t EventQueue::hole_to_leaf() {
  const std::size_t size = heap_.size();
  std::size_t hole = 0;
  std::size_t child = 1;
  while (child + 1 < size) {
    child += before(heap_[child + 1], heap_[child]) ? 1U : 0U;
    heap_[hole] = heap_[child];
    hole = child;
    child = 2 * hole + 1;
  }
  if (child < size) {
    heap_[hole] = heap_[child];
    hole = child;
  }
  return hole;
}

}  // namespace crdtsim::sim
