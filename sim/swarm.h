#pragma once
// Swarm testing (after TigerBeetle's VOPR and Groce et al., "Swarm Testing",
// ISSTA 2012): instead of every run using the same fault mix, each seed draws
// its own. A knob is first enabled or not (probability enable_ppm), then, if
// enabled, gets a value uniform in [min, max]; a disabled knob is 0.
//
// Each knob draws from its own stream fork("swarm/" + name) of the seed, so
// adding or removing a knob never changes the values other knobs get.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sim/network.h"
#include "sim/types.h"

namespace crdtsim::sim {

struct SwarmKnob {
  std::uint32_t enable_ppm = kPpmOne;  // chance this knob is on in a run
  std::uint64_t min = 0;
  std::uint64_t max = 0;
};

using SwarmKnobs = std::map<std::string, SwarmKnob, std::less<>>;
using SwarmDraw = std::map<std::string, std::uint64_t, std::less<>>;

// This run's value for every knob. Requires min <= max for every knob.
SwarmDraw draw_swarm(std::uint64_t seed, const SwarmKnobs& knobs);

// The value of `name` in `draw`, or `fallback` when the knob is absent.
std::uint64_t swarm_value(const SwarmDraw& draw, std::string_view name, std::uint64_t fallback);

// Knobs for the link faults, named as the LinkConfig fields: "drop_ppm",
// "duplicate_ppm", "reorder_ppm", "tail_ppm"; each enabled half the time
// and ranging up to the given maximum.
SwarmKnobs default_link_knobs(std::uint32_t drop_ppm_max, std::uint32_t duplicate_ppm_max,
                              std::uint32_t reorder_ppm_max, std::uint32_t tail_ppm_max);

// Copies the drawn "drop_ppm", "duplicate_ppm", "reorder_ppm" and "tail_ppm"
// (those present) into `link`.
void apply_swarm(const SwarmDraw& draw, LinkConfig& link);

}  // namespace crdtsim::sim
