// The checkers on histories of multi-value registers (the causal level),
// made by real keyspaces so that replies carry what the store reports: a
// history with siblings is valid for no_lost_writes and causal_consistency;
// a converged state or a read that drops a sibling, or that holds or
// returns a value nobody wrote, or that brings a replaced write back, is
// invalid and names the evidence.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/write_clock.h"
#include "core/store/keyspace.h"
#include "harness/checkers/causal.h"
#include "harness/checkers/state_checkers.h"

namespace crdtsim::harness {
namespace {

using core::CommandKind;
using Deltas = std::vector<std::pair<std::string, core::KeyState>>;

core::Command make(CommandKind kind, std::vector<std::string> keys,
                   std::vector<std::string> args = {}) {
  core::Command command;
  command.kind = kind;
  command.keys = std::move(keys);
  command.args = std::move(args);
  return command;
}

// Replicas 0..2 at the causal level; each session's operations run at the
// replica named, deltas move only when a test delivers them, and the final
// state (replicas 0 and 1 of the run) is the join of every replica's.
class MvRun {
 public:
  MvRun() : nodes_(3) {
    output_.replicas.resize(2);
    output_.replicas[1].id = 1;
  }

  // An ok operation of `session` at `replica`, 1 ms long, `at_ms` after 0.
  const Operation& op(std::uint64_t session, core::ReplicaId replica, const core::Command& command,
                      std::uint64_t at_ms) {
    Node& node = nodes_[replica];
    const core::ExecuteOptions options{.track_versions = true, .multi_value_registers = true};
    core::Execution execution = node.keyspace.execute(command, replica, node.clock, options);
    node.log.insert(node.log.end(), execution.deltas.begin(), execution.deltas.end());
    Operation& operation = output_.history.operations.emplace_back();
    operation.id = output_.history.operations.size() - 1;
    operation.session = session;
    operation.client = static_cast<std::uint32_t>(session);
    operation.replica = replica;
    operation.invoke_us = at_ms * 1000;
    operation.complete_us = operation.invoke_us + 1000;
    operation.command = command;
    operation.outcome = OpOutcome::ok;
    operation.reply = std::move(execution.reply);
    return operation;
  }
  // The same operation, whose reply never came (indeterminate).
  void lost_reply(std::uint64_t session, core::ReplicaId replica, const core::Command& command,
                  std::uint64_t at_ms) {
    op(session, replica, command, at_ms);
    output_.history.operations.back().outcome = OpOutcome::indeterminate;
    output_.history.operations.back().reply.reset();
  }
  void deliver(core::ReplicaId from, core::ReplicaId to) {
    for (const auto& [key, delta] : nodes_[from].log) {
      nodes_[to].keyspace.apply(key, delta);
    }
  }
  // Every replica's state joined into the run's two final replicas.
  RunOutput& converge() {
    for (auto& replica : output_.replicas) {
      for (const Node& node : nodes_) {
        for (const auto& [key, state] : node.keyspace) {
          replica.keyspace.apply(key, state);
          output_.placement[key] = {0, 1};
        }
      }
    }
    return output_;
  }
  // The final state of `key` with `edit` applied (a broken store's result);
  // call after converge().
  template <class Edit>
  void edit_final(const std::string& key, Edit edit) {
    for (auto& replica : output_.replicas) {
      core::KeyState state = *replica.keyspace.find(key);
      edit(state);
      replica.keyspace.erase(key);
      replica.keyspace.apply(key, state);
    }
  }
  Operation& last() { return output_.history.operations.back(); }
  RunOutput& output() { return output_; }
  const History& history() const { return output_.history; }

