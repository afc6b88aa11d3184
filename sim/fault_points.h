#pragma once
// Fault points, after FoundationDB's BUGGIFY: named places in process code
// where a rare fault may be injected ("pretend the disk is slow here", "drop
// this cache entry").
//
//   if (ctx.fault("replica.skip_fsync")) { ... }
//
// Off by default: fault() returns false and draws nothing. When a run enables
// them, each named point is, for the whole run, either enabled (with
// probability enable_ppm) or not; the decision is the first draw of the
// point's own stream fork("fault/" + name) of the run seed, so it depends on
// the seed and the name only, never on the order in which points are first
// used. An enabled point fires on each call with probability fire_ppm, drawn
// from that same per-point stream, so one point's calls never shift another
// point's choices.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sim/prng.h"
#include "sim/types.h"

namespace crdtsim::sim {

struct FaultPointConfig {
  bool enabled = false;
  std::uint32_t enable_ppm = 500'000;  // chance a given point is live this run
  std::uint32_t fire_ppm = 100'000;    // chance a live point fires per call
};

struct FaultPointStats {
  bool enabled = false;
  std::uint64_t calls = 0;
  std::uint64_t fires = 0;
};

class FaultPoints {
 public:
  // `root` is the run's root stream; points fork from it.
  FaultPoints(const FaultPointConfig& config, const Prng& root);

  // Whether the point `name` fires now. Requires a non-empty name.
  bool fire(std::string_view name);

  // Points used so far, by name (ordered).
  std::map<std::string, FaultPointStats, std::less<>> stats() const;
  const FaultPointConfig& config() const { return config_; }

 private:
  struct Point {
    Prng stream;
    FaultPointStats stats;
  };
  Point& point(std::string_view name);

  std::map<std::string, Point, std::less<>> points_;
  FaultPointConfig config_;
  Prng root_;
};

}  // namespace crdtsim::sim
