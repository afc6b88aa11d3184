// Where the linearizability checker's operations come from: our History, and
// Jepsen's EDN history files.
#include <algorithm>
#include <cassert>
#include <istream>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "harness/checkers/edn.h"
#include "harness/checkers/jepsen.h"
#include "harness/checkers/linearizability.h"

namespace crdtsim::harness {

namespace {

// ---------------------------------------------------------------------------
// Our History.

enum KeyEvidence : std::uint8_t { kRegister = 1, kCounter = 2 };

bool is_counter_update(core::CommandKind kind) {
  return kind == core::CommandKind::incr || kind == core::CommandKind::incrby ||
         kind == core::CommandKind::decr || kind == core::CommandKind::decrby;
}

std::map<std::string, std::uint8_t> classify_keys(const History& history) {
  std::map<std::string, std::uint8_t> evidence;
  for (const Operation& op : history.operations) {
    if (op.outcome == OpOutcome::fail) {
      continue;
    }
    const core::CommandKind kind = op.command.kind;
    for (const std::string& key : op.command.keys) {
      std::uint8_t& flags = evidence[key];
      if (kind == core::CommandKind::set || kind == core::CommandKind::mset) {
        flags |= kRegister;
      } else if (is_counter_update(kind)) {
        flags |= kCounter;
      } else if (kind == core::CommandKind::get && op.reply &&
                 op.reply->status == core::ReplyStatus::ok) {
        const core::ReplyValue::Kind value = op.reply->value.kind;
        flags |= value == core::ReplyValue::Kind::integer ? kCounter
                 : value == core::ReplyValue::Kind::text  ? kRegister
                                                          : 0;
      }
    }
  }
  return evidence;
}

// A strict decimal int64 (MGET returns counters in decimal).
std::optional<std::int64_t> parse_decimal(const std::string& text) {
  std::string error;
  const std::optional<edn::Value> value = edn::parse(text, error);
  if (!value || value->kind != edn::Value::Kind::integer || text.empty() || text[0] == '+' ||
      text.find_first_of(" \t,;") != std::string::npos) {
    return std::nullopt;
  }
  return value->integer;
}

LinValue read_value(const std::optional<std::string>& text, bool counter) {
  if (!text) {
    return counter ? LinValue::of_integer(0) : LinValue::nil();
  }
  if (counter) {
    if (const std::optional<std::int64_t> integer = parse_decimal(*text)) {
      return LinValue::of_integer(*integer);
    }
  }
  return LinValue::of_text(*text);  // on a counter: a value it can never hold
}

LinValue get_value(const core::ReplyValue& value, bool counter) {
  switch (value.kind) {
    case core::ReplyValue::Kind::integer:
      return counter ? LinValue::of_integer(value.integer)
                     : LinValue::of_text(std::to_string(value.integer));
    case core::ReplyValue::Kind::text:
      return read_value(value.text, counter);
    default:
      return read_value(std::nullopt, counter);
  }
}

class HistoryConverter {
 public:
  HistoryConverter(const History& history, LinModel model) : model_(model) {
    for (const auto& [key, flags] : classify_keys(history)) {
      const bool counter = (flags & kCounter) != 0;
      if (counter && (flags & kRegister) != 0) {
        mixed_.push_back(key);
      } else if (counter == (model == LinModel::counter)) {
        keys_.insert(key);
      }
    }
  }

  void convert(const Operation& op) {
    if (op.outcome == OpOutcome::fail) {
      return;
    }
    const core::Command& command = op.command;
    const bool counter = model_ == LinModel::counter;
    switch (command.kind) {
      case core::CommandKind::set:
        if (!command.args.empty()) {
          add(op, command.keys[0], LinFunction::write, LinValue::of_text(command.args[0]));
        }
        break;
      case core::CommandKind::mset:
        convert_mset(op);
        break;
      case core::CommandKind::del: {
        const std::set<std::string> keys(command.keys.begin(), command.keys.end());
        for (const std::string& key : keys) {
          add(op, key, LinFunction::write, counter ? LinValue::of_integer(0) : LinValue::nil());
        }
        break;
      }
      case core::CommandKind::get:
        if (readable(op)) {
          add(op, command.keys[0], LinFunction::read, get_value(op.reply->value, counter));
        }
        break;
      case core::CommandKind::mget:
        convert_mget(op);
        break;
      default:
        if (is_counter_update(command.kind)) {
          convert_update(op);
        }
        break;
    }
  }

