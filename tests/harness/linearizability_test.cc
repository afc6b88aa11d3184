// The linearizability checker on hand-made histories (both models, with
// indeterminate operations and CAS), the search budget, a large history,
// the History converter and the Jepsen EDN reader.
#include "harness/checkers/linearizability.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <sstream>

#include "harness/checkers/edn.h"
#include "tests/harness/linearizability_generators.h"

namespace crdtsim::testing {
namespace {

using harness::check_lin_ops;
using harness::LinFunction;
using harness::LinModel;
using harness::LinOp;
using harness::LinValue;
using harness::OpOutcome;
using harness::Validity;

// A small builder: ops get ids in the order they are added.
class Ops {
 public:
  Ops& write(std::uint64_t process, std::uint64_t invoke, std::uint64_t complete, LinValue value,
             std::string key = "x") {
    return add(process, invoke, complete, LinFunction::write, std::move(value), {}, key);
  }
  Ops& read(std::uint64_t process, std::uint64_t invoke, std::uint64_t complete, LinValue value,
            std::string key = "x") {
    return add(process, invoke, complete, LinFunction::read, std::move(value), {}, key);
  }
  Ops& cas(std::uint64_t process, std::uint64_t invoke, std::uint64_t complete, LinValue from,
           LinValue to) {
    return add(process, invoke, complete, LinFunction::cas, std::move(from), std::move(to), "x");
  }
  Ops& add_delta(std::uint64_t process, std::uint64_t invoke, std::uint64_t complete,
                 std::int64_t delta) {
    return add(process, invoke, complete, LinFunction::add, LinValue::of_integer(delta), {}, "x");
  }
  // The last op added becomes indeterminate (no completion).
  Ops& indeterminate() {
    ops_.back().outcome = OpOutcome::indeterminate;
    ops_.back().complete_time.reset();
    return *this;
  }
  const std::vector<LinOp>& ops() const { return ops_; }

