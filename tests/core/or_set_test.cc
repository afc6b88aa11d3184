#include "core/crdt/or_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/codec/hash.h"

namespace crdtsim::core {
namespace {

using Names = std::vector<std::string>;

ORSet merged(ORSet left, const ORSet& right) {
  left.merge(right);
  return left;
}

// The encoding of a state given as raw parts, bypassing the mutators.
Bytes encode_raw(const CausalContext& context, const std::vector<ORSetEntry>& entries) {
  Bytes bytes;
  Encoder encoder(bytes);
  encoder.u8(ORSet::kTypeTag);
  encoder.u8(ORSet::kEncodingVersion);
  context.encode_body(encoder);
  encoder.varint(entries.size());
  for (const ORSetEntry& entry : entries) {
    encoder.string(entry.element);
    entry.dot.encode_body(encoder);
  }
  return bytes;
}

TEST(ORSet, AddRemoveContains) {
  ORSet set;
  EXPECT_TRUE(set.empty());
  set.add(1, "apple");
  set.add(1, "pear");
  set.add(1, "apple");
  EXPECT_TRUE(set.contains("apple"));
  EXPECT_TRUE(set.contains("pear"));
  EXPECT_FALSE(set.contains("plum"));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.entries().size(), 2u) << "re-adding supersedes the old dot";
  EXPECT_EQ(set.elements(), (Names{"apple", "pear"}));
  set.remove("apple");
  EXPECT_FALSE(set.contains("apple"));
  EXPECT_EQ(set.elements(), (Names{"pear"}));
  EXPECT_EQ(set.size(), 1u);
  set.remove("plum");
  EXPECT_EQ(set.size(), 1u);
}

TEST(ORSet, RemovedElementsLeaveNoEntries) {
  ORSet set;
  for (int index = 0; index < 100; ++index) {
    set.add(1, "element-" + std::to_string(index));
  }
  for (int index = 0; index < 100; ++index) {
    set.remove("element-" + std::to_string(index));
  }
  EXPECT_TRUE(set.entries().empty());
  EXPECT_EQ(set.context().version_vector().at(1), 100u);
  EXPECT_TRUE(set.context().dot_cloud().empty()) << "the context stays one vector entry";
}

TEST(ORSet, ConcurrentAddAndRemoveAddWinsBothWays) {
  ORSet a;
  a.add(1, "x");
  ORSet b = a;  // b has observed a's add
  b.remove("x");
  a.add(1, "x");  // concurrent with b's remove
  EXPECT_TRUE(merged(a, b).contains("x"));
  EXPECT_TRUE(merged(b, a).contains("x"));
  EXPECT_EQ(merged(a, b), merged(b, a));
}

TEST(ORSet, ConcurrentAddsAtTwoReplicasAndOneRemove) {
  ORSet a;
  ORSet b;
  a.add(1, "x");
  b.add(2, "x");
  ORSet c = a;  // saw only a's add
  c.remove("x");
  ORSet all = merged(merged(a, b), c);
  EXPECT_TRUE(all.contains("x")) << "b's add was not observed by the remove";
  ASSERT_EQ(all.entries().size(), 1u);
  EXPECT_EQ(all.entries().begin()->dot, (Dot{2, 1}));
}

TEST(ORSet, RemoveRemovesOnlyObservedAdds) {
  ORSet a;
  a.add(1, "x");
  ORSet b = a;
  a.add(1, "x");  // a newer add, unseen by b
  b.remove("x");  // removes only (1, 1)
  const ORSet joined = merged(a, b);
  EXPECT_TRUE(joined.contains("x"));
  ASSERT_EQ(joined.entries().size(), 1u);
  EXPECT_EQ(joined.entries().begin()->dot, (Dot{1, 2}));

  ORSet c = joined;
  c.remove("x");  // observed everything
  EXPECT_FALSE(merged(joined, c).contains("x"));
  EXPECT_FALSE(merged(c, joined).contains("x"));
}

TEST(ORSet, ReAddAfterRemove) {
  ORSet a;
  a.add(1, "x");
  a.remove("x");
  ORSet b = a;
  a.add(1, "x");
  EXPECT_TRUE(a.contains("x"));
  EXPECT_TRUE(merged(a, b).contains("x"));
  EXPECT_TRUE(merged(b, a).contains("x"));
}

TEST(ORSet, DeltasOfAddRemoveAndClear) {
  ORSet a;
  const ORSet first = a.add(1, "x");
  EXPECT_EQ(first.elements(), (Names{"x"}));
  const ORSet second = a.add(1, "x");
  EXPECT_EQ(second.entries().size(), 1u);
  EXPECT_TRUE(second.context().contains(Dot{1, 1})) << "the add delta names the old dot";
  EXPECT_TRUE(second.context().contains(Dot{1, 2}));

  ORSet b;
  b.merge(first);
  b.merge(second);
  EXPECT_EQ(b, a);

  const ORSet removal = a.remove("x");
  EXPECT_TRUE(removal.entries().empty());
  EXPECT_TRUE(removal.context().contains(Dot{1, 2}));
  b.merge(removal);
  EXPECT_FALSE(b.contains("x"));
  EXPECT_EQ(b, a);

  a.add(2, "y");
  a.add(2, "z");
  b.merge(a);
  const ORSet cleared = a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.size(), 0u);
  b.merge(cleared);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b, a);
}

