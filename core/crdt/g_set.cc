#include "core/crdt/g_set.h"

#include <cassert>
#include <utility>

namespace crdtsim::core {

GSet GSet::add(std::string element) {
  GSet delta;
  const auto [position, inserted] = elements_.insert(element);
  assert(*position == element);
  if (inserted) {
    delta.elements_.insert(std::move(element));
  }
  return delta;
}

void GSet::merge(const GSet& other) {
  // `other` is sorted: inserting just before the successor of the previous
  // element makes runs of new elements O(1) each.
  auto hint = elements_.begin();
  for (const std::string& element : other.elements_) {
    hint = elements_.insert(hint, element);
    ++hint;
  }
  assert(elements_.size() >= other.elements_.size());
}

void GSet::encode_body(Encoder& encoder) const {
  encoder.varint(elements_.size());
  for (const std::string& element : elements_) {
    encoder.string(element);
  }
}

GSet GSet::decode_body(Decoder& decoder) {
  GSet set;
  decode_body(decoder, set);
  return set;
}

void GSet::decode_body(Decoder& decoder, GSet& set) {
  const std::size_t size = decoder.count(1);
  for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
    std::string element = decoder.string();
    if (!decoder.ok()) {
      break;
    }
    if (!set.elements_.empty() && !(*set.elements_.rbegin() < element)) {
      decoder.fail("G-set elements not strictly increasing");
    } else {
      set.elements_.insert(set.elements_.end(), std::move(element));
    }
  }
}

}  // namespace crdtsim::core
