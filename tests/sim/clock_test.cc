#include "sim/clock.h"

#include <gtest/gtest.h>

namespace crdtsim::sim {
namespace {

TEST(LocalClock, OffsetAndDriftApply) {
  const LocalClock clock(ClockConfig{500, 10'000}, 0);  // +500 us, runs 1% fast
  EXPECT_EQ(clock.read(0), 500);
  EXPECT_EQ(clock.read(1'000'000), 1'000'000 + 500 + 10'000);
}

TEST(LocalClock, NegativeDriftRunsSlowAndTruncatesTowardZero) {
  const LocalClock clock(ClockConfig{0, -3}, 0);
  EXPECT_EQ(clock.read(999'999), 999'999 - 2);  // -2.999997 truncates to -2
  EXPECT_EQ(clock.read(2'000'000), 2'000'000 - 6);
}

TEST(LocalClock, SetDriftKeepsEarlierReadings) {
  LocalClock clock(ClockConfig{0, 100'000}, 0);
  EXPECT_EQ(clock.read(1'000'000), 1'100'000);
  clock.set_drift(1'000'000, 0);
  EXPECT_EQ(clock.read(1'000'000), 1'100'000);
  EXPECT_EQ(clock.read(2'000'000), 2'100'000);
}

TEST(LocalClock, JumpsGoBothWays) {
  LocalClock clock;
  clock.jump(-250);
  EXPECT_EQ(clock.read(1'000), 750);
  clock.jump(1'000);
  EXPECT_EQ(clock.read(1'000), 1'750);
}

}  // namespace
}  // namespace crdtsim::sim
