// The state checkers on hand-built runs: each is shown accepting a correct
// run and rejecting a deliberately broken one, naming the evidence.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "harness/checkers/ordered_lookup.h"
#include "harness/checkers/state_checkers.h"

namespace crdtsim::harness {
namespace {

using core::CommandKind;

core::Command make(CommandKind kind, std::vector<std::string> keys,
                   std::vector<std::string> args = {}, std::int64_t amount = 0) {
  core::Command command;
  command.kind = kind;
  command.keys = std::move(keys);
  command.args = std::move(args);
  command.amount = amount;
  return command;
}

// Builds a run whose history is made of commands executed for real on a
// "truth" keyspace; the final replica states are chosen by each test.
class RunBuilder {
 public:
  RunBuilder() {
    output_.replicas.resize(2);
    output_.replicas[1].id = 1;
  }

  // Executes at the truth (and, if `reaches_replicas`, at both replicas) and
  // records the operation. Indeterminate ops keep no reply.
  void op(const core::Command& command, OpOutcome outcome, std::uint64_t invoke_us,
          std::uint64_t complete_us, bool reaches_replicas = true) {
    Operation operation;
    operation.id = output_.history.operations.size();
    operation.invoke_us = invoke_us;
    operation.complete_us = complete_us;
    operation.command = command;
    operation.outcome = outcome;
    if (outcome != OpOutcome::fail && reaches_replicas) {
      core::Execution execution = truth_.execute(command, 0, clock_);
      for (auto& replica : output_.replicas) {
        for (const auto& [key, delta] : execution.deltas) {
          replica.keyspace.apply(key, delta);
          output_.placement[key] = {0, 1};
        }
      }
      if (outcome == OpOutcome::ok) {
        operation.reply = execution.reply;
      }
    } else if (outcome == OpOutcome::ok) {
      // Acknowledged but lost: its reply comes from a replica whose state
      // never reaches the others.
      operation.reply = elsewhere_.execute(command, 9, elsewhere_clock_).reply;
    }
    output_.history.operations.push_back(std::move(operation));
  }

  // Executes only at replica `replica` (a divergent or invented state).
  void only_at(core::ReplicaId replica, const core::Command& command) {
    core::Keyspace& keyspace = output_.replicas[replica].keyspace;
    core::Execution execution = keyspace.execute(command, 7, clock_);
    for (const auto& [key, delta] : execution.deltas) {
      output_.placement[key] = {0, 1};
      if (replica == 0) {
        output_.replicas[1].keyspace.apply(key, delta);
      }
    }
  }

  // The state both replicas hold of `key` (they agree in these tests).
  core::KeyState state(const std::string& key) const {
    const core::KeyState* found = output_.replicas[0].keyspace.find(key);
    return found == nullptr ? core::KeyState{} : *found;
  }
  // Both replicas hold `state` of `key` instead (nothing, if empty): what
  // tombstone GC leaves, or a broken store's state.
  void replace(const std::string& key, const core::KeyState& state) {
    for (auto& replica : output_.replicas) {
      replica.keyspace.erase(key);
      replica.keyspace.apply(key, state);
    }
    if (state.empty()) {
      output_.placement.erase(key);
    }
  }

  RunOutput& output() { return output_; }

 private:
  RunOutput output_;
  core::Keyspace truth_;
  core::LamportClock clock_;
  core::Keyspace elsewhere_;
  core::LamportClock elsewhere_clock_{1000};
};

// Keys asked for in increasing order, held or not, before the first key,
// between keys, repeated, and past the last: each finds what a search would.
TEST(OrderedLookup, FindsWhatASearchFindsForKeysInOrder) {
  const std::map<std::string, int> map = {{"b", 1}, {"d", 2}, {"da", 3}, {"f", 4}};
  OrderedLookup<std::map<std::string, int>> lookup(map);
  for (const std::string key : {"a", "b", "c", "d", "d", "da", "db", "f", "g"}) {
    const auto found = map.find(key);
    const int* expected = found == map.end() ? nullptr : &found->second;
    EXPECT_EQ(lookup.find(key), expected) << key;
  }
}

TEST(Convergence, IdenticalReplicasAreValid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"k"}, {"v"}), OpOutcome::ok, 0, 10);
  EXPECT_EQ(check_convergence(run.output()).validity, Validity::valid);
}

TEST(Convergence, DivergentReplicasAreInvalidAndNamed) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"k"}, {"v"}), OpOutcome::ok, 0, 10);
  run.only_at(1, make(CommandKind::sadd, {"s"}, {"x"}));
  const Verdict verdict = check_convergence(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("'s'"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("set {x}"), std::string::npos) << verdict.explanation;
}

