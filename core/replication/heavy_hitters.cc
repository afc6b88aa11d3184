#include "core/replication/heavy_hitters.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace crdtsim::core {

SlidingHeavyHitters::SlidingHeavyHitters(std::size_t sub_windows, std::size_t capacity)
    : capacity_(capacity), ring_(sub_windows) {
  assert(sub_windows >= 1);
  assert(sub_windows <= kSubWindowsMax);
  assert(capacity >= 1);
  assert(capacity <= kCapacityMax);
}

std::uint64_t SlidingHeavyHitters::Summary::unmonitored_max(std::size_t capacity) const {
  if (counters.size() < capacity) {
    return 0;  // nothing was ever evicted: an unmonitored key was never seen
  }
  std::uint64_t minimum = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [key, counter] : counters) {
    minimum = std::min(minimum, counter.count);
  }
  return minimum;
}

void SlidingHeavyHitters::add(Summary& summary, std::string_view key) const {
  summary.total += 1;
  if (const auto found = summary.counters.find(key); found != summary.counters.end()) {
    found->second.count += 1;
    return;
  }
  if (summary.counters.size() < capacity_) {
    summary.counters.emplace(std::string(key), Counter{1, 0});
    return;
  }
  // Space-Saving: the new key replaces the entry with the smallest count
  // (the smallest key among equal counts) and inherits its count as error.
  auto victim = summary.counters.begin();
  for (auto it = summary.counters.begin(); it != summary.counters.end(); ++it) {
    if (it->second.count < victim->second.count) {
      victim = it;
    }
  }
  const std::uint64_t minimum = victim->second.count;
  summary.counters.erase(victim);
  summary.counters.emplace(std::string(key), Counter{minimum + 1, minimum});
  assert(summary.counters.size() == capacity_);
}

void SlidingHeavyHitters::record(std::string_view key) {
  assert(key.size() <= kKeyBytesMax);
  add(ring_[current_], key);
  assert(ring_[current_].counters.size() <= capacity_);
}

void SlidingHeavyHitters::rotate() {
  current_ = (current_ + 1) % ring_.size();
  ring_[current_] = Summary{};
}

std::uint64_t SlidingHeavyHitters::estimate(std::string_view key) const {
  std::uint64_t sum = 0;
  for (const Summary& summary : ring_) {
    const auto found = summary.counters.find(key);
    sum +=
        found != summary.counters.end() ? found->second.count : summary.unmonitored_max(capacity_);
  }
  return sum;
}

std::uint64_t SlidingHeavyHitters::error_bound() const {
  std::uint64_t sum = 0;
  for (const Summary& summary : ring_) {
    sum += summary.unmonitored_max(capacity_);
  }
  return sum;
}

std::uint64_t SlidingHeavyHitters::total() const {
  std::uint64_t sum = 0;
  for (const Summary& summary : ring_) {
    sum += summary.total;
  }
  return sum;
}

std::vector<SlidingHeavyHitters::Reported> SlidingHeavyHitters::above(
    std::uint64_t threshold) const {
  std::map<std::string, std::uint64_t, std::less<>> candidates;
  for (const Summary& summary : ring_) {
    for (const auto& [key, counter] : summary.counters) {
      candidates.emplace(key, 0);
    }
  }
  std::vector<Reported> result;
  for (const auto& [key, unused] : candidates) {
    const std::uint64_t value = estimate(key);
    if (value >= threshold) {
      result.push_back(Reported{key, value});
    }
  }
  return result;
}

std::size_t SlidingHeavyHitters::monitored() const {
  std::size_t sum = 0;
  for (const Summary& summary : ring_) {
    sum += summary.counters.size();
  }
  assert(sum <= entries_max());
  return sum;
}

}  // namespace crdtsim::core
