#include "core/crdt/lww_map.h"

#include <absl/strings/string_view.h>

#include <cassert>
#include <utility>

namespace crdtsim::core {

LwwMap LwwMap::set_field(std::string field, std::string value, const LwwTimestamp& timestamp) {
  return apply_local(std::move(field), LwwWrite{timestamp, false, std::move(value)});
}

LwwMap LwwMap::remove_field(std::string field, const LwwTimestamp& timestamp) {
  return apply_local(std::move(field), LwwWrite{timestamp, true, {}});
}

LwwMap LwwMap::apply_local(std::string field, LwwWrite write) {
  assert(!write.tombstone || write.value.empty());
  LwwMap delta;
  const auto [position, inserted] = fields_.try_emplace(field, write);
  if (!inserted) {
    if (!(position->second < write)) {
      return delta;  // stale: the current write wins, nothing changes
    }
    position->second = write;
  }
  delta.fields_.emplace(std::move(field), std::move(write));
  return delta;
}

void LwwMap::merge(const LwwMap& other) {
  // `other` is sorted: hinted inserts make runs of new fields O(1) each.
  auto hint = fields_.begin();
  for (const auto& [field, write] : other.fields_) {
    hint = fields_.try_emplace(hint, field, write);
    if (hint->second < write) {
      hint->second = write;
    }
    ++hint;
  }
}

std::optional<std::string_view> LwwMap::get(std::string_view field) const {
  // Debian's Abseil has its own string_view type; the btree's transparent
  // comparator takes that one.
  const auto found = fields_.find(absl::string_view(field.data(), field.size()));
  if (found == fields_.end() || found->second.tombstone) {
    return std::nullopt;
  }
  return std::string_view(found->second.value);
}

std::vector<std::string> LwwMap::fields() const {
  std::vector<std::string> live;
  for (const auto& [field, write] : fields_) {
    if (!write.tombstone) {
      live.push_back(field);
    }
  }
  return live;
}

std::size_t LwwMap::tombstone_count() const {
  std::size_t count = 0;
  for (const auto& entry : fields_) {
    count += entry.second.tombstone ? 1 : 0;
  }
  return count;
}

void LwwMap::encode_body(Encoder& encoder) const {
  encoder.varint(fields_.size());
  for (const auto& [field, write] : fields_) {
    encoder.string(field);
    write.encode_body(encoder);
  }
}

LwwMap LwwMap::decode_body(Decoder& decoder) {
  LwwMap map;
  decode_body(decoder, map);
  return map;
}

void LwwMap::decode_body(Decoder& decoder, LwwMap& map) {
  // Smallest entry: field length (1), timestamp (3), kind (1).
  const std::size_t size = decoder.count(5);
  for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
    std::string field = decoder.string();
    LwwWrite write = LwwWrite::decode_body(decoder);
    if (!decoder.ok()) {
      break;
    }
    if (!map.fields_.empty() && !(map.fields_.rbegin()->first < field)) {
      decoder.fail("LWW-map fields not strictly increasing");
    } else {
      map.fields_.emplace_hint(map.fields_.end(), std::move(field), std::move(write));
    }
  }
}

}  // namespace crdtsim::core