TEST(ORSet, ClearRemovesOnlyObservedElements) {
  ORSet a;
  a.add(1, "x");
  ORSet b;
  b.add(2, "y");  // unseen by a
  a.clear();
  EXPECT_EQ(merged(a, b).elements(), (Names{"y"}));
}

TEST(ORSet, CopiesAreIndependent) {
  ORSet original;
  original.add(1, "x");
  original.add(1, "a-long-element-name-stored-on-the-heap");
  const Bytes before = encode(original);
  ORSet copy = original;
  copy.add(2, "y");
  copy.remove("x");
  copy.remove("a-long-element-name-stored-on-the-heap");
  EXPECT_EQ(encode(original), before);
  EXPECT_TRUE(original.contains("x"));
  EXPECT_EQ(original.size(), 2u);

  ORSet assigned;
  assigned = original;
  original.clear();
  EXPECT_EQ(encode(assigned), before);
}

TEST(ORSet, EncodingRoundTripsAndIsCanonical) {
  ORSet a;
  a.add(1, "x");
  a.add(2, "y");
  a.add(1, "");
  a.remove("y");
  const Bytes bytes = encode(a);
  const Decoded<ORSet> decoded = decode<ORSet>(bytes);
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, a);
  EXPECT_EQ(decoded.value->size(), 2u);
  EXPECT_EQ(encode(*decoded.value), bytes);

  // The same state built in another order encodes the same.
  ORSet b;
  b.merge(a);
  EXPECT_EQ(encode(b), bytes);
}

TEST(ORSet, DecodeRejectsTruncationAndTrailingBytes) {
  ORSet a;
  a.add(1, "x");
  a.add(2, "yy");
  const Bytes bytes = encode(a);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    const Decoded<ORSet> decoded = decode<ORSet>(ByteView(bytes.data(), length));
    EXPECT_FALSE(decoded) << "prefix of " << length << " bytes";
    EXPECT_FALSE(decoded.error.empty());
  }
  Bytes longer = bytes;
  longer.push_back(0);
  const Decoded<ORSet> trailing = decode<ORSet>(longer);
  EXPECT_FALSE(trailing);
  EXPECT_NE(trailing.error.find("trailing"), std::string::npos);
}

TEST(ORSet, DecodeRejectsGarbage) {
  EXPECT_FALSE(decode<ORSet>(Bytes{}));
  EXPECT_FALSE(decode<ORSet>(Bytes{0xff, 0xff, 0xff}));
  const Decoded<ORSet> wrong_tag = decode<ORSet>(Bytes{type_tag::kGSet, 1, 0, 0, 0});
  EXPECT_FALSE(wrong_tag);
  EXPECT_NE(wrong_tag.error.find("type tag"), std::string::npos);
  // A huge entry count with no bytes behind it.
  const Decoded<ORSet> huge =
      decode<ORSet>(Bytes{ORSet::kTypeTag, ORSet::kEncodingVersion, 0, 0, 0xff, 0xff, 0x7f});
  EXPECT_FALSE(huge);
  EXPECT_NE(huge.error.find("exceeds"), std::string::npos);
}

