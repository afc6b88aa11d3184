// Property tests of the CausalCounter: join laws, delta law, encoding, and
// its semantics against an independent model of histories; then the same
// checks rejecting deliberately broken counters (a check that cannot fail
// proves nothing).
//
// The model (CounterModel) knows nothing of dots or contexts: a replica's view
// is a set of operations and resets. An operation at r carries r's
// accumulated pair (its latest operation's pair, unless a reset in its view
// observed that operation) plus its amount; a reset observes every operation
// in its view. The value of a view is the sum, over replicas, of the pair of
// each replica's latest operation that no reset in the view observed.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/causal_counter.h"
#include "core/crdt/delta_group.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"

namespace crdtsim::testing {
namespace {

using core::CausalContext;
using core::CausalCounter;
using core::CounterPair;
using core::Dot;

enum class Flaw {
  kNone,
  // reset() also removes the next dot of every replica it knows: an
  // increment concurrent with the reset is lost.
  kResetRemovesUnobserved,
  // merge sums the pairs of a dot both sides hold.
  kMergeSums,
  // An increment keeps the replica's old dot alive next to the new one.
  kIncrementKeepsOldDot,
};

// A plain re-implementation with one switchable flaw; with kNone it must pass
// every check, which shows the rejections come from the flaws.
template <Flaw kFlaw>
class FlawedCounter {
 public:
  static constexpr std::uint8_t kTypeTag = CausalCounter::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = CausalCounter::kEncodingVersion;

  std::optional<FlawedCounter> increment(ReplicaId replica, std::uint64_t amount) {
    return step(replica, amount, 0);
  }
  std::optional<FlawedCounter> decrement(ReplicaId replica, std::uint64_t amount) {
    return step(replica, 0, amount);
  }
  FlawedCounter reset() {
    if (kFlaw == Flaw::kResetRemovesUnobserved) {
      std::set<ReplicaId> replicas;
      for (const auto& [replica, counter] : context_.version_vector()) {
        replicas.insert(replica);
      }
      for (const Dot& dot : context_.dot_cloud()) {
        replicas.insert(dot.replica);
      }
      for (const ReplicaId replica : replicas) {
        context_.add(Dot{replica, context_.max_counter(replica) + 1});
      }
    }
    FlawedCounter delta;
    delta.context_ = context_;
    entries_.clear();
    return delta;
  }
  void merge(const FlawedCounter& other) {
    std::map<Dot, CounterPair> joined;
    for (const auto& [dot, pair] : entries_) {
      const auto theirs = other.entries_.find(dot);
      if (theirs != other.entries_.end()) {
        joined[dot] = kFlaw == Flaw::kMergeSums
                          ? CounterPair{pair.increments + theirs->second.increments,
                                        pair.decrements + theirs->second.decrements}
                          : CounterPair{std::max(pair.increments, theirs->second.increments),
                                        std::max(pair.decrements, theirs->second.decrements)};
      } else if (!other.context_.contains(dot)) {
        joined[dot] = pair;
      }
    }
    for (const auto& [dot, pair] : other.entries_) {
      if (!entries_.contains(dot) && !context_.contains(dot)) {
        joined[dot] = pair;
      }
    }
    entries_ = std::move(joined);
    context_.merge(other.context_);
  }
  std::int64_t value() const {
    std::int64_t sum = 0;
    for (const auto& [dot, pair] : entries_) {
      sum +=
          static_cast<std::int64_t>(pair.increments) - static_cast<std::int64_t>(pair.decrements);
    }
    return sum;
  }
  std::optional<Dot> live_dot(ReplicaId replica) const {
    std::optional<Dot> result;
    for (const auto& [dot, pair] : entries_) {
      if (dot.replica == replica) {
        result = dot;
      }
    }
    return result;
  }
  void encode_body(core::Encoder& encoder) const {
    context_.encode_body(encoder);
    encoder.varint(entries_.size());
    for (const auto& [dot, pair] : entries_) {
      dot.encode_body(encoder);
      encoder.varint(pair.increments);
      encoder.varint(pair.decrements);
    }
  }
  static FlawedCounter decode_body(core::Decoder& decoder) {
    const CausalCounter real = CausalCounter::decode_body(decoder);
    FlawedCounter counter;
    counter.context_ = real.context();
    counter.entries_.insert(real.entries().begin(), real.entries().end());
    return counter;
  }
  friend bool operator==(const FlawedCounter&, const FlawedCounter&) = default;

 private:
  std::optional<FlawedCounter> step(ReplicaId replica, std::uint64_t plus, std::uint64_t minus) {
    FlawedCounter delta;
    CounterPair pair;
    if (const std::optional<Dot> old = live_dot(replica)) {
      pair = entries_.at(*old);
      if (kFlaw != Flaw::kIncrementKeepsOldDot) {
        entries_.erase(*old);
        delta.context_.add(*old);
      } else {
        pair = CounterPair{};
      }
    }
    pair.increments += plus;
    pair.decrements += minus;
    const Dot dot = context_.next_dot(replica);
    entries_[dot] = pair;
    delta.entries_[dot] = pair;
    delta.context_.add(dot);
    return delta;
  }

