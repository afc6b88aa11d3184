// Deliberately broken OR-Sets, and tests that the OR-Set property checks
// (or_set_checks.h, the same ones the real ORSet passes) reject each one. A
// check that cannot fail proves nothing.
//
// FlawedORSet is a small, plain re-implementation of the dot-based OR-Set
// (std::set of (element, dot) plus a causal context) with one switchable flaw.
// With Flaw::kNone it is correct and must pass every check, which shows that
// the rejections below come from the flaw and not from the test scaffolding.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/crdt/or_set.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/or_set_checks.h"

namespace crdtsim::testing::or_set {
namespace {

using core::CausalContext;
using core::Dot;
using core::ReplicaId;

enum class Flaw {
  kNone,
  // A remove leaves an element tombstone, and merge drops every entry of a
  // tombstoned element, including adds the remover never observed.
  kRemoveDropsUnobservedDots,
  // Merge keeps every entry of both sides, even those whose dot the other
  // side's context has seen and dropped: removes never travel.
  kMergeKeepsSeenEntries,
  // Merge keeps all of this side's entries and filters only the other's: the
  // result depends on the direction of the merge.
  kOneSidedMerge,
  // The add delta carries the new dot but not the superseded ones.
  kAddDeltaForgetsOldDots,
};

template <Flaw kFlaw>
class FlawedORSet {
 public:
  static constexpr std::uint8_t kTypeTag = core::type_tag::kORSet;
  static constexpr std::uint8_t kEncodingVersion = 1;

  FlawedORSet add(ReplicaId replica, std::string_view element) {
    FlawedORSet delta;
    const Dot dot = context_.next_dot(replica);
    for (const Dot& old : dots_of(element)) {
      entries_.erase({std::string(element), old});
      if (kFlaw != Flaw::kAddDeltaForgetsOldDots) {
        delta.context_.add(old);
      }
    }
    entries_.emplace(std::string(element), dot);
    delta.entries_.emplace(std::string(element), dot);
    delta.context_.add(dot);
    return delta;
  }

  FlawedORSet remove(std::string_view element) {
    FlawedORSet delta;
    for (const Dot& old : dots_of(element)) {
      entries_.erase({std::string(element), old});
      delta.context_.add(old);
    }
    if (kFlaw == Flaw::kRemoveDropsUnobservedDots) {
      tombstones_.emplace(element);
      delta.tombstones_.emplace(element);
    }
    return delta;
  }

  FlawedORSet clear() {
    FlawedORSet delta;
    delta.context_ = context_;
    entries_.clear();
    return delta;
  }

  void merge(const FlawedORSet& other) {
    std::set<Entry> result;
    for (const Entry& entry : entries_) {
      const bool keep = other.entries_.contains(entry) || !other.context_.contains(entry.second) ||
                        kFlaw == Flaw::kMergeKeepsSeenEntries || kFlaw == Flaw::kOneSidedMerge;
      const bool tombstoned = kFlaw == Flaw::kRemoveDropsUnobservedDots &&
                              other.tombstones_.contains(entry.first) &&
                              !other.entries_.contains(entry);
      if (keep && !tombstoned) {
        result.insert(entry);
      }
    }
    for (const Entry& entry : other.entries_) {
      const bool keep = entries_.contains(entry) || !context_.contains(entry.second) ||
                        kFlaw == Flaw::kMergeKeepsSeenEntries;
      if (keep) {
        result.insert(entry);
      }
    }
    entries_ = std::move(result);
    context_.merge(other.context_);
    tombstones_.insert(other.tombstones_.begin(), other.tombstones_.end());
  }

  std::vector<std::string> elements() const {
    std::set<std::string> names;
    for (const Entry& entry : entries_) {
      names.insert(entry.first);
    }
    return {names.begin(), names.end()};
  }

  void encode_body(core::Encoder& encoder) const {
    context_.encode_body(encoder);
    encoder.varint(entries_.size());
    for (const Entry& entry : entries_) {
      encoder.string(entry.first);
      entry.second.encode_body(encoder);
    }
    encoder.varint(tombstones_.size());
    for (const std::string& element : tombstones_) {
      encoder.string(element);
    }
  }

  static FlawedORSet decode_body(core::Decoder& decoder) {
    FlawedORSet set;
    set.context_ = CausalContext::decode_body(decoder);
    const std::size_t entry_count = decoder.count(3);
    for (std::size_t index = 0; index < entry_count && decoder.ok(); ++index) {
      std::string element = decoder.string();
      const Dot dot = Dot::decode_body(decoder);
      set.entries_.emplace(std::move(element), dot);
    }
    const std::size_t tombstone_count = decoder.count(1);
    for (std::size_t index = 0; index < tombstone_count && decoder.ok(); ++index) {
      set.tombstones_.insert(decoder.string());
    }
    return set;
  }

