// Property tests of LwwRegister and MvRegister.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/crdt/delta_group.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/mv_register.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/semantic_checks.h"

namespace crdtsim::testing {
namespace {

using core::DeltaGroup;
using core::LwwRegister;
using core::MvRegister;

TEST(LwwRegisterProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_lww_register(), "LwwRegister"));
}

TEST(LwwRegisterProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_lww_register(), mutate_lww_register, "LwwRegister"));
}

TEST(LwwRegisterProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<LwwRegister, DeltaGroup<LwwRegister>>(
      gen_lww_register(), mutate_lww_register, "LwwRegister")));
}

TEST(LwwRegisterProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_lww_register(), "LwwRegister"));
}

TEST(LwwRegisterProperty, GreatestWriteWins) {
  EXPECT_TRUE(lww_greatest_write_wins<LwwRegister>("LwwRegister"));
}

TEST(MvRegisterProperty, JoinLaws) {
  EXPECT_TRUE(join_laws_hold(gen_mv_register(), "MvRegister"));
}

TEST(MvRegisterProperty, DeltaLaw) {
  EXPECT_TRUE(delta_law_holds(gen_mv_register(), mutate_mv_register, "MvRegister"));
}

TEST(MvRegisterProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<MvRegister, DeltaGroup<MvRegister>>(
      gen_mv_register(), mutate_mv_register, "MvRegister")));
}

TEST(MvRegisterProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_mv_register(), "MvRegister"));
}

TEST(MvRegisterProperty, KeepsConcurrentMaxima) {
  EXPECT_TRUE(mv_register_keeps_concurrent_maxima<MvRegister>("MvRegister"));
}

}  // namespace
}  // namespace crdtsim::testing
