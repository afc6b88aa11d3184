#include "sim/disk.h"

#include <algorithm>

#include "sim/check.h"

namespace crdtsim::sim {

void Disk::mark_dirty(std::string_view key) {
  dirty_.emplace_back(key);
  if (dirty_.size() > 2 * dirty_distinct_ + 16) {
    dedupe_dirty();
  }
}

void Disk::dedupe_dirty() {
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  dirty_distinct_ = dirty_.size();
}

std::size_t Disk::unsynced_keys() const {
  std::vector<std::string_view> keys(dirty_.begin(), dirty_.end());
  std::sort(keys.begin(), keys.end());
  return static_cast<std::size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
}

bool Disk::write(std::string_view key, ByteView value) {
  if (value.size() > limits_.value_bytes_max) {
    return false;
  }
  auto found = current_.find(key);
  if (found == current_.end()) {
    if (current_.size() >= limits_.keys_max) {
      return false;
    }
    found = current_.emplace(std::string(key), Bytes{}).first;
  }
  found->second.assign(value.begin(), value.end());
  mark_dirty(key);
  CRDTSIM_CHECK(current_.size() <= limits_.keys_max);
  return true;
}

bool Disk::remove(std::string_view key) {
  const auto found = current_.find(key);
  if (found == current_.end()) {
    return false;
  }
  current_.erase(found);
  mark_dirty(key);
  return true;
}

const Bytes* Disk::read(std::string_view key) const {
  const auto found = current_.find(key);
  return found == current_.end() ? nullptr : &found->second;
}

std::size_t Disk::sync() {
  dedupe_dirty();
  const std::size_t flushed = dirty_.size();
  for (const auto& key : dirty_) {
    const auto now = current_.find(key);
    if (now == current_.end()) {
      durable_.erase(key);
    } else {
      durable_.insert_or_assign(key, now->second);
    }
  }
  dirty_.clear();
  dirty_distinct_ = 0;
  CRDTSIM_CHECK(durable_.size() == current_.size());
  return flushed;
}

std::size_t Disk::crash() {
  dedupe_dirty();
  const std::size_t lost = dirty_.size();
  for (const auto& key : dirty_) {
    const auto then = durable_.find(key);
    if (then == durable_.end()) {
      current_.erase(key);
    } else {
      current_.insert_or_assign(key, then->second);
    }
  }
  dirty_.clear();
  dirty_distinct_ = 0;
  CRDTSIM_CHECK(durable_.size() == current_.size());
  return lost;
}

}  // namespace crdtsim::sim