TEST(ORSet, DecodeRejectsEntryWhoseDotIsNotInTheContext) {
  CausalContext context;
  context.add(Dot{1, 1});
  const Decoded<ORSet> decoded = decode<ORSet>(encode_raw(context, {{"x", Dot{1, 2}}}));
  EXPECT_FALSE(decoded);
  EXPECT_NE(decoded.error.find("not in the causal context"), std::string::npos);
  EXPECT_TRUE(decode<ORSet>(encode_raw(context, {{"x", Dot{1, 1}}})));
}

TEST(ORSet, DecodeRejectsUnsortedAndDuplicateEntries) {
  CausalContext context;
  context.add(Dot{1, 1});
  context.add(Dot{1, 2});
  // Entries are ordered by (hash64(element), element, dot): put two elements
  // the wrong way round in that order.
  ORSetEntry first{"x", Dot{1, 1}, hash64("x")};
  ORSetEntry second{"y", Dot{1, 2}, hash64("y")};
  if (ORSetEntryOrder{}(first, second) > 0) {
    std::swap(first, second);
  }
  EXPECT_TRUE(decode<ORSet>(encode_raw(context, {first, second})));
  const Decoded<ORSet> unsorted = decode<ORSet>(encode_raw(context, {second, first}));
  EXPECT_FALSE(unsorted);
  EXPECT_NE(unsorted.error.find("strictly increasing"), std::string::npos);
  const Decoded<ORSet> unsorted_dots =
      decode<ORSet>(encode_raw(context, {{"x", Dot{1, 2}}, {"x", Dot{1, 1}}}));
  EXPECT_FALSE(unsorted_dots);
  const Decoded<ORSet> duplicate =
      decode<ORSet>(encode_raw(context, {{"x", Dot{1, 1}}, {"x", Dot{1, 1}}}));
  EXPECT_FALSE(duplicate);
  const Decoded<ORSet> sorted =
      decode<ORSet>(encode_raw(context, {{"x", Dot{1, 1}}, {"x", Dot{1, 2}}}));
  ASSERT_TRUE(sorted) << sorted.error;
  EXPECT_EQ(sorted.value->size(), 1u);
}

TEST(ORSet, DecodeRejectsBadContextAndZeroDot) {
  // A version-vector entry of 0 is not canonical.
  const Decoded<ORSet> bad_context =
      decode<ORSet>(Bytes{ORSet::kTypeTag, ORSet::kEncodingVersion, 1, 1, 0, 0, 0});
  EXPECT_FALSE(bad_context);
  CausalContext context;
  context.add(Dot{1, 1});
  const Decoded<ORSet> zero_dot = decode<ORSet>(encode_raw(context, {{"x", Dot{1, 0}}}));
  EXPECT_FALSE(zero_dot);
}

TEST(ORSet, MergeOfLargeStatesSharingMostElements) {
  ORSet a;
  for (int index = 0; index < 2000; ++index) {
    a.add(1, "element-" + std::to_string(index));
  }
  ORSet b = a;
  a.add(1, "only-in-a");
  b.add(2, "only-in-b");
  b.remove("element-7");
  a.merge(b);
  EXPECT_EQ(a.size(), 2001u);
  EXPECT_TRUE(a.contains("only-in-a"));
  EXPECT_TRUE(a.contains("only-in-b"));
  EXPECT_FALSE(a.contains("element-7"));
  EXPECT_EQ(a.elements().size(), a.size());
}

