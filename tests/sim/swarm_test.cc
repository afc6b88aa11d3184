#include "sim/swarm.h"

#include <gtest/gtest.h>

namespace crdtsim::sim {
namespace {

TEST(Swarm, SameSeedSameDraw) {
  const SwarmKnobs knobs = default_link_knobs(50'000, 50'000, 100'000, 10'000);
  EXPECT_EQ(draw_swarm(1, knobs), draw_swarm(1, knobs));
}

TEST(Swarm, ValuesStayInRangeAndKnobsAreSometimesOff) {
  const SwarmKnobs knobs{{"drop_ppm", SwarmKnob{500'000, 1'000, 2'000}}};
  int off = 0;
  for (std::uint64_t seed = 0; seed < 1'000; ++seed) {
    const std::uint64_t value = draw_swarm(seed, knobs).at("drop_ppm");
    if (value == 0) {
      ++off;
      continue;
    }
    EXPECT_GE(value, 1'000U);
    EXPECT_LE(value, 2'000U);
  }
  // Binomial(1000, 1/2): sd = 15.8; allow 5 sd.
  EXPECT_NEAR(off, 500, 80);
}

TEST(Swarm, AddingAKnobDoesNotChangeTheOthers) {
  SwarmKnobs knobs = default_link_knobs(50'000, 50'000, 100'000, 10'000);
  const SwarmDraw before = draw_swarm(42, knobs);
  knobs.emplace("crash_interval_us", SwarmKnob{kPpmOne, 1, 1'000'000});
  const SwarmDraw after = draw_swarm(42, knobs);
  for (const auto& [name, value] : before) {
    EXPECT_EQ(after.at(name), value) << name;
  }
}

TEST(Swarm, DifferentSeedsExploreDifferentMixes) {
  const SwarmKnobs knobs = default_link_knobs(50'000, 50'000, 100'000, 10'000);
  EXPECT_NE(draw_swarm(1, knobs), draw_swarm(2, knobs));
}

TEST(Swarm, AppliesToALink) {
  const SwarmDraw draw{{"drop_ppm", 7}, {"duplicate_ppm", 8}};
  LinkConfig link;
  link.reorder_ppm = 9;
  apply_swarm(draw, link);
  EXPECT_EQ(link.drop_ppm, 7U);
  EXPECT_EQ(link.duplicate_ppm, 8U);
  EXPECT_EQ(link.reorder_ppm, 9U);  // absent knobs leave the field alone
}

}  // namespace
}  // namespace crdtsim::sim
