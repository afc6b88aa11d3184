// Property tests of GSet and LwwMap.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/crdt/delta_group.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_map.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/semantic_checks.h"

namespace crdtsim::testing {
namespace {

using core::DeltaGroup;
using core::GSet;
using core::LwwMap;

TEST(GSetProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_g_set(), "GSet"));
}

TEST(GSetProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_g_set(), mutate_g_set, "GSet"));
}

TEST(GSetProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<GSet, DeltaGroup<GSet>>(gen_g_set(), mutate_g_set, "GSet")));
}

TEST(GSetProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_g_set(), "GSet"));
}

TEST(GSetProperty, HoldsEveryAdd) {
  EXPECT_TRUE(g_set_holds_every_add<GSet>("GSet"));
}

TEST(LwwMapProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_lww_map(), "LwwMap"));
}

TEST(LwwMapProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_lww_map(), mutate_lww_map, "LwwMap"));
}

TEST(LwwMapProperty, DeltaGroupLaw) {
  EXPECT_TRUE(
      (delta_group_law_holds<LwwMap, DeltaGroup<LwwMap>>(gen_lww_map(), mutate_lww_map, "LwwMap")));
}

TEST(LwwMapProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_lww_map(), "LwwMap"));
}

TEST(LwwMapProperty, GreatestWritePerField) {
  EXPECT_TRUE(lww_map_greatest_write_per_field<LwwMap>("LwwMap"));
}

}  // namespace
}  // namespace crdtsim::testing
