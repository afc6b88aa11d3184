// Deliberately broken clocks and lattices, each with the mistake named in its
// comment, run through the very same property checks as the real types: each
// check must reject at least one of them, which shows that it can fail.
// (RapidCheck prints the counterexample it found for each; that is expected.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/hybrid_logical_clock.h"
#include "core/clock/lww_timestamp.h"
#include "core/clock/vector_clock.h"
#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/pn_counter.h"
#include "tests/core/lattice_checks.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"
#include "tests/core/semantic_checks.h"

namespace crdtsim::testing {
namespace {

using core::Decoder;
using core::Encoder;
using core::ReplicaId;

// --- Join laws ---------------------------------------------------------------

// G-counter whose merge adds the entries instead of taking the maximum: not
// idempotent (a replica that hears the same state twice counts it twice).
class AddingGCounter {
 public:
  static constexpr std::uint8_t kTypeTag = core::GCounter::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::GCounter::kEncodingVersion;

  AddingGCounter increment(ReplicaId replica, std::uint64_t amount) {
    entries_[replica] += amount;
    AddingGCounter delta;
    delta.entries_[replica] = entries_[replica];
    return delta;
  }
  void merge(const AddingGCounter& other) {
    for (const auto& [replica, count] : other.entries_) {
      entries_[replica] += count;  // the bug: should be max
    }
  }
  void encode_body(Encoder& encoder) const {
    encoder.varint(entries_.size());
    for (const auto& [replica, count] : entries_) {
      encoder.varint(replica);
      encoder.varint(count);
    }
  }
  static AddingGCounter decode_body(Decoder& decoder) {
    AddingGCounter counter;
    const std::size_t size = decoder.count(2);
    for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
      const ReplicaId replica = decoder.varint32();
      counter.entries_[replica] = decoder.varint();
    }
    return counter;
  }
  friend bool operator==(const AddingGCounter&, const AddingGCounter&) = default;

 private:
  std::map<ReplicaId, std::uint64_t> entries_;
};

TEST(BrokenLattices, AddingMergeBreaksJoinLaws) {
  const auto states = gen_state<AddingGCounter>([](AddingGCounter& counter, ReplicaId replica) {
    return counter.increment(replica, *rc::gen::inRange<std::uint64_t>(1, 6));
  });
  EXPECT_FALSE(join_laws_hold(states, "adding-merge G-counter"));
}

// LWW register that compares only the time and, on equal times, keeps the
// incoming write: the winner depends on merge order (Anna's slip).
class MergeOrderLwwRegister {
 public:
  static constexpr std::uint8_t kTypeTag = core::LwwRegister::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::LwwRegister::kEncodingVersion;

  MergeOrderLwwRegister write(std::string value, const core::LwwTimestamp& timestamp) {
    MergeOrderLwwRegister delta;
    delta.write_ = core::LwwWrite{timestamp, false, std::move(value)};
    merge(delta);
    return delta;
  }
  void merge(const MergeOrderLwwRegister& other) {
    if (other.write_.has_value() &&
        (!write_.has_value() || write_->timestamp.time <= other.write_->timestamp.time)) {
      write_ = other.write_;  // the bug: ties go to whoever arrives last
    }
  }
  std::optional<std::string_view> value() const {
    if (!write_.has_value()) {
      return std::nullopt;
    }
    return std::string_view(write_->value);
  }
  void encode_body(Encoder& encoder) const {
    (write_.has_value() ? core::LwwRegister::holding(*write_) : core::LwwRegister{})
        .encode_body(encoder);
  }
  static MergeOrderLwwRegister decode_body(Decoder& decoder) {
    MergeOrderLwwRegister result;
    result.write_ = core::LwwRegister::decode_body(decoder).last_write();
    return result;
  }
  friend bool operator==(const MergeOrderLwwRegister&, const MergeOrderLwwRegister&) = default;

