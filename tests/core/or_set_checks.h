#pragma once
// Property checks for OR-Sets, shared by the real ORSet's property test and by
// the broken OR-Sets that prove each check can fail.
//
// A check is generic over the set type S, which must offer:
//   S add(ReplicaId, std::string_view); S remove(std::string_view); S clear();
//   void merge(const S&); std::vector<std::string> elements() const;
//   operator==, and a canonical encoding (core::CanonicallyEncodable).
// Checks run op scripts: random adds, removes and clears at 2-4 replicas with
// random full-state merges in between. Each `check_*` function is a RapidCheck
// property body (it uses RC_ASSERT).

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/bytes.h"
#include "core/types.h"
#include "tests/core/lattice_laws.h"

namespace crdtsim::testing::or_set {

// A few names so that scripts collide often; one is too long for the small
// string buffer, so heap-held element strings are exercised too.
inline constexpr std::array<std::string_view, 5> kElementNames = {
    "a", "b", "c", "d", "an-element-name-longer-than-the-small-string-buffer"};
inline constexpr std::size_t kReplicaCountMax = 4;

enum class OpKind : std::uint8_t { kAdd, kRemove, kClear, kMerge };

// One step of a script. `replica` acts; for kMerge it merges `peer`'s state.
// Indices are reduced modulo the script's replica count.
struct Op {
  OpKind kind = OpKind::kAdd;
  std::size_t replica = 0;
  std::size_t peer = 0;
  std::size_t element = 0;
};

struct Script {
  std::size_t replica_count = 2;
  std::vector<Op> ops;
};

inline std::ostream& operator<<(std::ostream& out, const Op& op) {
  static constexpr std::array<const char*, 4> kNames = {"add", "remove", "clear", "merge"};
  out << kNames.at(static_cast<std::size_t>(op.kind)) << "@" << op.replica;
  if (op.kind == OpKind::kMerge) {
    out << "<-" << op.peer;
  } else if (op.kind != OpKind::kClear) {
    out << "(" << kElementNames.at(op.element % kElementNames.size()) << ")";
  }
  return out;
}

inline std::ostream& operator<<(std::ostream& out, const Script& script) {
  // Indices as the run uses them (reduced modulo the replica count).
  const std::size_t count = std::max<std::size_t>(script.replica_count, 1);
  out << script.replica_count << " replicas:";
  for (Op op : script.ops) {
    op.replica %= count;
    op.peer %= count;
    out << " " << op;
  }
  return out;
}

inline rc::Gen<Op> ops() {
  return rc::gen::build<Op>(
      rc::gen::set(
          &Op::kind,
          rc::gen::weightedElement<OpKind>(
              {{9, OpKind::kAdd}, {5, OpKind::kRemove}, {1, OpKind::kClear}, {6, OpKind::kMerge}})),
      rc::gen::set(&Op::replica, rc::gen::inRange<std::size_t>(0, kReplicaCountMax)),
      rc::gen::set(&Op::peer, rc::gen::inRange<std::size_t>(0, kReplicaCountMax)),
      rc::gen::set(&Op::element, rc::gen::inRange<std::size_t>(0, kElementNames.size())));
}

// Scripts are drawn at full size from the first test on (RapidCheck otherwise
// ramps ranges up with the test number, so early scripts would all be one
// replica adding "a"): even a short run then explores interleavings that
// catch a broken merge. Lengths are in [0, 100]; failures shrink by dropping
// ops.
inline constexpr int kFullSize = 100;

inline rc::Gen<Script> scripts() {
  return rc::gen::resize(
      kFullSize, rc::gen::build<Script>(
                     rc::gen::set(&Script::replica_count,
                                  rc::gen::inRange<std::size_t>(2, kReplicaCountMax + 1)),
                     rc::gen::set(&Script::ops, rc::gen::container<std::vector<Op>>(ops()))));
}

// The reference model, independent of any implementation: every add gets an
// id; a replica knows a set of adds and a set of adds that some remove it knows
// of observed. An element is present iff some known add of it is not removed.
class Model {
 public:
  explicit Model(std::size_t replica_count) : replicas_(replica_count) {}

