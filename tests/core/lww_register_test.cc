#include "core/crdt/lww_register.h"

#include <gtest/gtest.h>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

TEST(LwwRegister, EmptyUntilWritten) {
  const LwwRegister empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.cleared());
  EXPECT_FALSE(empty.value().has_value());
}

TEST(LwwRegister, WriteReturnsDeltaAndLaterWriteWins) {
  LwwRegister reg;
  const LwwRegister delta = reg.write("a", LwwTimestamp{1, 0, 1});
  EXPECT_EQ(delta, reg);
  reg.write("b", LwwTimestamp{2, 0, 1});
  EXPECT_EQ(reg.value(), "b");
}

TEST(LwwRegister, StaleWriteChangesNothingAndReturnsEmptyDelta) {
  LwwRegister reg;
  reg.write("new", LwwTimestamp{5, 0, 1});
  const LwwRegister delta = reg.write("old", LwwTimestamp{4, 0, 9});
  EXPECT_TRUE(delta.empty());
  EXPECT_EQ(reg.value(), "new");
}

TEST(LwwRegister, ReplicaIdBreaksEqualTimes) {
  LwwRegister from_low;
  from_low.write("low", LwwTimestamp{3, 0, 1});
  LwwRegister from_high;
  from_high.write("high", LwwTimestamp{3, 0, 2});
  LwwRegister left = from_low;
  left.merge(from_high);
  LwwRegister right = from_high;
  right.merge(from_low);
  EXPECT_EQ(left.value(), "high");
  EXPECT_EQ(left, right);
}

TEST(LwwRegister, IdenticalTimestampsBreakTiesByTombstoneThenValue) {
  const LwwTimestamp same{3, 0, 1};
  LwwRegister a;
  a.write("apple", same);
  LwwRegister b;
  b.write("banana", same);
  LwwRegister ab = a;
  ab.merge(b);
  LwwRegister ba = b;
  ba.merge(a);
  EXPECT_EQ(ab.value(), "banana");
  EXPECT_EQ(ab, ba);
  LwwRegister cleared;
  cleared.clear(same);
  ab.merge(cleared);
  EXPECT_TRUE(ab.cleared());
}

TEST(LwwRegister, ClearIsATimestampedTombstone) {
  LwwRegister reg;
  reg.write("a", LwwTimestamp{1, 0, 1});
  const LwwRegister delta = reg.clear(LwwTimestamp{2, 0, 1});
  EXPECT_TRUE(delta.cleared());
  EXPECT_TRUE(reg.cleared());
  EXPECT_FALSE(reg.value().has_value());
  LwwRegister older;
  older.write("older", LwwTimestamp{1, 5, 7});
  reg.merge(older);
  EXPECT_FALSE(reg.value().has_value());
  reg.write("revived", LwwTimestamp{3, 0, 2});
  EXPECT_EQ(reg.value(), "revived");
}

TEST(LwwRegister, EncodingRoundTrips) {
  for (const LwwRegister& reg :
       {LwwRegister{}, LwwRegister::holding(LwwWrite{LwwTimestamp{9, 1, 300}, false, "v"}),
        LwwRegister::holding(LwwWrite{LwwTimestamp{9, 1, 300}, true, ""})}) {
    const auto decoded = decode<LwwRegister>(encode(reg));
    ASSERT_TRUE(decoded) << decoded.error;
    EXPECT_EQ(*decoded.value, reg);
  }
}

TEST(LwwRegister, DecodeRejectsMalformedBytes) {
  const Bytes header{LwwRegister::kTypeTag, LwwRegister::kEncodingVersion};
  auto with = [&](Bytes body) {
    Bytes out = header;
    out.insert(out.end(), body.begin(), body.end());
    return decode<LwwRegister>(out);
  };
  EXPECT_FALSE(with({}));                       // no presence byte
  EXPECT_FALSE(with({2}));                      // bad presence byte
  EXPECT_FALSE(with({1, 1, 0, 1, 7}));          // bad kind
  EXPECT_FALSE(with({1, 1, 0, 1, 0, 3, 'a'}));  // value truncated
  EXPECT_FALSE(with({0, 0}));                   // trailing byte
  EXPECT_FALSE(with({1, 1, 0, 1, 1, 0}));       // tombstone carries no value
  EXPECT_TRUE(with({1, 1, 0, 1, 1}));
  EXPECT_FALSE(decode<LwwRegister>(Bytes{LwwRegister::kTypeTag, 99, 0}));
  EXPECT_FALSE(decode<LwwRegister>(Bytes{0x55, LwwRegister::kEncodingVersion, 0}));
}

}  // namespace
}  // namespace crdtsim::core
