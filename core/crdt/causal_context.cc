#include "core/crdt/causal_context.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace crdtsim::core {

namespace {

std::uint64_t vector_entry(const CausalContext::VersionVector& vector, ReplicaId replica) {
  const auto found = vector.find(replica);
  return found == vector.end() ? 0 : found->second;
}

}  // namespace

bool CausalContext::contains(const Dot& dot) const {
  if (dot.counter == 0) {
    return false;
  }
  return dot.counter <= vector_entry(version_vector_, dot.replica) || dot_cloud_.contains(dot);
}

std::uint64_t CausalContext::max_counter(ReplicaId replica) const {
  std::uint64_t result = vector_entry(version_vector_, replica);
  // The cloud is sorted by (replica, counter): the last dot of the replica is
  // the greatest.
  auto after = dot_cloud_.lower_bound(Dot{replica + 1, 0});
  if (replica == std::numeric_limits<ReplicaId>::max()) {
    after = dot_cloud_.end();
  }
  if (after != dot_cloud_.begin()) {
    const Dot& last = *std::prev(after);
    if (last.replica == replica) {
      result = std::max(result, last.counter);
    }
  }
  return result;
}

Dot CausalContext::next_dot(ReplicaId replica) {
  const std::uint64_t current = max_counter(replica);
  assert(current < std::numeric_limits<std::uint64_t>::max());
  const Dot dot{replica, current + 1};
  add(dot);
  return dot;
}

void CausalContext::add(const Dot& dot) {
  assert(dot.counter > 0);
  if (contains(dot)) {
    return;
  }
  const std::uint64_t entry = vector_entry(version_vector_, dot.replica);
  if (dot.counter == entry + 1) {
    version_vector_[dot.replica] = dot.counter;
    compact();
  } else {
    dot_cloud_.insert(dot);
  }
}

void CausalContext::merge(const CausalContext& other) {
  for (const auto& [replica, counter] : other.version_vector_) {
    auto& mine = version_vector_[replica];
    mine = std::max(mine, counter);
  }
  dot_cloud_.insert(other.dot_cloud_.begin(), other.dot_cloud_.end());
  compact();
}

bool CausalContext::includes(const CausalContext& other) const {
  for (const auto& [replica, counter] : other.version_vector_) {
    if (vector_entry(version_vector_, replica) >= counter) {
      continue;
    }
    // Every dot (replica, 1..counter) must be present; the vector covers a
    // prefix, the rest must sit in the cloud.
    for (std::uint64_t c = vector_entry(version_vector_, replica) + 1; c <= counter; ++c) {
      if (!dot_cloud_.contains(Dot{replica, c})) {
        return false;
      }
    }
  }
  return std::all_of(other.dot_cloud_.begin(), other.dot_cloud_.end(),
                     [this](const Dot& dot) { return contains(dot); });
}

void CausalContext::compact() {
  DotCloud kept;
  kept.reserve(dot_cloud_.size());
  // Sorted by (replica, counter): one pass folds each replica's run.
  for (const Dot& dot : dot_cloud_) {
    auto found = version_vector_.find(dot.replica);
    const std::uint64_t entry = found == version_vector_.end() ? 0 : found->second;
    if (dot.counter <= entry) {
      continue;
    }
    if (dot.counter == entry + 1) {
      version_vector_[dot.replica] = dot.counter;
      continue;
    }
    kept.insert(kept.end(), dot);
  }
  dot_cloud_ = std::move(kept);
  // Entries of 0 carry no information; the canonical form omits them.
  for (auto it = version_vector_.begin(); it != version_vector_.end();) {
    it = it->second == 0 ? version_vector_.erase(it) : std::next(it);
  }
}

void CausalContext::encode_body(Encoder& encoder) const {
  encoder.varint(version_vector_.size());
  for (const auto& [replica, counter] : version_vector_) {
    encoder.varint(replica);
    encoder.varint(counter);
  }
  encoder.varint(dot_cloud_.size());
  for (const Dot& dot : dot_cloud_) {
    dot.encode_body(encoder);
  }
}

CausalContext CausalContext::decode_body(Decoder& decoder) {
  CausalContext context;
  const std::size_t vector_size = decoder.count(2);
  for (std::size_t index = 0; index < vector_size && decoder.ok(); ++index) {
    const ReplicaId replica = decoder.varint32();
    const std::uint64_t counter = decoder.varint();
    if (!decoder.ok()) {
      break;
    }
    if (counter == 0) {
      decoder.fail("version vector entry of 0 is not canonical");
    } else if (!context.version_vector_.empty() &&
               replica <= context.version_vector_.rbegin()->first) {
      decoder.fail("version vector replicas not strictly increasing");
    } else {
      context.version_vector_.emplace_hint(context.version_vector_.end(), replica, counter);
    }
  }
  const std::size_t cloud_size = decoder.count(2);
  for (std::size_t index = 0; index < cloud_size && decoder.ok(); ++index) {
    const Dot dot = Dot::decode_body(decoder);
    if (!decoder.ok()) {
      break;
    }
    if (!context.dot_cloud_.empty() && !(*context.dot_cloud_.rbegin() < dot)) {
      decoder.fail("dot cloud not strictly increasing");
    } else if (dot.counter <= vector_entry(context.version_vector_, dot.replica) + 1) {
      decoder.fail("dot cloud entry covered by or contiguous with the version vector");
    } else {
      context.dot_cloud_.insert(context.dot_cloud_.end(), dot);
    }
  }
  return context;
}

}  // namespace crdtsim::core
