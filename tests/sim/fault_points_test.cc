// Fault points (BUGGIFY) and coverage points.

#include "sim/fault_points.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/simulation.h"
#include "tests/sim/scripted_process.h"

namespace crdtsim::sim {
namespace {

using testing::add_scripted;
using testing::Log;
using testing::Script;

std::string point_name(int i) {
  return "point." + std::to_string(i);
}

TEST(FaultPoints, OffByDefault) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  int fired = 0;
  script.on_start = [&fired](Context& ctx) {
    for (int i = 0; i < 1'000; ++i) {
      fired += ctx.fault(point_name(i % 10)) ? 1 : 0;
    }
  };
  add_scripted(sim, logs, 1, script);
  sim.run_until(10);
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(sim.result().fault_points.empty());
}

TEST(FaultPoints, AboutEnablePpmOfPointsAreLiveInARun) {
  FaultPointConfig config;
  config.enabled = true;
  config.enable_ppm = 500'000;
  FaultPoints points(config, Prng(1));
  for (int i = 0; i < 1'000; ++i) {
    (void)points.fire(point_name(i));
  }
  int live = 0;
  for (const auto& [name, stats] : points.stats()) {
    live += stats.enabled ? 1 : 0;
  }
  EXPECT_NEAR(live, 500, 80);  // Binomial(1000, 1/2): sd = 15.8
}

TEST(FaultPoints, WhichPointsAreLiveDependsOnSeedAndNameNotCallOrder) {
  FaultPointConfig config;
  config.enabled = true;
  FaultPoints forward(config, Prng(7));
  FaultPoints backward(config, Prng(7));
  FaultPoints other_seed(config, Prng(8));
  for (int i = 0; i < 200; ++i) {
    (void)forward.fire(point_name(i));
    (void)backward.fire(point_name(199 - i));
    (void)other_seed.fire(point_name(i));
  }
  int differ = 0;
  const auto other = other_seed.stats();
  for (const auto& [name, stats] : forward.stats()) {
    EXPECT_EQ(stats.enabled, backward.stats().at(name).enabled) << name;
    differ += stats.enabled != other.at(name).enabled ? 1 : 0;
  }
  EXPECT_GT(differ, 50);
}

TEST(FaultPoints, LivePointFiresAtFirePpm) {
  FaultPointConfig config;
  config.enabled = true;
  config.enable_ppm = kPpmOne;
  config.fire_ppm = 100'000;
  FaultPoints points(config, Prng(3));
  std::uint64_t fired = 0;
  for (int i = 0; i < 100'000; ++i) {
    fired += points.fire("disk.slow") ? 1U : 0U;
  }
  // Binomial(100,000, 0.1): sd = 95.
  EXPECT_NEAR(static_cast<double>(fired), 10'000.0, 5 * 95.0);
  EXPECT_EQ(points.stats().at("disk.slow").calls, 100'000U);
  EXPECT_EQ(points.stats().at("disk.slow").fires, fired);
}

TEST(FaultPoints, EnabledThroughTheRunConfig) {
  SimulationConfig config;
  config.fault_points.enabled = true;
  config.fault_points.enable_ppm = kPpmOne;
  config.fault_points.fire_ppm = kPpmOne;
  Simulation sim(config);
  std::vector<Log> logs;
  Script script;
  bool fired = false;
  script.on_start = [&fired](Context& ctx) { fired = ctx.fault("always"); };
  add_scripted(sim, logs, 1, script);
  sim.run_until(10);
  EXPECT_TRUE(fired);
  EXPECT_EQ(sim.result().fault_points.at("always").fires, 1U);
}

TEST(Coverage, CountsHitsPerPointFromProcessesAndCheckers) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) {
    ctx.cover("started");
    if (ctx.self() == 2) {
      ctx.cover("rare");
    }
  };
  add_scripted(sim, logs, 3, script);
  sim.declare_coverage("never");
  sim.run_until(10);
  sim.cover("checker.ran");
  const RunResult result = sim.result();
  EXPECT_EQ(result.coverage.at("started"), 3U);
  EXPECT_EQ(result.coverage.at("rare"), 1U);
  EXPECT_EQ(result.coverage.at("never"), 0U);
  EXPECT_EQ(result.coverage.at("checker.ran"), 1U);
  EXPECT_EQ(result.coverage.begin()->first, "checker.ran");  // ordered by name
}

}  // namespace
}  // namespace crdtsim::sim
