#include "core/replica/recent_requests.h"

#include <cassert>

namespace crdtsim::core {

RecentRequests::Seen RecentRequests::admit(std::uint64_t source, std::uint64_t id,
                                           const Bytes** reply) {
  const auto [position, inserted] = entries_.try_emplace(Key{source, id});
  if (!inserted) {
    if (!position->second) {
      return Seen::in_progress;
    }
    *reply = &*position->second;
    return Seen::answered;
  }
  order_.push_back(Key{source, id});
  while (order_.size() > kEntriesMax) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  assert(entries_.size() == order_.size());
  return Seen::new_request;
}

void RecentRequests::answer(std::uint64_t source, std::uint64_t id, Bytes reply) {
  const auto found = entries_.find(Key{source, id});
  if (found != entries_.end()) {
    found->second = std::move(reply);
  }
}

}  // namespace crdtsim::core