  void add(std::size_t replica, std::size_t element) {
    replicas_.at(replica).known.insert(add_elements_.size());
    add_elements_.push_back(element);
  }
  void remove(std::size_t replica, std::size_t element) {
    Replica& state = replicas_.at(replica);
    for (const std::size_t id : state.known) {
      if (add_elements_.at(id) == element) {
        state.removed.insert(id);
      }
    }
  }
  void clear(std::size_t replica) {
    Replica& state = replicas_.at(replica);
    state.removed.insert(state.known.begin(), state.known.end());
  }
  void merge(std::size_t replica, std::size_t peer) {
    const Replica source = replicas_.at(peer);
    Replica& target = replicas_.at(replica);
    target.known.insert(source.known.begin(), source.known.end());
    target.removed.insert(source.removed.begin(), source.removed.end());
  }
  // The sorted element names present at `replica`.
  std::vector<std::string> present(std::size_t replica) const {
    return present_in(replicas_.at(replica));
  }
  // The element names present once every replica has merged every other.
  std::vector<std::string> present_after_full_merge() const {
    Replica all;
    for (const Replica& state : replicas_) {
      all.known.insert(state.known.begin(), state.known.end());
      all.removed.insert(state.removed.begin(), state.removed.end());
    }
    return present_in(all);
  }
  // The sorted names of every element ever added.
  std::vector<std::string> ever_added() const {
    std::set<std::string> names;
    for (const std::size_t element : add_elements_) {
      names.emplace(kElementNames.at(element));
    }
    return {names.begin(), names.end()};
  }

 private:
  struct Replica {
    std::set<std::size_t> known;
    std::set<std::size_t> removed;
  };

  std::vector<std::string> present_in(const Replica& state) const {
    std::set<std::string> names;
    for (const std::size_t id : state.known) {
      if (!state.removed.contains(id)) {
        names.emplace(kElementNames.at(add_elements_.at(id)));
      }
    }
    return {names.begin(), names.end()};
  }

  std::vector<std::size_t> add_elements_;  // add id -> element index
  std::vector<Replica> replicas_;
};

// Replicas of S driven by a script, with the model alongside.
template <class S>
class Run {
 public:
  explicit Run(const Script& script)
      : replica_count_(std::clamp<std::size_t>(script.replica_count, 1, kReplicaCountMax)),
        replicas_(replica_count_),
        model_(replica_count_) {}