 private:
  struct Node {
    core::Keyspace keyspace;
    core::WriteClock clock;
    Deltas log;
  };
  std::vector<Node> nodes_;
  RunOutput output_;
};

// Sessions 1 and 2 write k concurrently at replicas 0 and 1; after an
// exchange session 3 reads both siblings at replica 2.
MvRun siblings_run() {
  MvRun run;
  run.op(1, 0, make(CommandKind::set, {"k"}, {"a"}), 0);
  run.op(2, 1, make(CommandKind::set, {"k"}, {"b"}), 0);
  run.deliver(0, 2);
  run.deliver(1, 2);
  run.op(3, 2, make(CommandKind::get, {"k"}), 5);
  return run;
}

TEST(MvRegisterCheckers, SiblingsOfConcurrentWritesAreValid) {
  MvRun run = siblings_run();
  EXPECT_EQ(run.last().reply->value, core::ReplyValue::of_list({"a", "b"}));
  const Verdict causal = check_causal_consistency(run.history());
  EXPECT_EQ(causal.validity, Validity::valid) << causal.explanation;
  const Verdict lost = check_no_lost_writes(run.converge());
  EXPECT_EQ(lost.validity, Validity::valid) << lost.explanation;
}

TEST(MvRegisterCheckers, AWriteReplacingTheSiblingsItSawIsValid) {
  MvRun run = siblings_run();
  run.op(3, 2, make(CommandKind::set, {"k"}, {"c"}), 7);
  run.deliver(1, 0);  // c's causal past first, as the store's buffer would
  run.deliver(2, 0);
  run.op(1, 0, make(CommandKind::get, {"k"}), 9);
  EXPECT_EQ(run.last().reply->value, core::ReplyValue::of_text("c"));
  const Verdict causal = check_causal_consistency(run.history());
  EXPECT_EQ(causal.validity, Validity::valid) << causal.explanation;
  const Verdict lost = check_no_lost_writes(run.converge());
  EXPECT_EQ(lost.validity, Validity::valid) << lost.explanation;
}

TEST(MvRegisterCheckers, ConvergedStateDroppingASiblingIsInvalid) {
  MvRun run = siblings_run();
  run.converge();
  run.edit_final("k", [](core::KeyState& state) {
    core::MvRegister& reg = state.mutable_value<core::MvRegister>();
    reg.remove(reg.entries().begin()->first);  // a's sibling, silently
  });
  const Verdict lost = check_no_lost_writes(run.output());
  ASSERT_EQ(lost.validity, Validity::invalid);
  EXPECT_NE(lost.explanation.find("lost a write"), std::string::npos) << lost.explanation;
  EXPECT_NE(lost.explanation.find("'a'"), std::string::npos) << lost.explanation;
}

TEST(MvRegisterCheckers, ConvergedStateHoldingAnInventedValueIsInvalid) {
  MvRun run = siblings_run();
  run.converge();
  run.edit_final("k", [](core::KeyState& state) {
    core::MvRegister invented;
    invented.write(core::Dot{7, 1}, "zzz", core::CausalContext());
    state.merge(core::KeyState::of<core::MvRegister>(core::LwwTimestamp{}, invented));
  });
  const Verdict lost = check_no_lost_writes(run.output());
  ASSERT_EQ(lost.validity, Validity::invalid);
  EXPECT_NE(lost.explanation.find("'zzz'"), std::string::npos) << lost.explanation;
  EXPECT_NE(lost.explanation.find("no write in the history"), std::string::npos)
      << lost.explanation;
}

TEST(MvRegisterCheckers, AReplacedSiblingComingBackIsInvalid) {
  MvRun run = siblings_run();
  run.op(3, 2, make(CommandKind::set, {"k"}, {"c"}), 7);  // replaces a and b
  run.converge();
  run.edit_final("k", [](core::KeyState& state) {
    core::MvRegister zombie;  // a again, as if c's context had been lost
    zombie.write(core::Dot{0, 1}, "a", core::CausalContext());
    core::KeyState fresh;
    fresh.merge(core::KeyState::of<core::MvRegister>(state.slots().begin()->second.claim, zombie));
    state = fresh;
  });
  const Verdict lost = check_no_lost_writes(run.output());
  ASSERT_EQ(lost.validity, Validity::invalid);
  EXPECT_NE(lost.explanation.find("came back"), std::string::npos) << lost.explanation;
}

TEST(MvRegisterCheckers, AnIndeterminateWriteMayHaveReplacedASibling) {
  MvRun run = siblings_run();
  run.lost_reply(3, 2, make(CommandKind::set, {"k"}, {"c"}), 7);
  const Verdict lost = check_no_lost_writes(run.converge());
  EXPECT_EQ(lost.validity, Validity::valid) << lost.explanation;
}

TEST(MvRegisterCheckers, AReadDroppingASiblingItsStateHoldsIsInvalid) {
  MvRun run = siblings_run();
  core::Reply& reply = *run.last().reply;
  reply.value = core::ReplyValue::of_text("b");
  core::CausalContext only_b;
  only_b.add(core::Dot{1, 1});
  reply.metadata.tracking.mut().siblings = {{"k", only_b}};
  const Verdict causal = check_causal_consistency(run.history());
  ASSERT_EQ(causal.validity, Validity::invalid);
  EXPECT_NE(causal.explanation.find("dropped sibling r0:1"), std::string::npos)
      << causal.explanation;
}

TEST(MvRegisterCheckers, AReadReturningAnInventedValueIsInvalid) {
  MvRun run = siblings_run();
  run.last().reply->value = core::ReplyValue::of_list({"a", "b", "zzz"});
  const Verdict causal = check_causal_consistency(run.history());
  ASSERT_EQ(causal.validity, Validity::invalid);
  EXPECT_NE(causal.explanation.find("'zzz'"), std::string::npos) << causal.explanation;
}

TEST(MvRegisterCheckers, AReadReturningAReplacedSiblingIsInvalid) {
  MvRun run = siblings_run();
  run.op(3, 2, make(CommandKind::set, {"k"}, {"c"}), 7);
  run.deliver(1, 0);  // c's causal past first, as the store's buffer would
  run.deliver(2, 0);
  run.op(1, 0, make(CommandKind::get, {"k"}), 9);
  core::Reply& reply = *run.last().reply;
  reply.value = core::ReplyValue::of_list({"a", "c"});
  core::CausalContext with_a = *core::find_key_versions(reply.metadata.tracking->siblings, "k");
  with_a.add(core::Dot{0, 1});
  reply.metadata.tracking.mut().siblings = {{"k", with_a}};
  const Verdict causal = check_causal_consistency(run.history());
  ASSERT_EQ(causal.validity, Validity::invalid);
  EXPECT_NE(causal.explanation.find("had observed and replaced"), std::string::npos)
      << causal.explanation;
}

}  // namespace
}  // namespace crdtsim::harness
