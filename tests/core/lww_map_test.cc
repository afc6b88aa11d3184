#include "core/crdt/lww_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

using Fields = std::vector<std::string>;

TEST(LwwMap, SetGetAndFieldsSorted) {
  LwwMap map;
  const LwwMap delta = map.set_field("b", "2", LwwTimestamp{1, 0, 1});
  map.set_field("a", "1", LwwTimestamp{1, 0, 1});
  EXPECT_EQ(delta.entries().size(), 1u);
  EXPECT_EQ(map.get("a"), "1");
  EXPECT_EQ(map.get("b"), "2");
  EXPECT_FALSE(map.get("c").has_value());
  EXPECT_EQ(map.fields(), (Fields{"a", "b"}));
}

TEST(LwwMap, RemoveLeavesTombstoneThatBeatsOlderWrites) {
  LwwMap map;
  map.set_field("f", "old", LwwTimestamp{1, 0, 1});
  const LwwMap delta = map.remove_field("f", LwwTimestamp{3, 0, 1});
  EXPECT_TRUE(delta.entries().at("f").tombstone);
  EXPECT_FALSE(map.get("f").has_value());
  EXPECT_EQ(map.tombstone_count(), 1u);
  EXPECT_TRUE(map.fields().empty());
  LwwMap concurrent;
  concurrent.set_field("f", "concurrent", LwwTimestamp{2, 0, 9});
  map.merge(concurrent);
  EXPECT_FALSE(map.get("f").has_value());
  map.set_field("f", "revived", LwwTimestamp{4, 0, 2});
  EXPECT_EQ(map.get("f"), "revived");
  EXPECT_EQ(map.tombstone_count(), 0u);
}

TEST(LwwMap, StaleSetReturnsEmptyDelta) {
  LwwMap map;
  map.set_field("f", "new", LwwTimestamp{5, 0, 1});
  EXPECT_TRUE(map.set_field("f", "stale", LwwTimestamp{5, 0, 0}).empty());
  EXPECT_TRUE(map.remove_field("f", LwwTimestamp{4, 0, 3}).empty());
  EXPECT_EQ(map.get("f"), "new");
}

TEST(LwwMap, MergeIsPerFieldAndOrderIndependent) {
  LwwMap left;
  left.set_field("a", "left", LwwTimestamp{2, 0, 1});
  left.set_field("b", "left", LwwTimestamp{1, 0, 1});
  LwwMap right;
  right.set_field("a", "right", LwwTimestamp{2, 0, 2});
  right.set_field("c", "right", LwwTimestamp{1, 0, 2});
  LwwMap lr = left;
  lr.merge(right);
  LwwMap rl = right;
  rl.merge(left);
  EXPECT_EQ(lr, rl);
  EXPECT_EQ(lr.get("a"), "right");
  EXPECT_EQ(lr.fields(), (Fields{"a", "b", "c"}));
}

TEST(LwwMap, EncodingRoundTripsAndRejectsMalformedBytes) {
  LwwMap map;
  map.set_field("a", "1", LwwTimestamp{1, 0, 1});
  map.remove_field("b", LwwTimestamp{2, 0, 1});
  const Bytes bytes = encode(map);
  const auto decoded = decode<LwwMap>(bytes);
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, map);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(decode<LwwMap>(ByteView(bytes.data(), length)));
  }
  const Bytes header{LwwMap::kTypeTag, LwwMap::kEncodingVersion};
  auto with = [&](Bytes body) {
    Bytes out = header;
    out.insert(out.end(), body.begin(), body.end());
    return decode<LwwMap>(out);
  };
  EXPECT_TRUE(with({1, 1, 'a', 1, 0, 1, 1}));
  EXPECT_FALSE(with({2, 1, 'b', 1, 0, 1, 1, 1, 'a', 1, 0, 1, 1}));  // unsorted fields
  EXPECT_FALSE(with({1, 1, 'a', 1, 0, 1, 4}));                      // bad kind
}

}  // namespace
}  // namespace crdtsim::core
