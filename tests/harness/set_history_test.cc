// The set checker on hand-made histories (ours and Jepsen's): valid ones
// (every acknowledged add present, an indeterminate add recovered, a removed
// element absent) and broken ones it must catch (a lost element, an
// unexpected one, a failed add present), the final-read rule, keys without a
// read, malformed Jepsen lines, and EDN sets.
#include "harness/checkers/set_history.h"

#include <gtest/gtest.h>

#include <sstream>

#include "harness/checkers/edn.h"

namespace crdtsim::testing {
namespace {

using core::CommandKind;
using harness::History;
using harness::Operation;
using harness::OpOutcome;
using harness::SetCounts;
using harness::SetResult;
using harness::Validity;

// A small builder of our histories: ops get ids in the order they are added.
class Ops {
 public:
  Ops& sadd(std::uint64_t invoke, std::uint64_t complete, std::vector<std::string> members,
            OpOutcome outcome = OpOutcome::ok, std::string key = "s") {
    return write(CommandKind::sadd, invoke, complete, std::move(members), outcome, std::move(key));
  }
  Ops& srem(std::uint64_t invoke, std::uint64_t complete, std::vector<std::string> members,
            OpOutcome outcome = OpOutcome::ok, std::string key = "s") {
    return write(CommandKind::srem, invoke, complete, std::move(members), outcome, std::move(key));
  }
  Ops& gsadd(std::uint64_t invoke, std::uint64_t complete, std::vector<std::string> members,
             std::string key) {
    return write(CommandKind::gsadd, invoke, complete, std::move(members), OpOutcome::ok,
                 std::move(key));
  }
  Ops& del(std::uint64_t invoke, std::uint64_t complete, std::string key = "s") {
    Operation& op = push(CommandKind::del, invoke, complete, {std::move(key)}, OpOutcome::ok);
    op.reply = core::Reply{};
    op.reply->value = core::ReplyValue::of_integer(1);
    return *this;
  }
  Ops& smembers(std::uint64_t invoke, std::uint64_t complete, std::vector<std::string> members,
                std::string key = "s", CommandKind kind = CommandKind::smembers) {
    Operation& op = push(kind, invoke, complete, {std::move(key)}, OpOutcome::ok);
    op.reply = core::Reply{};
    op.reply->value = core::ReplyValue::of_list(std::move(members));
    return *this;
  }
  const History& history() const { return history_; }

 private:
  Ops& write(CommandKind kind, std::uint64_t invoke, std::uint64_t complete,
             std::vector<std::string> members, OpOutcome outcome, std::string key) {
    Operation& op = push(kind, invoke, complete, {std::move(key)}, outcome);
    op.command.args = std::move(members);
    if (outcome != OpOutcome::indeterminate) {
      op.reply = outcome == OpOutcome::ok
                     ? core::Reply{}
                     : core::Reply::failure(core::ReplyStatus::wrong_type, "WRONGTYPE");
      op.reply->value = core::ReplyValue::of_integer(1);
    }
    return *this;
  }

  Operation& push(CommandKind kind, std::uint64_t invoke, std::uint64_t complete,
                  std::vector<std::string> keys, OpOutcome outcome) {
    Operation op;
    op.id = history_.operations.size();
    op.client = static_cast<std::uint32_t>(op.id % 3);
    op.invoke_us = invoke;
    op.complete_us = complete;
    op.command.kind = kind;
    op.command.keys = std::move(keys);
    op.outcome = outcome;
    history_.operations.push_back(std::move(op));
    return history_.operations.back();
  }

  History history_;
};

SetResult check(const Ops& ops) {
  return harness::check_set_ops(harness::set_ops_from_history(ops.history()),
                                harness::SetSource::history);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------
// Our histories: valid ones.

TEST(SetHistory, ValidWhenEveryAcknowledgedAddIsPresent) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).sadd(30, 40, {"b", "c", "b"}).smembers(100, 120, {"a", "b", "c"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.property, "set");
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  EXPECT_EQ(result.counts, (SetCounts{.keys = 1, .attempted = 3, .ok_added = 3, .present = 3}));
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "final reads: key \"s\": op 2 (read, invoked 100 us, completed 120 us)"))
      << result.verdict.explanation;
  EXPECT_EQ(harness::check_set_history(ops.history()), result.verdict);
}

