// Crash, restart, pause, clocks, timers, bounds and stream independence.

#include <gtest/gtest.h>

#include <string>

#include "sim/simulation.h"
#include "tests/sim/scripted_process.h"

namespace crdtsim::sim {
namespace {

using testing::add_scripted;
using testing::kPing;
using testing::Log;
using testing::Script;

Bytes text(const std::string& value) {
  return Bytes(value.begin(), value.end());
}

TEST(Lifecycle, CrashLosesUnsyncedWritesAndKeepsSyncedOnes) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  bool saw_synced_after_restart = false;
  bool saw_unsynced_after_restart = false;
  script.on_start = [&](Context& ctx) {
    if (ctx.disk_read("synced") != nullptr) {  // the second incarnation
      saw_synced_after_restart = true;
      saw_unsynced_after_restart = ctx.disk_read("unsynced") != nullptr;
      return;
    }
    ctx.disk_write("synced", text("kept"));
    ctx.disk_sync();
    ctx.disk_write("unsynced", text("lost"));
  };
  add_scripted(sim, logs, 1, script);
  sim.at(1'000, [](Simulation& s) { EXPECT_TRUE(s.crash(0)); });
  sim.at(2'000, [](Simulation& s) { EXPECT_TRUE(s.restart(0)); });
  sim.run_until(3'000);
  EXPECT_EQ(logs[0].starts, 2U);
  EXPECT_TRUE(saw_synced_after_restart);
  EXPECT_FALSE(saw_unsynced_after_restart);
  EXPECT_EQ(sim.disk(0).contents().size(), 1U);
}

TEST(Lifecycle, CrashDiscardsVolatileStateTimersAndInFlightMessages) {
  SimulationConfig config;
  config.network.link.latency_us_min = 5'000;
  config.network.link.latency_us_max = 5'000;
  Simulation sim(config);
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) {
    if (ctx.self() == 0 && ctx.disk_read("started") == nullptr) {
      ctx.disk_write("started", {});
      ctx.disk_sync();
      ctx.arm_timer(10'000, 7);  // armed by the first incarnation only
    }
    if (ctx.self() == 1) {
      ctx.send(0, 1, kPing);  // in flight to 0 when 0 crashes
    }
  };
  add_scripted(sim, logs, 2, script);
  sim.at(1'000, [](Simulation& s) { s.crash(0); });
  sim.at(2'000, [](Simulation& s) { s.restart(0); });
  sim.run_until(20'000);
  EXPECT_TRUE(logs[0].received.empty());
  EXPECT_TRUE(logs[0].fired.empty());
  EXPECT_EQ(sim.result().stats.messages.messages_dropped, 1U);
  EXPECT_EQ(sim.result().stats.crashes, 1U);
  EXPECT_EQ(sim.result().stats.restarts, 1U);
}

TEST(Lifecycle, MessagesToADownProcessAreDroppedAndStateChangesAreChecked) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) { ctx.arm_timer(1'000, 0); };
  script.on_timer = [](Context& ctx, std::uint32_t) {
    ctx.send(1 - ctx.self(), 1, kPing);
    ctx.arm_timer(1'000, 0);
  };
  add_scripted(sim, logs, 2, script);
  sim.run_until(10'500);
  EXPECT_TRUE(sim.crash(1));
  EXPECT_FALSE(sim.crash(1));
  EXPECT_FALSE(sim.pause(1));
  EXPECT_FALSE(sim.resume(1));
  EXPECT_EQ(sim.process(1), nullptr);
  const std::size_t before = logs[1].received.size();
  sim.run_until(20'500);
  EXPECT_EQ(logs[1].received.size(), before);
  EXPECT_EQ(sim.state(1), ProcessState::down);
  EXPECT_TRUE(sim.restart(1));
  EXPECT_FALSE(sim.restart(1));
  sim.run_until(30'500);
  EXPECT_GT(logs[1].received.size(), before + 5);
}

Script pause_probe() {
  Script script;
  script.on_start = [](Context& ctx) { ctx.arm_timer(1'000, 0); };
  script.on_timer = [](Context& ctx, std::uint32_t) {
    if (ctx.self() == 1) {
      ctx.send(0, 1, kPing);
    }
    ctx.arm_timer(1'000, 0);
  };
  return script;
}

TEST(Lifecycle, PausedProcessReceivesNothingAndFiresNoTimersUntilResumed) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  add_scripted(sim, logs, 2, pause_probe());
  sim.at(10'050, [](Simulation& s) { EXPECT_TRUE(s.pause(0)); });
  sim.at(30'050, [](Simulation& s) { EXPECT_TRUE(s.resume(0)); });
  sim.run_until(40'000);
  std::size_t at_resume = 0;
  for (const auto& received : logs[0].received) {
    EXPECT_FALSE(received.local_us > 10'050 && received.local_us < 30'050);
    at_resume += received.local_us == 30'050 ? 1U : 0U;
  }
  for (const auto& fired : logs[0].fired) {
    EXPECT_FALSE(fired.local_us > 10'050 && fired.local_us < 30'050);
  }
  EXPECT_EQ(at_resume, 20U);  // held messages arrive, in order, on resume
  // The process's clock jumped by the pause: consecutive timers 20 ms apart.
  TimeUs largest_gap_us = 0;
  for (std::size_t i = 1; i < logs[0].fired.size(); ++i) {
    largest_gap_us =
        std::max(largest_gap_us, logs[0].fired[i].local_us - logs[0].fired[i - 1].local_us);
  }
  EXPECT_GE(largest_gap_us, 20'000);
}

TEST(Lifecycle, PausePolicyDropLosesMessagesButKeepsTimers) {
  SimulationConfig config;
  config.pause = PausePolicy::drop;
  Simulation sim(config);
  std::vector<Log> logs;
  add_scripted(sim, logs, 2, pause_probe());
  sim.at(10'050, [](Simulation& s) { s.pause(0); });
  sim.at(30'050, [](Simulation& s) { s.resume(0); });
  sim.run_until(40'000);
  for (const auto& received : logs[0].received) {
    EXPECT_FALSE(received.local_us > 10'050 && received.local_us <= 30'050);
  }
  EXPECT_EQ(sim.result().stats.messages.messages_dropped, 20U);
  // Timers at 1..10 ms, the held one on resume at 30.05 ms, then 31.05..39.05.
  ASSERT_EQ(logs[0].fired.size(), 20U);
  EXPECT_EQ(logs[0].fired[10].local_us, 30'050);
}

TEST(Lifecycle, ClockDriftAndJumpsAreVisibleToTheProcess) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) {
    ctx.arm_timer(1'000'000, 1);
    ctx.arm_timer(2'000'000, 2);
  };
  add_scripted(sim, logs, 1, script, ClockConfig{0, 10'000});  // 1% fast
  sim.at(1'500'000, [](Simulation& s) { s.jump_clock(0, -500'000); });
  sim.run_until(3'000'000);
  ASSERT_EQ(logs[0].fired.size(), 2U);
  EXPECT_EQ(logs[0].fired[0].local_us, 1'010'000);
  EXPECT_EQ(logs[0].fired[1].local_us, 2'020'000 - 500'000);  // went backwards
  EXPECT_EQ(sim.local_time_us(0), 3'030'000 - 500'000);
  sim.set_clock_drift(0, 0);
  sim.run_until(4'000'000);
  EXPECT_EQ(sim.local_time_us(0), 4'030'000 - 500'000);
}

TEST(Lifecycle, CancelledTimersDoNotFire) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) {
    const TimerId doomed = ctx.arm_timer(1'000, 1);
    ctx.arm_timer(2'000, 2);
    EXPECT_TRUE(ctx.cancel_timer(doomed));
    EXPECT_FALSE(ctx.cancel_timer(doomed));
    EXPECT_FALSE(ctx.cancel_timer(kNoTimer));
  };
  add_scripted(sim, logs, 1, script);
  sim.run_until(5'000);
  ASSERT_EQ(logs[0].fired.size(), 1U);
  EXPECT_EQ(logs[0].fired[0].tag, 2U);
}

Script forever() {
  Script script;
  script.on_start = [](Context& ctx) { ctx.arm_timer(10, 0); };
  script.on_timer = [](Context& ctx, std::uint32_t) { ctx.arm_timer(10, 0); };
  return script;
}

TEST(Lifecycle, EventBoundEndsANonQuiescentRun) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  add_scripted(sim, logs, 1, forever());
  EXPECT_EQ(sim.run_until_quiescent(1'000), Outcome::too_many_events);
  EXPECT_EQ(sim.result().stats.events, 1'000U);
  EXPECT_EQ(sim.run_until(1'000'000'000), Outcome::too_many_events);  // sticky
}

TEST(Lifecycle, ConfiguredMaxEventsBoundsRunUntil) {
  SimulationConfig config;
  config.max_events = 500;
  Simulation sim(config);
  std::vector<Log> logs;
  add_scripted(sim, logs, 1, forever());
  EXPECT_EQ(sim.run_until(1'000'000), Outcome::too_many_events);
  EXPECT_EQ(sim.result().stats.events, 500U);
  EXPECT_FALSE(sim.result().failure.empty());
}

TEST(Lifecycle, QuiescentRunEndsOk) {
  Simulation sim(SimulationConfig{});
  std::vector<Log> logs;
  Script script;
  script.on_start = [](Context& ctx) {
    if (ctx.self() == 0) {
      ctx.send(1, 1, kPing);
    }
  };
  add_scripted(sim, logs, 2, script);
  EXPECT_EQ(sim.run_until_quiescent(100), Outcome::ok);
  EXPECT_EQ(logs[1].received.size(), 1U);
}

TEST(Lifecycle, TimerAndMessageBoundsEndTheRun) {
  SimulationConfig config;
  config.max_timers_per_process = 10;
  config.max_message_bytes = 4;
  Simulation timers(config);
  std::vector<Log> logs;
  Script many_timers;
  many_timers.on_start = [](Context& ctx) {
    for (int i = 0; i < 11; ++i) {
      ctx.arm_timer(100, 0);
    }
  };
  add_scripted(timers, logs, 1, many_timers);
  EXPECT_EQ(timers.run_until(1'000), Outcome::bound_exceeded);

  Simulation messages(config);
  std::vector<Log> message_logs;
  Script big;
  big.on_start = [](Context& ctx) {
    if (ctx.self() == 0) {
      ctx.send(1, 1, kPing);  // 8 bytes > 4
    }
  };
  add_scripted(messages, message_logs, 2, big);
  EXPECT_EQ(messages.run_until(1'000), Outcome::bound_exceeded);
}

TEST(Lifecycle, ActionsAtTheSameTimeRunInSchedulingOrder) {
  Simulation sim(SimulationConfig{});
  std::string order;
  sim.at(100, [&order](Simulation&) { order += 'a'; });
  sim.at(50, [&order](Simulation&) { order += 'b'; });
  sim.at(100, [&order](Simulation& s) {
    order += 'c';
    s.after(0, [&order](Simulation&) { order += 'e'; });
  });
  sim.at(100, [&order](Simulation&) { order += 'd'; });
  sim.run_until(200);
  EXPECT_EQ(order, "bacde");
}

// Process 1 records the numbers it draws and the arrival times it sees;
// process 0 optionally draws extra numbers from its own stream.
struct Observed {
  std::vector<std::uint64_t> draws;
  std::vector<TimeUs> arrivals;
};

Observed observe(bool extra_draws_in_process_0) {
  SimulationConfig config;
  config.seed = 99;
  config.network.link.latency_us_min = 1;
  config.network.link.latency_us_max = 1'000'000;
  Simulation sim(config);
  std::vector<Log> logs;
  Script script;
  Observed observed;
  script.on_start = [&](Context& ctx) {
    if (ctx.self() == 0 && extra_draws_in_process_0) {
      for (int i = 0; i < 100; ++i) {
        (void)ctx.random().next();
      }
    }
    if (ctx.self() == 1) {
      for (int i = 0; i < 10; ++i) {
        observed.draws.push_back(ctx.random().next());
      }
      for (int i = 0; i < 10; ++i) {
        ctx.send(2, 1, kPing);
      }
    }
  };
  add_scripted(sim, logs, 3, script);
  sim.run_until_quiescent(1'000);
  for (const auto& received : logs[2].received) {
    observed.arrivals.push_back(received.local_us);
  }
  return observed;
}

TEST(Lifecycle, ExtraDrawsInOneProcessShiftNoOtherStream) {
  const Observed plain = observe(false);
  const Observed shifted = observe(true);
  EXPECT_EQ(plain.draws, shifted.draws);        // process 1's own stream
  EXPECT_EQ(plain.arrivals, shifted.arrivals);  // the network stream
  EXPECT_EQ(plain.arrivals.size(), 10U);
}

}  // namespace
}  // namespace crdtsim::sim
