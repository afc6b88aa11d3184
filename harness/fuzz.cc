// fuzz(): RapidCheck generators for whole scenarios, and the property
// "every verdict is valid or unknown" (see fuzz.h).
#include "harness/fuzz.h"

#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "harness/runner.h"
#include "harness/shrink.h"

namespace crdtsim::harness {

namespace {

constexpr const char* kTestId = "crdtsim-fuzz";

struct FuzzCase {
  Scenario scenario;
  std::uint64_t seed = 0;
};

// low + (high - low) * size / 100, size clamped to [0, 100].
std::uint64_t scaled(int size, std::uint64_t low, std::uint64_t high) {
  const auto clamped = static_cast<std::uint64_t>(std::clamp(size, 0, 100));
  return low + (high - low) * clamped / 100;
}

// A value in [low, high], shrinking towards low. Only inside a generator.
template <typename T>
T pick(T low, T high) {
  return *rc::gen::inRange<T>(low, static_cast<T>(high + 1));
}

bool one_in(int count) {
  return pick<int>(0, count - 1) == 0;
}

ClusterSpec generate_cluster(core::PlantedBug bug) {
  ClusterSpec cluster;
  cluster.replicas = pick<std::uint32_t>(1, 7);
  cluster.replication_factor = pick<std::uint32_t>(1, cluster.replicas);
  cluster.virtual_nodes =
      *rc::gen::element(std::uint32_t{64}, std::uint32_t{16}, std::uint32_t{4}, std::uint32_t{1});
  cluster.consistency = *rc::gen::element(Consistency::eventual, Consistency::causal);
  cluster.durable = *rc::gen::element(true, false);
  cluster.gossip_interval_us =
      *rc::gen::element(std::uint64_t{20'000}, std::uint64_t{5'000}, std::uint64_t{50'000});
  cluster.anti_entropy_interval_us =
      *rc::gen::element(std::uint64_t{200'000}, std::uint64_t{50'000}, std::uint64_t{500'000});
  cluster.planted_bug = bug;
  return cluster;
}

OperationMix generate_mix() {
  OperationMix mix;
  for (std::uint32_t OperationMix::*weight :
       {&OperationMix::registers, &OperationMix::multi, &OperationMix::counters,
        &OperationMix::g_counters, &OperationMix::sets, &OperationMix::g_sets, &OperationMix::maps,
        &OperationMix::multi_del}) {
    mix.*weight = pick<std::uint32_t>(0, 3);
  }
  if (mix.registers + mix.multi + mix.counters + mix.g_counters + mix.sets + mix.g_sets + mix.maps +
          mix.multi_del ==
      0) {
    mix.registers = 1;
  }
  mix.reads_ppm = pick<std::uint32_t>(0, 1'000'000);
  return mix;
}

WorkloadSpec generate_workload(int size) {
  WorkloadSpec workload;
  workload.clients = pick<std::uint32_t>(1, static_cast<std::uint32_t>(scaled(size, 1, 8)));
  workload.ops_per_client =
      pick<std::uint32_t>(1, static_cast<std::uint32_t>(scaled(size, 2, 100)));
  workload.keys = pick<std::uint32_t>(1, static_cast<std::uint32_t>(scaled(size, 1, 16)));
  workload.distribution = *rc::gen::element(KeyDistribution::uniform, KeyDistribution::zipfian,
                                            KeyDistribution::hotspot);
  workload.zipf_exponent_milli = pick<std::uint32_t>(500, 1'500);
  workload.hotspot_keys = pick<std::uint32_t>(1, workload.keys);
  workload.hotspot_ppm = pick<std::uint32_t>(0, 1'000'000);
  workload.mix = generate_mix();
  workload.think_us_max = pick<std::uint64_t>(0, 50'000);
  workload.think_us_min = pick<std::uint64_t>(0, workload.think_us_max);
  workload.replica_choice = *rc::gen::element(ReplicaChoice::roaming, ReplicaChoice::sticky);
  workload.request_timeout_us =
      *rc::gen::element(std::uint64_t{500'000}, std::uint64_t{100'000}, std::uint64_t{1'000'000});
  return workload;
}

NetworkSpec generate_network() {
  NetworkSpec network;
  network.latency_us_min = pick<std::uint64_t>(1, 5'000);
  network.latency_us_max = network.latency_us_min + pick<std::uint64_t>(0, 30'000);
  network.tail_ppm = pick<std::uint32_t>(0, 100'000);
  network.drop_ppm = pick<std::uint32_t>(0, 100'000);
  network.duplicate_ppm = pick<std::uint32_t>(0, 200'000);
  network.reorder_ppm = pick<std::uint32_t>(0, 200'000);
  network.drop_in_flight_on_partition = *rc::gen::element(false, true);
  return network;
}

// `count` distinct replica ids (count <= replicas).
std::vector<core::ReplicaId> generate_distinct(std::uint32_t replicas, std::uint32_t count) {
  std::vector<core::ReplicaId> left(replicas);
  for (core::ReplicaId id = 0; id < replicas; ++id) {
    left[id] = id;
  }
  std::vector<core::ReplicaId> chosen;
  for (std::uint32_t index = 0; index < count; ++index) {
    const auto at = pick<std::size_t>(0, left.size() - 1);
    chosen.push_back(left[at]);
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return chosen;
}

// At least two non-empty groups (a scenario file rejects fewer: a partition
// of one group cuts nothing); requires replicas >= 2.
std::vector<std::vector<core::ReplicaId>> generate_groups(std::uint32_t replicas) {
  const std::uint32_t count = std::min<std::uint32_t>(pick<std::uint32_t>(2, 3), replicas);
  std::vector<std::vector<core::ReplicaId>> groups(count);
  const std::vector<core::ReplicaId> order = generate_distinct(replicas, replicas);
  for (std::uint32_t index = 0; index < replicas; ++index) {
    const std::uint32_t group = index < count ? index : pick<std::uint32_t>(0, count - 1);
    groups[group].push_back(order[index]);
  }
  for (auto& group : groups) {
    std::sort(group.begin(), group.end());
  }
  return groups;
}

FaultKind feasible_kind(FaultKind kind, std::uint32_t replicas, bool durable) {
  if (kind == FaultKind::crash && !durable) {
    return FaultKind::pause;  // a non-durable crash loses acknowledged writes by design
  }
  if (kind == FaultKind::bridge && replicas < 3) {
    kind = FaultKind::one_way;
  }
  const bool needs_two = kind == FaultKind::one_way || kind == FaultKind::partition ||
                         kind == FaultKind::flap || kind == FaultKind::isolate;
  if (needs_two && replicas < 2) {
    return FaultKind::heal;
  }
  return kind;
}

void generate_event_details(FaultEvent& event, std::uint32_t replicas) {
  switch (event.kind) {
    case FaultKind::flap:
      event.cut_us = pick<std::uint64_t>(1'000, 100'000);
      event.healed_us = pick<std::uint64_t>(1'000, 100'000);
      event.cycles = pick<std::uint32_t>(1, 5);
      [[fallthrough]];
    case FaultKind::partition:
      event.groups = generate_groups(replicas);
      break;
    case FaultKind::one_way:
      event.replicas = generate_distinct(replicas, 2);
      break;
    case FaultKind::bridge:
      event.replicas = generate_distinct(replicas, 3);
      break;
    case FaultKind::heal:
      break;
    case FaultKind::clock_jump:
      event.replicas = generate_distinct(replicas, 1);
      event.delta_us = pick<std::int64_t>(-1'000'000, 1'000'000);
      break;
    case FaultKind::clock_drift:
      event.replicas = generate_distinct(replicas, 1);
      event.drift_ppm = pick<std::int32_t>(-500, 500);
      break;
    case FaultKind::set_loss:
      event.drop_ppm = pick<std::uint32_t>(0, 200'000);
      event.duplicate_ppm = pick<std::uint32_t>(0, 200'000);
      break;
    default:  // isolate, crash, restart, pause, resume
      event.replicas = generate_distinct(replicas, 1);
      break;
  }
}

FaultEvent generate_event(std::uint32_t replicas, std::uint64_t deadline_us, bool durable) {
  FaultEvent event;
  event.at_us = pick<std::uint64_t>(0, deadline_us - 1);
  event.kind = feasible_kind(static_cast<FaultKind>(pick<int>(0, 12)), replicas, durable);
  event.clients_too = one_in(4);
  generate_event_details(event, replicas);
  return event;
}

RandomFaults generate_random_faults(std::uint32_t replicas, bool durable) {
  RandomFaults faults;
  faults.enabled = *rc::gen::element(false, true);
  faults.interval_us_min = pick<std::uint64_t>(20'000, 300'000);
  faults.interval_us_max = faults.interval_us_min + pick<std::uint64_t>(0, 500'000);
  faults.partitions = *rc::gen::element(true, false);
  faults.crashes = durable && *rc::gen::element(true, false);
  faults.pauses = *rc::gen::element(true, false);
  faults.clock_faults = *rc::gen::element(true, false);
  faults.loss = *rc::gen::element(true, false);
  faults.max_drop_ppm = pick<std::uint32_t>(0, 200'000);
  faults.max_duplicate_ppm = pick<std::uint32_t>(0, 100'000);
  faults.max_down = pick<std::uint32_t>(1, replicas);
  faults.swarm = *rc::gen::element(true, false);
  return faults;
}

FuzzCase generate_case(core::PlantedBug bug, int size) {
  FuzzCase fuzz_case;
  Scenario& scenario = fuzz_case.scenario;
  scenario.name = "fuzz";
  scenario.description = "generated by crdtsim fuzz";
  scenario.cluster = generate_cluster(bug);
  scenario.workload = generate_workload(size);
  scenario.network = generate_network();
  scenario.workload_deadline_us = pick<std::uint64_t>(100'000, scaled(size, 200'000, 3'000'000));
  // Long enough for anti-entropy alone to repair what gossip no longer
  // carries (a durable replica's crash loses its unsent deltas and any
  // received but unsynced ones it had acknowledged): each round pairs a
  // replica with a uniformly drawn peer, so two replicas of a key with up to
  // five other peers (7 replicas) may not meet for many rounds. 5 s was
  // 10 rounds at 500 ms, and seeds converging after 5.05-6.1 s failed
  // liveness (fuzz seeds 9002, 9006, 9007). 80 rounds leave about 1e-12.
  // A run stops once converged, so this costs only runs that never converge.
  scenario.settle_us =
      std::max<std::uint64_t>(5'000'000, 80 * scenario.cluster.anti_entropy_interval_us);
  const std::uint32_t replicas = scenario.cluster.replicas;
  const auto events = pick<std::uint32_t>(0, static_cast<std::uint32_t>(scaled(size, 0, 12)));
  for (std::uint32_t index = 0; index < events; ++index) {
    scenario.timeline.push_back(
        generate_event(replicas, scenario.workload_deadline_us, scenario.cluster.durable));
  }
  std::stable_sort(scenario.timeline.begin(), scenario.timeline.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at_us < b.at_us; });
  scenario.random_faults = generate_random_faults(replicas, scenario.cluster.durable);
  fuzz_case.seed = pick<std::uint64_t>(1, 1'000'000'000);
  return fuzz_case;
}

rc::Gen<FuzzCase> case_generator(core::PlantedBug bug) {
  return rc::gen::withSize(
      [bug](int size) { return rc::gen::exec([bug, size] { return generate_case(bug, size); }); });
}

// What the property has seen so far (the property runs many times).
struct FuzzState {
  const FuzzOptions* options = nullptr;
  bool replaying = false;
  bool failed = false;
  std::uint32_t cases = 0;
  std::uint32_t shrink_runs = 0;
  std::uint32_t shrinks = 0;
  std::optional<FuzzFailure> failure;  // the latest failing case: the smallest
};

void report(const FuzzState& state) {
  if (!state.options->progress) {
    return;
  }
  FuzzProgress progress;
  progress.cases = state.cases;
  progress.iterations = state.options->iterations;
  progress.shrinking = state.failed;
  progress.shrink_runs = state.shrink_runs;
  progress.shrinks = state.shrinks;
  progress.max_shrink_runs = state.options->max_shrink_runs;
  state.options->progress(progress);
}

// The property body: run and check one case; fail (RC_FAIL) on an invalid
// verdict. Past the shrink budget, shrink attempts pass without running.
void evaluate(FuzzState& state, const FuzzCase& fuzz_case) {
  if (state.failed && !state.replaying) {
    if (state.shrink_runs >= state.options->max_shrink_runs) {
      return;
    }
    ++state.shrink_runs;
  } else if (!state.failed) {
    ++state.cases;
  }
  RunOutput output = run(fuzz_case.scenario, fuzz_case.seed);
  check(fuzz_case.scenario, output);
  const Verdict* failed = failed_verdict(output, "");
  if (failed != nullptr) {
    state.shrinks += state.failed ? 1U : 0U;
    state.failed = true;
    FuzzFailure failure;
    failure.scenario = fuzz_case.scenario;
    failure.seed = fuzz_case.seed;
    failure.property = failed->property;
    failure.explanation = failed->explanation;
    state.failure = std::move(failure);
  }
  report(state);
  if (failed != nullptr) {
    RC_FAIL(failed->property + ": " + failed->explanation);
  }
}

// "reproduce=..." out of a configuration string (RapidCheck's RC_PARAMS).
std::string reproduce_token(const std::string& config) {
  const std::size_t begin = config.find("reproduce=");
  if (begin == std::string::npos) {
    return config;
  }
  const std::size_t end = config.find(' ', begin);
  return config.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

bool parse_reproduce(const std::string& text,
                     std::unordered_map<std::string, rc::detail::Reproduce>& out,
                     std::string& error) {
  try {
    const rc::detail::Configuration config = rc::detail::configFromString(text);
    if (config.reproduce.find(kTestId) == config.reproduce.end()) {
      error = "the reproduce string holds no case of " + std::string(kTestId);
      return false;
    }
    out = config.reproduce;
    return true;
  } catch (const std::exception& exception) {
    error = std::string("bad reproduce string: ") + exception.what();
    return false;
  }
}

int as_int(std::uint32_t value) {
  return static_cast<int>(std::min<std::uint32_t>(value, std::numeric_limits<int>::max()));
}

}  // namespace

std::optional<FuzzResult> fuzz(const FuzzOptions& options, std::string& error) {
  FuzzState state;
  state.options = &options;
  std::unordered_map<std::string, rc::detail::Reproduce> reproduce_map;
  if (!options.reproduce.empty()) {
    if (!parse_reproduce(options.reproduce, reproduce_map, error)) {
      return std::nullopt;
    }
    state.replaying = true;
  }
  rc::detail::TestParams params;
  params.seed = options.seed;
  params.maxSuccess = as_int(options.iterations);
  params.maxSize = as_int(options.max_size);
  rc::detail::TestMetadata metadata;
  metadata.id = kTestId;
  metadata.description = "every verdict of a generated scenario is valid or unknown";
  rc::detail::TestListenerAdapter silent;
  const core::PlantedBug bug = options.planted_bug;
  const rc::detail::TestResult result = rc::detail::checkProperty(
      rc::detail::toProperty([&state, bug] { evaluate(state, *case_generator(bug)); }), metadata,
      params, silent, reproduce_map);

  FuzzResult out;
  out.cases = state.cases;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error rapidcheck_error;
  if (result.match(failure)) {
    if (!state.failure) {
      error = "RapidCheck reported a failure outside a run: " + failure.description;
      return std::nullopt;
    }
    out.failure = std::move(state.failure);
    rc::detail::Configuration config;
    config.reproduce.emplace(kTestId, failure.reproduce);
    out.failure->reproduce = reproduce_token(rc::detail::configToMinimalString(config));
    out.failure->shrink_runs = state.shrink_runs;
    out.failure->shrinks = state.shrinks;
  } else if (result.match(gave_up)) {
    error = "RapidCheck gave up: " + gave_up.description;
    return std::nullopt;
  } else if (result.match(rapidcheck_error)) {
    if (state.replaying && state.cases > 0 && !state.failure) {
      // The replayed case ran and every verdict held (RapidCheck reports
      // that as an error): the failure it once showed is fixed.
      return out;
    }
    error = "RapidCheck error: " + rapidcheck_error.description;
    return std::nullopt;
  }
  return out;
}

}  // namespace crdtsim::harness