 private:
  Ops& add(std::uint64_t process, std::uint64_t invoke, std::uint64_t complete, LinFunction f,
           LinValue value, LinValue value_new, std::string key) {
    LinOp op;
    op.id = ops_.size();
    op.process = process;
    op.key = std::move(key);
    op.invoke_time = invoke;
    op.complete_time = complete;
    op.f = f;
    op.value = std::move(value);
    op.value_new = std::move(value_new);
    ops_.push_back(std::move(op));
    return *this;
  }
  std::vector<LinOp> ops_;
};

LinValue v(std::int64_t value) {
  return LinValue::of_integer(value);
}

Validity check_register(const Ops& ops) {
  return check_lin_ops(ops.ops(), LinModel::cas_register).verdict.validity;
}

Validity check_counter(const Ops& ops) {
  return check_lin_ops(ops.ops(), LinModel::counter).verdict.validity;
}

// ---------------------------------------------------------------------------
// Registers.

TEST(LinearizabilityRegister, EmptyAndSequentialHistoriesAreValid) {
  EXPECT_EQ(check_register(Ops()), Validity::valid);
  EXPECT_EQ(check_register(Ops().read(0, 0, 1, LinValue::nil())), Validity::valid);
  EXPECT_EQ(check_register(Ops().write(0, 0, 1, v(1)).read(1, 2, 3, v(1))), Validity::valid);
}

TEST(LinearizabilityRegister, StaleReadAfterCompletedWriteIsInvalid) {
  const Ops ops = Ops().write(0, 0, 10, v(1)).write(1, 20, 30, v(2)).read(2, 40, 50, v(1));
  const harness::LinearizabilityResult result = check_lin_ops(ops.ops(), LinModel::cas_register);
  EXPECT_EQ(result.verdict.validity, Validity::invalid);
  const std::string& text = result.verdict.explanation;
  EXPECT_NE(text.find("key \"x\""), std::string::npos) << text;
  EXPECT_NE(text.find("op 2 (process 2, read 1, invoked 40, completed 50)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("the register holds 2"), std::string::npos) << text;
  EXPECT_NE(text.find("at most 2 of its 3 ok operations"), std::string::npos) << text;
}

TEST(LinearizabilityRegister, NilReadAfterCompletedWriteIsInvalid) {
  EXPECT_EQ(check_register(Ops().write(0, 0, 10, v(1)).read(1, 11, 12, LinValue::nil())),
            Validity::invalid);
}

TEST(LinearizabilityRegister, ReadOfAValueNeverWrittenIsInvalid) {
  const Ops ops = Ops().write(0, 0, 10, v(1)).read(1, 5, 15, v(7));
  const harness::Verdict verdict = check_lin_ops(ops.ops(), LinModel::cas_register).verdict;
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("op 1 (process 1, read 7, invoked 5, completed 15) read 7, "
                                     "which no operation invoked before it completed writes"),
            std::string::npos)
      << verdict.explanation;
  // Written only after the read completed: the same.
  EXPECT_EQ(check_register(Ops(ops).write(2, 16, 0, v(7)).indeterminate()), Validity::invalid);
}

TEST(LinearizabilityRegister, ConcurrentReadMaySeeEitherValue) {
  const Ops base = Ops().write(0, 0, 10, v(1)).write(1, 20, 40, v(2));
  EXPECT_EQ(check_register(Ops(base).read(2, 25, 30, v(1))), Validity::valid);
  EXPECT_EQ(check_register(Ops(base).read(2, 25, 30, v(2))), Validity::valid);
  // Once a read has seen the new value, a later read cannot see the old one.
  EXPECT_EQ(check_register(Ops(base).read(2, 25, 30, v(2)).read(3, 31, 35, v(1))),
            Validity::invalid);
}

TEST(LinearizabilityRegister, ConcurrentWritesCannotBeUndone) {
  // Writes of 1 and 2 overlap everything, but reads 1, 2, 1 in sequence
  // would need the write of 1 to happen twice.
  const Ops ops = Ops()
                      .write(0, 0, 100, v(1))
                      .write(1, 0, 100, v(2))
                      .read(2, 10, 20, v(1))
                      .read(2, 30, 40, v(2))
                      .read(2, 50, 60, v(1));
  EXPECT_EQ(check_register(ops), Validity::invalid);
}

TEST(LinearizabilityRegister, IndeterminateWriteMustBeAssumedToHaveHappened) {
  const Ops ops =
      Ops().write(0, 0, 10, v(1)).write(1, 20, 0, v(2)).indeterminate().read(2, 30, 40, v(2));
  EXPECT_EQ(check_register(ops), Validity::valid);
}

TEST(LinearizabilityRegister, IndeterminateWriteMustBeAssumedNotToHaveHappened) {
  const Ops ops = Ops()
                      .write(0, 0, 10, v(1))
                      .write(1, 20, 0, v(2))
                      .indeterminate()
                      .read(2, 30, 40, v(1))
                      .read(2, 1000, 1010, v(1));
  EXPECT_EQ(check_register(ops), Validity::valid);
}

TEST(LinearizabilityRegister, IndeterminateWriteTakesEffectAtMostOnce) {
  const Ops ops = Ops()
                      .write(0, 0, 10, v(1))
                      .write(1, 20, 0, v(2))
                      .indeterminate()
                      .read(2, 30, 40, v(2))
                      .write(3, 50, 60, v(3))
                      .read(2, 70, 80, v(2));
  EXPECT_EQ(check_register(ops), Validity::invalid);
}

TEST(LinearizabilityRegister, IndeterminateWriteCannotPrecedeItsInvoke) {
  const Ops ops = Ops().read(0, 0, 10, v(2)).write(1, 20, 0, v(2)).indeterminate();
  EXPECT_EQ(check_register(ops), Validity::invalid);
}

TEST(LinearizabilityRegister, IndeterminateReadsConstrainNothing) {
  const Ops ops = Ops().write(0, 0, 10, v(1)).read(1, 20, 0, v(9)).indeterminate();
  EXPECT_EQ(check_register(ops), Validity::valid);
}

TEST(LinearizabilityRegister, CompareAndSet) {
  const Ops base = Ops().write(0, 0, 10, v(1));
  EXPECT_EQ(check_register(Ops(base).cas(1, 20, 30, v(1), v(2)).read(2, 40, 50, v(2))),
            Validity::valid);
  EXPECT_EQ(check_register(Ops(base).cas(1, 20, 30, v(3), v(2))), Validity::invalid);
  // An ok CAS from 1 and a concurrent write of 3: the CAS must go first.
  EXPECT_EQ(check_register(
                Ops(base).write(2, 15, 40, v(3)).cas(1, 20, 30, v(1), v(2)).read(3, 50, 60, v(3))),
            Validity::valid);
  EXPECT_EQ(check_register(
                Ops(base).write(2, 15, 40, v(3)).cas(1, 20, 30, v(1), v(2)).read(3, 50, 60, v(2))),
            Validity::invalid);
}

TEST(LinearizabilityRegister, IndeterminateCasChainsAndWrites) {
  // 0 -> 1 -> 2 through two indeterminate CASes.
  EXPECT_EQ(check_register(Ops()
                               .write(0, 0, 10, v(0))
                               .cas(1, 20, 0, v(0), v(1))
                               .indeterminate()
                               .cas(2, 21, 0, v(1), v(2))
                               .indeterminate()
                               .read(3, 30, 40, v(2))),
            Validity::valid);
  // An indeterminate write of 0, then an indeterminate CAS 0 -> 3.
  EXPECT_EQ(check_register(Ops()
                               .write(0, 0, 10, v(5))
                               .write(1, 20, 0, v(0))
                               .indeterminate()
                               .cas(2, 21, 0, v(0), v(3))
                               .indeterminate()
                               .read(3, 30, 40, v(3))),
            Validity::valid);
  // The CAS cannot apply: nothing makes the register 0 first.
  EXPECT_EQ(check_register(Ops()
                               .write(0, 0, 10, v(5))
                               .cas(2, 21, 0, v(0), v(3))
                               .indeterminate()
                               .read(3, 30, 40, v(3))),
            Validity::invalid);
}

TEST(LinearizabilityRegister, KeysAreIndependentAndTheInvalidOneIsNamed) {
  Ops ops;
  ops.write(0, 0, 10, v(1), "a").read(1, 20, 30, v(1), "a");
  ops.write(0, 0, 10, v(1), "b").read(1, 20, 30, LinValue::nil(), "b");
  ops.write(0, 0, 10, LinValue::of_text("s"), "c").read(1, 5, 30, LinValue::of_text("s"), "c");
  const harness::Verdict verdict = check_lin_ops(ops.ops(), LinModel::cas_register).verdict;
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_EQ(verdict.property, "linearizability");
  EXPECT_NE(verdict.explanation.find("key \"b\""), std::string::npos) << verdict.explanation;
  EXPECT_EQ(verdict.explanation.find("key \"a\""), std::string::npos) << verdict.explanation;
}

TEST(LinearizabilityRegister, BudgetYieldsUnknown) {
  GeneratorConfig config;
  config.operations = 300;
  config.keys = 1;
  config.processes = 10;
  const std::vector<LinOp> ops = generate_linearizable(config, 7);
  const harness::LinearizabilityResult small = check_lin_ops(ops, LinModel::cas_register, 20);
  EXPECT_EQ(small.verdict.validity, Validity::unknown);
  EXPECT_NE(small.verdict.explanation.find("gave up after"), std::string::npos)
      << small.verdict.explanation;
  EXPECT_EQ(check_lin_ops(ops, LinModel::cas_register).verdict.validity, Validity::valid);
}

TEST(LinearizabilityRegister, ManyOperationsOnFewKeysAreCheckedQuickly) {
  GeneratorConfig config;
  config.operations = 2000;
  config.keys = 4;
  config.processes = 8;
  config.read_ppm = 500'000;
  config.indeterminate_ppm = 100'000;
  const std::vector<LinOp> ops = generate_linearizable(config, 42);
  const auto start = std::chrono::steady_clock::now();
  const harness::LinearizabilityResult result = check_lin_ops(ops, LinModel::cas_register);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
  std::cout << "2000 ops, 4 keys: "
            << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() << " us, "
            << result.states_explored << " states\n";
  EXPECT_LT(result.states_explored, 100'000U);
}

TEST(LinearizabilityRegister, LargeHistoryWithSmallValueDomainAndCas) {
  GeneratorConfig config;
  config.operations = 1000;
  config.keys = 2;
  config.values = 5;  // Jepsen's cas-register uses a handful of values
  config.cas_ppm = 300'000;
  config.indeterminate_ppm = 150'000;
  const std::vector<LinOp> ops = generate_linearizable(config, 3);
  const harness::LinearizabilityResult result = check_lin_ops(ops, LinModel::cas_register);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
}

// ---------------------------------------------------------------------------
// Counters.

TEST(LinearizabilityCounter, AddsAndReads) {
  const Ops base = Ops().add_delta(0, 0, 10, 1).add_delta(1, 5, 15, 2);
  EXPECT_EQ(check_counter(Ops(base).read(2, 20, 30, v(3))), Validity::valid);
  EXPECT_EQ(check_counter(Ops(base).read(2, 20, 30, v(4))), Validity::invalid);
  EXPECT_EQ(check_counter(Ops(base).read(2, 12, 30, v(1))), Validity::valid);    // before +2
  EXPECT_EQ(check_counter(Ops(base).read(2, 0, 30, v(0))), Validity::valid);     // before both
  EXPECT_EQ(check_counter(Ops(base).read(2, 11, 30, v(2))), Validity::invalid);  // +1 finished
}

TEST(LinearizabilityCounter, StaleReadAfterCompletedAddIsInvalid) {
  const Ops ops = Ops()
                      .add_delta(0, 0, 10, 5)
                      .read(1, 20, 30, v(5))
                      .add_delta(0, 40, 50, 1)
                      .read(1, 60, 70, v(5));
  const harness::Verdict verdict = check_lin_ops(ops.ops(), LinModel::counter).verdict;
  EXPECT_EQ(verdict.validity, Validity::invalid);
  // Refuted before any search: no add can explain 5 once +1 completed.
  EXPECT_NE(verdict.explanation.find("op 3 (process 1, read 5, invoked 60, completed 70) read 5, "
                                     "outside the range the counter can hold then: [6, 6]"),
            std::string::npos)
      << verdict.explanation;
}

TEST(LinearizabilityCounter, IndeterminateAddsMayOrMayNotHaveHappened) {
  const Ops base = Ops()
                       .add_delta(0, 0, 10, 1)
                       .add_delta(1, 20, 0, 5)
                       .indeterminate()
                       .add_delta(2, 20, 0, 10)
                       .indeterminate();
  for (std::int64_t seen : {1, 6, 11, 16}) {
    EXPECT_EQ(check_counter(Ops(base).read(3, 30, 40, v(seen))), Validity::valid) << seen;
  }
  for (std::int64_t seen : {0, 2, 15, 17}) {
    EXPECT_EQ(check_counter(Ops(base).read(3, 30, 40, v(seen))), Validity::invalid) << seen;
  }
  // Once seen, an indeterminate add cannot be taken back.
  EXPECT_EQ(check_counter(Ops(base).read(3, 30, 40, v(6)).read(3, 50, 60, v(1))),
            Validity::invalid);
  EXPECT_EQ(check_counter(Ops(base).read(3, 30, 40, v(6)).read(3, 50, 60, v(16))), Validity::valid);
}

TEST(LinearizabilityCounter, WritesResetTheCounter) {
  EXPECT_EQ(
      check_counter(Ops().add_delta(0, 0, 10, 5).write(1, 20, 30, v(0)).read(2, 40, 50, v(0))),
      Validity::valid);
  EXPECT_EQ(check_counter(Ops()
                              .add_delta(0, 0, 10, 5)
                              .write(1, 20, 0, v(0))
                              .indeterminate()
                              .add_delta(2, 30, 40, 2)
                              .read(3, 50, 60, v(2))),
            Validity::valid);
}

TEST(LinearizabilityCounter, ManyIndeterminateAddsStayFast) {
  GeneratorConfig config;
  config.model = LinModel::counter;
  config.operations = 2000;
  config.keys = 4;
  config.indeterminate_ppm = 100'000;
  const std::vector<LinOp> ops = generate_linearizable(config, 11);
  const harness::LinearizabilityResult result = check_lin_ops(ops, LinModel::counter);
  EXPECT_EQ(result.verdict.validity, Validity::valid) << result.verdict.explanation;
}

TEST(LinearizabilityInput, OperationsTheModelLacksAreInputErrors) {
  const Ops add_on_register = Ops().add_delta(0, 0, 1, 1);
  EXPECT_TRUE(harness::validate_lin_ops(add_on_register.ops(), LinModel::cas_register).has_value());
  EXPECT_EQ(check_register(add_on_register), Validity::unknown);
  const Ops cas_on_counter = Ops().cas(0, 0, 1, v(0), v(1));
  EXPECT_TRUE(harness::validate_lin_ops(cas_on_counter.ops(), LinModel::counter).has_value());
  Ops backwards = Ops().write(0, 10, 5, v(1));
  EXPECT_TRUE(harness::validate_lin_ops(backwards.ops(), LinModel::cas_register).has_value());
  EXPECT_FALSE(
      harness::validate_lin_ops(Ops().write(0, 0, 1, v(1)).ops(), LinModel::counter).has_value());
}

// ---------------------------------------------------------------------------
// From our History.

harness::Operation history_op(std::uint64_t id, std::uint64_t invoke, std::uint64_t complete,
                              core::Command command, OpOutcome outcome,
                              std::optional<core::ReplyValue> value) {
  harness::Operation op;
  op.id = id;
  op.client = static_cast<std::uint32_t>(id % 3);
  op.invoke_us = invoke;
  op.complete_us = complete;
  op.command = std::move(command);
  op.outcome = outcome;
  if (value) {
    op.reply = core::Reply{};
    op.reply->value = *value;
  }
  return op;
}

core::Command command(core::CommandKind kind, std::vector<std::string> keys,
                      std::vector<std::string> args = {}, std::int64_t amount = 0) {
  return core::Command{kind, std::move(keys), std::move(args), amount, {}};
}

harness::History sample_history() {
  using core::CommandKind;
  using core::ReplyValue;
  harness::History history;
  auto& ops = history.operations;
  ops.push_back(history_op(0, 0, 10, command(CommandKind::set, {"r:0"}, {"a"}), OpOutcome::ok,
                           ReplyValue::of_text("OK")));
  ops.push_back(history_op(1, 20, 30, command(CommandKind::get, {"r:0"}), OpOutcome::ok,
                           ReplyValue::of_text("a")));
  ops.push_back(history_op(2, 40, 50,
                           command(CommandKind::mset, {"r:0", "r:1", "r:0"}, {"b", "c", "d"}),
                           OpOutcome::ok, ReplyValue::of_text("OK")));
  ops.push_back(history_op(3, 60, 70, command(CommandKind::mget, {"r:0", "r:1", "c:0"}),
                           OpOutcome::ok, ReplyValue::of_maybe_list({"d", "c", "7"})));
  ops.push_back(history_op(4, 80, 90, command(CommandKind::set, {"r:1"}, {"z"}), OpOutcome::fail,
                           std::nullopt));
  ops.push_back(history_op(5, 100, 110, command(CommandKind::del, {"r:1"}), OpOutcome::ok,
                           ReplyValue::of_integer(1)));
  ops.push_back(history_op(6, 120, 130, command(CommandKind::get, {"r:1"}), OpOutcome::ok,
                           ReplyValue::nil()));
  ops.push_back(history_op(7, 0, 5, command(CommandKind::incrby, {"c:0"}, {}, 10), OpOutcome::ok,
                           ReplyValue::of_integer(10)));
  ops.push_back(history_op(8, 6, 500, command(CommandKind::decrby, {"c:0"}, {}, 3),
                           OpOutcome::indeterminate, std::nullopt));
  ops.push_back(history_op(9, 10, 20, command(CommandKind::get, {"c:0"}), OpOutcome::ok,
                           ReplyValue::of_integer(7)));
  ops.push_back(history_op(10, 21, 22, command(CommandKind::incr, {"c:0"}), OpOutcome::ok,
                           ReplyValue::of_integer(8)));
  ops.push_back(history_op(11, 30, 40, command(CommandKind::sadd, {"s:0"}, {"m"}), OpOutcome::ok,
                           ReplyValue::of_integer(1)));
  return history;
}

TEST(LinearizabilityHistory, ConvertsRegisterCommands) {
  const std::vector<LinOp> ops =
      harness::lin_ops_from_history(sample_history(), LinModel::cas_register);
  // SET, GET, MSET (2 keys, the repeated one keeps "d"), MGET (2 register keys), DEL, GET.
  ASSERT_EQ(ops.size(), 8U);
  EXPECT_EQ(ops[2].key, "r:0");
  EXPECT_EQ(ops[2].value, LinValue::of_text("d"));
  EXPECT_EQ(ops[3].key, "r:1");
  EXPECT_EQ(ops[6].f, LinFunction::write);
  EXPECT_EQ(ops[6].value, LinValue::nil());
  EXPECT_EQ(ops[7].value, LinValue::nil());
  EXPECT_EQ(harness::check_linearizable(sample_history(), LinModel::cas_register).validity,
            Validity::valid);
}

TEST(LinearizabilityHistory, ConvertsCounterCommands) {
  const std::vector<LinOp> ops = harness::lin_ops_from_history(sample_history(), LinModel::counter);
  // MGET's "7", INCRBY 10, DECRBY 3 (indeterminate), GET 7, INCR.
  ASSERT_EQ(ops.size(), 5U);
  EXPECT_EQ(ops[0].f, LinFunction::read);
  EXPECT_EQ(ops[0].value, v(7));
  EXPECT_EQ(ops[2].value, v(-3));
  EXPECT_EQ(ops[2].outcome, OpOutcome::indeterminate);
  EXPECT_FALSE(ops[2].complete_time.has_value());
  // The MGET at 60..70 reads 7 after the INCR made 8: stale.
  const harness::Verdict verdict = harness::check_linearizable(sample_history(), LinModel::counter);
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("key \"c:0\""), std::string::npos) << verdict.explanation;
}

TEST(LinearizabilityHistory, StaleRegisterReadIsInvalidAndMixedKeysAreSkipped) {
  harness::History history = sample_history();
  using core::CommandKind;
  history.operations.push_back(history_op(12, 140, 150, command(CommandKind::get, {"r:0"}),
                                          OpOutcome::ok, core::ReplyValue::of_text("a")));
  history.operations.push_back(history_op(13, 160, 170, command(CommandKind::incr, {"r:1"}),
                                          OpOutcome::ok, core::ReplyValue::of_integer(1)));
  std::vector<std::string> mixed;
  harness::lin_ops_from_history(history, LinModel::cas_register, &mixed);
  EXPECT_EQ(mixed, std::vector<std::string>{"r:1"});
  const harness::Verdict verdict = harness::check_linearizable(history, LinModel::cas_register);
  EXPECT_EQ(verdict.validity, Validity::invalid);
  EXPECT_NE(verdict.explanation.find("op 12"), std::string::npos) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("skipped keys"), std::string::npos) << verdict.explanation;
}

// ---------------------------------------------------------------------------
// Jepsen's EDN histories.

harness::Verdict check_jepsen(const std::string& text, LinModel model, std::string& error) {
  std::istringstream in(text);
  error.clear();
  return harness::check_linearizable_jepsen(in, "h.edn", model, 100'000, error);
}

TEST(LinearizabilityJepsen, PlainRegisterHistory) {
  const std::string text =
      "{:type :invoke, :f :write, :value 1, :process 0, :time 10, :index 0}\n"
      "{:type :ok, :f :write, :value 1, :process 0, :time 20, :index 1}\n"
      "{:type :info, :f :start, :value nil, :process :nemesis}\n"
      "\n"
      "{:type :invoke, :f :cas, :value [1 2], :process 1}\n"
      "{:type :invoke, :f :read, :value nil, :process 2}\n"
      "{:type :info, :f :cas, :value [1 2], :process 1, :error :timeout}\n"
      "{:type :ok, :f :read, :value 2, :process 2}\n"
      "{:type :invoke, :f :write, :value 3, :process 3}\n"
      "{:type :fail, :f :write, :value 3, :process 3, :error [:crashed \"x\"]}\n"
      "{:type :invoke, :f :read, :process 4}\n"
      "{:type :ok, :f :read, :value 2, :process 4}\n";
  std::string error;
  const harness::Verdict verdict = check_jepsen(text, LinModel::cas_register, error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(verdict.validity, Validity::valid) << verdict.explanation;
  // Reading 3 (only a failed write wrote it) is not linearizable.
  std::string bad = text;
  bad.replace(bad.rfind(":value 2"), 8, ":value 3");
  const harness::Verdict invalid = check_jepsen(bad, LinModel::cas_register, error);
  EXPECT_EQ(invalid.validity, Validity::invalid);
  EXPECT_NE(invalid.explanation.find("op 11 (process 4, read 3"), std::string::npos)
      << invalid.explanation;
}

TEST(LinearizabilityJepsen, IndependentKeysAndPendingInvokes) {
  const std::string text =
      "{:process 0, :type :invoke, :f :write, :value [:a 1]}\n"
      "{:process 0, :type :ok, :f :write, :value [:a 1]}\n"
      "{:process 1, :type :invoke, :f :write, :value [:b 5]}\n"
      "{:process 1, :type :ok, :f :write, :value [:b 5]}\n"
      "{:process 2, :type :invoke, :f :cas, :value [:a [1 4]]}\n"
      "{:process 3, :type :invoke, :f :read, :value [:a nil]}\n"
      "{:process 3, :type :ok, :f :read, :value [:a 4]}\n"
      "{:process 3, :type :invoke, :f :read, :value [:b nil]}\n"
      "{:process 3, :type :ok, :f :read, :value [:b 5]}\n";
  std::istringstream in(text);
  std::string error;
  const std::optional<std::vector<LinOp>> ops = harness::lin_ops_from_jepsen(in, "h.edn", error);
  ASSERT_TRUE(ops) << error;
  ASSERT_EQ(ops->size(), 5U);
  EXPECT_EQ((*ops)[0].key, ":a");
  EXPECT_EQ((*ops)[2].f, LinFunction::cas);  // the never-completed CAS, line 5
  EXPECT_EQ((*ops)[2].id, 5U);
  EXPECT_EQ((*ops)[2].outcome, OpOutcome::indeterminate);
  EXPECT_EQ((*ops)[2].value_new, v(4));
  EXPECT_EQ(check_jepsen(text, LinModel::cas_register, error).validity, Validity::valid);
}

TEST(LinearizabilityJepsen, CounterHistory) {
  const std::string text =
      "{:process 0, :type :invoke, :f :add, :value 2}\n"
      "{:process 0, :type :ok, :f :add, :value 2}\n"
      "{:process 1, :type :invoke, :f :add, :value 3}\n"
      "{:process 1, :type :info, :f :add, :value 3}\n"
      "{:process 0, :type :invoke, :f :read, :value nil}\n"
      "{:process 0, :type :ok, :f :read, :value 5}\n"
      "{:process 0, :type :invoke, :f :read, :value nil}\n"
      "{:process 0, :type :ok, :f :read, :value 2}\n";
  std::string error;
  const harness::Verdict verdict = check_jepsen(text, LinModel::counter, error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(verdict.validity, Validity::invalid) << verdict.explanation;
  EXPECT_NE(verdict.explanation.find("line numbers"), std::string::npos);
}

TEST(LinearizabilityJepsen, MalformedLinesNameFileLineAndExpectation) {
  const std::string ok_write =
      "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, "
      ":value 1}\n";
  struct Case {
    std::string third_line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"{:process 1, :type :invoke", "h.edn:3: expected an EDN map (column 27: expected '}')"},
      {"[1 2]", "h.edn:3: expected an EDN map, got [1 2]"},
      {"{:type :invoke, :f :read}", "h.edn:3: expected a :process entry"},
      {"{:process 1, :type :bogus, :f :read}", "h.edn:3: expected :type :invoke"},
      {"{:process 1, :type :invoke, :f :frob}", "h.edn:3: expected an :f of :read, :write"},
      {"{:process 1, :type :ok, :f :read, :value 1}", "h.edn:3: expected an :invoke by process 1"},
      {"{:process 1, :type :invoke, :f :write, :value 1.5}", "h.edn:3: expected an EDN map"},
      {"{:process 1, :type :invoke, :f :write, :value 1, :value 2}", "repeated key :value"},
      {"{:process 1, :type :invoke, :f :write, :value \"unterminated}", "closing the string"},
      {"{:process -1, :type :invoke, :f :read}", "h.edn:3: expected a non-negative :process"},
      {"{:process 1, :type \"invoke\", :f :read}", "h.edn:3: expected a :type keyword"},
  };
  for (const Case& c : cases) {
    std::istringstream in(ok_write + c.third_line + "\n");
    std::string error;
    EXPECT_FALSE(harness::lin_ops_from_jepsen(in, "h.edn", error)) << c.third_line;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.third_line << " -> " << error;
  }
}

TEST(LinearizabilityJepsen, PairingAndShapeErrors) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"{:process 0, :type :invoke, :f :write, :value 1}\n"
       "{:process 0, :type :invoke, :f :write, :value 2}\n",
       "h.edn:2: expected a completion for process 0's operation invoked on line 1"},
      {"{:process 0, :type :invoke, :f :write, :value 1}\n"
       "{:process 0, :type :ok, :f :read, :value 1}\n",
       "h.edn:2: expected the :f of the :invoke on line 1 (:write), got :read"},
      {"{:process 0, :type :invoke, :f :write, :value [:k 1]}\n"
       "{:process 0, :type :ok, :f :write, :value [:k 1]}\n"
       "{:process 1, :type :invoke, :f :write, :value 2}\n"
       "{:process 1, :type :ok, :f :write, :value 2}\n",
       "h.edn:4: expected a [key value] tuple"},
      {"{:process 0, :type :invoke, :f :cas, :value 3}\n"
       "{:process 0, :type :ok, :f :cas, :value 3}\n",
       "h.edn:2: expected a cas value [old new], got 3"},
      {"{:process 0, :type :invoke, :f :write, :value {:a 1}}\n"
       "{:process 0, :type :ok, :f :write, :value {:a 1}}\n",
       "h.edn:2: expected a scalar value"},
  };
  for (const Case& c : cases) {
    std::istringstream in(c.text);
    std::string error;
    EXPECT_FALSE(harness::lin_ops_from_jepsen(in, "h.edn", error)) << c.text;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.text << " -> " << error;
  }
  // A model mismatch is an input error too, naming the :invoke line.
  std::string error;
  check_jepsen(
      "{:process 0, :type :invoke, :f :add, :value 1}\n"
      "{:process 0, :type :ok, :f :add, :value 1}\n",
      LinModel::cas_register, error);
  EXPECT_NE(error.find("h.edn:1: add is not an operation of the register model"), std::string::npos)
      << error;
}

TEST(Edn, ParsesTheSubsetAndRejectsTheRest) {
  std::string error;
  const std::optional<harness::edn::Value> value =
      harness::edn::parse("{:a [1 -2 \"s\\\"q\" nil true] :b (:c)} ; comment", error);
  ASSERT_TRUE(value) << error;
  EXPECT_EQ(harness::edn::to_text(*value), "{:a [1 -2 \"s\\\"q\" nil true] :b (:c)}");
  ASSERT_NE(harness::edn::find(*value, "b"), nullptr);
  EXPECT_EQ(harness::edn::find(*value, "z"), nullptr);
  EXPECT_FALSE(harness::edn::parse("9223372036854775808", error));
  EXPECT_TRUE(harness::edn::parse("-9223372036854775808", error));
  EXPECT_TRUE(harness::edn::parse("#{1}", error));  // sets: see set_history_test.cc
  EXPECT_FALSE(harness::edn::parse("#inst \"2020\"", error));
  EXPECT_FALSE(harness::edn::parse("sym", error));
  EXPECT_FALSE(harness::edn::parse("1 2", error));
  EXPECT_EQ(error, "column 3: expected the end of the line after one value");
  EXPECT_FALSE(harness::edn::parse(std::string(100, '['), error));
  EXPECT_NE(error.find("levels of nesting"), std::string::npos) << error;
}

}  // namespace
}  // namespace crdtsim::testing