TEST(SetHistory, IndeterminateAddPresentIsRecovered) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).sadd(30, 500, {"c"}, OpOutcome::indeterminate);
  ops.sadd(40, 60, {"d"}, OpOutcome::indeterminate).smembers(100, 120, {"a", "c"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  EXPECT_EQ(result.counts.recovered, 1U);
  EXPECT_EQ(result.counts.attempted, 3U);  // "d" may never have happened: fine
  EXPECT_EQ(result.counts.ok_added, 1U);
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "recovered (indeterminate adds present): key \"s\": element \"c\" added by "
                       "op 1 (add, invoked 30 us, indeterminate)"))
      << result.verdict.explanation;
}

TEST(SetHistory, RemovedElementAbsentIsFine) {
  Ops ops;
  ops.sadd(10, 20, {"a", "b", "c"});
  ops.srem(30, 40, {"a"});
  ops.srem(50, 900, {"b"}, OpOutcome::indeterminate);  // may have happened
  ops.srem(60, 70, {"c"}, OpOutcome::fail);            // did not: "c" must stay
  ops.smembers(100, 120, {"c"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  EXPECT_EQ(result.counts.removed, 2U);

  Ops failed_remove_only;
  failed_remove_only.sadd(10, 20, {"c"}).srem(60, 70, {"c"}, OpOutcome::fail);
  failed_remove_only.smembers(100, 120, {});
  EXPECT_EQ(check(failed_remove_only).verdict.validity, Validity::invalid);
}

TEST(SetHistory, RemoveConcurrentWithTheFinalReadExplainsAbsence) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).srem(110, 130, {"a"}).smembers(100, 120, {});
  EXPECT_EQ(check(ops).verdict.validity, Validity::valid);
  // A remove invoked after the final read completed cannot explain it.
  Ops late;
  late.sadd(10, 20, {"a"}).smembers(100, 120, {}).srem(121, 130, {"a"});
  EXPECT_EQ(check(late).verdict.validity, Validity::invalid);
}

TEST(SetHistory, DelRemovesEveryElement) {
  Ops ops;
  ops.sadd(10, 20, {"a", "b"}).del(30, 40).smembers(100, 120, {});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  EXPECT_EQ(result.counts.removed, 2U);
}

TEST(SetHistory, AddsConcurrentWithTheFinalReadNeedNotBeInIt) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).sadd(90, 110, {"b"}).sadd(130, 140, {"c"});
  ops.smembers(100, 120, {"a"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  EXPECT_EQ(result.counts.never_read, 2U);
  // Present is fine too for the concurrent add, but not for the later one.
  Ops later;
  later.sadd(90, 110, {"b"}).sadd(130, 140, {"c"}).smembers(100, 120, {"b", "c"});
  const SetResult late = check(later);
  EXPECT_EQ(late.verdict.validity, Validity::invalid);
  EXPECT_TRUE(contains(late.verdict.explanation,
                       "element \"c\" unexpected in the final read op 2 (read, invoked 100 us, "
                       "completed 120 us): it was added only after the read completed: op 1 "
                       "(add, invoked 130 us, completed 140 us)"))
      << late.verdict.explanation;
}

// ---------------------------------------------------------------------------
// Our histories: broken ones.

TEST(SetHistory, LostElementIsInvalid) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).sadd(30, 40, {"b"}).smembers(100, 120, {"a"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_EQ(result.counts.lost, 1U);
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "key \"s\": element \"b\" lost: op 1 (add, invoked 30 us, completed 40 us) "
                       "completed before the final read op 2 (read, invoked 100 us, completed 120 "
                       "us) was invoked, which does not contain it"))
      << result.verdict.explanation;
}

