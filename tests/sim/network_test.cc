// The network's faults demonstrably happen: drop, duplicate, reorder and tail
// rates; every partition shape blocks exactly its links; flapping; the
// in-flight policy.

#include "sim/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/simulation.h"
#include "tests/sim/scripted_process.h"

namespace crdtsim::sim {
namespace {

using testing::add_scripted;
using testing::count_from;
using testing::kPing;
using testing::Log;
using testing::Script;

// Process 0 sends `count` pings to process 1 at start.
Script burst(std::uint32_t count) {
  Script script;
  script.on_start = [count](Context& ctx) {
    if (ctx.self() == 0) {
      for (std::uint32_t i = 0; i < count; ++i) {
        ctx.send(1, 1, kPing);
      }
    }
  };
  return script;
}

TEST(Network, DropAndDuplicateRatesMatchTheirPpm) {
  // 100,000 messages; drop 10% (sd = sqrt(n p (1-p)) = 95), then duplicate 5%
  // of the 90,000 survivors (sd = 65). A tolerance of 5 sd makes a false
  // failure essentially impossible (the seed is fixed anyway) while a wrong
  // rate (e.g. ppm read as per-thousand) would be off by thousands.
  constexpr std::uint32_t kMessages = 100'000;
  SimulationConfig config;
  config.seed = 1;
  config.network.link.drop_ppm = 100'000;
  config.network.link.duplicate_ppm = 50'000;
  Simulation sim(config);
  std::vector<Log> logs;
  add_scripted(sim, logs, 2, burst(kMessages));
  ASSERT_EQ(sim.run_until_quiescent(1'000'000), Outcome::ok);

  std::set<std::uint64_t> unique_ids;
  for (const auto& received : logs[1].received) {
    unique_ids.insert(received.id);
  }
  const auto dropped = static_cast<double>(kMessages - unique_ids.size());
  const auto duplicates = static_cast<double>(logs[1].received.size() - unique_ids.size());
  EXPECT_NEAR(dropped, 10'000.0, 5 * 95.0);
  EXPECT_NEAR(duplicates, 4'500.0, 5 * 65.0);
  const RunResult result = sim.result();
  EXPECT_EQ(result.stats.messages.messages_sent, kMessages);
  EXPECT_EQ(result.stats.messages.messages_dropped, kMessages - unique_ids.size());
  EXPECT_EQ(result.stats.messages.messages_duplicated, logs[1].received.size() - unique_ids.size());
  EXPECT_EQ(result.stats.per_kind.at(1).bytes_sent, kMessages * kPing.size());
  EXPECT_EQ(result.stats.per_kind.at(1).bytes_delivered, logs[1].received.size() * kPing.size());
}

std::size_t inversions(const Log& log) {
  std::size_t count = 0;
  for (std::size_t i = 1; i < log.received.size(); ++i) {
    count += log.received[i].id < log.received[i - 1].id ? 1U : 0U;
  }
  return count;
}

TEST(Network, ReorderingLetsLaterMessagesOvertake) {
  SimulationConfig config;
  config.network.link.latency_us_min = 1'000;
  config.network.link.latency_us_max = 1'000;  // FIFO unless reordered
  Simulation fifo(config);
  std::vector<Log> fifo_logs;
  add_scripted(fifo, fifo_logs, 2, burst(1'000));
  fifo.run_until_quiescent(10'000);
  EXPECT_EQ(fifo_logs[1].received.size(), 1'000U);
  EXPECT_EQ(inversions(fifo_logs[1]), 0U);

  config.network.link.reorder_ppm = 200'000;
  Simulation reordered(config);
  std::vector<Log> logs;
  add_scripted(reordered, logs, 2, burst(1'000));
  reordered.run_until_quiescent(10'000);
  EXPECT_EQ(logs[1].received.size(), 1'000U);
  EXPECT_GT(inversions(logs[1]), 50U);
}

TEST(Network, LongTailDelaysTheConfiguredFraction) {
  SimulationConfig config;
  config.network.link.latency_us_min = 100;
  config.network.link.latency_us_max = 200;
  config.network.link.tail_ppm = 100'000;
  config.network.link.tail_us_min = 50'000;
  config.network.link.tail_us_max = 60'000;
  Simulation sim(config);
  std::vector<Log> logs;
  add_scripted(sim, logs, 2, burst(10'000));
  sim.run_until_quiescent(100'000);
  std::size_t slow = 0;
  for (const auto& received : logs[1].received) {
    EXPECT_LE(received.local_us, 60'200);
    slow += received.local_us >= 50'100 ? 1U : 0U;
  }
  // Binomial(10,000, 0.1): sd = 30.
  EXPECT_NEAR(static_cast<double>(slow), 1'000.0, 5 * 30.0);
}

// Every process sends to every other one each millisecond.
Script all_to_all() {
  Script script;
  script.on_start = [](Context& ctx) { ctx.arm_timer(1'000, 0); };
  script.on_timer = [](Context& ctx, std::uint32_t) {
    for (ProcessId to = 0; to < ctx.process_count(); ++to) {
      if (to != ctx.self()) {
        ctx.send(to, 1, kPing);
      }
    }
    ctx.arm_timer(1'000, 0);
  };
  return script;
}

// Runs 4 all-to-all processes for 100 ms with `links` cut throughout, then
// checks that exactly the cut links carried nothing.
void expect_exactly_cut(const LinkSet& links) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  add_scripted(sim, logs, 4, all_to_all());
  EXPECT_EQ(sim.cut(links), links.links().size());
  sim.run_until(100'000);
  for (ProcessId from = 0; from < 4; ++from) {
    for (ProcessId to = 0; to < 4; ++to) {
      if (from == to) {
        continue;
      }
      const std::uint64_t delivered = count_from(logs[to], from);
      if (links.contains(from, to)) {
        EXPECT_EQ(delivered, 0U) << from << " -> " << to << " is cut";
      } else {
        EXPECT_GT(delivered, 90U) << from << " -> " << to << " is not cut";
      }
    }
  }
}

TEST(Network, GroupPartitionBlocksExactlyCrossGroupLinks) {
  const LinkSet links = LinkSet::groups({{0, 1}, {2, 3}});
  EXPECT_EQ(links.links().size(), 8U);
  expect_exactly_cut(links);
}

TEST(Network, OneWayCutBlocksExactlyOneDirection) {
  const LinkSet links = LinkSet::one_way(0, 1);
  EXPECT_TRUE(links.contains(0, 1));
  EXPECT_FALSE(links.contains(1, 0));
  expect_exactly_cut(links);
}

TEST(Network, IsolateCutsEveryLinkOfOneProcess) {
  const LinkSet links = LinkSet::isolate(2, 4);
  EXPECT_EQ(links.links().size(), 6U);
  expect_exactly_cut(links);
}

TEST(Network, BridgeReachesBothSidesWhichCannotReachEachOther) {
  const LinkSet links = LinkSet::bridge({0}, 1, {2});
  EXPECT_TRUE(links.contains(0, 2));
  EXPECT_TRUE(links.contains(2, 0));
  EXPECT_FALSE(links.contains(0, 1));
  EXPECT_FALSE(links.contains(1, 2));
  expect_exactly_cut(links);
}

TEST(Network, HealRestoresTraffic) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  add_scripted(sim, logs, 4, all_to_all());
  sim.cut(LinkSet::isolate(0, 4));
  sim.run_until(50'000);
  EXPECT_EQ(count_from(logs[1], 0), 0U);
  EXPECT_EQ(sim.heal_all(), 6U);
  sim.run_until(100'000);
  EXPECT_GT(count_from(logs[1], 0), 40U);
}

TEST(Network, FlappingCutsAndHealsOnSchedule) {
  SimulationConfig config;
  config.network.link.latency_us_min = 100;
  config.network.link.latency_us_max = 100;
  config.network.in_flight = InFlightPolicy::drop;
  Simulation sim(config);
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) { ctx.arm_timer(500, 0); };
  script.on_timer = [](Context& ctx, std::uint32_t) {
    if (ctx.self() == 0) {
      ctx.send(1, 1, kPing);
    }
    ctx.arm_timer(1'000, 0);
  };
  add_scripted(sim, logs, 2, script);
  // Cut during [10, 30), [60, 80), [110, 130) ms.
  sim.flap(LinkSet::both_ways(0, 1), 10'000, 20'000, 30'000, 3);
  sim.run_until(160'000);
  std::vector<std::uint64_t> per_window(4, 0);
  for (const auto& received : logs[1].received) {
    const TimeUs in_cycle_us = (received.local_us - 10'000) % 50'000;
    EXPECT_FALSE(received.local_us >= 10'000 && in_cycle_us < 20'000)
        << "delivered at " << received.local_us << " while cut";
    ++per_window[static_cast<std::size_t>(std::min<TimeUs>(3, received.local_us / 50'000))];
  }
  for (const std::uint64_t count : per_window) {
    EXPECT_GT(count, 5U);
  }
}

Log run_in_flight_cut(InFlightPolicy policy) {
  SimulationConfig config;
  config.network.link.latency_us_min = 1'000;
  config.network.link.latency_us_max = 1'000;
  config.network.in_flight = policy;
  Simulation sim(config);
  std::vector<Log> logs;
  add_scripted(sim, logs, 2, burst(1));
  sim.at(500, [](Simulation& s) { s.cut(LinkSet::both_ways(0, 1)); });
  sim.at(700, [](Simulation& s) { s.heal_all(); });
  sim.run_until(5'000);
  return logs[1];
}

TEST(Network, InFlightPolicyDecidesTheFateOfMessagesCaughtByACut) {
  EXPECT_EQ(run_in_flight_cut(InFlightPolicy::deliver).received.size(), 1U);
  EXPECT_EQ(run_in_flight_cut(InFlightPolicy::drop).received.size(), 0U);
}

TEST(Network, PerLinkOverride) {
  Simulation sim(SimulationConfig{});
  LinkConfig lossy;
  lossy.drop_ppm = kPpmOne;
  sim.set_link(0, 1, lossy);
  std::vector<Log> logs;
  add_scripted(sim, logs, 3, all_to_all());
  sim.run_until(20'000);
  EXPECT_EQ(count_from(logs[1], 0), 0U);
  EXPECT_GT(count_from(logs[0], 1), 10U);
  EXPECT_GT(count_from(logs[2], 0), 10U);
}

}  // namespace
}  // namespace crdtsim::sim
