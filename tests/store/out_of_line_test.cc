// OutOfLine<T> behaves like a plain T member (reads, copies, comparison)
// while allocating only on first write; and a reply's tracking metadata keeps
// its meaning behind it.
#include "core/store/out_of_line.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/store/command.h"

namespace crdtsim::core {
namespace {

TEST(OutOfLine, ReadsAsDefaultWithoutAllocating) {
  const OutOfLine<std::vector<int>> box;
  EXPECT_FALSE(box.allocated());
  EXPECT_TRUE(box->empty());
  EXPECT_EQ(*box, std::vector<int>{});
  EXPECT_FALSE(box.allocated()) << "a read must not allocate";
}

TEST(OutOfLine, WriteAllocatesAndKeepsTheValue) {
  OutOfLine<std::vector<int>> box;
  box.mut().push_back(7);
  box.mut().push_back(8);
  EXPECT_TRUE(box.allocated());
  EXPECT_EQ(*box, (std::vector<int>{7, 8}));
}

TEST(OutOfLine, CopiesAreDeepAndIndependent) {
  OutOfLine<std::vector<int>> original;
  original.mut().push_back(1);
  OutOfLine<std::vector<int>> copy = original;
  copy.mut().push_back(2);
  EXPECT_EQ(*original, std::vector<int>{1});
  EXPECT_EQ(*copy, (std::vector<int>{1, 2}));

  OutOfLine<std::vector<int>> assigned;
  assigned = copy;
  copy.mut().clear();
  EXPECT_EQ(*assigned, (std::vector<int>{1, 2}));

  const OutOfLine<std::vector<int>> empty;
  assigned = empty;
  EXPECT_FALSE(assigned.allocated()) << "copying an unallocated one allocates nothing";
  EXPECT_TRUE(assigned->empty());
}

TEST(OutOfLine, MovedFromReadsAsDefault) {
  OutOfLine<std::vector<int>> source;
  source.mut().push_back(3);
  const OutOfLine<std::vector<int>> target = std::move(source);
  EXPECT_EQ(*target, std::vector<int>{3});
  EXPECT_FALSE(source.allocated());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_TRUE(source->empty());      // NOLINT(bugprone-use-after-move)
}

TEST(OutOfLine, EqualityComparesValuesNotAllocation) {
  const OutOfLine<std::vector<int>> unallocated;
  OutOfLine<std::vector<int>> allocated_empty;
  allocated_empty.mut();
  EXPECT_EQ(unallocated, allocated_empty);
  OutOfLine<std::vector<int>> holding;
  holding.mut().push_back(1);
  EXPECT_NE(unallocated, holding);
  EXPECT_NE(holding, allocated_empty);
}

// `reply` encoded and decoded again, or nullopt if decoding failed.
std::optional<Reply> round_trip(const Reply& reply) {
  Bytes bytes;
  Encoder encoder(bytes);
  reply.encode_body(encoder);
  Decoder decoder(bytes);
  Reply decoded = Reply::decode_body(decoder);
  if (!decoder.ok()) {
    return std::nullopt;
  }
  return decoded;
}

TEST(ReplyTracking, OrdinaryReplyRoundTripsWithoutAllocating) {
  Reply reply;
  reply.value = ReplyValue::of_integer(5);
  reply.metadata.dots = {{"k", Dot{1, 2}}};
  const std::optional<Reply> decoded = round_trip(reply);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, reply);
  EXPECT_FALSE(decoded->metadata.tracking.allocated())
      << "a reply without tracking metadata must decode without allocating it";
}

TEST(ReplyTracking, TrackedReplyRoundTrips) {
  Reply reply;
  CausalContext context;
  context.add(Dot{0, 1});
  reply.metadata.tracking.mut().versions = {{"k", context}};
  reply.metadata.tracking.mut().removed_dots = {{"s", Dot{2, 3}}};
  const std::optional<Reply> decoded = round_trip(reply);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, reply);
  EXPECT_EQ(decoded->metadata.tracking->removed_dots.size(), 1u);
}

}  // namespace
}  // namespace crdtsim::core