TEST(ORSet, ElementsAreSortedWhateverTheEntryOrder) {
  ORSet set;
  std::vector<std::string> expected;
  for (int index = 0; index < 300; ++index) {
    expected.push_back("element-" + std::to_string(index));
    set.add(1, expected.back());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(set.elements(), expected);
  // Entries follow (hash64(element), element, dot), and each element's
  // entries stay adjacent.
  // (Iteration yields entries by value: keep a copy, not a pointer.)
  std::optional<ORSetEntry> previous;
  for (const ORSetEntry& entry : set.entries()) {
    EXPECT_EQ(entry.hash, hash64(entry.element));
    if (previous.has_value()) {
      EXPECT_TRUE(ORSetEntryOrder{}(*previous, entry) < 0);
    }
    previous = entry;
  }
}

TEST(ORSet, AddDeltaHoldsItsEntryInlineAndStillMutates) {
  ORSet set;
  ORSet delta = set.add(1, "x");
  ASSERT_EQ(delta.entries().size(), 1u);
  EXPECT_EQ(delta.entries().begin()->element, "x");
  EXPECT_TRUE(delta.contains("x"));
  EXPECT_FALSE(delta.contains("y"));
  EXPECT_EQ(delta, ORSet(delta));
  // Mutating the delta moves its entry into the tree; the state is the same.
  ORSet grown = delta;
  grown.merge(set.add(1, "y"));
  EXPECT_EQ(grown.elements(), (std::vector<std::string>{"x", "y"}));
  ORSet removed = delta;
  removed.remove("x");
  EXPECT_TRUE(removed.entries().empty());
  EXPECT_FALSE(removed.contains("x"));
  ORSet readded = delta;
  readded.add(2, "x");
  ASSERT_EQ(readded.entries().size(), 1u);
  EXPECT_EQ(readded.entries().begin()->dot, (Dot{2, 1}));
  // Round trip through the codec.
  const Decoded<ORSet> decoded = decode<ORSet>(encode(delta));
  ASSERT_TRUE(decoded) << decoded.error;
  EXPECT_EQ(*decoded.value, delta);
}

// The entries a merge must keep, by the definition, from the two states'
// public entry sequences: those on both sides, and those of one side whose
// dot the other side's context has not seen. Sorted by ORSetEntryOrder.
std::vector<ORSetEntry> reference_merge(const ORSet& left, const ORSet& right) {
  const auto key = [](const ORSetEntry& entry) {
    return std::tuple(entry.hash, entry.element, entry.dot);
  };
  std::set<std::tuple<std::uint64_t, std::string, Dot>> left_keys;
  std::set<std::tuple<std::uint64_t, std::string, Dot>> right_keys;
  for (const ORSetEntry& entry : left.entries()) {
    left_keys.insert(key(entry));
  }
  for (const ORSetEntry& entry : right.entries()) {
    right_keys.insert(key(entry));
  }
  std::vector<ORSetEntry> kept;
  for (const ORSetEntry& entry : left.entries()) {
    if (right_keys.contains(key(entry)) || !right.context().contains(entry.dot)) {
      kept.push_back(entry);
    }
  }
  for (const ORSetEntry& entry : right.entries()) {
    if (!left_keys.contains(key(entry)) && !left.context().contains(entry.dot)) {
      kept.push_back(entry);
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const ORSetEntry& a, const ORSetEntry& b) { return ORSetEntryOrder{}(a, b) < 0; });
  return kept;
}

// Thousands of elements (short ones held in the slot, long ones on the heap)
// through adds, removes and merges at two replicas, so that the entry table
// grows, shrinks, shifts runs both ways and spills past its last home: every
// step is checked against a plain model, every merge against the definition.
TEST(ORSet, LargeSetsAgreeWithAModelThroughGrowthShrinkAndMerges) {
  constexpr std::size_t kNameCount = 3'000;
  Names names;
  for (std::size_t index = 0; index < kNameCount; ++index) {
    names.push_back(index % 5 == 0 ? "a-long-element-name-held-on-the-heap-" + std::to_string(index)
                                   : "e" + std::to_string(index));
  }
  std::uint64_t state = 0x9e3779b97f4a7c15u;  // xorshift64: a fixed sequence
  const auto next = [&state](std::size_t bound) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<std::size_t>(state % bound);
  };
  std::array<ORSet, 2> sets;
  std::array<std::set<std::string>, 2> models;
  for (int round = 0; round < 8; ++round) {
    // Early rounds mostly add; later ones mostly remove (the table shrinks).
    const std::size_t add_per_10 = round < 5 ? 7 : 1;
    for (int step = 0; step < 4'000; ++step) {
      const std::size_t side = next(2);
      const std::string& name = names[next(kNameCount)];
      if (next(10) < add_per_10) {
        const ORSet delta = sets[side].add(static_cast<ReplicaId>(side + 1), name);
        ASSERT_EQ(delta.entries().size(), 1u);
        models[side].insert(name);
      } else {
        sets[side].remove(name);
        models[side].erase(name);
      }
      ASSERT_EQ(sets[side].contains(name), models[side].contains(name));
    }
    for (std::size_t side = 0; side < 2; ++side) {
      ASSERT_EQ(sets[side].size(), models[side].size());
      ASSERT_EQ(sets[side].elements(), Names(models[side].begin(), models[side].end()));
    }
    const std::vector<ORSetEntry> expected = reference_merge(sets[0], sets[1]);
    ORSet left_first = sets[0];
    left_first.merge(sets[1]);
    ORSet right_first = sets[1];
    right_first.merge(sets[0]);
    ASSERT_EQ(std::vector<ORSetEntry>(left_first.entries().begin(), left_first.entries().end()),
              expected);
    ASSERT_EQ(left_first, right_first);
    ASSERT_EQ(encode(left_first), encode(right_first));
    const Decoded<ORSet> decoded = decode<ORSet>(encode(left_first));
    ASSERT_TRUE(decoded) << decoded.error;
    ASSERT_EQ(*decoded.value, left_first);
    ASSERT_EQ(decoded.value->size(), left_first.elements().size());
    // Every other round the replicas converge (both take the merge).
    if (round % 2 == 1) {
      sets = {left_first, left_first};
      const Names merged = left_first.elements();
      models = {std::set<std::string>(merged.begin(), merged.end()),
                std::set<std::string>(merged.begin(), merged.end())};
    }
  }
}