TEST(SetHistory, RemoveBeforeTheAddDoesNotExplainItsLoss) {
  // An OR-Set remove only removes the adds it observed: the add wins.
  Ops ops;
  ops.srem(10, 20, {"a"}).sadd(30, 40, {"a"}).smembers(100, 120, {});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_TRUE(contains(result.verdict.explanation, "element \"a\" lost: op 1 (add"))
      << result.verdict.explanation;
  // A remove that overlaps the add may have observed it.
  Ops overlapping;
  overlapping.srem(10, 35, {"a"}).sadd(30, 40, {"a"}).smembers(100, 120, {});
  EXPECT_EQ(check(overlapping).verdict.validity, Validity::valid);
}

TEST(SetHistory, UnexpectedElementIsInvalid) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).smembers(100, 120, {"a", "zz"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_EQ(result.counts.unexpected, 1U);
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "key \"s\": element \"zz\" unexpected in the final read op 1 (read, invoked "
                       "100 us, completed 120 us): no add of it was attempted"))
      << result.verdict.explanation;
}

TEST(SetHistory, FailedAddPresentIsUnexpected) {
  Ops ops;
  ops.sadd(10, 20, {"x"}, OpOutcome::fail).smembers(100, 120, {"x"});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_EQ(result.counts.attempted, 0U);
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "element \"x\" unexpected in the final read op 1 (read, invoked 100 us, "
                       "completed 120 us): its add failed: op 0 (add, invoked 10 us, failed)"))
      << result.verdict.explanation;
}

TEST(SetHistory, OnlyTheFinalReadIsChecked) {
  // An earlier read missing "a" is not checked (a replica may lag)...
  Ops ops;
  ops.sadd(10, 20, {"a"}).smembers(30, 40, {}).smembers(100, 120, {"a"});
  EXPECT_EQ(check(ops).verdict.validity, Validity::valid);
  EXPECT_EQ(harness::set_ops_from_history(ops.history()).size(), 2U);
  // ...but the final read (latest invoke, not latest completion) is.
  Ops broken;
  broken.sadd(10, 20, {"a"}).smembers(100, 300, {"a"}).smembers(110, 120, {});
  const SetResult result = check(broken);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_TRUE(contains(result.verdict.explanation, "the final read op 2 (read, invoked 110 us"))
      << result.verdict.explanation;
}

TEST(SetHistory, KeysAreCheckedOnTheirOwnAndGrowOnlySetsToo) {
  Ops ops;
  ops.sadd(10, 20, {"a"}, OpOutcome::ok, "s1").gsadd(10, 20, {"g"}, "g1");
  ops.sadd(30, 40, {"b"}, OpOutcome::ok, "s2");
  ops.smembers(100, 120, {"a"}, "s1").smembers(100, 120, {"g"}, "g1", CommandKind::gsmembers);
  ops.smembers(100, 120, {"a"}, "s2");  // "b" lost, "a" unexpected on s2
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_EQ(
      result.counts,
      (SetCounts{
          .keys = 3, .attempted = 3, .ok_added = 3, .present = 3, .lost = 1, .unexpected = 1}));
  EXPECT_TRUE(contains(result.verdict.explanation, "key \"s2\": element \"a\" unexpected"));
  EXPECT_TRUE(contains(result.verdict.explanation, "key \"s2\": element \"b\" lost"));
  EXPECT_FALSE(contains(result.verdict.explanation, "key \"s1\": element"));
}

TEST(SetHistory, EvidenceIsCappedAndCounted) {
  Ops ops;
  for (std::uint64_t i = 0; i < 12; ++i) {
    ops.sadd(10 + i, 20 + i, {"e" + std::to_string(i)});
  }
  ops.smembers(100, 120, {});
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  EXPECT_EQ(result.counts.lost, 12U);
  EXPECT_TRUE(contains(result.verdict.explanation, "; and 7 more. 1 key (0 without a read)"))
      << result.verdict.explanation;
}

