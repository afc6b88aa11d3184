#include "harness/checkers/linearizability.h"

#include <cassert>
#include <map>
#include <utility>

#include "harness/checkers/linearizability_search.h"

namespace crdtsim::harness {

namespace {

constexpr const char* kProperty = "linearizability";
constexpr std::size_t kBlockedShownMax = 6;
constexpr std::size_t kKeysNamedMax = 5;

std::string quote(const std::string& text) {
  return "\"" + text + "\"";
}

std::string describe_effect(const LinOp& op) {
  std::string text = lin_function_name(op.f);
  switch (op.f) {
    case LinFunction::cas:
      return text + " " + describe(op.value) + " -> " + describe(op.value_new);
    case LinFunction::add:
      if (op.value.kind == LinValue::Kind::integer && op.value.integer >= 0) {
        return text + " +" + std::to_string(op.value.integer);
      }
      return text + " " + describe(op.value);
    default:
      return text + " " + describe(op.value);
  }
}

// "op 41 (process 2, read "v9", invoked 1200, completed 1530)"
std::string describe_op(const LinOp& op) {
  std::string text = "op " + std::to_string(op.id) + " (process " + std::to_string(op.process) +
                     ", " + describe_effect(op) + ", invoked " + std::to_string(op.invoke_time);
  if (op.outcome == OpOutcome::ok && op.complete_time) {
    text += ", completed " + std::to_string(*op.complete_time);
  } else {
    text += ", indeterminate";
  }
  return text + ")";
}

std::optional<std::string> validate_op(const LinOp& op, LinModel model) {
  if (op.outcome == OpOutcome::ok && !op.complete_time) {
    return std::string("an ok operation needs a completion time");
  }
  if (op.complete_time && *op.complete_time < op.invoke_time) {
    return std::string("completes before it is invoked");
  }
  const bool is_register = model == LinModel::cas_register;
  if (is_register && op.f == LinFunction::add) {
    return std::string("add is not an operation of the register model (read, write, cas)");
  }
  if (!is_register && op.f == LinFunction::cas) {
    return std::string("cas is not an operation of the counter model (add, read, write)");
  }
  const bool integer_only = !is_register && op.f != LinFunction::read;
  if (integer_only && op.value.kind != LinValue::Kind::integer) {
    return std::string("a counter ") + lin_function_name(op.f) + " needs an integer, got " +
           describe(op.value);
  }
  return std::nullopt;
}

std::string key_evidence(const std::string& key, const linearizability::KeyResult& result,
                         LinModel model) {
  if (!result.refutation.empty()) {
    assert(result.deadline != nullptr);
    return "key " + quote(key) + " is not linearizable as a " + lin_model_name(model) + ": " +
           describe_op(*result.deadline) + " " + result.refutation + ".";
  }
  std::string text = "key " + quote(key) + " is not linearizable as a " + lin_model_name(model) +
                     ": at most " + std::to_string(result.placed_max) + " of its " +
                     std::to_string(result.determinate) + " ok operations linearize";
  if (result.deadline != nullptr) {
    text +=
        "; the earliest operation no linearization can place is " + describe_op(*result.deadline);
  }
  text += ". There the value is " + result.state + ", and of the operations that may go next";
  text += " none can:";
  for (std::size_t i = 0; i < result.blocked.size() && i < kBlockedShownMax; ++i) {
    text += " " + describe_op(*result.blocked[i].op) + " " + result.blocked[i].reason + ";";
  }
  if (result.blocked.size() > kBlockedShownMax) {
    text += " and " + std::to_string(result.blocked.size() - kBlockedShownMax) + " more;";
  }
  if (!result.path_tail.empty()) {
    text += " linearized just before:";
    for (const linearizability::PathStep& step : result.path_tail) {
      text += std::string(" ") + (step.assumed ? "[assumed to take effect] " : "") +
              describe_op(*step.op) + ",";
    }
    text.back() = '.';
  }
  return text;
}

std::string name_keys(const std::vector<std::string>& keys) {
  std::string text;
  for (std::size_t i = 0; i < keys.size() && i < kKeysNamedMax; ++i) {
    text += (i == 0 ? "" : ", ") + quote(keys[i]);
  }
  if (keys.size() > kKeysNamedMax) {
    text += " and " + std::to_string(keys.size() - kKeysNamedMax) + " more";
  }
  return text;
}

struct Totals {
  std::size_t keys = 0;
  std::size_t determinate = 0;
  std::size_t indeterminate = 0;
  std::uint64_t states = 0;
};

std::string totals_text(const Totals& totals) {
  return std::to_string(totals.keys) + (totals.keys == 1 ? " key, " : " keys, ") +
         std::to_string(totals.determinate) + " ok and " + std::to_string(totals.indeterminate) +
         " indeterminate operations; explored " + std::to_string(totals.states) + " states";
}

}  // namespace

const char* lin_model_name(LinModel model) {
  return model == LinModel::cas_register ? "register" : "counter";
}

const char* lin_function_name(LinFunction function) {
  switch (function) {
    case LinFunction::read:
      return "read";
    case LinFunction::write:
      return "write";
    case LinFunction::cas:
      return "cas";
    case LinFunction::add:
      return "add";
  }
  return "read";
}

std::string describe(const LinValue& value) {
  switch (value.kind) {
    case LinValue::Kind::nil:
      return "nil";
    case LinValue::Kind::integer:
      return std::to_string(value.integer);
    case LinValue::Kind::text:
      return quote(value.text);
  }
  return "nil";
}

std::optional<std::string> validate_lin_ops(const std::vector<LinOp>& operations, LinModel model) {
  for (const LinOp& op : operations) {
    if (std::optional<std::string> error = validate_op(op, model)) {
      return "op " + std::to_string(op.id) + ": " + *error;
    }
  }
  return std::nullopt;
}

LinearizabilityResult check_lin_ops(const std::vector<LinOp>& operations, LinModel model,
                                    std::uint64_t max_states) {
  if (std::optional<std::string> error = validate_lin_ops(operations, model)) {
    return {Verdict::unknown(kProperty, "cannot check: " + *error), 0};
  }
  std::map<std::string, std::vector<const LinOp*>> by_key;
  for (const LinOp& op : operations) {
    if (op.outcome != OpOutcome::fail) {
      by_key[op.key].push_back(&op);
    }
  }
  Totals totals;
  std::string first_invalid;
  std::vector<std::string> invalid_keys;
  std::vector<std::string> unknown_keys;
  std::string first_unknown;
  for (const auto& [key, key_operations] : by_key) {
    const linearizability::KeyResult result =
        linearizability::search_key(key_operations, model, max_states);
    ++totals.keys;
    totals.determinate += result.determinate;
    totals.indeterminate += result.indeterminate;
    totals.states += result.states;
    if (result.validity == Validity::invalid) {
      if (invalid_keys.empty()) {
        first_invalid = key_evidence(key, result, model);
      }
      invalid_keys.push_back(key);
    } else if (result.validity == Validity::unknown) {
      if (unknown_keys.empty()) {
        first_unknown =
            "key " + quote(key) + ": gave up after " + std::to_string(result.states) +
            " states (budget " + std::to_string(max_states) + " per key" +
            (result.runs_overflow ? ", or too many ways to place indeterminate adds" : "") +
            ") with " + std::to_string(result.placed_max) + " of " +
            std::to_string(result.determinate) + " ok operations linearized";
      }
      unknown_keys.push_back(key);
    }
  }
  if (!invalid_keys.empty()) {
    std::string text = first_invalid;
    if (invalid_keys.size() > 1) {
      text += " Invalid keys: " + name_keys(invalid_keys) + ".";
    }
    return {Verdict::invalid(kProperty, text + " (" + totals_text(totals) + ")"), totals.states};
  }
  if (!unknown_keys.empty()) {
    return {
        Verdict::unknown(kProperty, first_unknown + "; unknown keys: " + name_keys(unknown_keys) +
                                        " (" + totals_text(totals) + ")"),
        totals.states};
  }
  return {Verdict::valid(kProperty, std::string("linearizable as ") + lin_model_name(model) +
                                        "s (" + totals_text(totals) + ")"),
          totals.states};
}

Verdict check_linearizable(const History& history, LinModel model, std::uint64_t max_states) {
  std::vector<std::string> mixed_keys;
  const std::vector<LinOp> operations = lin_ops_from_history(history, model, &mixed_keys);
  Verdict verdict = check_lin_ops(operations, model, max_states).verdict;
  if (!mixed_keys.empty()) {
    verdict.explanation +=
        "; skipped keys that were both register and counter: " + name_keys(mixed_keys);
  }
  return verdict;
}

Verdict check_linearizable_jepsen(std::istream& in, const std::string& source, LinModel model,
                                  std::uint64_t max_states, std::string& error) {
  std::optional<std::vector<LinOp>> operations = lin_ops_from_jepsen(in, source, error);
  if (!operations) {
    return Verdict::unknown(kProperty, "cannot read " + source + ": " + error);
  }
  for (const LinOp& op : *operations) {
    if (std::optional<std::string> problem = validate_op(op, model)) {
      error = source + ":" + std::to_string(op.id) + ": " + *problem;
      return Verdict::unknown(kProperty, "cannot check: " + error);
    }
  }
  Verdict verdict = check_lin_ops(*operations, model, max_states).verdict;
  verdict.explanation += " (Jepsen history " + source + "; op ids are :invoke line numbers)";
  return verdict;
}

}  // namespace crdtsim::harness
