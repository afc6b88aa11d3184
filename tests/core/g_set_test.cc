#include "core/crdt/g_set.h"

#include <gtest/gtest.h>

#include <string>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

TEST(GSet, AddReturnsDeltaOnlyForNewElements) {
  GSet set;
  EXPECT_EQ(set.add("a").size(), 1u);
  EXPECT_TRUE(set.add("a").empty());
  EXPECT_TRUE(set.contains("a"));
  EXPECT_FALSE(set.contains("b"));
}

TEST(GSet, MergeIsUnion) {
  GSet left;
  left.add("a");
  left.add("c");
  GSet right;
  right.add("b");
  right.add("c");
  right.add("d");
  left.merge(right);
  EXPECT_EQ(left.size(), 4u);
  EXPECT_EQ(*left.elements().begin(), "a");
  EXPECT_EQ(*left.elements().rbegin(), "d");
}

TEST(GSet, MergesLargeInterleavedSets) {
  GSet even;
  GSet odd;
  for (int index = 0; index < 20'000; ++index) {
    (index % 2 == 0 ? even : odd).add(std::to_string(index));
  }
  even.merge(odd);
  EXPECT_EQ(even.size(), 20'000u);
  const auto decoded = decode<GSet>(encode(even));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded.value, even);
}

TEST(GSet, DecodeRejectsMalformedBytes) {
  const Bytes header{GSet::kTypeTag, GSet::kEncodingVersion};
  auto with = [&](Bytes body) {
    Bytes out = header;
    out.insert(out.end(), body.begin(), body.end());
    return decode<GSet>(out);
  };
  EXPECT_TRUE(with({2, 0, 1, 'a'}));                // "" and "a"
  EXPECT_FALSE(with({2, 1, 'a', 0}));               // unsorted
  EXPECT_FALSE(with({2, 1, 'a', 1, 'a'}));          // duplicate
  EXPECT_FALSE(with({1, 5, 'a'}));                  // truncated element
  EXPECT_FALSE(with({0x80, 0x80, 0x80, 0x80, 1}));  // count beyond the input
}

}  // namespace
}  // namespace crdtsim::core
