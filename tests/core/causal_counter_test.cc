// Unit tests of the CausalCounter: increments, observed reset, add-wins
// against a concurrent reset, overflow, clamping and the encoding.
#include "core/crdt/causal_counter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

CausalCounter incremented(CausalCounter counter, ReplicaId replica, std::uint64_t amount) {
  const std::optional<CausalCounter> delta = counter.increment(replica, amount);
  EXPECT_TRUE(delta.has_value());
  return counter;
}

TEST(CausalCounter, IncrementsReplaceTheReplicasLiveDot) {
  CausalCounter counter;
  EXPECT_TRUE(counter.empty());
  ASSERT_TRUE(counter.increment(1, 5).has_value());
  const std::optional<CausalCounter> delta = counter.decrement(1, 2);
  ASSERT_TRUE(delta.has_value());
  EXPECT_EQ(counter.value(), 3);
  ASSERT_EQ(counter.entries().size(), 1u);
  EXPECT_EQ(counter.live_dot(1), (Dot{1, 2}));
  EXPECT_EQ(counter.entries().begin()->second, (CounterPair{5, 2}));
  // The delta names the new dot and the superseded one.
  ASSERT_EQ(delta->entries().size(), 1u);
  EXPECT_TRUE(delta->context().contains(Dot{1, 1}));
  EXPECT_TRUE(delta->context().contains(Dot{1, 2}));
}

TEST(CausalCounter, ReplicasAddUpAndMergeIsIdempotent) {
  CausalCounter a = incremented({}, 1, 3);
  CausalCounter b = incremented({}, 2, 4);
  ASSERT_TRUE(b.decrement(2, 10).has_value());
  a.merge(b);
  EXPECT_EQ(a.value(), -3);
  const CausalCounter before = a;
  a.merge(b);
  a.merge(a);
  EXPECT_EQ(a, before);
}

TEST(CausalCounter, ResetRemovesWhatItObserved) {
  CausalCounter a = incremented({}, 1, 3);
  CausalCounter b = a;
  const CausalCounter reset = b.reset();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.value(), 0);
  EXPECT_TRUE(reset.entries().empty());
  a.merge(reset);
  EXPECT_TRUE(a.empty());
  // After an observed reset the replica starts again from zero.
  ASSERT_TRUE(a.increment(1, 1).has_value());
  EXPECT_EQ(a.value(), 1);
}

TEST(CausalCounter, AnIncrementConcurrentWithAResetSurvives) {
  CausalCounter a = incremented({}, 1, 3);
  CausalCounter b = incremented({}, 2, 10);
  b.merge(a);
  const CausalCounter reset = b.reset();  // observed a's dot (1, 1) and (2, 1)
  const std::optional<CausalCounter> increment = a.increment(1, 2);
  ASSERT_TRUE(increment.has_value());
  b.merge(*increment);
  a.merge(reset);
  EXPECT_EQ(a, b);
  // a's new dot carries its accumulated 3 + 2; b's own 10 is gone.
  EXPECT_EQ(a.value(), 5);
  EXPECT_EQ(a.live_dot(1), (Dot{1, 2}));
  EXPECT_EQ(a.live_dot(2), std::nullopt);
}

TEST(CausalCounter, StaleDotsFromLostDeltasGoWhenTheStateArrives) {
  CausalCounter origin = incremented({}, 1, 1);
  CausalCounter lagging = origin;
  ASSERT_TRUE(origin.increment(1, 1).has_value());  // delta lost
  const std::optional<CausalCounter> third = origin.increment(1, 1);
  ASSERT_TRUE(third.has_value());
  lagging.merge(*third);
  EXPECT_EQ(lagging.entries().size(), 2u);  // (1,1) and (1,3): until...
  lagging.merge(origin);                    // ...the full state arrives
  EXPECT_EQ(lagging, origin);
  EXPECT_EQ(lagging.value(), 3);
}

TEST(CausalCounter, OverflowOfTheAccumulatedPairIsRejected) {
  CausalCounter counter = incremented({}, 1, kMax);
  const CausalCounter before = counter;
  EXPECT_FALSE(counter.increment(1, 1).has_value());
  EXPECT_EQ(counter, before);
  ASSERT_TRUE(counter.decrement(1, kMax).has_value());
  EXPECT_FALSE(counter.decrement(1, 1).has_value());
  EXPECT_EQ(counter.value(), 0);
}

