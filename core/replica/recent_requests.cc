#include "core/replica/recent_requests.h"

#include <cassert>

namespace crdtsim::core {

RecentRequests::Seen RecentRequests::check(std::uint64_t source, std::uint64_t id,
                                           const Bytes** reply) const {
  const auto found = entries_.find(Key{source, id});
  if (found == entries_.end()) {
    return Seen::new_request;
  }
  if (!found->second) {
    return Seen::in_progress;
  }
  *reply = &*found->second;
  return Seen::answered;
}

void RecentRequests::start(std::uint64_t source, std::uint64_t id) {
  const auto [position, inserted] = entries_.try_emplace(Key{source, id});
  if (!inserted) {
    return;
  }
  order_.push_back(Key{source, id});
  while (order_.size() > kEntriesMax) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  assert(entries_.size() == order_.size());
}

void RecentRequests::answer(std::uint64_t source, std::uint64_t id, Bytes reply) {
  const auto found = entries_.find(Key{source, id});
  if (found != entries_.end()) {
    found->second = std::move(reply);
  }
}

}  // namespace crdtsim::core
