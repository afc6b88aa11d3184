// Simulation kernel throughput against a minimal reference event loop.
//
// BM_KernelPingPong: the real kernel (sim::Simulation) with processes that
// only bounce a message to the next process; faults off, no trace sink (the
// trace hash is always on). BM_ReferenceEventLoop: a bare
// std::priority_queue of (time, sequence) pairs with a no-op handler, the
// same number of events in flight and a similar spread of delays. Both report
// events as items per second; the target is kernel >= 0.5 x reference.
// The argument is the number of messages (events) kept in flight.
//
//   build/bench/crdtsim_bench --benchmark_filter='KernelPingPong|ReferenceEventLoop'

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "bench/heap_counter.h"
#include "sim/process.h"
#include "sim/simulation.h"

namespace {

using crdtsim::sim::Bytes;
using crdtsim::sim::Context;
using crdtsim::sim::Message;
using crdtsim::sim::ProcessId;
using crdtsim::sim::Simulation;
using crdtsim::sim::SimulationConfig;
using crdtsim::sim::TimerId;
using crdtsim::sim::TimeUs;

constexpr std::uint32_t kProcesses = 8;
constexpr TimeUs kChunkUs = 10'000;

class Bouncer final : public crdtsim::sim::Process {
 public:
  explicit Bouncer(std::uint32_t balls) : balls_(balls) {}

  void start(Context& ctx) override {
    if (ctx.self() != 0) {
      return;
    }
    const Bytes ball(8, 0xab);
    for (std::uint32_t i = 0; i < balls_; ++i) {
      ctx.send(1 + i % (kProcesses - 1), 1, ball);
    }
  }
  void on_message(Context& ctx, const Message& message) override {
    ctx.send((ctx.self() + 1) % kProcesses, message.kind, message.bytes);
  }
  void on_timer(Context& /*ctx*/, TimerId /*id*/, std::uint32_t /*tag*/) override {}

 private:
  std::uint32_t balls_;
};

void BM_KernelPingPong(benchmark::State& state) {
  const auto balls = static_cast<std::uint32_t>(state.range(0));
  SimulationConfig config;
  config.seed = 1;
  config.max_events = UINT64_MAX;
  config.network.link.latency_us_min = 1;
  config.network.link.latency_us_max = 100;
  const std::size_t heap_before = bench_heap_bytes_in_use();
  Simulation sim(config);
  for (std::uint32_t i = 0; i < kProcesses; ++i) {
    sim.add_process([balls](ProcessId) { return std::make_unique<Bouncer>(balls); });
  }
  sim.run_until(kChunkUs);  // warm up: slabs and heap reach their size
  // Whole-simulation heap (queue, slabs, payloads, processes, network
  // matrices), as counted by the benchmark binary's operator new.
  const std::size_t heap_simulation = bench_heap_bytes_in_use() - heap_before;
  const std::uint64_t events_start = sim.result().stats.events;
  while (state.KeepRunning()) {
    sim.run_until(sim.now_us() + kChunkUs);
  }
  const std::uint64_t events = sim.result().stats.events - events_start;
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  const auto queued = static_cast<double>(sim.queued_events());
  // Queue + message slab + payload capacity, from sizeof and capacities.
  state.counters["bytes_per_queued_event"] = static_cast<double>(sim.queue_memory_bytes()) / queued;
  state.counters["heap_bytes_per_queued_event"] = static_cast<double>(heap_simulation) / queued;
}
BENCHMARK(BM_KernelPingPong)->Arg(64)->Arg(10'000);

void BM_ReferenceEventLoop(benchmark::State& state) {
  using Entry = std::pair<std::int64_t, std::uint64_t>;  // (time, sequence)
  const auto balls = static_cast<std::uint64_t>(state.range(0));
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  std::uint64_t sequence = 0;
  for (std::uint64_t i = 0; i < balls; ++i) {
    queue.emplace(static_cast<std::int64_t>(1 + i % 100), sequence++);
  }
  std::uint64_t events = 0;
  // The same number of events per iteration as the kernel's chunk: about
  // balls * kChunkUs / 50.5 (mean latency of uniform [1, 100]).
  const std::uint64_t per_iteration = balls * static_cast<std::uint64_t>(kChunkUs) / 50;
  while (state.KeepRunning()) {
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      const Entry top = queue.top();
      queue.pop();
      benchmark::DoNotOptimize(top);  // the no-op handler
      const auto delay =
          static_cast<std::int64_t>(1 + (top.second * 0x9e3779b97f4a7c15ULL >> 58U) % 100);
      queue.emplace(top.first + delay, sequence++);
    }
    events += per_iteration;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["bytes_per_queued_event"] =
      static_cast<double>(sizeof(Entry));  // lower bound: the entry alone
}
BENCHMARK(BM_ReferenceEventLoop)->Arg(64)->Arg(10'000);

}  // namespace
