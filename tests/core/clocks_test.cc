#include <gtest/gtest.h>

#include <limits>

#include "core/clock/hybrid_logical_clock.h"
#include "core/clock/lamport_clock.h"
#include "core/clock/lww_timestamp.h"
#include "core/clock/vector_clock.h"
#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();

TEST(LamportClock, TickAndObserve) {
  LamportClock clock;
  EXPECT_EQ(clock.value(), 0u);
  EXPECT_EQ(clock.tick(), 1u);
  EXPECT_EQ(clock.observe(10), 11u);
  EXPECT_EQ(clock.observe(3), 12u);  // an old remote still advances the clock
  EXPECT_EQ(clock.value(), 12u);
}

TEST(LamportClock, SaturatesAtMaximum) {
  LamportClock clock;
  EXPECT_EQ(clock.observe(kU64Max), kU64Max);
  EXPECT_EQ(clock.tick(), kU64Max);
}

VectorClock clock_of(std::initializer_list<std::pair<ReplicaId, int>> counts) {
  VectorClock clock;
  for (const auto& [replica, count] : counts) {
    for (int index = 0; index < count; ++index) {
      clock.increment(replica);
    }
  }
  return clock;
}

TEST(VectorClock, CompareCoversAllFourOutcomes) {
  const VectorClock a = clock_of({{1, 1}});
  const VectorClock b = clock_of({{1, 2}});
  const VectorClock c = clock_of({{2, 1}});
  EXPECT_EQ(a.compare(a), ClockOrder::equal);
  EXPECT_EQ(a.compare(b), ClockOrder::before);
  EXPECT_EQ(b.compare(a), ClockOrder::after);
  EXPECT_EQ(a.compare(c), ClockOrder::concurrent);
  EXPECT_EQ(VectorClock{}.compare(a), ClockOrder::before);
  EXPECT_EQ(VectorClock{}.compare(VectorClock{}), ClockOrder::equal);
}

TEST(VectorClock, MergeIsPointwiseMax) {
  VectorClock a = clock_of({{1, 3}, {2, 1}});
  a.merge(clock_of({{2, 4}, {7, 1}}));
  EXPECT_EQ(a.get(1), 3u);
  EXPECT_EQ(a.get(2), 4u);
  EXPECT_EQ(a.get(7), 1u);
  EXPECT_EQ(a.get(9), 0u);
  EXPECT_EQ(a.entries().size(), 3u);
}

TEST(VectorClock, EncodingRoundTripsAndRejectsNonCanonical) {
  const VectorClock clock = clock_of({{1, 2}, {300, 1}});
  const Bytes bytes = encode(clock);
  const auto decoded = decode<VectorClock>(bytes);
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, clock);

  const auto with_body = [](std::initializer_list<std::uint64_t> varints) {
    Bytes out;
    Encoder encoder(out);
    encoder.u8(VectorClock::kTypeTag);
    encoder.u8(VectorClock::kEncodingVersion);
    for (const std::uint64_t value : varints) {
      encoder.varint(value);
    }
    return out;
  };
  EXPECT_NE(decode<VectorClock>(with_body({1, 5, 0})).error.find("0"), std::string::npos);
  EXPECT_NE(decode<VectorClock>(with_body({2, 5, 1, 5, 1})).error.find("increasing"),
            std::string::npos);
  EXPECT_NE(decode<VectorClock>(with_body({2, 5, 1, 4, 1})).error.find("increasing"),
            std::string::npos);
  EXPECT_FALSE(decode<VectorClock>(with_body({1, 5})));
  EXPECT_FALSE(decode<VectorClock>(Bytes{}));
  EXPECT_FALSE(decode<VectorClock>(Bytes{0xff, 0xff, 0xff}));
}

TEST(HybridLogicalClock, FollowsPhysicalTimeAndCountsWithinOneMicrosecond) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.now(100), (HlcTimestamp{100, 0}));
  EXPECT_EQ(clock.now(100), (HlcTimestamp{100, 1}));
  EXPECT_EQ(clock.now(150), (HlcTimestamp{150, 0}));
}

TEST(HybridLogicalClock, StaysMonotonicWhenPhysicalTimeGoesBackwards) {
  HybridLogicalClock clock;
  clock.now(1000);
  EXPECT_EQ(clock.now(900), (HlcTimestamp{1000, 1}));
  EXPECT_EQ(clock.now(950), (HlcTimestamp{1000, 2}));
  EXPECT_EQ(clock.now(1001), (HlcTimestamp{1001, 0}));
}