TEST(Convergence, DownReplicaMakesItUnknown) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"k"}, {"v"}), OpOutcome::ok, 0, 10);
  run.output().replicas[1].up = false;
  EXPECT_EQ(check_convergence(run.output()).validity, Validity::unknown);
}

TEST(Liveness, ConvergedInTimeIsValidAndReportsTheTime) {
  RunOutput output;
  output.settle_started_us = 1'000'000;
  output.converged_us = 1'250'000;
  const Verdict verdict = check_liveness(output, 5'000'000);
  EXPECT_EQ(verdict.validity, Validity::valid);
  EXPECT_NE(verdict.explanation.find("250 ms"), std::string::npos);
}

TEST(Liveness, NeverConvergedIsInvalid) {
  RunOutput output;
  output.settle_started_us = 1'000'000;
  EXPECT_EQ(check_liveness(output, 5'000'000).validity, Validity::invalid);
  output.converged_us = 9'000'000;
  EXPECT_EQ(check_liveness(output, 5'000'000).validity, Validity::invalid);
}

TEST(NoLostWrites, CounterWithinTheIndeterminateRange) {
  RunBuilder run;
  run.op(make(CommandKind::incrby, {"c"}, {}, 5), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::incrby, {"c"}, {}, 3), OpOutcome::indeterminate, 20, 30);
  run.op(make(CommandKind::incrby, {"c"}, {}, 2), OpOutcome::indeterminate, 40, 50, false);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
}

TEST(NoLostWrites, CounterMissingAnAcknowledgedIncrementIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::incrby, {"c"}, {}, 5), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::incrby, {"c"}, {}, 4), OpOutcome::ok, 20, 30, false);
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("counter 'c' converged to 5"), std::string::npos)
      << verdict.explanation;
}

TEST(NoLostWrites, CounterWithInventedIncrementsIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::incrby, {"c"}, {}, 5), OpOutcome::ok, 0, 10);
  run.only_at(0, make(CommandKind::incrby, {"c"}, {}, 5));
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::invalid);
}

TEST(NoLostWrites, SetLosingAnUnobservedAddIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::srem, {"s"}, {"a"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::sadd, {"s"}, {"b"}), OpOutcome::ok, 5, 8);
  run.op(make(CommandKind::sadd, {"s"}, {"a"}), OpOutcome::ok, 20, 30, false);
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("lost 'a'"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, SetAddThatAConcurrentRemoveMayHaveObservedMayBeGone) {
  RunBuilder run;
  run.op(make(CommandKind::sadd, {"s"}, {"a", "b"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::srem, {"s"}, {"a"}), OpOutcome::indeterminate, 5, 40);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
}

TEST(NoLostWrites, SetWithAnElementNeverAddedIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::sadd, {"s"}, {"a"}), OpOutcome::ok, 0, 10);
  run.only_at(0, make(CommandKind::sadd, {"s"}, {"ghost"}));
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("'ghost'"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, RegisterKeepsTheGreatestAcknowledgedWrite) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::set, {"r"}, {"two"}), OpOutcome::ok, 20, 30);
  run.op(make(CommandKind::set, {"r"}, {"three"}), OpOutcome::indeterminate, 40, 50);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
}

TEST(NoLostWrites, RegisterLosingTheGreatestAcknowledgedWriteIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::set, {"r"}, {"two"}), OpOutcome::ok, 20, 30, false);
  // The lost write still needs a reply with its timestamp: execute it on a
  // copy of the truth that the replicas never see.
  core::Keyspace elsewhere;
  core::LamportClock clock(100);
  auto& lost = run.output().history.operations.back();
  lost.reply = elsewhere.execute(lost.command, 3, clock).reply;
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("lost a write"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, RegisterHoldingAValueNobodyWroteIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  run.only_at(0, make(CommandKind::set, {"r"}, {"forged"}));
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("'forged'"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, GSetAndMapChecks) {
  RunBuilder run;
  run.op(make(CommandKind::gsadd, {"g"}, {"a"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::hset, {"h"}, {"f", "1"}), OpOutcome::ok, 0, 10);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
  run.op(make(CommandKind::gsadd, {"g"}, {"b"}), OpOutcome::ok, 20, 30, false);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::invalid);

  RunBuilder maps;
  maps.op(make(CommandKind::hset, {"h"}, {"f", "1"}), OpOutcome::ok, 0, 10);
  maps.only_at(0, make(CommandKind::hset, {"h"}, {"f", "forged"}));
  EXPECT_EQ(check_no_lost_writes(maps.output()).validity, Validity::invalid);
}

// ---- what tombstone GC may leave, and what it must not --------------------

TEST(NoLostWrites, CollectedRegisterWhoseLastWriteWasADeleteIsValid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::del, {"r"}), OpOutcome::ok, 20, 30);
  run.replace("r", core::KeyState{});
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
}