TEST(CausalCounter, CanIncrementAgreesWithIncrementAtTheLimits) {
  CausalCounter counter = incremented({}, 1, kMax - 1);
  ASSERT_TRUE(counter.decrement(1, kMax - 1).has_value());
  for (const std::uint64_t amount : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2}, kMax}) {
    for (const ReplicaId replica : {ReplicaId{1}, ReplicaId{2}}) {
      CausalCounter up = counter;
      EXPECT_EQ(counter.can_increment(replica, amount), up.increment(replica, amount).has_value())
          << "replica " << replica << " amount " << amount;
      CausalCounter down = counter;
      EXPECT_EQ(counter.can_decrement(replica, amount), down.decrement(replica, amount).has_value())
          << "replica " << replica << " amount " << amount;
    }
  }
  EXPECT_TRUE(counter.can_increment(1, 1));
  EXPECT_FALSE(counter.can_increment(1, 2));
  EXPECT_FALSE(counter.can_decrement(1, 2));
  EXPECT_TRUE(counter.can_increment(2, kMax));
}

TEST(CausalCounter, ValueClampsWhenTheSumLeavesInt64) {
  CausalCounter counter = incremented({}, 1, kMax);
  EXPECT_EQ(counter.value(), std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(counter.exact_value().has_value());
  counter.merge(incremented({}, 2, kMax));
  EXPECT_EQ(counter.value(), std::numeric_limits<std::int64_t>::max());
  CausalCounter negative;
  ASSERT_TRUE(negative.decrement(1, kMax).has_value());
  EXPECT_EQ(negative.value(), std::numeric_limits<std::int64_t>::min());
  CausalCounter exact_min;
  ASSERT_TRUE(exact_min.decrement(1, std::uint64_t{1} << 63).has_value());
  EXPECT_EQ(exact_min.exact_value(), std::numeric_limits<std::int64_t>::min());
}

TEST(CausalCounter, EncodingRoundTripsAndRejectsEntriesOutsideTheContext) {
  CausalCounter counter = incremented({}, 1, 3);
  counter.merge(incremented({}, 200, 4));
  const Bytes bytes = encode(counter);
  const Decoded<CausalCounter> decoded = decode<CausalCounter>(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded.value, counter);

  // An empty context with one entry (1,1) -> (1, 0).
  Bytes bad{CausalCounter::kTypeTag, CausalCounter::kEncodingVersion, 0, 0, 1, 1, 1, 1, 0};
  EXPECT_FALSE(decode<CausalCounter>(bad));
  // The same entry with (1,1) in the context is fine.
  Bytes good{CausalCounter::kTypeTag, CausalCounter::kEncodingVersion, 1, 1, 1, 0, 1, 1, 1, 1, 0};
  EXPECT_TRUE(decode<CausalCounter>(good));
}

// The counter's version of the re-creation race (see the OR-Set's): a reset
// counter collected by tombstone GC and incremented again by the same writer.
TEST(CausalCounter, AnIncrementPastTheWritersDotFloorSurvivesAReplicaHoldingTheOldContext) {
  CausalCounter stale;
  for (int index = 0; index < 3; ++index) {
    stale.merge(*stale.increment(1, 5));
  }
  stale.merge(stale.reset());
  ASSERT_TRUE(stale.empty());
  const std::uint64_t floor = stale.context().max_counter(1);

  CausalCounter recreated;
  const std::optional<CausalCounter> delta = recreated.increment(1, 2, floor);
  ASSERT_TRUE(delta.has_value());
  EXPECT_EQ(delta->context().version_vector().at(1), floor + 1);
  CausalCounter merged = stale;
  merged.merge(*delta);
  EXPECT_EQ(merged.value(), 2);
  EXPECT_EQ(merged, recreated);

  CausalCounter reused;
  CausalCounter lost = stale;
  lost.merge(*reused.increment(1, 2));
  EXPECT_EQ(lost.value(), 0) << "without the floor the increment's dot was already reset";
}

}  // namespace
}  // namespace crdtsim::core
