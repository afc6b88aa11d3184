#pragma once
// A toy multi-process workload for the simulator's own tests: processes keep a
// grow-only counter vector (one slot per process), bump their own slot on a
// timer, persist it, and gossip it to random peers. It exercises every part of
// the process interface (timers and cancellation, local clocks, randomness,
// disk write/sync/reload, fault points, coverage) and, with a nemesis, every
// fault the kernel can inject.
//
// Determinism note: never put two random draws in one expression's argument
// list (the evaluation order of arguments differs between compilers).

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/network.h"
#include "sim/process.h"
#include "sim/simulation.h"

namespace crdtsim::sim::toy {

inline constexpr MessageKind kGossip = 1;
inline constexpr MessageKind kReply = 2;
inline constexpr std::uint32_t kTickTimer = 1;
inline constexpr std::uint32_t kSpareTimer = 2;

inline Bytes encode_counts(const std::vector<std::uint64_t>& counts) {
  Bytes bytes;
  bytes.reserve(counts.size() * 8);
  for (const std::uint64_t count : counts) {
    for (unsigned shift = 0; shift < 64; shift += 8) {
      bytes.push_back(static_cast<std::uint8_t>(count >> shift));
    }
  }
  return bytes;
}

inline std::vector<std::uint64_t> decode_counts(ByteView bytes) {
  std::vector<std::uint64_t> counts(bytes.size() / 8, 0);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    for (unsigned b = 0; b < 8; ++b) {
      counts[i] |= static_cast<std::uint64_t>(bytes[i * 8 + b]) << (8U * b);
    }
  }
  return counts;
}

class GossipProcess final : public Process {
 public:
  // leak, if not null, is a counter outside the simulation that the process
  // mixes into its messages: a deliberate determinism bug for the tests.
  explicit GossipProcess(std::uint64_t* leak = nullptr) : leak_(leak) {}