 private:
  std::optional<core::LwwWrite> write_;
};

TEST(BrokenLattices, MergeOrderTieBreakBreaksJoinLaws) {
  const auto states =
      gen_state<MergeOrderLwwRegister>([](MergeOrderLwwRegister& state, ReplicaId replica) {
        return state.write(draw_value(), draw_lww_timestamp(replica));
      });
  EXPECT_FALSE(join_laws_hold(states, "merge-order LWW register"));
}

TEST(BrokenLattices, MergeOrderTieBreakLosesGreatestWrite) {
  EXPECT_FALSE(lww_greatest_write_wins<MergeOrderLwwRegister>("merge-order LWW register"));
}

// Vector clock whose merge is the pointwise minimum. That is a semilattice
// too (the meet), so the join laws alone cannot tell; the order check can: the
// merge of two clocks must not come before either of them.
class MinMergeVectorClock {
 public:
  explicit MinMergeVectorClock(core::VectorClock clock = {}) : clock_(std::move(clock)) {}
  void merge(const MinMergeVectorClock& other) {
    core::VectorClock minimum;
    for (const auto& [replica, counter] : clock_.entries()) {
      const std::uint64_t target = std::min(counter, other.clock_.get(replica));
      while (minimum.get(replica) < target) {
        minimum.increment(replica);
      }
    }
    clock_ = minimum;
  }
  core::ClockOrder compare(const MinMergeVectorClock& other) const {
    return clock_.compare(other.clock_);
  }
  friend bool operator==(const MinMergeVectorClock&, const MinMergeVectorClock&) = default;

 private:
  core::VectorClock clock_;
};

TEST(BrokenLattices, MinMergeClockBreaksOrderCheck) {
  const auto clocks = rc::gen::map(
      gen_vector_clock(), [](core::VectorClock clock) { return MinMergeVectorClock(clock); });
  EXPECT_FALSE(vector_clock_order_matches_merge(clocks, "min-merge vector clock"));
}

// PN-counter whose encoding forgets the decrements: does not round-trip.
class ForgetfulPNCounter {
 public:
  static constexpr std::uint8_t kTypeTag = core::PNCounter::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::PNCounter::kEncodingVersion;

  explicit ForgetfulPNCounter(core::PNCounter counter = {}) : counter_(std::move(counter)) {}
  void merge(const ForgetfulPNCounter& other) { counter_.merge(other.counter_); }
  void encode_body(Encoder& encoder) const { counter_.increments().encode_body(encoder); }
  static ForgetfulPNCounter decode_body(Decoder& decoder) {
    core::PNCounter counter;
    core::GCounter increments = core::GCounter::decode_body(decoder);
    for (const auto& [replica, count] : increments.entries()) {
      static_cast<void>(counter.increment(replica, count));
    }
    return ForgetfulPNCounter(counter);
  }
  friend bool operator==(const ForgetfulPNCounter&, const ForgetfulPNCounter&) = default;

 private:
  core::PNCounter counter_;
};

TEST(BrokenLattices, ForgetfulEncodingFailsRoundTrip) {
  const auto states = rc::gen::map(gen_pn_counter(), [](core::PNCounter counter) {
    return ForgetfulPNCounter(std::move(counter));
  });
  EXPECT_FALSE(join_laws_hold(states, "forgetful PN-counter"));
}

// --- Delta laws --------------------------------------------------------------

// PN-counter whose increment delta carries the amount added instead of the
// new entry: merging it (a max) into the pre-state loses the increment.
class AmountDeltaPNCounter {
 public:
  static constexpr std::uint8_t kTypeTag = core::PNCounter::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::PNCounter::kEncodingVersion;

  AmountDeltaPNCounter increment(ReplicaId replica, std::uint64_t amount) {
    static_cast<void>(counter_.increment(replica, amount));
    AmountDeltaPNCounter delta;
    static_cast<void>(delta.counter_.increment(replica, amount));  // the bug
    return delta;
  }
  void merge(const AmountDeltaPNCounter& other) { counter_.merge(other.counter_); }
  void encode_body(Encoder& encoder) const { counter_.encode_body(encoder); }
  static AmountDeltaPNCounter decode_body(Decoder& decoder) {
    AmountDeltaPNCounter result;
    result.counter_ = core::PNCounter::decode_body(decoder);
    return result;
  }

 private:
  core::PNCounter counter_;
};

AmountDeltaPNCounter mutate_amount_delta(AmountDeltaPNCounter& state, ReplicaId replica) {
  return state.increment(replica, *rc::gen::inRange<std::uint64_t>(1, 6));
}

TEST(BrokenLattices, AmountDeltaBreaksDeltaLaw) {
  const auto states = gen_state<AmountDeltaPNCounter>(mutate_amount_delta);
  EXPECT_FALSE(delta_law_holds(states, mutate_amount_delta, "amount-delta PN-counter"));
}

// A delta group that keeps only the last delta added.
template <class T>
class LastDeltaOnlyGroup {
 public:
  void add(const T& delta) { last_ = delta; }  // the bug: should join
  void apply_to(T& state) const { state.merge(last_); }

