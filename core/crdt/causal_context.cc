#include "core/crdt/causal_context.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

namespace crdtsim::core {

namespace {

std::uint64_t vector_entry(const CausalContext::VersionVector& vector, ReplicaId replica) {
  const auto found = vector.find(replica);
  return found == vector.end() ? 0 : found->second;
}

}  // namespace

// GCC 12 cannot prove that a small_vector holding its elements inline moves at
// most its inline capacity and warns about an overread that cannot happen
// (the copy length is the vector's size, which is at most the capacity).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
CausalContext::CausalContext() = default;
CausalContext::CausalContext(const CausalContext& other) = default;
CausalContext::CausalContext(CausalContext&& other) noexcept = default;
CausalContext& CausalContext::operator=(const CausalContext& other) = default;
CausalContext& CausalContext::operator=(CausalContext&& other) noexcept = default;
CausalContext::~CausalContext() = default;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

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
  if (cloud_has_replica(replica)) {
    // The greatest counter sits in the cloud, past a gap: the new dot joins
    // the cloud too.
    const std::uint64_t current = max_counter(replica);
    assert(current < std::numeric_limits<std::uint64_t>::max());
    const Dot dot{replica, current + 1};
    assert(dot.counter > vector_entry(version_vector_, replica) + 1);
    dot_cloud_.insert(dot);
    return dot;
  }
  // No cloud dot of `replica`: the vector entry is the greatest counter, and
  // the new dot extends it; nothing in the cloud can become contiguous.
  const auto found = version_vector_.lower_bound(replica);
  if (found == version_vector_.end() || found->first != replica) {
    version_vector_.emplace_hint(found, replica, 1);
    return Dot{replica, 1};
  }
  assert(found->second > 0);
  assert(found->second < std::numeric_limits<std::uint64_t>::max());
  ++found->second;
  return Dot{replica, found->second};
}

void CausalContext::add(const Dot& dot) {
  assert(dot.counter > 0);
  if (contains(dot)) {
    return;
  }
  const auto found = version_vector_.lower_bound(dot.replica);
  const bool has_entry = found != version_vector_.end() && found->first == dot.replica;
  const std::uint64_t entry = has_entry ? found->second : 0;
  if (dot.counter != entry + 1) {
    dot_cloud_.insert(dot);
    return;
  }
  auto slot = has_entry ? found : version_vector_.emplace_hint(found, dot.replica, 0);
  slot->second = dot.counter;
  fold_cloud_into_vector(dot.replica, slot->second);
}

bool CausalContext::seed(ReplicaId replica, std::uint64_t floor) {
  assert(floor < std::numeric_limits<std::uint64_t>::max());
  if (floor == 0 || max_counter(replica) != 0) {
    return false;
  }
  // No dot of `replica` in the vector or the cloud: the prefix is canonical.
  version_vector_.emplace(replica, floor);
  assert(max_counter(replica) == floor);
  return true;
}

void CausalContext::add_through(const Dot& dot) {
  assert(dot.counter > 0);
  auto& entry = version_vector_[dot.replica];
  if (entry >= dot.counter) {
    return;
  }
  entry = dot.counter;
  // Cloud dots of the replica at or below the new entry are covered now.
  const auto first = dot_cloud_.lower_bound(Dot{dot.replica, 0});
  auto last = first;
  while (last != dot_cloud_.end() && last->replica == dot.replica && last->counter <= entry) {
    ++last;
  }
  dot_cloud_.erase(first, last);
  fold_cloud_into_vector(dot.replica, entry);
  assert(contains(dot));
}

bool CausalContext::cloud_has_replica(ReplicaId replica) const {
  if (dot_cloud_.empty()) {
    return false;
  }
  const auto first = dot_cloud_.lower_bound(Dot{replica, 0});
  return first != dot_cloud_.end() && first->replica == replica;
}

void CausalContext::fold_cloud_into_vector(ReplicaId replica, std::uint64_t& counter) {
  if (dot_cloud_.empty()) {
    return;
  }
  // Canonical before the vector grew: no cloud dot of `replica` is at or
  // below the old entry, and the new entry was not in the cloud (it was not
  // contained), so the replica's cloud dots start above `counter`.
  const auto first = dot_cloud_.lower_bound(Dot{replica, counter});
  assert(first == dot_cloud_.end() || first->replica != replica || first->counter > counter);
  auto last = first;
  while (last != dot_cloud_.end() && last->replica == replica && last->counter == counter + 1) {
    ++counter;
    ++last;
  }
  dot_cloud_.erase(first, last);
}

void CausalContext::merge(const CausalContext& other) {
  if (&other == this) {
    return;
  }
  bool vector_grew = false;
  for (const auto& [replica, counter] : other.version_vector_) {
    auto& mine = version_vector_[replica];
    if (mine < counter) {
      mine = counter;
      vector_grew = true;
    }
  }
  // Both sides are canonical: only a grown vector entry or a new cloud dot can
  // break the canonical form, so compact only then.
  if (other.dot_cloud_.empty() && (!vector_grew || dot_cloud_.empty())) {
    return;
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
  // Sorted by (replica, counter): one in-place pass, front to back, folds each
  // replica's run and keeps the rest, still sorted and distinct.
  DotCloud::sequence_type dots = dot_cloud_.extract_sequence();
  std::size_t kept = 0;
  for (const Dot& dot : dots) {
    auto found = version_vector_.find(dot.replica);
    const std::uint64_t entry = found == version_vector_.end() ? 0 : found->second;
    if (dot.counter <= entry) {
      continue;
    }
    if (dot.counter == entry + 1) {
      version_vector_[dot.replica] = dot.counter;
      continue;
    }
    assert(kept < dots.size());
    dots[kept++] = dot;
  }
  dots.resize(kept);
  dot_cloud_.adopt_sequence(boost::container::ordered_unique_range, std::move(dots));
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
  decode_body(decoder, context);
  return context;
}

void CausalContext::decode_body(Decoder& decoder, CausalContext& context) {
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
}

}  // namespace crdtsim::core