TEST(SetHistory, NoReadIsUnknown) {
  Ops ops;
  ops.sadd(10, 20, {"a", "b"}).sadd(10, 20, {"c"}, OpOutcome::ok, "t").smembers(30, 40, {"c"}, "t");
  const SetResult result = check(ops);
  EXPECT_EQ(result.verdict.validity, Validity::unknown);
  EXPECT_EQ(result.counts.keys_unread, 1U);
  EXPECT_TRUE(contains(result.verdict.explanation,
                       "no read to check against for key \"s\" (2 elements added)"))
      << result.verdict.explanation;
  // A broken key still makes the whole verdict invalid.
  ops.smembers(50, 60, {}, "t");
  EXPECT_EQ(check(ops).verdict.validity, Validity::invalid);
  // Nothing to check at all.
  EXPECT_EQ(harness::check_set_history(History{}).validity, Validity::unknown);
}

TEST(SetHistory, ReadsThroughTheJsonLinesFormat) {
  Ops ops;
  ops.sadd(10, 20, {"a"}).sadd(30, 40, {"b"}).smembers(100, 120, {"a"});
  std::stringstream file;
  harness::write_jsonl(ops.history(), file);
  std::string error;
  const std::optional<History> history = harness::read_jsonl(file, "h.jsonl", error);
  ASSERT_TRUE(history) << error;
  const harness::Verdict verdict = harness::check_set_history(*history);
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_TRUE(contains(verdict.explanation, "element \"b\" lost: op 1")) << verdict.explanation;
}

TEST(SetHistory, MalformedOpsAreAnInputError) {
  harness::SetOp op;
  op.f = harness::SetFunction::add;
  op.elements = {"a"};
  op.invoke_time = 10;  // ok, without a completion
  EXPECT_EQ(harness::validate_set_ops({op}), "op 0 (add) is ok but has no completion time");
  const SetResult result = harness::check_set_ops({op}, harness::SetSource::history);
  EXPECT_EQ(result.verdict.validity, Validity::unknown);
  op.complete_time = 5;
  EXPECT_EQ(harness::validate_set_ops({op}), "op 0 (add) completed before it was invoked");
}

// ---------------------------------------------------------------------------
// Jepsen's EDN histories.

struct JepsenRun {
  std::optional<harness::Verdict> verdict;
  std::string error;
};

JepsenRun check_jepsen(const std::string& text) {
  std::istringstream in(text);
  JepsenRun run;
  run.verdict = harness::check_set_jepsen(in, "h.edn", run.error);
  return run;
}

const std::string kPlainHistory =
    "{:type :invoke, :f :add, :value 1, :process 0, :time 10}\n"
    "{:type :ok, :f :add, :value 1, :process 0, :time 20}\n"
    "{:type :info, :f :start-partition, :value nil, :process :nemesis}\n"
    "{:type :invoke, :f :add, :value 2, :process 1}\n"
    "{:type :ok, :f :add, :value 2, :process 1}\n"
    "{:type :invoke, :f :add, :value 3, :process 2}\n"
    "{:type :info, :f :add, :value 3, :process 2, :error :timeout}\n"
    "{:type :invoke, :f :add, :value 4, :process 3}\n"
    "{:type :fail, :f :add, :value 4, :process 3}\n"
    "\n"
    "{:type :invoke, :f :read, :value nil, :process 0}\n"
    "{:type :ok, :f :read, :value #{3 1 2}, :process 0}\n";

TEST(SetJepsen, PlainHistoryWithASet) {
  const JepsenRun run = check_jepsen(kPlainHistory);
  ASSERT_TRUE(run.verdict) << run.error;
  EXPECT_EQ(run.verdict->validity, Validity::valid) << run.verdict->explanation;
  EXPECT_TRUE(contains(run.verdict->explanation,
                       "recovered (indeterminate adds present): the set: element 3 added by op on "
                       "line 6 (:add, :info or never completed)"))
      << run.verdict->explanation;
  EXPECT_TRUE(contains(run.verdict->explanation,
                       "final reads: the set: op on line 11 (:read, :ok on line 12)"))
      << run.verdict->explanation;
}

