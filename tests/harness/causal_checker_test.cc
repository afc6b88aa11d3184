// The causal-consistency checker on hand-built histories: a causally
// consistent history passes; a read missing the causal past of what its
// session saw before (on another key), or exposing a write before an update
// of its key that the write depends on, or an MGET returning a write without
// its past on another key it read, fails with the evidence; writes whose
// replies were lost contribute no past (no false alarm).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "harness/checkers/causal.h"

namespace crdtsim::harness {
namespace {

using core::CommandKind;
using core::Dot;

core::CausalContext context_of(std::initializer_list<Dot> dots) {
  core::CausalContext context;
  for (const Dot& dot : dots) {
    context.add(dot);
  }
  return context;
}

class CausalBuilder {
 public:
  // An ok operation of `session` on `key`, invoked at `at_ms` and completed
  // 1 ms later; `created` is the write's update dot (none for a read).
  CausalBuilder& op(std::uint64_t session, CommandKind kind, const std::string& key,
                    std::uint64_t at_ms, std::initializer_list<Dot> versions,
                    std::initializer_list<Dot> created = {}, OpOutcome outcome = OpOutcome::ok) {
    Operation& operation = add(session, kind, at_ms, outcome);
    operation.command.keys = {key};
    if (outcome == OpOutcome::ok) {
      operation.reply = core::Reply{};
      operation.reply->metadata.tracking.mut().versions = {{key, context_of(versions)}};
      if (created.size() > 0) {
        operation.reply->metadata.tracking.mut().updates = {{key, context_of(created)}};
      }
    }
    return *this;
  }
  // An ok MGET of `session` at `at_ms` returning, for each key, the state
  // with those versions.
  CausalBuilder& mget(
      std::uint64_t session, std::uint64_t at_ms,
      std::initializer_list<std::pair<std::string, std::initializer_list<Dot>>> states) {
    Operation& operation = add(session, CommandKind::mget, at_ms, OpOutcome::ok);
    operation.reply = core::Reply{};
    for (const auto& [key, versions] : states) {
      operation.command.keys.push_back(key);
      operation.reply->metadata.tracking.mut().versions.emplace_back(key, context_of(versions));
    }
    return *this;
  }
  Verdict check() const { return check_causal_consistency(history_); }

 private:
  // A new operation of `session`, invoked at `at_ms`, completed 1 ms later.
  Operation& add(std::uint64_t session, CommandKind kind, std::uint64_t at_ms, OpOutcome outcome) {
    Operation& operation = history_.operations.emplace_back();
    operation.id = history_.operations.size() - 1;
    operation.session = session;
    operation.client = static_cast<std::uint32_t>(session);
    operation.invoke_us = at_ms * 1000;
    operation.complete_us = operation.invoke_us + 1000;
    operation.command.kind = kind;
    operation.outcome = outcome;
    return operation;
  }

