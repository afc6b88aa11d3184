#include "core/crdt/mv_register.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace crdtsim::core {

CausalContext MvRegister::observed_dots() const {
  CausalContext observed;
  for (const auto& entry : entries_) {
    observed.add(entry.first);
  }
  return observed;
}

MvRegister MvRegister::write(ReplicaId replica, std::string value) {
  const Dot dot = context_.next_dot(replica);
  return write(dot, std::move(value), CausalContext());
}

MvRegister MvRegister::write(const Dot& dot, std::string value, const CausalContext& observed) {
  assert(dot.counter > 0);
  assert(!observed.contains(dot));
  MvRegister delta;
  delta.context_ = observed_dots();
  delta.context_.merge(observed);
  assert(!delta.context_.contains(dot));
  delta.context_.add(dot);
  context_.merge(delta.context_);
  delta.entries_.emplace(dot, value);
  entries_.clear();
  entries_.emplace(dot, std::move(value));
  assert(context_.contains(dot));
  return delta;
}

MvRegister MvRegister::remove(Dot dot) {
  MvRegister delta;
  if (entries_.erase(dot) > 0) {
    delta.context_.add(dot);
  }
  assert(!entries_.contains(dot));
  return delta;
}

MvRegister MvRegister::clear() {
  return clear(CausalContext());
}

MvRegister MvRegister::clear(const CausalContext& observed) {
  MvRegister delta;
  delta.context_ = observed_dots();
  delta.context_.merge(observed);
  context_.merge(observed);
  entries_.clear();
  return delta;
}

void MvRegister::merge(const MvRegister& other) {
  Entries joined;
  joined.reserve(entries_.size() + other.entries_.size());
  // Both entry maps are sorted by dot: one merge-like pass, appending in order.
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    const bool take_mine =
        theirs == other.entries_.end() || (mine != entries_.end() && mine->first < theirs->first);
    const bool take_theirs = !take_mine && (mine == entries_.end() || theirs->first < mine->first);
    if (take_mine) {
      if (!other.context_.contains(mine->first)) {
        joined.emplace_hint(joined.end(), mine->first, mine->second);
      }
      ++mine;
    } else if (take_theirs) {
      if (!context_.contains(theirs->first)) {
        joined.emplace_hint(joined.end(), theirs->first, theirs->second);
      }
      ++theirs;
    } else {
      // Both hold the dot. A dot names one write, so the values agree between
      // correct replicas; the max keeps merge deterministic if they do not.
      joined.emplace_hint(joined.end(), mine->first, std::max(mine->second, theirs->second));
      ++mine;
      ++theirs;
    }
  }
  entries_ = std::move(joined);
  context_.merge(other.context_);
}

std::vector<std::string> MvRegister::values() const {
  std::vector<std::string> result;
  result.reserve(entries_.size());
  for (const auto& entry : entries_) {
    result.push_back(entry.second);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

void MvRegister::encode_body(Encoder& encoder) const {
  encoder.varint(entries_.size());
  for (const auto& [dot, value] : entries_) {
    assert(context_.contains(dot));
    dot.encode_body(encoder);
    encoder.string(value);
  }
  context_.encode_body(encoder);
}

MvRegister MvRegister::decode_body(Decoder& decoder) {
  MvRegister result;
  decode_body(decoder, result);
  return result;
}

void MvRegister::decode_body(Decoder& decoder, MvRegister& result) {
  // A dot takes at least 2 bytes, a value's length at least 1.
  const std::size_t size = decoder.count(3);
  for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
    const Dot dot = Dot::decode_body(decoder);
    std::string value = decoder.string();
    if (!decoder.ok()) {
      break;
    }
    if (!result.entries_.empty() && !(result.entries_.rbegin()->first < dot)) {
      decoder.fail("MV-register dots not strictly increasing");
    } else {
      result.entries_.emplace_hint(result.entries_.end(), dot, std::move(value));
    }
  }
  CausalContext::decode_body(decoder, result.context_);
  for (const auto& entry : result.entries_) {
    if (decoder.ok() && !result.context_.contains(entry.first)) {
      decoder.fail("MV-register entry outside its causal context");
    }
  }
}

}  // namespace crdtsim::core
