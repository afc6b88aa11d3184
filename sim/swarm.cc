#include "sim/swarm.h"

#include "sim/check.h"
#include "sim/prng.h"

namespace crdtsim::sim {

SwarmDraw draw_swarm(std::uint64_t seed, const SwarmKnobs& knobs) {
  const Prng root(seed);
  SwarmDraw draw;
  for (const auto& [name, knob] : knobs) {
    CRDTSIM_CHECK(knob.min <= knob.max);
    CRDTSIM_CHECK(knob.enable_ppm <= kPpmOne);
    Prng stream = root.fork(std::string("swarm/").append(name));
    std::uint64_t value = 0;
    if (stream.chance_ppm(knob.enable_ppm)) {
      const std::uint64_t span = knob.max - knob.min;
      value = knob.min + (span == UINT64_MAX ? stream.next() : stream.uniform(span + 1));
    }
    draw.emplace(name, value);
  }
  return draw;
}

std::uint64_t swarm_value(const SwarmDraw& draw, std::string_view name, std::uint64_t fallback) {
  const auto found = draw.find(name);
  return found == draw.end() ? fallback : found->second;
}

SwarmKnobs default_link_knobs(std::uint32_t drop_ppm_max, std::uint32_t duplicate_ppm_max,
                              std::uint32_t reorder_ppm_max, std::uint32_t tail_ppm_max) {
  constexpr std::uint32_t kHalf = kPpmOne / 2;
  return SwarmKnobs{
      {"drop_ppm", SwarmKnob{kHalf, 0, drop_ppm_max}},
      {"duplicate_ppm", SwarmKnob{kHalf, 0, duplicate_ppm_max}},
      {"reorder_ppm", SwarmKnob{kHalf, 0, reorder_ppm_max}},
      {"tail_ppm", SwarmKnob{kHalf, 0, tail_ppm_max}},
  };
}

namespace {

std::uint32_t ppm_value(const SwarmDraw& draw, std::string_view name, std::uint32_t fallback) {
  const std::uint64_t value = swarm_value(draw, name, fallback);
  CRDTSIM_CHECK(value <= kPpmOne);
  return static_cast<std::uint32_t>(value);
}

}  // namespace

void apply_swarm(const SwarmDraw& draw, LinkConfig& link) {
  link.drop_ppm = ppm_value(draw, "drop_ppm", link.drop_ppm);
  link.duplicate_ppm = ppm_value(draw, "duplicate_ppm", link.duplicate_ppm);
  link.reorder_ppm = ppm_value(draw, "reorder_ppm", link.reorder_ppm);
  link.tail_ppm = ppm_value(draw, "tail_ppm", link.tail_ppm);
}

}  // namespace crdtsim::sim
