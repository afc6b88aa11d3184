// Sweep throughput on issue 5's standard configuration (5 replicas, RF 3,
// 8 clients, 1,000 operations, loss, duplication, a partition and a crash):
// runs per second with 1 and 2 workers, and simulated seconds per wall second.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "harness/sweep.h"
#include "tests/harness/standard_scenario.h"

namespace {

using crdtsim::harness::RunOutput;
using crdtsim::harness::RunRecord;
using crdtsim::harness::SweepOptions;

void BM_StandardSweep(benchmark::State& state) {
  const auto scenario = crdtsim::harness::testing::standard_scenario();
  constexpr std::uint64_t kSeeds = 100;
  std::uint64_t seed_base = 1;
  std::uint64_t simulated_us = 0;
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  for (auto _ : state) {
    SweepOptions options;
    options.seed_first = seed_base;
    options.seed_last = seed_base + kSeeds - 1;
    options.jobs = static_cast<std::uint32_t>(state.range(0));
    seed_base += kSeeds;
    std::string error;
    const auto summary = crdtsim::harness::sweep(
        scenario, options,
        [&](const RunRecord& record, const RunOutput*) { simulated_us += record.end_time_us; },
        error);
    if (!summary) {
      state.SkipWithError(error.c_str());
      return;
    }
    runs += summary->runs;
    failures += summary->failures;
  }
  state.counters["runs_per_s"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["sim_s_per_wall_s"] =
      benchmark::Counter(static_cast<double>(simulated_us) / 1e6, benchmark::Counter::kIsRate);
  state.counters["failures"] = static_cast<double>(failures);
}
BENCHMARK(BM_StandardSweep)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kSecond)->Iterations(2);

}  // namespace
