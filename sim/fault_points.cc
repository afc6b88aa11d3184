#include "sim/fault_points.h"

#include "sim/check.h"

namespace crdtsim::sim {

FaultPoints::FaultPoints(const FaultPointConfig& config, const Prng& root)
    : config_(config), root_(root) {
  CRDTSIM_CHECK(config.enable_ppm <= kPpmOne);
  CRDTSIM_CHECK(config.fire_ppm <= kPpmOne);
}

FaultPoints::Point& FaultPoints::point(std::string_view name) {
  auto found = points_.find(name);
  if (found == points_.end()) {
    Prng stream = root_.fork(std::string("fault/").append(name));
    const bool enabled = stream.chance_ppm(config_.enable_ppm);
    found = points_.emplace(std::string(name), Point{stream, FaultPointStats{enabled, 0, 0}}).first;
  }
  return found->second;
}

bool FaultPoints::fire(std::string_view name) {
  CRDTSIM_CHECK(!name.empty());
  if (!config_.enabled) {
    return false;
  }
  Point& state = point(name);
  ++state.stats.calls;
  if (!state.stats.enabled || config_.fire_ppm == 0) {
    return false;
  }
  const bool fired = state.stream.chance_ppm(config_.fire_ppm);
  state.stats.fires += fired ? 1U : 0U;
  CRDTSIM_CHECK(state.stats.fires <= state.stats.calls);
  return fired;
}

std::map<std::string, FaultPointStats, std::less<>> FaultPoints::stats() const {
  std::map<std::string, FaultPointStats, std::less<>> result;
  for (const auto& [name, state] : points_) {
    result.emplace(name, state.stats);
  }
  return result;
}

}  // namespace crdtsim::sim