  // Applies `op` to the replicas and the model. Returns the delta of a
  // mutator, nothing for a merge.
  std::optional<S> apply(const Op& op) {
    const std::size_t replica = op.replica % replica_count_;
    const std::size_t element = op.element % kElementNames.size();
    S& state = replicas_.at(replica);
    switch (op.kind) {
      case OpKind::kAdd:
        model_.add(replica, element);
        return state.add(static_cast<core::ReplicaId>(replica), kElementNames.at(element));
      case OpKind::kRemove:
        model_.remove(replica, element);
        return state.remove(kElementNames.at(element));
      case OpKind::kClear:
        model_.clear(replica);
        return state.clear();
      case OpKind::kMerge: {
        const std::size_t peer = op.peer % replica_count_;
        model_.merge(replica, peer);
        const S source = replicas_.at(peer);
        state.merge(source);
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::size_t replica_count() const { return replica_count_; }
  S& replica(std::size_t index) { return replicas_.at(index % replica_count_); }
  const Model& model() const { return model_; }
  // The join of every replica's state.
  S merged_all() const {
    S all;
    for (const S& state : replicas_) {
      all.merge(state);
    }
    return all;
  }

 private:
  std::size_t replica_count_;
  std::vector<S> replicas_;
  Model model_;
};

template <class S>
Run<S> run_script(const Script& script) {
  Run<S> run(script);
  for (const Op& op : script.ops) {
    run.apply(op);
  }
  return run;
}

// States drawn from random scripts: some replica's state, or the join of all.
template <class S>
rc::Gen<S> states() {
  return rc::gen::map(rc::gen::pair(scripts(), rc::gen::inRange<std::size_t>(0, 6)),
                      [](const std::pair<Script, std::size_t>& drawn) {
                        Run<S> run = run_script<S>(drawn.first);
                        if (drawn.second == 5) {
                          return run.merged_all();
                        }
                        return S(run.replica(drawn.second));
                      });
}

// The join laws on states of ONE run (so dots name the same adds everywhere),
// complementing join_laws_hold, which draws independent states.
template <class S>
void check_join_laws_within_a_run(const Script& script) {
  Run<S> run = run_script<S>(script);
  const S a = run.replica(0);
  const S b = run.replica(1);
  const S c = run.replica(2);
  commutative_law(a, b);
  associative_law(a, b, c);
  idempotent_law(a);
  inflationary_law(a, c);
  round_trip_law(run.merged_all());
}

// Semantics against the model: at every step every replica shows exactly the
// model's elements (a remove removes only the adds it observed; an add
// concurrent with a remove survives); after all replicas merge everything, an
// element is present iff some add of it was observed by no remove, and nothing
// never added appears.
template <class S>
void check_semantics(const Script& script) {
  Run<S> run(script);
  for (const Op& op : script.ops) {
    run.apply(op);
    const std::size_t replica = op.replica % run.replica_count();
    RC_ASSERT(run.replica(replica).elements() == run.model().present(replica));
  }
  const std::vector<std::string> final_elements = run.merged_all().elements();
  RC_ASSERT(final_elements == run.model().present_after_full_merge());
  const std::vector<std::string> added = run.model().ever_added();
  RC_ASSERT(
      std::includes(added.begin(), added.end(), final_elements.begin(), final_elements.end()));
}

// The delta law: merging a mutator's delta into the pre-state yields the
// post-state, for every mutation of the script.
template <class S>
void check_delta_law(const Script& script) {
  Run<S> run(script);
  for (const Op& op : script.ops) {
    const S pre = run.replica(op.replica);
    const std::optional<S> delta = run.apply(op);
    if (delta.has_value()) {
      RC_ASSERT(same_state(merged(pre, *delta), run.replica(op.replica)));
    }
  }
}

// Delta groups: the deltas of a whole script, joined into one batch, apply like
// the deltas one by one in order, into an empty state and into any replica's.
// `Group` has DeltaGroup's interface: add(const S&), apply_to(S&) const and
// joined() const (MergeGroup below is the plain merge-of-deltas form).
template <class S, class Group>
void check_delta_group(const Script& script, std::size_t target) {
  Run<S> run(script);
  std::vector<S> deltas;
  for (const Op& op : script.ops) {
    std::optional<S> delta = run.apply(op);
    if (delta.has_value()) {
      deltas.push_back(std::move(*delta));
    }
  }
  Group group;
  S one_by_one;
  S into_replica = run.replica(target);
  for (const S& delta : deltas) {
    group.add(delta);
    one_by_one.merge(delta);
    into_replica.merge(delta);
  }
  RC_ASSERT(same_state(group.joined(), one_by_one));
  S batch_into_replica = run.replica(target);
  group.apply_to(batch_into_replica);
  RC_ASSERT(same_state(batch_into_replica, into_replica));
}

// The plain form of a delta group: deltas joined by merge.
template <class S>
class MergeGroup {
 public:
  void add(const S& delta) { joined_.merge(delta); }
  void apply_to(S& state) const { state.merge(joined_); }
  const S& joined() const { return joined_; }

 private:
  S joined_;
};

// Copies never share mutable state: mutating a copy (by every kind of
// operation) leaves the original's bytes unchanged, and the other way round.
template <class S>
void check_copy_independence(const Script& script, const Op& op) {
  Run<S> run = run_script<S>(script);
  S& original = run.replica(op.replica);
  const S peer = run.replica(op.peer);
  const core::Bytes original_bytes = core::encode(original);
  S copy = original;
  const std::string_view element = kElementNames.at(op.element % kElementNames.size());
  copy.add(static_cast<core::ReplicaId>(op.replica % kReplicaCountMax), element);
  copy.merge(peer);
  copy.remove(element);
  copy.clear();
  RC_ASSERT(core::encode(original) == original_bytes);
  S second_copy = original;
  const core::Bytes copy_bytes = core::encode(second_copy);
  original.add(static_cast<core::ReplicaId>(op.replica % kReplicaCountMax), element);
  original.clear();
  RC_ASSERT(core::encode(second_copy) == copy_bytes);
}

// Every strict prefix of a valid encoding is rejected with an error.
template <class S>
void check_truncations_rejected(const Script& script) {
  const core::Bytes bytes = core::encode(run_script<S>(script).merged_all());
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    const core::Decoded<S> decoded = core::decode<S>(core::ByteView(bytes.data(), length));
    RC_ASSERT(!decoded);
    RC_ASSERT(!decoded.error.empty());
  }
}

}  // namespace crdtsim::testing::or_set

namespace rc {

template <>
struct Arbitrary<crdtsim::testing::or_set::Script> {
  static Gen<crdtsim::testing::or_set::Script> arbitrary() {
    return crdtsim::testing::or_set::scripts();
  }
};

template <>
struct Arbitrary<crdtsim::testing::or_set::Op> {
  static Gen<crdtsim::testing::or_set::Op> arbitrary() { return crdtsim::testing::or_set::ops(); }
};

}  // namespace rc