TEST(HybridLogicalClock, ObserveFollowsKulkarniRules) {
  HybridLogicalClock clock(HlcOptions{1000, HlcOffsetPolicy::reject});
  clock.now(100);  // (100, 0)
  // Remote ahead (within the offset): take its physical part, count past it.
  auto observed = clock.observe(HlcTimestamp{500, 7}, 120);
  EXPECT_EQ(observed.status, HlcObserveStatus::accepted);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{500, 8}));
  // Same physical part on both sides: past the larger logical.
  observed = clock.observe(HlcTimestamp{500, 3}, 130);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{500, 9}));
  // The physical reading is newest: a fresh count.
  observed = clock.observe(HlcTimestamp{400, 3}, 600);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{600, 0}));
}

TEST(HybridLogicalClock, RejectsRemoteTooFarAheadAndStaysUnchanged) {
  HybridLogicalClock clock(HlcOptions{100, HlcOffsetPolicy::reject});
  clock.now(1000);
  const auto observed = clock.observe(HlcTimestamp{1101, 0}, 1000);
  EXPECT_EQ(observed.status, HlcObserveStatus::rejected);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{1000, 0}));
  EXPECT_EQ(clock.current(), (HlcTimestamp{1000, 0}));
  // Exactly at the offset is accepted.
  EXPECT_EQ(clock.observe(HlcTimestamp{1100, 0}, 1000).status, HlcObserveStatus::accepted);
}

TEST(HybridLogicalClock, ClampsRemoteTooFarAhead) {
  HybridLogicalClock clock(HlcOptions{100, HlcOffsetPolicy::clamp});
  const auto observed = clock.observe(HlcTimestamp{5000, 3}, 1000);
  EXPECT_EQ(observed.status, HlcObserveStatus::clamped);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{1100, 1}));
}

TEST(HybridLogicalClock, OffsetBoundSaturatesNearTheEndOfTime) {
  HybridLogicalClock clock(HlcOptions{100, HlcOffsetPolicy::reject});
  const auto observed = clock.observe(HlcTimestamp{kU64Max, 0}, kU64Max - 10);
  EXPECT_EQ(observed.status, HlcObserveStatus::accepted);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{kU64Max, 1}));
}

TEST(HybridLogicalClock, LogicalOverflowBumpsPhysical) {
  HybridLogicalClock clock(HlcOptions{1000, HlcOffsetPolicy::reject});
  const auto observed = clock.observe(HlcTimestamp{50, kU32Max - 1}, 50);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{50, kU32Max}));
  EXPECT_EQ(clock.now(50), (HlcTimestamp{51, 0}));
  EXPECT_EQ(clock.now(50), (HlcTimestamp{51, 1}));
}

TEST(HybridLogicalClock, SaturatesAtTheLargestTimestamp) {
  HybridLogicalClock clock(HlcOptions{0, HlcOffsetPolicy::reject});
  const auto observed = clock.observe(HlcTimestamp{kU64Max, kU32Max}, kU64Max);
  EXPECT_EQ(observed.timestamp, (HlcTimestamp{kU64Max, kU32Max}));
  EXPECT_EQ(clock.now(kU64Max), (HlcTimestamp{kU64Max, kU32Max}));
}

TEST(HlcTimestamp, NestedEncodingRoundTrips) {
  const HlcTimestamp timestamp{123456789, 42};
  Bytes out;
  Encoder encoder(out);
  timestamp.encode_body(encoder);
  Decoder decoder(out);
  EXPECT_EQ(HlcTimestamp::decode_body(decoder), timestamp);
  EXPECT_TRUE(decoder.ok());
  EXPECT_TRUE(decoder.at_end());
  Decoder truncated(ByteView(out.data(), out.size() - 1));
  HlcTimestamp::decode_body(truncated);
  EXPECT_FALSE(truncated.ok());
}

TEST(LwwTimestamp, OrdersByTimeThenLogicalThenReplica) {
  EXPECT_LT((LwwTimestamp{1, 5, 9}), (LwwTimestamp{2, 0, 0}));
  EXPECT_LT((LwwTimestamp{1, 0, 9}), (LwwTimestamp{1, 1, 0}));
  EXPECT_LT((LwwTimestamp{1, 1, 0}), (LwwTimestamp{1, 1, 1}));
  EXPECT_EQ(LwwTimestamp::from_lamport(7, 3), (LwwTimestamp{7, 0, 3}));
  EXPECT_EQ(LwwTimestamp::from_hlc(HlcTimestamp{7, 2}, 3), (LwwTimestamp{7, 2, 3}));
}

TEST(LwwTimestamp, NestedEncodingRejectsOversizedReplica) {
  Bytes out;
  Encoder encoder(out);
  encoder.varint(1);
  encoder.varint(0);
  encoder.varint(std::uint64_t{1} << 32);
  Decoder decoder(out);
  LwwTimestamp::decode_body(decoder);
  EXPECT_FALSE(decoder.ok());
}

}  // namespace
}  // namespace crdtsim::core
