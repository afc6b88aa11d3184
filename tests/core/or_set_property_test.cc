// Property tests of the ORSet: join laws, delta laws, encoding, and add-wins
// observed-remove semantics against an independent model (or_set_checks.h).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/crdt/delta_group.h"
#include "core/crdt/or_set.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/or_set_checks.h"

namespace crdtsim::testing::or_set {
namespace {

using core::ORSet;

TEST(ORSetProperty, JoinLawsHold) {
  EXPECT_TRUE(join_laws_hold(states<ORSet>(), "ORSet"));
}

RC_GTEST_PROP(ORSetProperty, JoinLawsHoldWithinARun, (const Script& script)) {
  check_join_laws_within_a_run<ORSet>(script);
}

RC_GTEST_PROP(ORSetProperty, MatchesTheAddWinsModel, (const Script& script)) {
  check_semantics<ORSet>(script);
}

RC_GTEST_PROP(ORSetProperty, DeltaOfEveryMutatorAppliesTheMutation, (const Script& script)) {
  check_delta_law<ORSet>(script);
}

RC_GTEST_PROP(ORSetProperty, MergedDeltasApplyLikeTheirSequence, (const Script& script)) {
  check_delta_group<ORSet, MergeGroup<ORSet>>(script, *rc::gen::inRange<std::size_t>(0, 4));
}

RC_GTEST_PROP(ORSetProperty, CopiesShareNoState, (const Script& script, const Op& op)) {
  check_copy_independence<ORSet>(script, op);
}

RC_GTEST_PROP(ORSetProperty, EveryTruncationIsRejected, (const Script& script)) {
  check_truncations_rejected<ORSet>(script);
}

// Random bytes (with the right header half the time, to reach the body) never
// crash the decoder; whatever it accepts is canonical: it re-encodes to the
// same bytes, and every entry's dot is in the context.
RC_GTEST_PROP(ORSetProperty, RandomBytesDecodeSafely, (const std::vector<std::uint8_t>& body)) {
  core::Bytes bytes;
  if (*rc::gen::arbitrary<bool>()) {
    bytes = {ORSet::kTypeTag, ORSet::kEncodingVersion};
  }
  bytes.insert(bytes.end(), body.begin(), body.end());
  const core::Decoded<ORSet> decoded = core::decode<ORSet>(bytes);
  if (!decoded) {
    RC_ASSERT(!decoded.error.empty());
    return;
  }
  RC_ASSERT(core::encode(*decoded.value) == bytes);
  for (const core::ORSetEntry& entry : decoded.value->entries()) {
    RC_ASSERT(decoded.value->context().contains(entry.dot));
  }
}

// Flipping one byte of a valid encoding is either rejected or yields a state
// that re-encodes to exactly the flipped bytes (never a silent misread).
RC_GTEST_PROP(ORSetProperty, CorruptedBytesDecodeSafely, (const Script& script)) {
  core::Bytes bytes = core::encode(run_script<ORSet>(script).merged_all());
  const std::size_t index = *rc::gen::inRange<std::size_t>(0, bytes.size());
  bytes.at(index) = static_cast<std::uint8_t>(bytes.at(index) ^ *rc::gen::inRange(1, 256));
  const core::Decoded<ORSet> decoded = core::decode<ORSet>(bytes);
  if (decoded) {
    RC_ASSERT(core::encode(*decoded.value) == bytes);
  } else {
    RC_ASSERT(!decoded.error.empty());
  }
}

// size() and contains() agree with elements().
RC_GTEST_PROP(ORSetProperty, QueriesAgree, (const Script& script)) {
  Run<ORSet> run = run_script<ORSet>(script);
  for (std::size_t index = 0; index < run.replica_count(); ++index) {
    const ORSet& state = run.replica(index);
    const std::vector<std::string> elements = state.elements();
    RC_ASSERT(state.size() == elements.size());
    for (const std::string_view name : kElementNames) {
      const bool listed = std::find(elements.begin(), elements.end(), name) != elements.end();
      RC_ASSERT(state.contains(name) == listed);
    }
  }
}

// The project's generic delta group over ORSet deltas; its encoding
// round-trips too.
RC_GTEST_PROP(ORSetProperty, DeltaGroupAppliesLikeItsParts, (const Script& script)) {
  check_delta_group<ORSet, core::DeltaGroup<ORSet>>(script, *rc::gen::inRange<std::size_t>(0, 4));
  core::DeltaGroup<ORSet> group;
  Run<ORSet> run(script);
  for (const Op& op : script.ops) {
    if (const std::optional<ORSet> delta = run.apply(op)) {
      group.add(*delta);
    }
  }
  round_trip_law(group);
}

}  // namespace
}  // namespace crdtsim::testing::or_set