 private:
  T last_;
};

TEST(BrokenLattices, LastDeltaOnlyGroupBreaksGroupLaw) {
  EXPECT_FALSE((delta_group_law_holds<core::GCounter, LastDeltaOnlyGroup<core::GCounter>>(
      gen_g_counter(), mutate_g_counter, "last-delta-only group")));
}

// --- Decoding ----------------------------------------------------------------

// G-set encoded without an element count, decoded by reading strings until
// the input ends: a truncation at an element boundary decodes as a smaller set.
class CountlessGSet {
 public:
  static constexpr std::uint8_t kTypeTag = core::GSet::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::GSet::kEncodingVersion;

  explicit CountlessGSet(core::GSet set = {}) : set_(std::move(set)) {}
  void merge(const CountlessGSet& other) { set_.merge(other.set_); }
  void encode_body(Encoder& encoder) const {
    for (const std::string& element : set_.elements()) {
      encoder.string(element);
    }
  }
  static CountlessGSet decode_body(Decoder& decoder) {
    core::GSet set;
    while (decoder.ok() && !decoder.at_end()) {  // the bug: no count, no bound
      static_cast<void>(set.add(decoder.string()));
    }
    return CountlessGSet(std::move(set));
  }

 private:
  core::GSet set_;
};

TEST(BrokenLattices, CountlessDecodeAcceptsTruncations) {
  const auto states =
      rc::gen::map(gen_g_set(), [](core::GSet set) { return CountlessGSet(std::move(set)); });
  EXPECT_FALSE(decode_rejects_malformed(states, "countless G-set"));
}

// G-counter whose decoder does not check that replicas increase and entries
// are non-zero: it accepts non-canonical bytes.
class UncheckedGCounter {
 public:
  static constexpr std::uint8_t kTypeTag = core::GCounter::kTypeTag;
  static constexpr std::uint8_t kEncodingVersion = core::GCounter::kEncodingVersion;

  explicit UncheckedGCounter(core::GCounter counter = {}) : counter_(std::move(counter)) {}
  void merge(const UncheckedGCounter& other) { counter_.merge(other.counter_); }
  void encode_body(Encoder& encoder) const { counter_.encode_body(encoder); }
  static UncheckedGCounter decode_body(Decoder& decoder) {
    core::GCounter counter;
    const std::size_t size = decoder.count(2);
    for (std::size_t index = 0; index < size && decoder.ok(); ++index) {
      const ReplicaId replica = decoder.varint32();
      static_cast<void>(counter.increment(replica, decoder.varint()));  // the bug
    }
    return UncheckedGCounter(std::move(counter));
  }

 private:
  core::GCounter counter_;
};

TEST(BrokenLattices, UncheckedDecodeAcceptsNonCanonicalBytes) {
  const auto states = rc::gen::map(gen_g_counter(), [](core::GCounter counter) {
    return UncheckedGCounter(std::move(counter));
  });
  EXPECT_FALSE(decode_rejects_malformed(states, "unchecked G-counter"));
}

// --- Semantics ---------------------------------------------------------------

// G-counter kept as one number merged by max: a lattice, but concurrent
// increments at different replicas are lost.
class GlobalMaxGCounter {
 public:
  std::optional<GlobalMaxGCounter> increment(ReplicaId /*replica*/, std::uint64_t amount) {
    total_ += amount;
    return *this;
  }
  void merge(const GlobalMaxGCounter& other) { total_ = std::max(total_, other.total_); }
  std::uint64_t value() const { return total_; }

 private:
  std::uint64_t total_ = 0;
};

TEST(BrokenLattices, GlobalMaxCounterLosesIncrements) {
  EXPECT_FALSE(g_counter_sum_holds<GlobalMaxGCounter>("global-max G-counter"));
}

// PN-counter with one signed entry per replica merged by max: a lattice, but a
// decrement after the entry was gossiped is lost on merge.
class MaxMergeSignedPNCounter {
 public:
  std::optional<MaxMergeSignedPNCounter> increment(ReplicaId replica, std::uint64_t amount) {
    entries_[replica] += static_cast<std::int64_t>(amount);
    return std::nullopt;
  }
  std::optional<MaxMergeSignedPNCounter> decrement(ReplicaId replica, std::uint64_t amount) {
    entries_[replica] -= static_cast<std::int64_t>(amount);
    return std::nullopt;
  }
  void merge(const MaxMergeSignedPNCounter& other) {
    for (const auto& [replica, count] : other.entries_) {
      auto [position, inserted] = entries_.try_emplace(replica, count);
      position->second = inserted ? count : std::max(position->second, count);
    }
  }
  std::int64_t value() const {
    std::int64_t sum = 0;
    for (const auto& entry : entries_) {
      sum += entry.second;
    }
    return sum;
  }