  friend bool operator==(const FlawedORSet&, const FlawedORSet&) = default;

 private:
  using Entry = std::pair<std::string, Dot>;

  std::vector<Dot> dots_of(std::string_view element) const {
    std::vector<Dot> dots;
    for (auto it = entries_.lower_bound({std::string(element), Dot{}});
         it != entries_.end() && it->first == element; ++it) {
      dots.push_back(it->second);
    }
    return dots;
  }

  std::set<Entry> entries_;
  CausalContext context_;
  std::set<std::string> tombstones_;  // only with kRemoveDropsUnobservedDots
};

// An ORSet handle whose copies share one state: copying is not a value copy.
class SharingORSet {
 public:
  static constexpr std::uint8_t kTypeTag = core::ORSet::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::ORSet::kEncodingVersion;

  SharingORSet() : state_(std::make_shared<core::ORSet>()) {}

  SharingORSet add(ReplicaId replica, std::string_view element) {
    return SharingORSet(state_->add(replica, element));
  }
  SharingORSet remove(std::string_view element) { return SharingORSet(state_->remove(element)); }
  SharingORSet clear() { return SharingORSet(state_->clear()); }
  void merge(const SharingORSet& other) { state_->merge(*other.state_); }
  std::vector<std::string> elements() const { return state_->elements(); }

  void encode_body(core::Encoder& encoder) const { state_->encode_body(encoder); }
  static SharingORSet decode_body(core::Decoder& decoder) {
    return SharingORSet(core::ORSet::decode_body(decoder));
  }

 private:
  explicit SharingORSet(core::ORSet state)
      : state_(std::make_shared<core::ORSet>(std::move(state))) {}

  std::shared_ptr<core::ORSet> state_;
};

template <class S>
bool semantics_hold() {
  return rc::check("semantics", [](const Script& script) { check_semantics<S>(script); });
}

template <class S>
bool delta_law_holds() {
  return rc::check("delta law", [](const Script& script) { check_delta_law<S>(script); });
}

template <class S>
bool copies_are_independent() {
  return rc::check("copy independence", [](const Script& script, const Op& op) {
    check_copy_independence<S>(script, op);
  });
}

template <class S>
bool join_laws_within_a_run_hold() {
  return rc::check("join laws within a run",
                   [](const Script& script) { check_join_laws_within_a_run<S>(script); });
}

TEST(BrokenORSet, TheCorrectPlainVariantPassesEveryCheck) {
  using Correct = FlawedORSet<Flaw::kNone>;
  EXPECT_TRUE(semantics_hold<Correct>());
  EXPECT_TRUE(delta_law_holds<Correct>());
  EXPECT_TRUE(copies_are_independent<Correct>());
  EXPECT_TRUE(join_laws_within_a_run_hold<Correct>());
  EXPECT_TRUE(join_laws_hold(states<Correct>(), "plain OR-Set"));
}

TEST(BrokenORSet, RemoveThatDropsUnobservedDotsIsRejected) {
  EXPECT_FALSE(semantics_hold<FlawedORSet<Flaw::kRemoveDropsUnobservedDots>>());
}

TEST(BrokenORSet, MergeThatKeepsSeenEntriesIsRejected) {
  EXPECT_FALSE(semantics_hold<FlawedORSet<Flaw::kMergeKeepsSeenEntries>>());
}

TEST(BrokenORSet, OneSidedMergeIsRejected) {
  using OneSided = FlawedORSet<Flaw::kOneSidedMerge>;
  EXPECT_FALSE(join_laws_hold(states<OneSided>(), "one-sided merge"));
  EXPECT_FALSE(join_laws_within_a_run_hold<OneSided>());
  EXPECT_FALSE(semantics_hold<OneSided>());
}

TEST(BrokenORSet, AddDeltaWithoutOldDotsIsRejected) {
  EXPECT_FALSE(delta_law_holds<FlawedORSet<Flaw::kAddDeltaForgetsOldDots>>());
}

TEST(BrokenORSet, CopyThatSharesStateIsRejected) {
  EXPECT_FALSE(copies_are_independent<SharingORSet>());
}

}  // namespace
}  // namespace crdtsim::testing::or_set