  std::vector<LinOp> take() { return std::move(operations_); }
  std::vector<std::string>& mixed() { return mixed_; }

 private:
  static bool readable(const Operation& op) {
    return op.outcome == OpOutcome::ok && op.reply && op.reply->status == core::ReplyStatus::ok &&
           !op.command.keys.empty();
  }

  void add(const Operation& op, const std::string& key, LinFunction f, LinValue value) {
    if (keys_.count(key) == 0) {
      return;
    }
    LinOp lin_op;
    lin_op.id = op.id;
    lin_op.process = op.client;
    lin_op.key = key;
    lin_op.invoke_time = op.invoke_us;
    if (op.outcome == OpOutcome::ok) {
      lin_op.complete_time = op.complete_us;
    }
    lin_op.f = f;
    lin_op.value = std::move(value);
    lin_op.outcome = op.outcome;
    operations_.push_back(std::move(lin_op));
  }

  // One write per key; a repeated key keeps its last value, as MSET does.
  void convert_mset(const Operation& op) {
    const core::Command& command = op.command;
    std::map<std::string, std::string> last;
    for (std::size_t i = 0; i < command.keys.size() && i < command.args.size(); ++i) {
      last[command.keys[i]] = command.args[i];
    }
    for (const auto& [key, value] : last) {
      add(op, key, LinFunction::write, LinValue::of_text(value));
    }
  }

  void convert_mget(const Operation& op) {
    if (!readable(op) || op.reply->value.kind != core::ReplyValue::Kind::maybe_list ||
        op.reply->value.maybe_list.size() != op.command.keys.size()) {
      return;
    }
    for (std::size_t i = 0; i < op.command.keys.size(); ++i) {
      add(op, op.command.keys[i], LinFunction::read,
          read_value(op.reply->value.maybe_list[i], model_ == LinModel::counter));
    }
  }

  void convert_update(const Operation& op) {
    const core::Command& command = op.command;
    std::int64_t delta = 1;
    switch (command.kind) {
      case core::CommandKind::incrby:
        delta = command.amount;
        break;
      case core::CommandKind::decr:
        delta = -1;
        break;
      case core::CommandKind::decrby:
        if (command.amount == std::numeric_limits<std::int64_t>::min()) {
          return;  // malformed (validate() rejects it); it cannot have taken effect
        }
        delta = -command.amount;
        break;
      default:
        break;
    }
    add(op, command.keys[0], LinFunction::add, LinValue::of_integer(delta));
  }

  LinModel model_;
  std::set<std::string> keys_;  // the keys of the model's kind
  std::vector<std::string> mixed_;
  std::vector<LinOp> operations_;
};

// ---------------------------------------------------------------------------
// Jepsen's EDN history (lines and pairing: harness/checkers/jepsen.h).

using jepsen::fail;
using jepsen::is_pair;

LinValue scalar(const edn::Value& value, std::string_view role) {
  switch (value.kind) {
    case edn::Value::Kind::nil:
      return LinValue::nil();
    case edn::Value::Kind::integer:
      return LinValue::of_integer(value.integer);
    case edn::Value::Kind::string:
      return LinValue::of_text(value.text);
    case edn::Value::Kind::keyword:
    case edn::Value::Kind::boolean:
      return LinValue::of_text(edn::to_text(value));
    default:
      fail("a scalar " + std::string(role) + " (nil, integer, string, keyword), got " +
           edn::to_text(value));
  }
}

LinFunction lin_function_of(const std::string& name) {
  if (name == "write") {
    return LinFunction::write;
  }
  if (name == "cas") {
    return LinFunction::cas;
  }
  return name == "add" ? LinFunction::add : LinFunction::read;
}

class JepsenLinHandler final : public jepsen::Handler {
 public:
  const std::vector<std::string_view>& functions() const override {
    static const std::vector<std::string_view> names = {"read", "write", "cas", "add"};
    return names;
  }

