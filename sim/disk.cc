#include "sim/disk.h"

#include <utility>

#include "sim/check.h"

namespace crdtsim::sim {

void Disk::touch(Entry& record) {
  Record& entry = record.second;
  if (entry.dirty) {
    return;
  }
  std::swap(entry.value, entry.undo);  // `value` is overwritten or cleared next
  entry.undo_present = entry.present;
  entry.dirty = true;
  dirty_.push_back(&record);
}

void Disk::settle(Entry& record) {
  record.second.dirty = false;
  if (!record.second.present) {
    records_.erase(records_.find(record.first));
  }
}

Disk::Record* Disk::writable(HashedKey key, std::size_t value_size) {
  if (value_size > limits_.value_bytes_max) {
    return nullptr;
  }
  auto found = records_.find(key);
  const bool is_new = found == records_.end() || !found->second.present;
  if (is_new && present_ >= limits_.keys_max) {
    return nullptr;
  }
  if (found == records_.end()) {
    found = records_.emplace(std::string(key.name), Record{}).first;
  }
  touch(*found);
  if (is_new) {
    found->second.present = true;
    ++present_;
  }
  CRDTSIM_CHECK(present_ <= limits_.keys_max);
  return &found->second;
}

bool Disk::write(HashedKey key, ByteView value) {
  Record* record = writable(key, value.size());
  if (record == nullptr) {
    return false;
  }
  record->value.assign(value.begin(), value.end());
  return true;
}

bool Disk::write_owned(HashedKey key, Bytes&& value) {
  Record* record = writable(key, value.size());
  if (record == nullptr) {
    return false;
  }
  record->value.swap(value);  // the record's old buffer goes to the caller
  return true;
}

bool Disk::remove(HashedKey key) {
  const auto found = records_.find(key);
  if (found == records_.end() || !found->second.present) {
    return false;
  }
  touch(*found);
  found->second.value.clear();
  found->second.present = false;
  --present_;
  return true;
}

const Bytes* Disk::read(std::string_view key) const {
  const auto found = records_.find(key);
  return found == records_.end() || !found->second.present ? nullptr : &found->second.value;
}

Disk::Contents Disk::contents() const {
  Contents contents;
  for (const auto& [key, record] : records_) {  // any order: the map sorts
    if (record.present) {
      contents.emplace(key, record.value);
    }
  }
  return contents;
}

std::size_t Disk::sync() {
  const std::size_t flushed = dirty_.size();
  for (Entry* record : dirty_) {
    settle(*record);
  }
  dirty_.clear();
  return flushed;
}

std::size_t Disk::crash() {
  const std::size_t lost = dirty_.size();
  for (Entry* record : dirty_) {
    Record& entry = record->second;
    std::swap(entry.value, entry.undo);
    if (entry.present != entry.undo_present) {
      entry.present = entry.undo_present;
      if (entry.present) {
        ++present_;
      } else {
        --present_;
      }
    }
    settle(*record);
  }
  dirty_.clear();
  return lost;
}

}  // namespace crdtsim::sim