TEST(SetJepsen, LostUnexpectedAndFailedAddPresent) {
  std::string lost = kPlainHistory;
  lost.replace(lost.rfind("#{3 1 2}"), 8, "#{1 3}");
  JepsenRun run = check_jepsen(lost);
  ASSERT_TRUE(run.verdict) << run.error;
  EXPECT_EQ(run.verdict->validity, Validity::invalid);
  EXPECT_TRUE(contains(run.verdict->explanation,
                       "the set: element 2 lost: op on line 4 (:add, :ok on line 5) completed "
                       "before the final read op on line 11 (:read, :ok on line 12) was invoked, "
                       "which does not contain it"))
      << run.verdict->explanation;

  std::string failed = kPlainHistory;
  failed.replace(failed.rfind("#{3 1 2}"), 8, "[1 2 4 9]");  // a vector read
  run = check_jepsen(failed);
  ASSERT_TRUE(run.verdict) << run.error;
  EXPECT_EQ(run.verdict->validity, Validity::invalid);
  EXPECT_TRUE(contains(run.verdict->explanation,
                       "the set: element 4 unexpected in the final read op on line 11 (:read, :ok "
                       "on line 12): its add failed: op on line 8 (:add, :fail)"))
      << run.verdict->explanation;
  EXPECT_TRUE(contains(run.verdict->explanation, "element 9 unexpected in the final read"))
      << run.verdict->explanation;
}

TEST(SetJepsen, IndependentKeysRemovesAndPendingInvokes) {
  const std::string text =
      "{:process 0, :type :invoke, :f :add, :value [:a \"x\"]}\n"
      "{:process 0, :type :ok, :f :add, :value [:a \"x\"]}\n"
      "{:process 0, :type :invoke, :f :add, :value [:b 7]}\n"
      "{:process 0, :type :ok, :f :add, :value [:b 7]}\n"
      "{:process 1, :type :invoke, :f :remove, :value [:b 7]}\n"
      "{:process 2, :type :invoke, :f :add, :value [:a :k]}\n"  // never completes
      "{:process 3, :type :invoke, :f :read, :value [:a nil]}\n"
      "{:process 3, :type :ok, :f :read, :value [:a [\"x\" :k]]}\n"
      "{:process 3, :type :invoke, :f :read, :value [:b nil]}\n"
      "{:process 3, :type :ok, :f :read, :value [:b #{}]}\n";
  std::istringstream in(text);
  std::string error;
  const std::optional<std::vector<harness::SetOp>> ops =
      harness::set_ops_from_jepsen(in, "h.edn", error);
  ASSERT_TRUE(ops) << error;
  ASSERT_EQ(ops->size(), 6U);
  EXPECT_EQ((*ops)[0].key, ":a");
  EXPECT_EQ((*ops)[0].elements, std::vector<std::string>{"\"x\""});
  EXPECT_EQ((*ops)[2].f, harness::SetFunction::remove);  // never completed: indeterminate
  EXPECT_EQ((*ops)[2].outcome, OpOutcome::indeterminate);
  EXPECT_EQ((*ops)[4].elements, (std::vector<std::string>{"\"x\"", ":k"}));
  const JepsenRun run = check_jepsen(text);
  ASSERT_TRUE(run.verdict) << run.error;
  EXPECT_EQ(run.verdict->validity, Validity::valid) << run.verdict->explanation;
  // Without the remove, 7 is lost from key :b.
  std::string without_remove = text;
  without_remove.replace(without_remove.find(":remove"), 7, ":read  ");
  const JepsenRun lost = check_jepsen(without_remove);
  ASSERT_TRUE(lost.verdict) << lost.error;
  EXPECT_EQ(lost.verdict->validity, Validity::invalid);
  EXPECT_TRUE(contains(lost.verdict->explanation,
                       "key :b: element 7 lost: op on line 3 (:add, :ok on line 4)"))
      << lost.verdict->explanation;
}

