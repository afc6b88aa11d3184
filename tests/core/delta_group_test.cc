#include "core/crdt/delta_group.h"

#include <gtest/gtest.h>

#include "core/codec/bytes.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_map.h"

namespace crdtsim::core {
namespace {

TEST(DeltaGroup, AppliesLikeItsPartsInOrder) {
  LwwMap state;
  LwwMap sequential;
  DeltaGroup<LwwMap> group;
  for (const LwwMap& delta : {state.set_field("a", "1", LwwTimestamp{1, 0, 1}),
                              state.set_field("a", "2", LwwTimestamp{2, 0, 1}),
                              state.remove_field("b", LwwTimestamp{3, 0, 1})}) {
    group.add(delta);
    sequential.merge(delta);
  }
  LwwMap grouped;
  group.apply_to(grouped);
  EXPECT_EQ(grouped, sequential);
  EXPECT_EQ(grouped, state);
  EXPECT_EQ(group.joined().entries().size(), 2u);  // the first write to "a" is subsumed
}

TEST(DeltaGroup, GroupsMerge) {
  GCounter state;
  DeltaGroup<GCounter> first;
  first.add(*state.increment(1, 2));
  DeltaGroup<GCounter> second;
  second.add(*state.increment(2, 3));
  first.merge(second);
  GCounter fresh;
  first.apply_to(fresh);
  EXPECT_EQ(fresh, state);
}

TEST(DeltaGroup, EncodingNamesTheInnerType) {
  GSet state;
  DeltaGroup<GSet> group;
  group.add(state.add("x"));
  const Bytes bytes = encode(group);
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes[0], type_tag::kDeltaGroup);
  EXPECT_EQ(bytes[2], GSet::kTypeTag);
  const auto decoded = decode<DeltaGroup<GSet>>(bytes);
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, group);
  const auto wrong_type = decode<DeltaGroup<GCounter>>(bytes);
  EXPECT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error.find("type tag"), std::string::npos);
}

}  // namespace
}  // namespace crdtsim::core