 private:
  std::map<ReplicaId, std::int64_t> entries_;
};

TEST(BrokenLattices, MaxMergeSignedCounterLosesDecrements) {
  EXPECT_FALSE(pn_counter_sum_holds<MaxMergeSignedPNCounter>("max-merge signed PN-counter"));
}

// G-set whose merge is the intersection: a lattice (the meet), but it loses
// elements one replica added and another has not.
class IntersectingGSet {
 public:
  core::GSet add(std::string element) { return set_.add(std::move(element)); }
  void merge(const IntersectingGSet& other) {
    core::GSet both;
    for (const std::string& element : set_.elements()) {
      if (other.set_.contains(element)) {
        static_cast<void>(both.add(element));
      }
    }
    set_ = std::move(both);
  }
  bool contains(std::string_view element) const { return set_.contains(element); }
  std::size_t size() const { return set_.size(); }

 private:
  core::GSet set_;
};

TEST(BrokenLattices, IntersectingSetLosesAdds) {
  EXPECT_FALSE(g_set_holds_every_add<IntersectingGSet>("intersecting G-set"));
}

// MV-register whose merge keeps only the sibling with the greatest dot: it
// drops concurrent writes.
class SiblingDroppingMvRegister {
 public:
  SiblingDroppingMvRegister write(ReplicaId replica, std::string value) {
    entries_.clear();
    entries_.emplace(context_.next_dot(replica), std::move(value));
    return *this;
  }
  void merge(const SiblingDroppingMvRegister& other) {
    std::map<core::Dot, std::string> joined;
    for (const auto& [dot, value] : entries_) {
      if (other.entries_.contains(dot) || !other.context_.contains(dot)) {
        joined.emplace(dot, value);
      }
    }
    for (const auto& [dot, value] : other.entries_) {
      if (!context_.contains(dot)) {
        joined.emplace(dot, value);
      }
    }
    if (joined.size() > 1) {
      joined.erase(joined.begin(), std::prev(joined.end()));  // the bug
    }
    entries_ = std::move(joined);
    context_.merge(other.context_);
  }
  std::vector<std::string> values() const {
    std::vector<std::string> result;
    for (const auto& entry : entries_) {
      result.push_back(entry.second);
    }
    std::sort(result.begin(), result.end());
    return result;
  }

 private:
  std::map<core::Dot, std::string> entries_;
  core::CausalContext context_;
};

TEST(BrokenLattices, SiblingDroppingRegisterLosesConcurrentWrites) {
  EXPECT_FALSE(
      mv_register_keeps_concurrent_maxima<SiblingDroppingMvRegister>("sibling-dropping MV"));
}

// LWW map whose removal erases the field instead of writing a tombstone: an
// older concurrent set brings the field back.
class ErasingLwwMap {
 public:
  ErasingLwwMap set_field(const std::string& field, std::string value,
                          const core::LwwTimestamp& timestamp) {
    const core::LwwWrite write{timestamp, false, std::move(value)};
    auto [position, inserted] = fields_.try_emplace(field, write);
    if (!inserted && position->second < write) {
      position->second = write;
    }
    return *this;
  }
  ErasingLwwMap remove_field(const std::string& field, const core::LwwTimestamp& /*timestamp*/) {
    fields_.erase(field);  // the bug: no tombstone
    return *this;
  }
  void merge(const ErasingLwwMap& other) {
    for (const auto& [field, write] : other.fields_) {
      auto [position, inserted] = fields_.try_emplace(field, write);
      if (!inserted && position->second < write) {
        position->second = write;
      }
    }
  }
  std::optional<std::string_view> get(const std::string& field) const {
    const auto found = fields_.find(field);
    if (found == fields_.end()) {
      return std::nullopt;
    }
    return std::string_view(found->second.value);
  }