// A set re-created after tombstone GC dropped its dead state (context
// {(1, 1..3)}): writer 1's floor is 3. A replica still holding the old
// context (it had not collected) must keep the new add. Issued from 1 again,
// the add's dot is one that context has seen, and the add is lost there and,
// after the next merge, everywhere.
TEST(ORSet, AnAddPastTheWritersDotFloorSurvivesAReplicaHoldingTheCollectedContext) {
  ORSet stale;
  for (const char* element : {"a", "b", "c"}) {
    stale.merge(stale.add(1, element));
    stale.merge(stale.remove(element));
  }
  ASSERT_TRUE(stale.empty());
  ASSERT_EQ(stale.context().max_counter(1), 3u);
  constexpr std::uint64_t kFloor = 3;

  ORSet recreated;
  const ORSet delta = recreated.add(1, "d", kFloor);
  EXPECT_EQ(delta.entries().begin()->dot, (Dot{1, 4}));
  EXPECT_EQ(delta.context().version_vector().at(1), 4u) << "the delta carries the seed";
  EXPECT_TRUE(delta.context().dot_cloud().empty());
  ORSet merged = stale;
  merged.merge(delta);
  EXPECT_TRUE(merged.contains("d"));
  EXPECT_EQ(encode(merged), encode(recreated)) << "both converge byte for byte";
  ORSet back = recreated;
  back.merge(stale);
  EXPECT_TRUE(back.contains("d"));

  // Without the floor: the dot (1, 1) was removed in the old context.
  ORSet reused;
  const ORSet reused_delta = reused.add(1, "d");
  ORSet lost = stale;
  lost.merge(reused_delta);
  EXPECT_FALSE(lost.contains("d"));
  reused.merge(stale);
  EXPECT_FALSE(reused.contains("d"));
}

}  // namespace
}  // namespace crdtsim::core
