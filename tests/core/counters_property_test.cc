// Property tests of GCounter and PNCounter (and DeltaGroup over them).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/crdt/delta_group.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/pn_counter.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/semantic_checks.h"

namespace crdtsim::testing {
namespace {

using core::DeltaGroup;
using core::GCounter;
using core::PNCounter;

TEST(GCounterProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_g_counter(), "GCounter"));
}

TEST(GCounterProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_g_counter(), mutate_g_counter, "GCounter"));
}

TEST(GCounterProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<GCounter, DeltaGroup<GCounter>>(
      gen_g_counter(), mutate_g_counter, "GCounter")));
}

TEST(GCounterProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_g_counter(), "GCounter"));
}

TEST(GCounterProperty, ValueIsSumOfIncrements) {
  EXPECT_TRUE(g_counter_sum_holds<GCounter>("GCounter"));
}

TEST(PNCounterProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_pn_counter(), "PNCounter"));
}

TEST(PNCounterProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_pn_counter(), mutate_pn_counter, "PNCounter"));
}

TEST(PNCounterProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<PNCounter, DeltaGroup<PNCounter>>(
      gen_pn_counter(), mutate_pn_counter, "PNCounter")));
}

TEST(PNCounterProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_pn_counter(), "PNCounter"));
}

TEST(PNCounterProperty, ValueIsIncrementsMinusDecrements) {
  EXPECT_TRUE(pn_counter_sum_holds<PNCounter>("PNCounter"));
}

// A delta group is itself canonically encodable.
rc::Gen<DeltaGroup<PNCounter>> gen_pn_delta_group() {
  return rc::gen::exec([] {
    PNCounter state = *gen_pn_counter();
    DeltaGroup<PNCounter> group;
    const int parts = *rc::gen::inRange(0, 4);
    for (int part = 0; part < parts; ++part) {
      group.add(mutate_pn_counter(state, *gen_replica()));
    }
    return group;
  });
}

TEST(DeltaGroupProperty, JoinLawsAndRoundTrip) {
  EXPECT_TRUE(join_laws_hold(gen_pn_delta_group(), "DeltaGroup<PNCounter>"));
}

TEST(DeltaGroupProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_pn_delta_group(), "DeltaGroup<PNCounter>"));
}

}  // namespace
}  // namespace crdtsim::testing