  std::map<Dot, CounterPair> entries_;
  CausalContext context_;
};

// ---- generators ----

template <class C>
C mutate_counter(C& counter, ReplicaId replica) {
  const int choice = *rc::gen::inRange(0, 5);
  if (choice == 0) {
    return counter.reset();
  }
  const auto amount = *rc::gen::inRange<std::uint64_t>(0, 6);
  std::optional<C> delta =
      choice <= 2 ? counter.increment(replica, amount) : counter.decrement(replica, amount);
  RC_ASSERT(delta.has_value());
  return *delta;
}

template <class C>
rc::Gen<C> gen_counter() {
  return gen_state<C>([](C& counter, ReplicaId replica) { mutate_counter(counter, replica); });
}

// ---- the model ----

struct ModelOp {
  ReplicaId replica = 0;
  CounterPair pair;
};
struct ModelView {
  std::set<std::size_t> ops;     // indices into CounterModel::ops
  std::set<std::size_t> resets;  // indices into CounterModel::resets
};

struct CounterModel {
  std::vector<ModelOp> ops;
  std::vector<std::set<std::size_t>> resets;  // the ops each reset observed

  bool removed(const ModelView& view, std::size_t op) const {
    for (const std::size_t reset : view.resets) {
      if (resets[reset].contains(op)) {
        return true;
      }
    }
    return false;
  }
  // Each replica's latest op in the view (op indices grow with time, and a
  // replica's ops are totally ordered by its own history).
  std::map<ReplicaId, std::size_t> latest(const ModelView& view) const {
    std::map<ReplicaId, std::size_t> result;
    for (const std::size_t op : view.ops) {
      result[ops[op].replica] = op;
    }
    return result;
  }
  CounterPair accumulated(const ModelView& view, ReplicaId replica) const {
    const auto latest_ops = latest(view);
    const auto found = latest_ops.find(replica);
    if (found == latest_ops.end() || removed(view, found->second)) {
      return CounterPair{};
    }
    return ops[found->second].pair;
  }
  std::int64_t value(const ModelView& view) const {
    std::int64_t sum = 0;
    for (const auto& [replica, op] : latest(view)) {
      if (!removed(view, op)) {
        sum += static_cast<std::int64_t>(ops[op].pair.increments) -
               static_cast<std::int64_t>(ops[op].pair.decrements);
      }
    }
    return sum;
  }
};

// Random increments, decrements, resets and full-state merges at 2 to 4
// replicas: every replica's value matches the model's, at every step.
template <class C>
bool matches_model() {
  return rc::check("causal counter matches the history model", [] {
    const std::size_t replicas = *rc::gen::inRange<std::size_t>(2, 5);
    std::vector<C> states(replicas);
    std::vector<ModelView> views(replicas);
    CounterModel model;
    const int steps = *rc::gen::inRange(0, 30);
    for (int step = 0; step < steps; ++step) {
      const std::size_t target = *rc::gen::inRange<std::size_t>(0, replicas);
      const auto replica = static_cast<ReplicaId>(target);
      const int choice = *rc::gen::inRange(0, 6);
      if (choice <= 1) {
        const std::size_t source = *rc::gen::inRange<std::size_t>(0, replicas);
        states[target].merge(states[source]);
        views[target].ops.insert(views[source].ops.begin(), views[source].ops.end());
        views[target].resets.insert(views[source].resets.begin(), views[source].resets.end());
      } else if (choice == 2) {
        states[target].reset();
        model.resets.push_back(views[target].ops);
        views[target].resets.insert(model.resets.size() - 1);
      } else {
        const auto amount = *rc::gen::inRange<std::uint64_t>(0, 6);
        const bool up = choice <= 4;
        RC_ASSERT((up ? states[target].increment(replica, amount)
                      : states[target].decrement(replica, amount))
                      .has_value());
        CounterPair pair = model.accumulated(views[target], replica);
        (up ? pair.increments : pair.decrements) += amount;
        model.ops.push_back(ModelOp{replica, pair});
        views[target].ops.insert(model.ops.size() - 1);
      }
      RC_ASSERT(states[target].value() == model.value(views[target]));
    }
  });
}

// An increment concurrent with a reset survives it, carrying its replica's
// accumulated pair, at both replicas whatever the merge order.
template <class C>
bool concurrent_increment_survives_reset() {
  return rc::check("an increment concurrent with a reset survives", [] {
    const std::vector<C> states =
        run_history<C>([](C& counter, ReplicaId replica) { mutate_counter(counter, replica); });
    C incrementer = states[0];
    C resetter = states[1];
    const auto amount = *rc::gen::inRange<std::uint64_t>(1, 6);
    const std::optional<C> increment = incrementer.increment(7, amount);
    RC_ASSERT(increment.has_value());
    const C reset = resetter.reset();
    // Full states, either way round, and the deltas.
    C at_incrementer = incrementer;
    at_incrementer.merge(resetter);
    C at_resetter = resetter;
    at_resetter.merge(incrementer);
    RC_ASSERT(same_state(at_incrementer, at_resetter));
    RC_ASSERT(at_incrementer.live_dot(7).has_value());
    C by_delta = resetter;
    by_delta.merge(*increment);
    RC_ASSERT(by_delta.live_dot(7).has_value());
    // Replica 7 had contributed nothing: the reset changes the rest as if the
    // increment had not happened, and the increment adds its amount.
    C without_increment = states[0];
    without_increment.merge(reset);
    RC_ASSERT(at_incrementer.value() ==
              without_increment.value() + static_cast<std::int64_t>(amount));
  });
}

template <class C>
bool all_checks_hold(const std::string& name) {
  bool ok = true;
  ok &= join_laws_hold(gen_counter<C>(), name);
  ok &= delta_law_holds(gen_counter<C>(), mutate_counter<C>, name);
  ok &= matches_model<C>();
  ok &= concurrent_increment_survives_reset<C>();
  return ok;
}

TEST(CausalCounterProperty, AllChecksHold) {
  EXPECT_TRUE(all_checks_hold<CausalCounter>("CausalCounter"));
}

TEST(CausalCounterProperty, DeltaGroupLaw) {
  EXPECT_TRUE((delta_group_law_holds<CausalCounter, core::DeltaGroup<CausalCounter>>(
      gen_counter<CausalCounter>(), mutate_counter<CausalCounter>, "CausalCounter")));
}

TEST(CausalCounterProperty, DecodeRejectsMalformed) {
  EXPECT_TRUE(decode_rejects_malformed(gen_counter<CausalCounter>(), "CausalCounter"));
}

TEST(CausalCounterProperty, TheFlawlessReimplementationPasses) {
  EXPECT_TRUE(all_checks_hold<FlawedCounter<Flaw::kNone>>("FlawedCounter<kNone>"));
}

// merge_changed (the store's join of counters) merges as the plain
// reimplementation does and says exactly whether the counter changed: a
// replica relays, persists and counts a delta only then. One cluster's
// states, merged whole or through a delta of one of them (applied again to
// the state it came from: the redundant delivery, the common case).
TEST(CausalCounterProperty, MergeChangedMergesAndReportsExactlyAChange) {
  EXPECT_TRUE(rc::check("merge_changed merges and returns true exactly on a change", [] {
    std::vector<CausalCounter> states = run_history<CausalCounter>(
        [](CausalCounter& counter, ReplicaId replica) { mutate_counter(counter, replica); });
    const std::size_t source = *rc::gen::inRange<std::size_t>(0, states.size());
    // Mine: any state, or one that saw the source's state (so that a reset
    // of the source removes entries without growing the context).
    CausalCounter mine = states[*rc::gen::inRange<std::size_t>(0, states.size())];
    if (*rc::gen::arbitrary<bool>()) {
      mine.merge(states[source]);
    }
    CausalCounter theirs = states[source];
    if (*rc::gen::arbitrary<bool>()) {
      const ReplicaId writer =
          theirs.entries().empty() ? ReplicaId{7} : theirs.entries().begin()->first.replica;
      theirs = mutate_counter(states[source], writer);
      if (*rc::gen::inRange(0, 4) == 0) {
        mine = states[source];  // the delta's own state
      }
    }
    using Reference = FlawedCounter<Flaw::kNone>;
    Reference reference = *core::decode<Reference>(core::encode(mine)).value;
    reference.merge(*core::decode<Reference>(core::encode(theirs)).value);
    const CausalCounter before = mine;
    const bool changed = mine.merge_changed(theirs);
    RC_ASSERT(core::encode(mine) == core::encode(reference));
    RC_ASSERT(changed == !(before == mine));
    RC_ASSERT(!mine.merge_changed(theirs));
  }));
}

TEST(CausalCounterBroken, ResetThatRemovesUnobservedDotsIsRejected) {
  EXPECT_FALSE(all_checks_hold<FlawedCounter<Flaw::kResetRemovesUnobserved>>(
      "FlawedCounter<kResetRemovesUnobserved>"));
}

TEST(CausalCounterBroken, MergeThatSumsIsRejected) {
  EXPECT_FALSE(all_checks_hold<FlawedCounter<Flaw::kMergeSums>>("FlawedCounter<kMergeSums>"));
}

TEST(CausalCounterBroken, IncrementKeepingTheOldDotIsRejected) {
  EXPECT_FALSE(all_checks_hold<FlawedCounter<Flaw::kIncrementKeepsOldDot>>(
      "FlawedCounter<kIncrementKeepsOldDot>"));
}

}  // namespace
}  // namespace crdtsim::testing
