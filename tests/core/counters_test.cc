#include <gtest/gtest.h>

#include <limits>

#include "core/codec/bytes.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/pn_counter.h"

namespace crdtsim::core {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();

TEST(GCounter, IncrementReturnsNewEntryAsDelta) {
  GCounter counter;
  const auto delta = counter.increment(1, 5);
  ASSERT_TRUE(delta.has_value());
  EXPECT_EQ(delta->get(1), 5u);
  const auto second = counter.increment(1, 2);
  EXPECT_EQ(second->get(1), 7u);
  EXPECT_EQ(counter.value(), 7u);
  EXPECT_TRUE(counter.increment(1, 0)->empty());
}

TEST(GCounter, MergeTakesPerReplicaMax) {
  GCounter a;
  static_cast<void>(a.increment(1, 5));
  GCounter b;
  static_cast<void>(b.increment(1, 3));
  static_cast<void>(b.increment(2, 4));
  a.merge(b);
  EXPECT_EQ(a.value(), 9u);
  a.merge(b);
  EXPECT_EQ(a.value(), 9u);
}

TEST(GCounter, IncrementPastMaximumIsRejectedAndChangesNothing) {
  GCounter counter;
  ASSERT_TRUE(counter.increment(1, kU64Max - 1).has_value());
  EXPECT_FALSE(counter.increment(1, 2).has_value());
  EXPECT_EQ(counter.get(1), kU64Max - 1);
  EXPECT_TRUE(counter.increment(1, 1).has_value());
  EXPECT_EQ(counter.get(1), kU64Max);
  EXPECT_FALSE(counter.increment(1, 1).has_value());
}

TEST(GCounter, SumSaturatesAcrossReplicas) {
  GCounter counter;
  static_cast<void>(counter.increment(1, kU64Max));
  EXPECT_FALSE(counter.value_saturated());
  static_cast<void>(counter.increment(2, 3));
  EXPECT_TRUE(counter.value_saturated());
  EXPECT_EQ(counter.value(), kU64Max);
  EXPECT_EQ(counter.exact_sum(), (ExactSum{1, 2}));
}

TEST(GCounter, DecodeRejectsMalformedBytes) {
  GCounter counter;
  static_cast<void>(counter.increment(3, 1));
  static_cast<void>(counter.increment(200, 1000));
  const Bytes bytes = encode(counter);
  ASSERT_TRUE(decode<GCounter>(bytes));
  EXPECT_EQ(*decode<GCounter>(bytes).value, counter);
  const Bytes header{GCounter::kTypeTag, GCounter::kEncodingVersion};
  auto with = [&](Bytes body) {
    Bytes out = header;
    out.insert(out.end(), body.begin(), body.end());
    return decode<GCounter>(out);
  };
  EXPECT_FALSE(with({1, 3, 0}));        // zero entry
  EXPECT_FALSE(with({2, 3, 1, 3, 1}));  // duplicate replica
  EXPECT_FALSE(with({2, 4, 1, 3, 1}));  // unsorted
  EXPECT_FALSE(with({100, 3, 1}));      // count beyond the input
  EXPECT_FALSE(with({}));
}

TEST(PNCounter, ValueIsIncrementsMinusDecrements) {
  PNCounter counter;
  static_cast<void>(counter.increment(1, 10));
  const auto delta = counter.decrement(2, 15);
  ASSERT_TRUE(delta.has_value());
  EXPECT_TRUE(delta->increments().empty());
  EXPECT_EQ(delta->decrements().get(2), 15u);
  EXPECT_EQ(counter.value(), -5);
  EXPECT_TRUE(counter.value_fits());
}

TEST(PNCounter, OverflowingEntryIsRejected) {
  PNCounter counter;
  ASSERT_TRUE(counter.decrement(1, kU64Max).has_value());
  EXPECT_FALSE(counter.decrement(1, 1).has_value());
  EXPECT_TRUE(counter.increment(1, 1).has_value());
}

TEST(PNCounter, ValueClampsWhenDifferenceDoesNotFit) {
  PNCounter up;
  static_cast<void>(up.increment(1, static_cast<std::uint64_t>(kI64Max)));
  EXPECT_EQ(up.value(), kI64Max);
  EXPECT_TRUE(up.value_fits());
  static_cast<void>(up.increment(2, 1));
  EXPECT_EQ(up.value(), kI64Max);
  EXPECT_FALSE(up.value_fits());

  PNCounter down;
  static_cast<void>(down.decrement(1, std::uint64_t{1} << 63));
  EXPECT_EQ(down.value(), kI64Min);
  EXPECT_TRUE(down.value_fits());
  static_cast<void>(down.decrement(2, 1));
  EXPECT_EQ(down.value(), kI64Min);
  EXPECT_FALSE(down.value_fits());
}

TEST(PNCounter, DifferenceIsExactEvenWhenBothSumsOverflow) {
  PNCounter counter;
  static_cast<void>(counter.increment(1, kU64Max));
  static_cast<void>(counter.increment(2, 10));
  static_cast<void>(counter.decrement(1, kU64Max));
  static_cast<void>(counter.decrement(2, 3));
  static_cast<void>(counter.decrement(3, 2));
  EXPECT_EQ(counter.value(), 5);
  EXPECT_TRUE(counter.value_fits());
}

TEST(PNCounter, EncodingRoundTripsAndRejectsTruncation) {
  PNCounter counter;
  static_cast<void>(counter.increment(1, 10));
  static_cast<void>(counter.decrement(2, 3));
  const Bytes bytes = encode(counter);
  const auto decoded = decode<PNCounter>(bytes);
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, counter);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(decode<PNCounter>(ByteView(bytes.data(), length)));
  }
}

}  // namespace
}  // namespace crdtsim::core