 private:
  std::map<std::string, core::LwwWrite> fields_;
};

TEST(BrokenLattices, ErasingRemovalResurrectsFields) {
  EXPECT_FALSE(lww_map_greatest_write_per_field<ErasingLwwMap>("erasing LWW map"));
}

// --- Clocks ------------------------------------------------------------------

// Vector clock that orders by the sum of its entries: calls concurrent clocks
// ordered.
class SumOrderVectorClock {
 public:
  explicit SumOrderVectorClock(core::VectorClock clock = {}) : clock_(std::move(clock)) {}
  void merge(const SumOrderVectorClock& other) { clock_.merge(other.clock_); }
  core::ClockOrder compare(const SumOrderVectorClock& other) const {
    if (clock_ == other.clock_) {
      return core::ClockOrder::equal;
    }
    return sum() <= other.sum() ? core::ClockOrder::before : core::ClockOrder::after;
  }
  friend bool operator==(const SumOrderVectorClock&, const SumOrderVectorClock&) = default;

 private:
  std::uint64_t sum() const {
    std::uint64_t total = 0;
    for (const auto& entry : clock_.entries()) {
      total += entry.second;
    }
    return total;
  }
  core::VectorClock clock_;
};

TEST(BrokenLattices, SumOrderClockMisordersConcurrentClocks) {
  const auto clocks = rc::gen::map(gen_vector_clock(), [](core::VectorClock clock) {
    return SumOrderVectorClock(std::move(clock));
  });
  EXPECT_FALSE(vector_clock_order_matches_merge(clocks, "sum-order vector clock"));
}

// Lamport clock whose observe takes the maximum without adding one: a
// receive event gets the sender's value.
class MaxOnlyLamportClock {
 public:
  std::uint64_t value() const { return value_; }
  std::uint64_t tick() { return ++value_; }
  std::uint64_t observe(std::uint64_t remote) {
    value_ = std::max(value_, remote);  // the bug: no + 1
    return value_;
  }

 private:
  std::uint64_t value_ = 0;
};

TEST(BrokenLattices, MaxOnlyLamportClockIsNotMonotonic) {
  EXPECT_FALSE(lamport_clock_monotonic<MaxOnlyLamportClock>("max-only Lamport clock"));
}

// Hybrid logical clock that never checks the remote offset.
class UnboundedHybridLogicalClock {
 public:
  explicit UnboundedHybridLogicalClock(core::HlcOptions options)
      : clock_(core::HlcOptions{UINT64_MAX, options.offset_policy}) {}
  core::HlcTimestamp now(std::uint64_t reading_us) { return clock_.now(reading_us); }
  core::HlcObservation observe(const core::HlcTimestamp& remote, std::uint64_t reading_us) {
    return clock_.observe(remote, reading_us);
  }
  core::HlcTimestamp current() const { return clock_.current(); }

 private:
  core::HybridLogicalClock clock_;
};

TEST(BrokenLattices, UnboundedHlcExceedsMaximumOffset) {
  EXPECT_FALSE(hlc_monotonic_and_bounded<UnboundedHybridLogicalClock>(core::HlcOffsetPolicy::reject,
                                                                      "unbounded HLC"));
}

// Hybrid logical clock without the logical counter: two events in one
// microsecond get the same timestamp.
class CounterlessHybridLogicalClock {
 public:
  explicit CounterlessHybridLogicalClock(core::HlcOptions options) : options_(options) {}
  core::HlcTimestamp now(std::uint64_t reading_us) {
    last_ = core::HlcTimestamp{std::max(last_.physical_us, reading_us), 0};
    return last_;
  }
  core::HlcObservation observe(const core::HlcTimestamp& remote, std::uint64_t reading_us) {
    if (remote.physical_us > reading_us + options_.max_offset_us) {
      return core::HlcObservation{core::HlcObserveStatus::rejected, last_};
    }
    last_ = core::HlcTimestamp{std::max({last_.physical_us, remote.physical_us, reading_us}), 0};
    return core::HlcObservation{core::HlcObserveStatus::accepted, last_};
  }
  core::HlcTimestamp current() const { return last_; }

 private:
  core::HlcOptions options_;
  core::HlcTimestamp last_;
};

TEST(BrokenLattices, CounterlessHlcIsNotMonotonic) {
  EXPECT_FALSE(hlc_monotonic_and_bounded<CounterlessHybridLogicalClock>(
      core::HlcOffsetPolicy::reject, "counterless HLC"));
}

}  // namespace
}  // namespace crdtsim::testing