TEST(SetJepsen, NoReadIsUnknown) {
  const JepsenRun run = check_jepsen(
      "{:process 0, :type :invoke, :f :add, :value 1}\n"
      "{:process 0, :type :ok, :f :add, :value 1}\n"
      "{:process 0, :type :invoke, :f :read, :value nil}\n"
      "{:process 0, :type :info, :f :read, :value nil}\n");
  ASSERT_TRUE(run.verdict) << run.error;
  EXPECT_EQ(run.verdict->validity, Validity::unknown);
  EXPECT_TRUE(
      contains(run.verdict->explanation, "no read to check against for the set (1 element added)"))
      << run.verdict->explanation;
}

TEST(SetJepsen, MalformedLinesNameFileLineAndExpectation) {
  const std::string add = "{:process 0, :type :invoke, :f :add, :value 1}\n";
  const std::string read = "{:process 0, :type :invoke, :f :read, :value nil}\n";
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"{:process 0, :type :invoke, :f :add}\n",
       "h.edn:1: expected a :value on the :add (the element)"},
      {"{:process 0, :type :invoke, :f :remove, :value nil}\n",
       "h.edn:1: expected a :value on the :remove (the element)"},
      {read + "{:process 0, :type :ok, :f :read, :value 5}\n",
       "h.edn:2: expected a set #{...} or a vector as the :ok :read's :value, got 5"},
      {read + "{:process 0, :type :ok, :f :read}\n",
       "h.edn:2: expected a set #{...} or a vector as the :ok :read's :value, got nil"},
      {read + "{:process 0, :type :ok, :f :read, :value #{1 1}}\n",
       "h.edn:2: expected an EDN map (column 42: expected a set without the repeated element 1)"},
      {"{:process 0, :type :bogus, :f :add, :value 1}\n",
       "h.edn:1: expected :type :invoke, :ok, :fail or :info, got :bogus"},
      {"{:process 0, :type :invoke, :f :cas, :value [1 2]}\n",
       "h.edn:1: expected an :f of :add, :remove or :read, got :cas"},
      {"{:process 0, :f :add, :value 1}\n", "h.edn:1: expected a :type entry"},
      {"{:type :invoke, :f :add, :value 1}\n", "h.edn:1: expected a :process entry"},
      {"\n[1 2]\n", "h.edn:2: expected an EDN map, got [1 2]"},
      {"{:process 0, :type :invoke\n", "h.edn:1: expected an EDN map (column 27: expected '}')"},
      {add + "{:process 0, :type :ok, :f :read, :value #{}}\n",
       "h.edn:2: expected the :f of the :invoke on line 1 (:add), got :read"},
      {add + add,
       "h.edn:2: expected a completion for process 0's operation invoked on line 1 before it "
       "invokes another"},
      {"{:process 0, :type :ok, :f :add, :value 1}\n",
       "h.edn:1: expected an :invoke by process 0 before its :ok"},
      {add + "{:process 0, :type :ok, :f :add, :value 1}\n" +
           "{:process 1, :type :invoke, :f :add, :value [:k 2]}\n",
       "h.edn:3: expected a plain value, as on the earlier lines, got [:k 2]"},
      {"{:process 1, :type :invoke, :f :add, :value [:k 2]}\n" + read +
           "{:process 0, :type :ok, :f :read, :value #{2}}\n",
       "h.edn:3: expected a [key #{...}] tuple as the :ok :read's :value, as on the earlier "
       "lines, got #{2}"},
      {"{:process -1, :type :invoke, :f :add, :value 1}\n",
       "h.edn:1: expected a non-negative :process, got -1"},
  };
  for (const Case& c : cases) {
    const JepsenRun run = check_jepsen(c.text);
    EXPECT_FALSE(run.verdict) << c.text;
    EXPECT_EQ(run.error, c.error) << c.text;
  }
}

