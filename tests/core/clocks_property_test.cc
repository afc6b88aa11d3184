// Property tests of the Lamport, vector and hybrid logical clocks.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/clock/hybrid_logical_clock.h"
#include "core/clock/lamport_clock.h"
#include "core/clock/vector_clock.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/semantic_checks.h"

namespace crdtsim::testing {
namespace {

using core::HlcOffsetPolicy;
using core::HybridLogicalClock;
using core::LamportClock;
using core::VectorClock;

TEST(LamportClockProperty, Monotonic) {
  EXPECT_TRUE(lamport_clock_monotonic<LamportClock>("LamportClock"));
}

TEST(VectorClockProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_vector_clock(), "VectorClock"));
}

TEST(VectorClockProperty, CompareIsThePartialOrderOfMerge) {
  EXPECT_TRUE(vector_clock_order_matches_merge(gen_vector_clock(), "VectorClock"));
}

TEST(VectorClockProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_vector_clock(), "VectorClock"));
}

TEST(HybridLogicalClockProperty, MonotonicAndBoundedWhenRejecting) {
  EXPECT_TRUE(hlc_monotonic_and_bounded<HybridLogicalClock>(HlcOffsetPolicy::reject, "HLC reject"));
}

TEST(HybridLogicalClockProperty, MonotonicAndBoundedWhenClamping) {
  EXPECT_TRUE(hlc_monotonic_and_bounded<HybridLogicalClock>(HlcOffsetPolicy::clamp, "HLC clamp"));
}

}  // namespace
}  // namespace crdtsim::testing