  void start(Context& ctx) override {
    counts_.assign(ctx.process_count(), 0);
    if (const Bytes* saved = ctx.disk_read("counts"); saved != nullptr) {
      merge(decode_counts(*saved));
      ctx.cover("toy.restart_with_state");
    }
    ctx.arm_timer(ctx.random().range(1'000, 10'000), kTickTimer);
    spare_ = ctx.arm_timer(50'000, kSpareTimer);
    last_heard_us_ = ctx.now_us();
  }

  void on_message(Context& ctx, const Message& message) override {
    const bool changed = merge(decode_counts(message.bytes));
    if (changed) {
      ctx.cover("toy.merge_changed");
      persist(ctx);
    }
    if (ctx.now_us() < last_heard_us_) {
      ctx.cover("toy.clock_went_backwards");
    }
    last_heard_us_ = ctx.now_us();
    if (message.kind == kGossip && (ctx.fault("toy.extra_reply") || changed)) {
      send_counts(ctx, message.from, kReply);
    }
  }

  void on_timer(Context& ctx, TimerId /*id*/, std::uint32_t tag) override {
    if (tag == kSpareTimer) {
      ctx.cover("toy.spare_timer_fired");
      return;
    }
    ctx.cover("toy.tick");
    if (ctx.random().chance_ppm(500'000)) {
      ++counts_[ctx.self()];
      persist(ctx);
    }
    // Exercise cancellation: re-arm the spare timer now and then.
    if (ctx.random().chance_ppm(200'000)) {
      if (ctx.cancel_timer(spare_)) {
        ctx.cover("toy.spare_cancelled");
      }
      spare_ = ctx.arm_timer(ctx.random().range(10'000, 80'000), kSpareTimer);
    }
    const auto peer_offset = ctx.random().range(1, ctx.process_count() - 1);
    const auto peer = static_cast<ProcessId>((ctx.self() + peer_offset) % ctx.process_count());
    send_counts(ctx, peer, kGossip);
    ctx.arm_timer(ctx.random().range(5'000, 15'000), kTickTimer);
  }

  const std::vector<std::uint64_t>& counts() const { return counts_; }

 private:
  bool merge(const std::vector<std::uint64_t>& other) {
    bool changed = false;
    for (std::size_t i = 0; i < other.size() && i < counts_.size(); ++i) {
      if (other[i] > counts_[i]) {
        counts_[i] = other[i];
        changed = true;
      }
    }
    return changed;
  }

  void persist(Context& ctx) {
    ctx.disk_write("counts", encode_counts(counts_));
    if (ctx.fault("toy.skip_sync")) {
      ctx.cover("toy.sync_skipped");
      return;
    }
    ctx.disk_sync();
  }

  void send_counts(Context& ctx, ProcessId peer, MessageKind kind) {
    Bytes bytes = encode_counts(counts_);
    if (leak_ != nullptr) {
      bytes.push_back(static_cast<std::uint8_t>((*leak_)++));
    }
    ctx.send(peer, kind, bytes);
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t* leak_;
  TimerId spare_ = kNoTimer;
  TimeUs last_heard_us_ = 0;
};

struct ToyOptions {
  explicit ToyOptions(std::uint64_t seed_in = 1) : seed(seed_in) {}

  std::uint64_t seed;
  std::uint32_t processes = 5;
  TimeUs duration_us = 2'000'000;
  bool faults = true;             // every fault kind, from the nemesis
  TraceSink* sink = nullptr;      // optional trace sink
  std::uint64_t* leak = nullptr;  // see GossipProcess
};

// Link faults and fault points for the "every fault enabled" runs.
inline SimulationConfig toy_config(const ToyOptions& options) {
  SimulationConfig config;
  config.seed = options.seed;
  if (options.faults) {
    LinkConfig& link = config.network.link;
    link.latency_us_min = 200;
    link.latency_us_max = 3'000;
    link.drop_ppm = 20'000;
    link.duplicate_ppm = 20'000;
    link.reorder_ppm = 50'000;
    link.tail_ppm = 10'000;
    config.network.in_flight =
        (options.seed % 2 == 0) ? InFlightPolicy::drop : InFlightPolicy::deliver;
    config.pause = (options.seed % 3 == 0) ? PausePolicy::drop : PausePolicy::hold;
    config.fault_points.enabled = true;
  }
  return config;
}

// One random fault at time at_us, chosen by the nemesis stream. Every kind
// the kernel offers appears: crash/restart, pause/resume, partitions of each
// shape, flapping, heal, clock jumps both ways, drift changes.
inline void schedule_fault(Simulation& sim, Prng& nemesis, TimeUs at_us) {
  const std::uint32_t n = sim.process_count();
  const auto victim = static_cast<ProcessId>(nemesis.uniform(n));
  const auto other = static_cast<ProcessId>((victim + 1 + nemesis.uniform(n - 1)) % n);
  const TimeUs length_us = nemesis.range(10'000, 300'000);
  switch (nemesis.uniform(9)) {
    case 0:
      sim.at(at_us, [victim](Simulation& s) { s.crash(victim); });
      sim.at(at_us + length_us, [victim](Simulation& s) { s.restart(victim); });
      return;
    case 1:
      sim.at(at_us, [victim](Simulation& s) { s.pause(victim); });
      sim.at(at_us + length_us, [victim](Simulation& s) { s.resume(victim); });
      return;
    case 2: {
      const LinkSet links = LinkSet::groups({{0, 1}, {2, 3, 4}});
      sim.at(at_us, [links](Simulation& s) { s.cut(links); });
      sim.at(at_us + length_us, [links](Simulation& s) { s.heal(links); });
      return;
    }
    case 3: {
      const LinkSet links = LinkSet::one_way(victim, other);
      sim.at(at_us, [links](Simulation& s) { s.cut(links); });
      sim.at(at_us + length_us, [](Simulation& s) { s.heal_all(); });
      return;
    }
    case 4:
      sim.at(at_us, [victim, n](Simulation& s) { s.cut(LinkSet::isolate(victim, n)); });
      sim.at(at_us + length_us, [](Simulation& s) { s.heal_all(); });
      return;
    case 5: {
      const auto bridge = static_cast<ProcessId>((other + 1) % n);
      if (bridge != victim) {
        const LinkSet links = LinkSet::bridge({victim}, bridge, {other});
        sim.at(at_us, [links](Simulation& s) { s.cut(links); });
        sim.at(at_us + length_us, [links](Simulation& s) { s.heal(links); });
      }
      return;
    }
    case 6:
      sim.flap(LinkSet::both_ways(victim, other), at_us, 20'000, 30'000, 4);
      return;
    case 7: {
      const TimeUs delta_us = nemesis.range(-200'000, 200'000);
      sim.at(at_us, [victim, delta_us](Simulation& s) { s.jump_clock(victim, delta_us); });
      return;
    }
    default: {
      const auto drift_ppm = static_cast<std::int32_t>(nemesis.range(-50'000, 50'000));
      sim.at(at_us, [victim, drift_ppm](Simulation& s) { s.set_clock_drift(victim, drift_ppm); });
      return;
    }
  }
}

inline RunResult run_toy_gossip(const ToyOptions& options) {
  Simulation sim(toy_config(options));
  sim.set_trace_sink(options.sink);
  for (std::uint32_t i = 0; i < options.processes; ++i) {
    std::uint64_t* leak = options.leak;
    sim.add_process([leak](ProcessId) { return std::make_unique<GossipProcess>(leak); });
  }
  if (options.faults) {
    Prng nemesis = sim.fork_stream("nemesis");
    for (int fault = 0; fault < 12; ++fault) {
      schedule_fault(sim, nemesis, nemesis.range(0, options.duration_us * 3 / 4));
    }
  }
  sim.run_until(options.duration_us);
  return sim.result();
}

}  // namespace crdtsim::sim::toy