TEST(SetJepsen, LinesAreBounded) {
  const std::string text = "{:process 0, :type :invoke, :f :add, :value 1}\n" +
                           std::string(harness::kSetJepsenLineBytesMax + 1, ' ') + "\n";
  const JepsenRun run = check_jepsen(text);
  EXPECT_FALSE(run.verdict);
  EXPECT_EQ(run.error, "h.edn:2: expected a line of at most 16777216 bytes");
}

// ---------------------------------------------------------------------------
// EDN sets.

TEST(EdnSet, ParsesSortedAndCanonical) {
  std::string error;
  const std::optional<harness::edn::Value> set = harness::edn::parse("#{3 1 :a \"b\" 2}", error);
  ASSERT_TRUE(set) << error;
  EXPECT_EQ(set->kind, harness::edn::Value::Kind::set);
  EXPECT_EQ(set->items.size(), 5U);
  EXPECT_EQ(harness::edn::to_text(*set), "#{1 2 3 \"b\" :a}");
  EXPECT_EQ(harness::edn::parse("#{2 1}", error), harness::edn::parse("#{1,2}", error));
  const std::optional<harness::edn::Value> empty = harness::edn::parse(" #{} ", error);
  ASSERT_TRUE(empty) << error;
  EXPECT_EQ(harness::edn::to_text(*empty), "#{}");
  const std::optional<harness::edn::Value> nested =
      harness::edn::parse("{:value [:k #{#{2 1} [3]}]}", error);
  ASSERT_TRUE(nested) << error;
  EXPECT_EQ(harness::edn::to_text(*nested), "{:value [:k #{[3] #{1 2}}]}");
}

TEST(EdnSet, RejectsRepeatsAndOtherDispatches) {
  std::string error;
  EXPECT_FALSE(harness::edn::parse("#{1 2 1}", error));
  EXPECT_EQ(error, "column 1: expected a set without the repeated element 1");
  EXPECT_FALSE(harness::edn::parse("#{#{1 2} #{2 1}}", error));  // equal sets repeat
  EXPECT_EQ(error, "column 1: expected a set without the repeated element #{1 2}");
  EXPECT_FALSE(harness::edn::parse("#{{:a 1} {:a 1}}", error));
  const std::string expected =
      "expected a map, vector, list, set, keyword, string, integer, nil, true or false";
  EXPECT_FALSE(harness::edn::parse("#inst \"2020\"", error));
  EXPECT_EQ(error, "column 1: " + expected);
  EXPECT_FALSE(harness::edn::parse("# {1}", error));
  EXPECT_EQ(error, "column 1: " + expected);
  EXPECT_FALSE(harness::edn::parse("[#_ 1]", error));
  EXPECT_EQ(error, "column 2: " + expected);
  EXPECT_FALSE(harness::edn::parse("#", error));
  EXPECT_FALSE(harness::edn::parse("#{1 2", error));
  EXPECT_EQ(error, "column 6: expected '}'");
}

TEST(EdnSet, CompareIsATotalOrder) {
  std::string error;
  const std::vector<std::string> ascending = {"nil",   "false",  "true", "-3",  "7",
                                              "\"a\"", "\"ab\"", ":a",   "[1]", "[1 0]",
                                              "(0)",   "{:a 1}", "#{0}", "#{1}"};
  for (std::size_t i = 0; i < ascending.size(); ++i) {
    const std::optional<harness::edn::Value> left = harness::edn::parse(ascending[i], error);
    ASSERT_TRUE(left) << ascending[i] << ": " << error;
    EXPECT_EQ(harness::edn::compare(*left, *left), 0) << ascending[i];
    for (std::size_t j = i + 1; j < ascending.size(); ++j) {
      const std::optional<harness::edn::Value> right = harness::edn::parse(ascending[j], error);
      ASSERT_TRUE(right) << ascending[j] << ": " << error;
      EXPECT_LT(harness::edn::compare(*left, *right), 0) << ascending[i] << " < " << ascending[j];
      EXPECT_GT(harness::edn::compare(*right, *left), 0) << ascending[j] << " > " << ascending[i];
    }
  }
}

}  // namespace
}  // namespace crdtsim::testing
