// SlidingHeavyHitters against an exact count of the same window: the
// estimate bounds, the error bound, the heavy-hitter guarantee and the
// memory bound, over random streams of accesses and window steps.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <map>
#include <string>

#include "core/replication/heavy_hitters.h"

namespace crdtsim::core {
namespace {

// One step of a stream: an access of key `key` (skewed towards small ids),
// or the end of a sub-window.
struct Step {
  bool rotate = false;
  unsigned key = 0;
};

rc::Gen<Step> gen_step() {
  return rc::gen::map(
      rc::gen::pair(rc::gen::inRange(0, 12), rc::gen::inRange(0, 64)),
      [](const std::pair<int, int>& draw) {
        Step step;
        step.rotate = draw.first == 0;
        // Half the accesses go to 4 keys, the rest spread over 64.
        step.key = static_cast<unsigned>(draw.second % 2 == 0 ? draw.second % 4 : draw.second);
        return step;
      });
}

RC_GTEST_PROP(SlidingHeavyHittersProperty, BoundsHoldAgainstAnExactWindow, ()) {
  const auto sub_windows = static_cast<std::size_t>(*rc::gen::inRange(1, 6));
  const auto capacity = static_cast<std::size_t>(*rc::gen::inRange(1, 10));
  const auto steps = *rc::gen::container<std::vector<Step>>(gen_step());
  const auto threshold = static_cast<std::uint64_t>(*rc::gen::inRange(1, 40));
  SlidingHeavyHitters counter(sub_windows, capacity);
  std::deque<std::map<std::string, std::uint64_t>> exact(1);  // newest at the back
  for (const Step& step : steps) {
    if (step.rotate) {
      counter.rotate();
      exact.emplace_back();
      if (exact.size() > sub_windows) {
        exact.pop_front();
      }
    } else {
      const std::string key = "k" + std::to_string(step.key);
      counter.record(key);
      exact.back()[key] += 1;
    }
    RC_ASSERT(counter.monitored() <= sub_windows * capacity);
  }
  std::map<std::string, std::uint64_t> truth;
  std::uint64_t total = 0;
  for (const auto& window : exact) {
    for (const auto& [key, count] : window) {
      truth[key] += count;
      total += count;
    }
  }
  RC_ASSERT(counter.total() == total);
  RC_ASSERT(counter.error_bound() <= total / capacity);
  std::map<std::string, std::uint64_t> reported;
  for (const auto& item : counter.above(threshold)) {
    reported[item.key] = item.estimate;
  }
  for (unsigned id = 0; id < 64; ++id) {
    const std::string key = "k" + std::to_string(id);
    const std::uint64_t real = truth.count(key) ? truth.at(key) : 0;
    const std::uint64_t estimate = counter.estimate(key);
    RC_ASSERT(real <= estimate);
    RC_ASSERT(estimate <= real + counter.error_bound());
    if (real >= threshold && real > counter.error_bound()) {
      RC_ASSERT(reported.count(key) == 1u);
    }
  }
}

RC_GTEST_PROP(SlidingHeavyHittersProperty, SameStreamSameAnswers, ()) {
  const auto steps = *rc::gen::container<std::vector<Step>>(gen_step());
  SlidingHeavyHitters first(3, 4);
  SlidingHeavyHitters second(3, 4);
  for (const Step& step : steps) {
    for (SlidingHeavyHitters* counter : {&first, &second}) {
      if (step.rotate) {
        counter->rotate();
      } else {
        counter->record("k" + std::to_string(step.key));
      }
    }
  }
  RC_ASSERT(first.above(1) == second.above(1));
}

}  // namespace
}  // namespace crdtsim::core
