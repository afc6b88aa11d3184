// The session-guarantee checker on hand-built histories: each of the four
// guarantees is shown holding on a correct session and failing, by name and
// with its evidence, on a session that breaks it (by versions, and by LWW
// order for registers). Failed and indeterminate operations observe nothing.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "harness/checkers/sessions.h"

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

class SessionBuilder {
 public:
  // An ok operation of `session` on key "k" returning `versions`.
  SessionBuilder& op(std::uint64_t session, CommandKind kind, core::ReplicaId replica,
                     std::initializer_list<Dot> versions, OpOutcome outcome = OpOutcome::ok) {
    Operation& operation = add(session, kind, replica, outcome);
    if (outcome == OpOutcome::ok) {
      operation.reply->metadata.tracking.mut().versions = {{"k", context_of(versions)}};
    }
    return *this;
  }
  // An ok register write (SET) or read (GET) of "k" at LWW time `time`.
  SessionBuilder& lww(std::uint64_t session, CommandKind kind, core::ReplicaId replica,
                      std::uint64_t time, std::initializer_list<Dot> versions) {
    Operation& operation = add(session, kind, replica, OpOutcome::ok);
    operation.reply->metadata.tracking.mut().versions = {{"k", context_of(versions)}};
    const core::LwwTimestamp timestamp{time, 0, replica};
    if (core::is_write(kind)) {
      operation.reply->metadata.timestamps = {{"k", timestamp}};
    } else {
      operation.reply->metadata.read_timestamps = {{"k", timestamp}};
    }
    return *this;
  }
  std::vector<Verdict> check() const { return check_session_guarantees(history_); }

 private:
  Operation& add(std::uint64_t session, CommandKind kind, core::ReplicaId replica,
                 OpOutcome outcome) {
    Operation& operation = history_.operations.emplace_back();
    operation.id = history_.operations.size() - 1;
    operation.session = session;
    operation.client = static_cast<std::uint32_t>(session);
    operation.replica = replica;
    operation.invoke_us = operation.id * 1000;
    operation.complete_us = operation.invoke_us + 500;
    operation.command.kind = kind;
    operation.command.keys = {"k"};
    if (kind == CommandKind::set) {
      operation.command.args = {"v" + std::to_string(operation.id)};
    }
    operation.outcome = outcome;
    if (outcome == OpOutcome::ok) {
      operation.reply = core::Reply{};
      operation.reply->metadata.executed_by = replica;
    }
    return operation;
  }
  History history_;
};

// The one invalid verdict, by name; every other verdict must be valid.
std::string only_invalid(const std::vector<Verdict>& verdicts) {
  std::string invalid;
  for (const Verdict& verdict : verdicts) {
    if (verdict.validity == Validity::invalid) {
      EXPECT_TRUE(invalid.empty())
          << "also invalid: " << verdict.property << ": " << verdict.explanation;
      invalid = verdict.property;
    } else {
      EXPECT_EQ(verdict.validity, Validity::valid) << verdict.property;
    }
  }
  return invalid;
}

const Verdict& verdict_of(const std::vector<Verdict>& verdicts, const std::string& property) {
  for (const Verdict& verdict : verdicts) {
    if (verdict.property == property) {
      return verdict;
    }
  }
  ADD_FAILURE() << "no verdict " << property;
  return verdicts.front();
}

TEST(SessionGuarantees, ACorrectRoamingSessionHoldsAllFour) {
  SessionBuilder builder;
  builder.op(1, CommandKind::sadd, 0, {{0, 1}})
      .op(1, CommandKind::smembers, 1, {{0, 1}, {1, 1}})
      .op(1, CommandKind::srem, 2, {{0, 1}, {1, 1}, {2, 1}})
      .op(1, CommandKind::smembers, 0, {{0, 1}, {1, 1}, {2, 1}});
  const std::vector<Verdict> verdicts = builder.check();
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(only_invalid(verdicts), "");
}