  History history_;
};

TEST(CausalConsistency, ACausallyConsistentHistoryIsValid) {
  CausalBuilder builder;
  // Session 1 writes a (r0:1), then b (r1:1) having seen a. Session 2 reads
  // b and then reads a at a replica that has a.
  builder.op(1, CommandKind::set, "a", 0, {{0, 1}}, {{0, 1}})
      .op(1, CommandKind::set, "b", 2, {{1, 1}}, {{1, 1}})
      .op(2, CommandKind::get, "b", 4, {{1, 1}})
      .op(2, CommandKind::get, "a", 6, {{0, 1}});
  const Verdict verdict = builder.check();
  EXPECT_EQ(verdict.validity, Validity::valid) << verdict.explanation;
}

TEST(CausalConsistency, ReadMissingTheCausalPastOfAWriteSeenOnAnotherKeyIsInvalid) {
  CausalBuilder builder;
  builder.op(1, CommandKind::set, "a", 0, {{0, 1}}, {{0, 1}})
      .op(1, CommandKind::set, "b", 2, {{1, 1}}, {{1, 1}})
      .op(2, CommandKind::get, "b", 4, {{1, 1}})
      .op(2, CommandKind::get, "a", 6, {});  // a replica without r0:1
  const Verdict verdict = builder.check();
  ASSERT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("op 3"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("'a'"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("r0:1"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("op 0"), std::string::npos)
      << "names the write that is missing: " << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("op 2"), std::string::npos)
      << "names the observation that made it required: " << verdict.explanation;
}

TEST(CausalConsistency, WriteExposedBeforeAnUpdateOfItsKeyItDependsOnIsInvalid) {
  CausalBuilder builder;
  // Session 1 increments c at r0 (r0:1), then again at r1 having seen it
  // (r1:1). Session 2 reads c at a replica that applied r1:1 but not r0:1.
  builder.op(1, CommandKind::incr, "c", 0, {{0, 1}}, {{0, 1}})
      .op(1, CommandKind::incr, "c", 2, {{0, 1}, {1, 1}}, {{1, 1}})
      .op(2, CommandKind::get, "c", 4, {{1, 1}});
  const Verdict verdict = builder.check();
  ASSERT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("without update r0:1"), std::string::npos)
      << verdict.explanation;
}

TEST(CausalConsistency, MgetReturningAWriteWithoutItsPastOnAnotherKeyItReadIsInvalid) {
  CausalBuilder builder;
  // Session 1 writes a (r0:1), then b (r1:1) having seen a. Session 2's
  // first operation, one MGET of a and b, returns b's write but a state of
  // a without r0:1: not a causal snapshot.
  builder.op(1, CommandKind::set, "a", 0, {{0, 1}}, {{0, 1}})
      .op(1, CommandKind::set, "b", 2, {{1, 1}}, {{1, 1}})
      .mget(2, 4, {{"a", {}}, {"b", {{1, 1}}}});
  const Verdict verdict = builder.check();
  ASSERT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("op 2"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("without update r0:1 of key 'a', which the same MGET read"),
            std::string::npos)
      << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("made by op 0"), std::string::npos)
      << "names the write that is missing: " << verdict.explanation;
}

TEST(CausalConsistency, MgetReturningAWriteWithItsPastOnEveryKeyIsValid) {
  CausalBuilder builder;
  builder.op(1, CommandKind::set, "a", 0, {{0, 1}}, {{0, 1}})
      .op(1, CommandKind::set, "b", 2, {{1, 1}}, {{1, 1}})
      .mget(2, 4, {{"a", {{0, 1}}}, {"b", {{1, 1}}}})
      // An older snapshot, before b's write, is a causal snapshot too.
      .mget(3, 4, {{"a", {}}, {"b", {}}});
  const Verdict verdict = builder.check();
  EXPECT_EQ(verdict.validity, Validity::valid) << verdict.explanation;
}

TEST(CausalConsistency, ConcurrentWritesNeedNotBeSeenTogether) {
  CausalBuilder builder;
  // Two sessions write a concurrently; a third sees only one of them.
  builder.op(1, CommandKind::sadd, "a", 0, {{0, 1}}, {{0, 1}})
      .op(2, CommandKind::sadd, "a", 0, {{1, 1}}, {{1, 1}})
      .op(3, CommandKind::smembers, "a", 4, {{1, 1}});
  EXPECT_EQ(builder.check().validity, Validity::valid);
}

TEST(CausalConsistency, AWriteWithoutAReplyContributesNoPast) {
  CausalBuilder builder;
  // Session 1's write of a timed out (indeterminate): its dot is unknown, so
  // a write of b after it depends on nothing known, and a reader of b may
  // miss a.
  builder.op(1, CommandKind::set, "a", 0, {}, {}, OpOutcome::indeterminate)
      .op(1, CommandKind::set, "b", 2, {{1, 1}}, {{1, 1}})
      .op(2, CommandKind::get, "b", 4, {{1, 1}})
      .op(2, CommandKind::get, "a", 6, {});
  EXPECT_EQ(builder.check().validity, Validity::valid);
}

}  // namespace
}  // namespace crdtsim::harness
