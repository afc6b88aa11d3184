#include "sim/network.h"

#include <algorithm>

#include "sim/check.h"

namespace crdtsim::sim {

namespace {

void check_link_config(const LinkConfig& config) {
  CRDTSIM_CHECK(config.latency_us_min >= 1);
  CRDTSIM_CHECK(config.latency_us_min <= config.latency_us_max);
  CRDTSIM_CHECK(config.tail_us_min >= 0);
  CRDTSIM_CHECK(config.tail_us_min <= config.tail_us_max);
  CRDTSIM_CHECK(config.reorder_us_max >= 1);
  CRDTSIM_CHECK(config.tail_ppm <= kPpmOne);
  CRDTSIM_CHECK(config.drop_ppm <= kPpmOne);
  CRDTSIM_CHECK(config.duplicate_ppm <= kPpmOne);
  CRDTSIM_CHECK(config.reorder_ppm <= kPpmOne);
}

}  // namespace

void LinkSet::add(ProcessId from, ProcessId to) {
  CRDTSIM_CHECK(from != to);
  const Link link{from, to};
  const auto at = std::lower_bound(links_.begin(), links_.end(), link);
  if (at == links_.end() || *at != link) {
    links_.insert(at, link);
  }
}

bool LinkSet::contains(ProcessId from, ProcessId to) const {
  return std::binary_search(links_.begin(), links_.end(), Link{from, to});
}

LinkSet LinkSet::groups(const std::vector<std::vector<ProcessId>>& groups) {
  LinkSet set;
  for (std::size_t a = 0; a < groups.size(); ++a) {
    for (std::size_t b = 0; b < groups.size(); ++b) {
      if (a == b) {
        continue;
      }
      for (const ProcessId from : groups[a]) {
        for (const ProcessId to : groups[b]) {
          set.add(from, to);
        }
      }
    }
  }
  return set;
}

LinkSet LinkSet::one_way(ProcessId from, ProcessId to) {
  LinkSet set;
  set.add(from, to);
  return set;
}

LinkSet LinkSet::both_ways(ProcessId a, ProcessId b) {
  LinkSet set;
  set.add(a, b);
  set.add(b, a);
  return set;
}

LinkSet LinkSet::isolate(ProcessId process, std::uint32_t process_count) {
  CRDTSIM_CHECK(process < process_count);
  LinkSet set;
  for (ProcessId other = 0; other < process_count; ++other) {
    if (other != process) {
      set.add(process, other);
      set.add(other, process);
    }
  }
  return set;
}

LinkSet LinkSet::bridge(const std::vector<ProcessId>& side_a, ProcessId bridge,
                        const std::vector<ProcessId>& side_c) {
  CRDTSIM_CHECK(std::find(side_a.begin(), side_a.end(), bridge) == side_a.end());
  CRDTSIM_CHECK(std::find(side_c.begin(), side_c.end(), bridge) == side_c.end());
  return groups({side_a, side_c});
}

Network::Network(const NetworkConfig& config, std::uint32_t processes_max, Prng stream)
    : profiles_{config.link},
      profile_(static_cast<std::size_t>(processes_max) * processes_max, 0),
      cut_(profile_.size(), 0),
      generation_(profile_.size(), 0),
      stream_(stream),
      processes_max_(processes_max),
      in_flight_(config.in_flight) {
  check_link_config(config.link);
  CRDTSIM_CHECK(processes_max >= 1);
}

void Network::check_link(ProcessId from, ProcessId to) const {
  CRDTSIM_CHECK(from < processes_max_);
  CRDTSIM_CHECK(to < processes_max_);
}

void Network::set_link(ProcessId from, ProcessId to, const LinkConfig& config) {
  check_link(from, to);
  check_link_config(config);
  CRDTSIM_CHECK(profiles_.size() < UINT16_MAX);
  profiles_.push_back(config);
  profile_[slot(from, to)] = static_cast<std::uint16_t>(profiles_.size() - 1);
}

bool Network::cut(ProcessId from, ProcessId to) {
  check_link(from, to);
  std::uint8_t& flag = cut_[slot(from, to)];
  if (flag != 0) {
    return false;
  }
  flag = 1;
  ++generation_[slot(from, to)];
  return true;
}

bool Network::heal(ProcessId from, ProcessId to) {
  check_link(from, to);
  std::uint8_t& flag = cut_[slot(from, to)];
  const bool changed = flag != 0;
  flag = 0;
  return changed;
}

}  // namespace crdtsim::sim