TEST(SessionGuarantees, ReadMissingTheSessionsWriteBreaksReadYourWrites) {
  SessionBuilder builder;
  builder.op(1, CommandKind::sadd, 0, {{0, 1}}).op(1, CommandKind::smembers, 1, {{1, 4}});
  const std::vector<Verdict> verdicts = builder.check();
  EXPECT_EQ(only_invalid(verdicts), kReadYourWrites);
  const std::string& why = verdict_of(verdicts, kReadYourWrites).explanation;
  EXPECT_NE(why.find("session 1"), std::string::npos) << why;
  EXPECT_NE(why.find("r0:1"), std::string::npos) << "names the missing update: " << why;
  EXPECT_NE(why.find("op 0"), std::string::npos) << "names the write: " << why;
}

TEST(SessionGuarantees, ReadGoingBackBreaksMonotonicReads) {
  SessionBuilder builder;
  builder.op(2, CommandKind::smembers, 0, {{0, 1}, {0, 2}}).op(2, CommandKind::scard, 1, {{0, 1}});
  EXPECT_EQ(only_invalid(builder.check()), kMonotonicReads);
}

TEST(SessionGuarantees, WriteAtAReplicaMissingTheEarlierWriteBreaksMonotonicWrites) {
  SessionBuilder builder;
  builder.op(3, CommandKind::sadd, 0, {{0, 1}}).op(3, CommandKind::srem, 1, {{1, 1}});
  EXPECT_EQ(only_invalid(builder.check()), kMonotonicWrites);
}

TEST(SessionGuarantees, WriteAtAReplicaMissingWhatWasReadBreaksWritesFollowReads) {
  SessionBuilder builder;
  builder.op(4, CommandKind::smembers, 0, {{0, 1}}).op(4, CommandKind::sadd, 1, {{1, 1}});
  EXPECT_EQ(only_invalid(builder.check()), kWritesFollowReads);
}

TEST(SessionGuarantees, SessionsAreCheckedSeparately) {
  SessionBuilder builder;
  // Session 1 wrote at r0; session 2 reads at r1 without it: no guarantee
  // spans sessions.
  builder.op(1, CommandKind::sadd, 0, {{0, 1}}).op(2, CommandKind::smembers, 1, {{1, 1}});
  EXPECT_EQ(only_invalid(builder.check()), "");
}

TEST(SessionGuarantees, FailedAndIndeterminateOperationsObserveNothing) {
  SessionBuilder builder;
  builder.op(1, CommandKind::sadd, 0, {}, OpOutcome::indeterminate)
      .op(1, CommandKind::smembers, 1, {}, OpOutcome::fail)
      .op(1, CommandKind::smembers, 1, {{1, 1}});
  EXPECT_EQ(only_invalid(builder.check()), "");
}

TEST(SessionGuarantees, LaterWriteStampedBeforeAnEarlierOneBreaksMonotonicWrites) {
  // Versions are fine (the replica held the earlier write), but its timestamp
  // is smaller: physical time alone, behind the other replica's clock.
  SessionBuilder builder;
  builder.lww(5, CommandKind::set, 1, 2'000'000, {{1, 1}})
      .lww(5, CommandKind::set, 3, 500'000, {{1, 1}, {3, 1}});
  const std::vector<Verdict> verdicts = builder.check();
  EXPECT_EQ(only_invalid(verdicts), kMonotonicWrites);
  const std::string& why = verdict_of(verdicts, kMonotonicWrites).explanation;
  EXPECT_NE(why.find("the later write loses"), std::string::npos) << why;
}

TEST(SessionGuarantees, ReadReturningAnOlderWriteThanTheSessionsBreaksReadYourWrites) {
  SessionBuilder builder;
  builder.lww(6, CommandKind::set, 0, 900, {{0, 1}}).lww(6, CommandKind::get, 1, 800, {{0, 1}});
  EXPECT_EQ(only_invalid(builder.check()), kReadYourWrites);
}

TEST(SessionGuarantees, WriteStampedBeforeWhatWasReadBreaksWritesFollowReads) {
  SessionBuilder builder;
  builder.lww(7, CommandKind::get, 0, 900, {{0, 1}}).lww(7, CommandKind::set, 1, 800, {{0, 1}});
  EXPECT_EQ(only_invalid(builder.check()), kWritesFollowReads);
}

}  // namespace
}  // namespace crdtsim::harness
