// SlidingHeavyHitters: exact while a sub-window has room, Space-Saving
// bounds once it evicts, the window sliding, deterministic ties.
#include "core/replication/heavy_hitters.h"

#include <gtest/gtest.h>

#include <string>

namespace crdtsim::core {
namespace {

TEST(SlidingHeavyHitters, CountsExactlyWhileEverySubWindowHasRoom) {
  SlidingHeavyHitters counter(2, 4);
  for (int i = 0; i < 5; ++i) {
    counter.record("a");
  }
  counter.record("b");
  EXPECT_EQ(counter.estimate("a"), 5u);
  EXPECT_EQ(counter.estimate("b"), 1u);
  EXPECT_EQ(counter.estimate("never"), 0u);
  EXPECT_EQ(counter.error_bound(), 0u);
  EXPECT_EQ(counter.total(), 6u);
}

TEST(SlidingHeavyHitters, ForgetsSubWindowsThatSlideOut) {
  SlidingHeavyHitters counter(3, 4);
  counter.record("old");
  counter.rotate();
  counter.record("old");
  counter.record("new");
  EXPECT_EQ(counter.estimate("old"), 2u);
  counter.rotate();
  EXPECT_EQ(counter.estimate("old"), 2u);  // still three sub-windows
  counter.rotate();
  EXPECT_EQ(counter.estimate("old"), 1u);  // the first one slid out
  EXPECT_EQ(counter.estimate("new"), 1u);
  counter.rotate();
  EXPECT_EQ(counter.estimate("old"), 0u);
  EXPECT_EQ(counter.total(), 0u);
}

TEST(SlidingHeavyHitters, EvictionKeepsTheHeavyKeyAndBoundsTheError) {
  SlidingHeavyHitters counter(1, 2);
  for (int i = 0; i < 10; ++i) {
    counter.record("hot");
  }
  counter.record("x");
  counter.record("y");  // evicts x (count 1), inherits it as error
  counter.record("z");  // evicts y (count 2)
  EXPECT_EQ(counter.monitored(), 2u);
  EXPECT_EQ(counter.estimate("hot"), 10u);
  EXPECT_EQ(counter.estimate("z"), 3u);  // true 1, error 2
  EXPECT_EQ(counter.error_bound(), 3u);  // the minimum count of the full summary
  EXPECT_LE(counter.error_bound(), counter.total() / 2);
  // An evicted key is bounded by the minimum, never reported as 0.
  EXPECT_EQ(counter.estimate("x"), 3u);
}

TEST(SlidingHeavyHitters, EvictsTheSmallestKeyAmongEqualCounts) {
  SlidingHeavyHitters counter(1, 2);
  counter.record("b");
  counter.record("a");
  counter.record("c");  // a and b both count 1: "a" goes, whatever the order of arrival
  const auto reported = counter.above(1);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].key, "b");
  EXPECT_EQ(reported[1].key, "c");
  EXPECT_EQ(reported[1].estimate, 2u);
}

TEST(SlidingHeavyHitters, AboveReportsInKeyOrderAtTheThreshold) {
  SlidingHeavyHitters counter(2, 8);
  for (const char* key : {"k2", "k1", "k2", "k3", "k1", "k2"}) {
    counter.record(key);
  }
  const auto reported = counter.above(2);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0], (SlidingHeavyHitters::Reported{"k1", 2}));
  EXPECT_EQ(reported[1], (SlidingHeavyHitters::Reported{"k2", 3}));
}

}  // namespace
}  // namespace crdtsim::core
