#pragma once
// Generators of linearizable histories for the linearizability checker's
// tests: a sequential model executed at random linearization points inside
// random, overlapping [invoke, complete] intervals, so a valid linearization
// exists by construction (the order of the points).

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/checkers/linearizability.h"

namespace crdtsim::testing {

// SplitMix64 (Steele, Lea and Flood 2014): a tiny deterministic generator for
// test data, so the data is identical on every platform.
class TestRandom {
 public:
  explicit TestRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, bound) for tests (bound > 0).
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }
  bool chance_ppm(std::uint32_t ppm) { return below(1'000'000) < ppm; }

 private:
  std::uint64_t state_;
};

struct GeneratorConfig {
  harness::LinModel model = harness::LinModel::cas_register;
  std::uint32_t operations = 200;
  std::uint32_t keys = 2;
  std::uint32_t processes = 5;
  std::uint32_t read_ppm = 400'000;
  std::uint32_t cas_ppm = 0;  // registers: share of CAS among updates
  std::uint32_t indeterminate_ppm = 100'000;
  std::uint32_t values = 0;     // registers: 0 = every write a fresh value, else 0..values-1
  std::uint64_t span_max = 30;  // longest invoke -> linearization point (and point -> completion)
};

struct Planned {
  harness::LinOp op;
  std::uint64_t point = 0;   // linearization point
  bool takes_effect = true;  // indeterminate ops: whether it happened
};

inline std::vector<harness::LinOp> generate_linearizable(const GeneratorConfig& config,
                                                         std::uint64_t seed) {
  using harness::LinFunction;
  using harness::LinValue;
  TestRandom random(seed);
  std::vector<std::uint64_t> cursor(config.processes, 0);
  std::vector<Planned> planned;
  std::int64_t fresh = 1;
  for (std::uint32_t i = 0; i < config.operations; ++i) {
    const auto process = static_cast<std::uint32_t>(random.below(config.processes));
    Planned plan;
    harness::LinOp& op = plan.op;
    op.id = i;
    op.process = process;
    op.key = "k" + std::to_string(random.below(config.keys));
    op.invoke_time = cursor[process] + 1 + random.below(config.span_max);
    plan.point = op.invoke_time + random.below(config.span_max);
    const std::uint64_t complete = plan.point + random.below(config.span_max);
    cursor[process] = complete + 1;
    op.outcome = random.chance_ppm(config.indeterminate_ppm) ? harness::OpOutcome::indeterminate
                                                             : harness::OpOutcome::ok;
    if (op.outcome == harness::OpOutcome::ok) {
      op.complete_time = complete;
    }
    plan.takes_effect = random.chance_ppm(500'000);
    const auto value = [&]() {
      return config.values == 0 ? fresh++ : static_cast<std::int64_t>(random.below(config.values));
    };
    if (random.chance_ppm(config.read_ppm)) {
      op.f = LinFunction::read;
    } else if (config.model == harness::LinModel::counter) {
      op.f = LinFunction::add;
      op.value = LinValue::of_integer(static_cast<std::int64_t>(random.below(11)) - 5);
    } else if (random.chance_ppm(config.cas_ppm)) {
      op.f = LinFunction::cas;
      op.value = LinValue::of_integer(value());
      op.value_new = LinValue::of_integer(value());
    } else {
      op.f = LinFunction::write;
      op.value = LinValue::of_integer(value());
    }
    planned.push_back(std::move(plan));
  }
  // Execute in linearization-point order (ties by id: real time allows it).
  std::vector<std::size_t> order(planned.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t left, std::size_t right) {
    return planned[left].point < planned[right].point;
  });
  std::map<std::string, LinValue> state;
  std::vector<harness::LinOp> result;
  for (std::size_t index : order) {
    Planned& plan = planned[index];
    harness::LinOp& op = plan.op;
    const bool counter = config.model == harness::LinModel::counter;
    LinValue& current =
        state.try_emplace(op.key, counter ? LinValue::of_integer(0) : LinValue::nil())
            .first->second;
    const bool ok = op.outcome == harness::OpOutcome::ok;
    if (op.f == LinFunction::read) {
      op.value = current;
    } else if (op.f == LinFunction::cas && current != op.value) {
      op.outcome = harness::OpOutcome::fail;  // a CAS that did not apply: it failed
      op.complete_time = plan.point + 1;
    } else if (ok || plan.takes_effect) {
      if (op.f == LinFunction::add) {
        current.integer += op.value.integer;
      } else {
        current = op.f == LinFunction::cas ? op.value_new : op.value;
      }
    }
  }
  for (Planned& plan : planned) {
    result.push_back(std::move(plan.op));
  }
  return result;  // in id (generation) order
}

}  // namespace crdtsim::testing
