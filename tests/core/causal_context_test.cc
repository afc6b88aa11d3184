#include "core/crdt/causal_context.h"

#include <gtest/gtest.h>

namespace crdtsim::core {
namespace {

TEST(CausalContext, NextDotIsContiguousAndCompact) {
  CausalContext context;
  EXPECT_EQ(context.next_dot(3), (Dot{3, 1}));
  EXPECT_EQ(context.next_dot(3), (Dot{3, 2}));
  EXPECT_EQ(context.version_vector().at(3), 2u);
  EXPECT_TRUE(context.dot_cloud().empty());
}

TEST(CausalContext, OutOfOrderDotsStayInCloudUntilGapFills) {
  CausalContext context;
  context.add(Dot{1, 3});
  EXPECT_TRUE(context.contains(Dot{1, 3}));
  EXPECT_FALSE(context.contains(Dot{1, 2}));
  EXPECT_EQ(context.dot_cloud().size(), 1u);
  context.add(Dot{1, 1});
  context.add(Dot{1, 2});
  EXPECT_TRUE(context.dot_cloud().empty());
  EXPECT_EQ(context.version_vector().at(1), 3u);
  EXPECT_EQ(context.max_counter(1), 3u);
}

TEST(CausalContext, MergeIsUnionInCanonicalForm) {
  CausalContext left;
  left.add(Dot{1, 1});
  left.add(Dot{2, 2});
  CausalContext right;
  right.add(Dot{2, 1});
  right.add(Dot{1, 3});
  left.merge(right);
  EXPECT_EQ(left.version_vector().at(2), 2u);
  EXPECT_EQ(left.version_vector().at(1), 1u);
  EXPECT_EQ(left.dot_cloud().size(), 1u);
  EXPECT_TRUE(left.includes(right));
  EXPECT_FALSE(right.includes(left));
}

TEST(CausalContext, EncodingRoundTripsAndRejectsNonCanonical) {
  CausalContext context;
  context.add(Dot{1, 1});
  context.add(Dot{4, 7});
  const Bytes bytes = encode(context);
  const auto decoded = decode<CausalContext>(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded.value, context);

  Bytes bad;
  Encoder encoder(bad);
  encoder.u8(CausalContext::kTypeTag);
  encoder.u8(CausalContext::kEncodingVersion);
  encoder.varint(1);  // one vector entry ...
  encoder.varint(1);
  encoder.varint(2);
  encoder.varint(1);  // ... and a cloud dot the vector already covers
  encoder.varint(1);
  encoder.varint(2);
  const auto rejected = decode<CausalContext>(bad);
  EXPECT_FALSE(rejected);
  EXPECT_NE(rejected.error.find("covered"), std::string::npos);
}

TEST(CausalContext, NextDotPastAGapJoinsTheCloud) {
  CausalContext context;
  context.add(Dot{1, 1});
  context.add(Dot{1, 4});
  EXPECT_EQ(context.next_dot(1), (Dot{1, 5}));
  EXPECT_EQ(context.dot_cloud().size(), 2u);
  EXPECT_EQ(context.version_vector().at(1), 1u);
  // Filling the gap folds the whole run into the vector.
  context.add(Dot{1, 3});
  context.add(Dot{1, 2});
  EXPECT_TRUE(context.dot_cloud().empty());
  EXPECT_EQ(context.version_vector().at(1), 5u);
  EXPECT_EQ(context.next_dot(1), (Dot{1, 6}));
}

TEST(CausalContext, AddFoldsOnlyItsOwnReplica) {
  CausalContext context;
  context.add(Dot{2, 2});
  context.add(Dot{1, 3});
  context.add(Dot{1, 1});
  EXPECT_EQ(context.dot_cloud().size(), 2u);
  context.add(Dot{1, 2});
  EXPECT_EQ(context.version_vector().at(1), 3u);
  ASSERT_EQ(context.dot_cloud().size(), 1u);
  EXPECT_EQ(*context.dot_cloud().begin(), (Dot{2, 2}));
  EXPECT_EQ(context.next_dot(3), (Dot{3, 1}));
  EXPECT_EQ(context.max_counter(2), 2u);
}

TEST(CausalContext, MergeFoldsCloudDotsTheOtherVectorCovers) {
  CausalContext left;
  left.add(Dot{1, 3});
  left.add(Dot{1, 5});
  CausalContext right;
  for (int index = 0; index < 4; ++index) {
    right.next_dot(1);
  }
  left.merge(right);
  EXPECT_EQ(left.version_vector().at(1), 5u);
  EXPECT_TRUE(left.dot_cloud().empty());
  CausalContext copy = left;
  copy.merge(copy);
  EXPECT_EQ(copy, left);
}

// Tombstone GC's dot floor: a context holding no dot of the writer is seeded
// with the writer's dots up to the floor, so its next dot is floor + 1 and
// the context stays a single vector entry; a context already holding one of
// the writer's dots is never seeded (its own entry already exceeds every dot
// of the writer dropped with an earlier state of the key).
TEST(CausalContext, SeedCoversTheWritersDotsUpToTheFloorOnlyWhenItHoldsNoneOfThem) {
  CausalContext context;
  context.add(Dot{2, 4});
  EXPECT_FALSE(context.seed(1, 0));
  EXPECT_TRUE(context.seed(1, 7));
  EXPECT_EQ(context.version_vector().at(1), 7u);
  EXPECT_EQ(context.next_dot(1), (Dot{1, 8}));
  EXPECT_FALSE(context.seed(1, 100)) << "the writer's own entry is already there";
  EXPECT_EQ(context.next_dot(1), (Dot{1, 9}));
  CausalContext cloud_only;
  cloud_only.add(Dot{1, 5});
  EXPECT_FALSE(cloud_only.seed(1, 9));
  EXPECT_EQ(cloud_only.max_counter(1), 5u);
}

TEST(CausalContext, AddThroughCoversThePrefixAndFoldsTheCloud) {
  CausalContext context;
  context.add(Dot{1, 3});
  context.add(Dot{1, 6});
  context.add(Dot{1, 9});
  context.add(Dot{2, 5});
  context.add_through(Dot{1, 5});
  EXPECT_EQ(context.version_vector().at(1), 6u) << "(1, 6) became contiguous";
  EXPECT_EQ(context.dot_cloud().size(), 2u);
  EXPECT_TRUE(context.contains(Dot{1, 9}));
  EXPECT_TRUE(context.contains(Dot{2, 5}));
  context.add_through(Dot{1, 2});
  EXPECT_EQ(context.version_vector().at(1), 6u);
  const Decoded<CausalContext> decoded = decode<CausalContext>(encode(context));
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, context);
}

}  // namespace
}  // namespace crdtsim::core