  void completed(const jepsen::Invocation& invocation,
                 const jepsen::Completion& completion) override {
    if (completion.type == "fail") {
      return;  // it did not take effect
    }
    const bool ok = completion.type == "ok";
    const LinFunction f = lin_function_of(invocation.f);
    // A read's value is what it returned; other ops carry theirs on invoke.
    const edn::Value& carried = ok && f == LinFunction::read ? completion.value : invocation.value;
    push(invocation, ok ? std::optional<std::uint64_t>(completion.line) : std::nullopt,
         ok ? OpOutcome::ok : OpOutcome::indeterminate, carried);
  }

  void never_completed(const jepsen::Invocation& invocation) override {
    push(invocation, std::nullopt, OpOutcome::indeterminate, invocation.value);
  }

  std::vector<LinOp> take() {
    std::stable_sort(operations_.begin(), operations_.end(),
                     [](const LinOp& left, const LinOp& right) { return left.id < right.id; });
    return std::move(operations_);
  }

 private:
  void push(const jepsen::Invocation& invocation, std::optional<std::uint64_t> complete,
            OpOutcome outcome, const edn::Value& value) {
    LinOp op;
    op.id = invocation.line;
    op.process = invocation.process;
    op.invoke_time = invocation.line;
    op.complete_time = complete;
    op.f = lin_function_of(invocation.f);
    op.outcome = outcome;
    set_value(op, value);
    operations_.push_back(std::move(op));
  }

  // Plain values, or independent [key value] tuples; the first operation
  // decides which, and every other must agree.
  void set_value(LinOp& op, const edn::Value& value) {
    const bool looks_keyed =
        op.f == LinFunction::cas ? is_pair(value) && is_pair(value.items[1]) : is_pair(value);
    if (!keyed_) {
      keyed_ = looks_keyed;
    } else if (*keyed_ != looks_keyed) {
      fail(*keyed_ ? "a [key value] tuple, as on the earlier lines, got " + edn::to_text(value)
                   : "a plain value, as on the earlier lines, got " + edn::to_text(value));
    }
    const edn::Value& payload = looks_keyed ? value.items[1] : value;
    op.key = looks_keyed ? edn::to_text(value.items[0]) : std::string();
    if (op.f != LinFunction::cas) {
      op.value = scalar(payload, "value");
      return;
    }
    if (!is_pair(payload)) {
      fail("a cas value [old new], got " + edn::to_text(value));
    }
    op.value = scalar(payload.items[0], "cas old value");
    op.value_new = scalar(payload.items[1], "cas new value");
  }

  std::optional<bool> keyed_;
  std::vector<LinOp> operations_;
};

}  // namespace

std::vector<LinOp> lin_ops_from_history(const History& history, LinModel model,
                                        std::vector<std::string>* mixed_keys) {
  HistoryConverter converter(history, model);
  for (const Operation& op : history.operations) {
    converter.convert(op);
  }
  if (mixed_keys != nullptr) {
    *mixed_keys = std::move(converter.mixed());
  }
  return converter.take();
}

std::optional<std::vector<LinOp>> lin_ops_from_jepsen(std::istream& in, const std::string& source,
                                                      std::string& error) {
  JepsenLinHandler handler;
  if (!jepsen::read_history(in, source, handler, error)) {
    return std::nullopt;
  }
  return handler.take();
}

}  // namespace crdtsim::harness
