#pragma once
// The simulated network: per-link behaviour and connectivity (partitions).
//
// Each directed link (from, to) has a LinkConfig. For every message sent on a
// link the network draws, from the network stream and in this fixed order:
//   1. dropped?            chance_ppm(drop_ppm)
//   2. base latency        range(latency_us_min, latency_us_max)
//   3. long tail?          chance_ppm(tail_ppm), then range(tail_us_min, tail_us_max)
//   4. reordered?          chance_ppm(reorder_ppm), then range(1, reorder_us_max)
//   5. duplicated?         chance_ppm(duplicate_ppm); a copy gets its own 2-4
// A draw whose probability is 0 (or whose range is a single value) is skipped.
// Reordering is extra delay, so later messages on the link overtake it.
//
// Connectivity is a matrix of cut directed links. A cut link drops messages
// at send time. Messages already in flight when a link is cut follow the
// InFlightPolicy, checked at delivery time through a per-link cut generation
// (incremented each time the link goes from healed to cut).

#include <cstdint>
#include <utility>
#include <vector>

#include "sim/check.h"
#include "sim/prng.h"
#include "sim/types.h"

namespace crdtsim::sim {

struct LinkConfig {
  TimeUs latency_us_min = 100;
  TimeUs latency_us_max = 1'000;
  std::uint32_t tail_ppm = 0;
  TimeUs tail_us_min = 10'000;
  TimeUs tail_us_max = 100'000;
  std::uint32_t drop_ppm = 0;
  std::uint32_t duplicate_ppm = 0;
  std::uint32_t reorder_ppm = 0;
  TimeUs reorder_us_max = 5'000;
};

// What happens to a message already in flight when its link is cut.
enum class InFlightPolicy : std::uint8_t {
  deliver = 1,  // it left the sender: it arrives (only new sends are blocked)
  drop = 2,     // a cut while in flight loses it, even if healed before arrival
};

struct NetworkConfig {
  LinkConfig link;  // every link's behaviour unless overridden per link
  InFlightPolicy in_flight = InFlightPolicy::deliver;
};

// A set of directed links, built by the partition shapes. Sorted, unique.
class LinkSet {
 public:
  using Link = std::pair<ProcessId, ProcessId>;  // (from, to)

  // Cut every link between processes of different groups, both ways.
  // Processes named in no group keep all their links.
  static LinkSet groups(const std::vector<std::vector<ProcessId>>& groups);
  // Only from -> to (asymmetric: to -> from still works).
  static LinkSet one_way(ProcessId from, ProcessId to);
  // from -> to and to -> from.
  static LinkSet both_ways(ProcessId a, ProcessId b);
  // Every link into and out of `process`, among process_count processes.
  static LinkSet isolate(ProcessId process, std::uint32_t process_count);
  // side_a and side_c each reach the bridge process, but not each other.
  static LinkSet bridge(const std::vector<ProcessId>& side_a, ProcessId bridge,
                        const std::vector<ProcessId>& side_c);

  void add(ProcessId from, ProcessId to);
  const std::vector<Link>& links() const { return links_; }
  bool contains(ProcessId from, ProcessId to) const;

 private:
  std::vector<Link> links_;
};

class Network {
 public:
  Network(const NetworkConfig& config, std::uint32_t processes_max, Prng stream);

  // Per-link override of the default LinkConfig.
  void set_link(ProcessId from, ProcessId to, const LinkConfig& config);
  const LinkConfig& link(ProcessId from, ProcessId to) const {
    return profiles_[profile_[slot(from, to)]];
  }

  // Cuts / heals one directed link. Return whether the link changed.
  bool cut(ProcessId from, ProcessId to);
  bool heal(ProcessId from, ProcessId to);
  bool is_cut(ProcessId from, ProcessId to) const { return cut_[slot(from, to)] != 0; }
  std::uint32_t cut_generation(ProcessId from, ProcessId to) const {
    return generation_[slot(from, to)];
  }

  // The draws for one message on a link whose config is `config` (from
  // link(from, to)). Inline: the simulator makes three or four per message.
  // Draws whether the message is dropped (step 1 above).
  bool draw_drop(const LinkConfig& config) {
    return config.drop_ppm != 0 && stream_.chance_ppm(config.drop_ppm);
  }
  // Draws one copy's latency (steps 2-4). Always inlined: send(), which
  // inlines its copies, would otherwise be too large for it to be.
  [[gnu::always_inline]] TimeUs draw_latency(const LinkConfig& config) {
    TimeUs latency_us = config.latency_us_min;
    if (config.latency_us_max > config.latency_us_min) {
      latency_us = stream_.range(config.latency_us_min, config.latency_us_max);
    }
    if (config.tail_ppm != 0 && stream_.chance_ppm(config.tail_ppm)) {
      latency_us += stream_.range(config.tail_us_min, config.tail_us_max);
    }
    if (config.reorder_ppm != 0 && stream_.chance_ppm(config.reorder_ppm)) {
      latency_us += stream_.range(1, config.reorder_us_max);
    }
    CRDTSIM_CHECK(latency_us >= 1);
    return latency_us;
  }
  // Draws whether to send a duplicate (step 5).
  bool draw_duplicate(const LinkConfig& config) {
    return config.duplicate_ppm != 0 && stream_.chance_ppm(config.duplicate_ppm);
  }

  InFlightPolicy in_flight() const { return in_flight_; }
  std::uint32_t processes_max() const { return processes_max_; }

 private:
  std::size_t slot(ProcessId from, ProcessId to) const {
    return static_cast<std::size_t>(from) * processes_max_ + to;
  }
  void check_link(ProcessId from, ProcessId to) const;

  std::vector<LinkConfig> profiles_;    // [0] is the default
  std::vector<std::uint16_t> profile_;  // per link: index into profiles_
  std::vector<std::uint8_t> cut_;       // per link: 1 if cut
  std::vector<std::uint32_t> generation_;
  Prng stream_;
  std::uint32_t processes_max_;
  InFlightPolicy in_flight_;
};

}  // namespace crdtsim::sim