TEST(NoLostWrites, CollectedRegisterWhoseLastWriteWasAValueIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::del, {"r"}), OpOutcome::ok, 20, 30);
  run.op(make(CommandKind::set, {"r"}, {"two"}), OpOutcome::ok, 40, 50);
  run.replace("r", core::KeyState{});
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("no replica holds the key"), std::string::npos)
      << verdict.explanation;
}

TEST(NoLostWrites, RegisterValueComingBackAfterAnAcknowledgedDeleteIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::set, {"r"}, {"one"}), OpOutcome::ok, 0, 10);
  const core::KeyState before_delete = run.state("r");
  run.op(make(CommandKind::del, {"r"}), OpOutcome::ok, 20, 30);
  run.replace("r", before_delete);  // the tombstone collected, the old value back
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("op #1 DEL"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, SetElementComingBackAfterAnAcknowledgedRemoveIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::sadd, {"s"}, {"a", "b"}), OpOutcome::ok, 0, 10);
  const core::KeyState before_remove = run.state("s");
  run.op(make(CommandKind::srem, {"s"}, {"a"}), OpOutcome::ok, 20, 30);
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
  run.replace("s", before_remove);  // the remove's context forgotten
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("came back"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, CollectedMapFieldNeedsARemoval) {
  RunBuilder run;
  run.op(make(CommandKind::hset, {"h"}, {"f", "1", "g", "2"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::hdel, {"h"}, {"f"}), OpOutcome::ok, 20, 30);
  const core::KeyState with_tombstone = run.state("h");
  core::LwwMap live;
  live.merge(
      live.set_field("g", "2", with_tombstone.value<core::LwwMap>()->entries().at("g").timestamp));
  const core::LwwTimestamp claim = with_tombstone.slot(core::ValueType::lww_map)->claim;
  run.replace("h", core::KeyState::of<core::LwwMap>(claim, live));
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);

  // The field that was never removed must not go missing.
  run.replace("h", core::KeyState::of<core::LwwMap>(claim, core::LwwMap{}));
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("field 'g' lost a write"), std::string::npos)
      << verdict.explanation;
}

// Tombstone GC collects a dead set or counter whole: an absent key must hold
// what an empty one would.
TEST(NoLostWrites, CollectedSetMustHaveHadEveryAcknowledgedAddRemoved) {
  RunBuilder run;
  run.op(make(CommandKind::sadd, {"s"}, {"a", "b"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::srem, {"s"}, {"a", "b"}), OpOutcome::ok, 20, 30);
  run.replace("s", core::KeyState{});
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);

  run.op(make(CommandKind::sadd, {"s"}, {"c"}), OpOutcome::ok, 40, 50);
  run.replace("s", core::KeyState{});
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("lost 'c'"), std::string::npos) << verdict.explanation;
}

TEST(NoLostWrites, CollectedCounterMustHaveBeenDeleted) {
  RunBuilder run;
  run.op(make(CommandKind::incr, {"n"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::decr, {"n"}), OpOutcome::ok, 20, 30);
  run.replace("n", core::KeyState{});
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid) << "a counter summing to 0 still exists";
  EXPECT_NE(verdict.explanation.find("never deleted"), std::string::npos) << verdict.explanation;
  run.op(make(CommandKind::del, {"n"}), OpOutcome::ok, 40, 50);
  run.replace("n", core::KeyState{});
  EXPECT_EQ(check_no_lost_writes(run.output()).validity, Validity::valid);
}

// A writer that forgot the dots of a collected set (no dot floor) issues one
// again: two acknowledged SADDs report the same new dot.
TEST(NoLostWrites, ADotIssuedTwiceIsInvalid) {
  RunBuilder run;
  run.op(make(CommandKind::sadd, {"s"}, {"a"}), OpOutcome::ok, 0, 10);
  run.op(make(CommandKind::srem, {"s"}, {"a"}), OpOutcome::ok, 20, 30);
  core::Keyspace forgetful;  // the writer after collecting "s", without a floor
  core::LamportClock clock(100);
  Operation again;
  again.id = run.output().history.operations.size();
  again.invoke_us = 40;
  again.complete_us = 50;
  again.command = make(CommandKind::sadd, {"s"}, {"b"});
  again.outcome = OpOutcome::ok;
  again.reply = forgetful.execute(again.command, 0, clock).reply;
  run.output().history.operations.push_back(again);
  const Verdict verdict = check_no_lost_writes(run.output());
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("issued twice"), std::string::npos) << verdict.explanation;
}

}  // namespace
}  // namespace crdtsim::harness
