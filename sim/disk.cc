#include "sim/disk.h"

#include "sim/check.h"

namespace crdtsim::sim {

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
  dirty_.emplace(key);
  CRDTSIM_CHECK(current_.size() <= limits_.keys_max);
  return true;
}

bool Disk::remove(std::string_view key) {
  const auto found = current_.find(key);
  if (found == current_.end()) {
    return false;
  }
  current_.erase(found);
  dirty_.emplace(key);
  return true;
}

const Bytes* Disk::read(std::string_view key) const {
  const auto found = current_.find(key);
  return found == current_.end() ? nullptr : &found->second;
}

std::size_t Disk::sync() {
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
  CRDTSIM_CHECK(durable_.size() == current_.size());
  return flushed;
}

std::size_t Disk::crash() {
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
  CRDTSIM_CHECK(durable_.size() == current_.size());
  return lost;
}

}  // namespace crdtsim::sim
