#include "core/crdt/mv_register.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

using Values = std::vector<std::string>;

TEST(MvRegister, WriteReplacesObservedValues) {
  MvRegister reg;
  reg.write(1, "a");
  const MvRegister delta = reg.write(1, "b");
  EXPECT_EQ(reg.values(), Values{"b"});
  EXPECT_EQ(delta.entries().size(), 1u);
  EXPECT_TRUE(delta.context().contains(Dot{1, 1}));  // supersedes "a"
  EXPECT_TRUE(delta.context().contains(Dot{1, 2}));
}

TEST(MvRegister, ConcurrentWritesBecomeSiblingsUntilOverwritten) {
  MvRegister left;
  MvRegister right;
  left.write(1, "left");
  right.write(2, "right");
  MvRegister joined = left;
  joined.merge(right);
  EXPECT_EQ(joined.values(), (Values{"left", "right"}));
  MvRegister reversed = right;
  reversed.merge(left);
  EXPECT_EQ(joined, reversed);
  joined.write(3, "resolved");
  left.merge(joined);
  EXPECT_EQ(left.values(), Values{"resolved"});
}

TEST(MvRegister, ValuesAreSortedAndDeduplicated) {
  MvRegister left;
  MvRegister right;
  left.write(1, "same");
  right.write(2, "same");
  left.merge(right);
  EXPECT_EQ(left.entries().size(), 2u);
  EXPECT_EQ(left.values(), Values{"same"});
}

TEST(MvRegister, ClearRemovesObservedButNotConcurrentWrites) {
  MvRegister left;
  left.write(1, "a");
  MvRegister right = left;
  const MvRegister clear = left.clear();
  EXPECT_TRUE(left.empty());
  EXPECT_TRUE(clear.entries().empty());
  right.write(2, "concurrent");
  right.merge(clear);
  EXPECT_EQ(right.values(), Values{"concurrent"});
  left.merge(right);
  EXPECT_EQ(left.values(), Values{"concurrent"});
}

TEST(MvRegister, EncodingRoundTrips) {
  MvRegister reg;
  reg.write(1, "a");
  MvRegister other;
  other.write(300, "b");
  reg.merge(other);
  const auto decoded = decode<MvRegister>(encode(reg));
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, reg);
}

Bytes mv_bytes(std::initializer_list<std::uint64_t> varints) {
  Bytes out;
  Encoder encoder(out);
  encoder.u8(MvRegister::kTypeTag);
  encoder.u8(MvRegister::kEncodingVersion);
  for (const std::uint64_t value : varints) {
    encoder.varint(value);
  }
  return out;
}

TEST(MvRegister, DecodeRejectsMalformedBytes) {
  // One entry (dot (1,1), value "") with a context holding (1,1): valid.
  EXPECT_TRUE(decode<MvRegister>(mv_bytes({1, 1, 1, 0, 1, 1, 1, 0})));
  // The same entry outside an empty context.
  EXPECT_NE(decode<MvRegister>(mv_bytes({1, 1, 1, 0, 0, 0})).error.find("outside"),
            std::string::npos);
  // Two entries with the same dot.
  EXPECT_NE(
      decode<MvRegister>(mv_bytes({2, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0})).error.find("increasing"),
      std::string::npos);
  // A dot with counter 0.
  EXPECT_FALSE(decode<MvRegister>(mv_bytes({1, 1, 0, 0, 1, 1, 1, 0})));
  // Truncated.
  EXPECT_FALSE(decode<MvRegister>(mv_bytes({1, 1, 1, 0, 1, 1})));
}

}  // namespace
}  // namespace crdtsim::core
