// The set checker (see set_history.h): where its operations come from (our
// History, Jepsen's EDN histories) and the per-key check against the final
// read.
#include "harness/checkers/set_history.h"

#include <algorithm>
#include <cassert>
#include <exception>
#include <istream>
#include <limits>
#include <map>
#include <streambuf>
#include <utility>

#include "harness/checkers/edn.h"

namespace crdtsim::harness {

namespace {

constexpr std::size_t kEvidenceShownMax = 5;
constexpr std::uint64_t kTimeInfinite = std::numeric_limits<std::uint64_t>::max();

// ---------------------------------------------------------------------------
// Naming keys, elements and operations in explanations.

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char character : text) {
    if (character == '\n') {
      out += "\\n";
      continue;
    }
    if (character == '"' || character == '\\') {
      out += '\\';
    }
    out += character;
  }
  return out + "\"";
}

std::string element_text(const std::string& element, SetSource source) {
  return source == SetSource::history ? quoted(element) : element;
}

std::string key_text(const std::string& key, SetSource source) {
  if (source == SetSource::history) {
    return "key " + quoted(key);
  }
  return key.empty() ? std::string("the set") : "key " + key;  // Jepsen keys are EDN text
}

std::string describe_jepsen_op(const SetOp& op) {
  std::string text =
      "op on line " + std::to_string(op.invoke_time) + " (:" + set_function_name(op.f) + ", ";
  switch (op.outcome) {
    case OpOutcome::ok:
      return text + ":ok on line " + std::to_string(op.complete_time.value_or(0)) + ")";
    case OpOutcome::fail:
      return text + ":fail)";
    case OpOutcome::indeterminate:
      break;
  }
  return text + ":info or never completed)";
}

// "1 key", "2 keys".
std::string count_of(std::uint64_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string describe_op(const SetOp& op, SetSource source) {
  if (source == SetSource::jepsen) {
    return describe_jepsen_op(op);
  }
  std::string text = "op " + std::to_string(op.id) + " (" + set_function_name(op.f) + ", invoked " +
                     std::to_string(op.invoke_time) + " us";
  switch (op.outcome) {
    case OpOutcome::ok:
      return text + ", completed " + std::to_string(op.complete_time.value_or(0)) + " us)";
    case OpOutcome::fail:
      return text + ", failed)";
    case OpOutcome::indeterminate:
      break;
  }
  return text + ", indeterminate)";
}

// ---------------------------------------------------------------------------
// The check.

struct KeyOps {
  std::vector<const SetOp*> adds;     // every outcome (failed ones name evidence)
  std::vector<const SetOp*> removes;  // ok or indeterminate
  const SetOp* final_read = nullptr;
};

// Is `candidate` a later final read than `current`?
bool later_read(const SetOp& candidate, const SetOp& current) {
  return candidate.invoke_time > current.invoke_time ||
         (candidate.invoke_time == current.invoke_time && candidate.id > current.id);
}

std::map<std::string, KeyOps> group_by_key(const std::vector<SetOp>& operations) {
  std::map<std::string, KeyOps> keys;
  for (const SetOp& op : operations) {
    switch (op.f) {
      case SetFunction::add:
        keys[op.key].adds.push_back(&op);
        break;
      case SetFunction::remove:
        if (op.outcome != OpOutcome::fail) {
          keys[op.key].removes.push_back(&op);
        }
        break;
      case SetFunction::read:
        if (op.outcome == OpOutcome::ok) {
          const SetOp*& final_read = keys[op.key].final_read;
          if (final_read == nullptr || later_read(op, *final_read)) {
            final_read = &op;
          }
        }
        break;
    }
  }
  return keys;
}

struct ElementOps {
  std::vector<const SetOp*> adds;
  // The latest completion (indeterminate: infinite) of a remove of the
  // element invoked before the final read completed: it explains the
  // absence of every add invoked no later than that.
  std::optional<std::uint64_t> remove_reach;
};

void extend_reach(std::optional<std::uint64_t>& reach, std::uint64_t complete) {
  reach = std::max(reach.value_or(0), complete);
}

std::uint64_t effective_completion(const SetOp& remove) {
  return remove.outcome == OpOutcome::ok ? remove.complete_time.value_or(0) : kTimeInfinite;
}

std::map<std::string, ElementOps> elements_of(const KeyOps& key_ops) {
  std::map<std::string, ElementOps> elements;
  for (const SetOp* add : key_ops.adds) {
    for (const std::string& element : add->elements) {
      elements[element].adds.push_back(add);
    }
  }
  if (key_ops.final_read == nullptr) {
    return elements;
  }
  const SetOp& read = *key_ops.final_read;
  for (const std::string& element : read.elements) {
    elements[element];  // present: classified too, even if never added
  }
  std::optional<std::uint64_t> reach_all;  // DEL of the key
  for (const SetOp* remove : key_ops.removes) {
    if (remove->invoke_time > read.complete_time.value_or(0)) {
      continue;  // invoked after the read completed: it cannot explain the read
    }
    if (remove->remove_all) {
      extend_reach(reach_all, effective_completion(*remove));
    }
    for (const std::string& element : remove->elements) {
      if (const auto found = elements.find(element); found != elements.end()) {
        extend_reach(found->second.remove_reach, effective_completion(*remove));
      }
    }
  }
  if (reach_all) {
    for (auto& [element, element_ops] : elements) {
      extend_reach(element_ops.remove_reach, *reach_all);
    }
  }
  return elements;
}

enum class Fate : std::uint8_t { none, present, recovered, unexpected, lost, removed, never_read };

struct Finding {
  Fate fate = Fate::none;
  const SetOp* add = nullptr;  // evidence: the add that explains the fate, if any
};

Finding classify_present(const ElementOps& element, const SetOp& read) {
  const SetOp* indeterminate = nullptr;
  const SetOp* other = nullptr;  // a failed add, or one invoked after the read completed
  for (const SetOp* add : element.adds) {
    if (add->outcome == OpOutcome::fail || add->invoke_time > read.complete_time.value_or(0)) {
      other = other == nullptr ? add : other;
    } else if (add->outcome == OpOutcome::ok) {
      return {Fate::present, add};
    } else if (indeterminate == nullptr) {
      indeterminate = add;
    }
  }
  return indeterminate != nullptr ? Finding{Fate::recovered, indeterminate}
                                  : Finding{Fate::unexpected, other};
}

Finding classify_absent(const ElementOps& element, const SetOp& read) {
  bool required = false;  // an ok add completed before the read was invoked
  bool acknowledged = false;
  for (const SetOp* add : element.adds) {
    if (add->outcome != OpOutcome::ok) {
      continue;
    }
    acknowledged = true;
    if (add->complete_time.value_or(0) >= read.invoke_time) {
      continue;  // concurrent with the read, or after it
    }
    required = true;
    const bool explained = element.remove_reach && *element.remove_reach >= add->invoke_time;
    if (!explained) {
      return {Fate::lost, add};
    }
  }
  return {required ? Fate::removed : acknowledged ? Fate::never_read : Fate::none, nullptr};
}

class Report {
 public:
  explicit Report(SetSource source) : source_(source) {}

  void check_key(const std::string& key, const KeyOps& key_ops) {
    const std::map<std::string, ElementOps> elements = elements_of(key_ops);
    std::uint64_t attempted = 0;
    for (const auto& [element, element_ops] : elements) {
      attempted += count_adds(element_ops) ? 1U : 0U;
    }
    if (key_ops.final_read == nullptr) {
      if (attempted > 0) {
        ++counts_.keys;
        ++counts_.keys_unread;
        name(unread_, key_text(key, source_) + " (" + count_of(attempted, "element") + " added)");
      }
      return;
    }
    ++counts_.keys;
    const SetOp& read = *key_ops.final_read;
    name(final_reads_, key_text(key, source_) + ": " + describe_op(read, source_));
    for (const auto& [element, element_ops] : elements) {
      const bool present = std::binary_search(read.elements.begin(), read.elements.end(), element);
      counts_.present += present ? 1U : 0U;
      const Finding finding =
          present ? classify_present(element_ops, read) : classify_absent(element_ops, read);
      record(key, element, read, finding);
    }
  }

  SetResult verdict() const {
    const std::string totals = describe_counts();
    if (!problems_shown_.empty()) {
      std::string text = join(problems_shown_, counts_.lost + counts_.unexpected);
      return {Verdict::invalid(kSetProperty, text + ". " + totals), counts_};
    }
    if (counts_.keys_unread > 0) {
      return {
          Verdict::unknown(kSetProperty, "no read to check against for " +
                                             join(unread_, counts_.keys_unread) + ". " + totals),
          counts_};
    }
    if (counts_.keys == 0) {
      return {Verdict::unknown(kSetProperty, "no set operations to check (adds and reads)"),
              counts_};
    }
    std::string text = "every element acknowledged before its key's final read is in it or removed";
    if (!recovered_.empty()) {
      text += "; recovered (indeterminate adds present): " + join(recovered_, counts_.recovered);
    }
    text += "; final reads: " + join(final_reads_, counts_.keys);
    return {Verdict::valid(kSetProperty, text + ". " + totals), counts_};
  }

 private:
  // Counts the element as attempted and acknowledged as its adds say.
  bool count_adds(const ElementOps& element) {
    bool attempted = false;
    bool acknowledged = false;
    for (const SetOp* add : element.adds) {
      attempted = attempted || add->outcome != OpOutcome::fail;
      acknowledged = acknowledged || add->outcome == OpOutcome::ok;
    }
    counts_.attempted += attempted ? 1U : 0U;
    counts_.ok_added += acknowledged ? 1U : 0U;
    return attempted;
  }

  void record(const std::string& key, const std::string& element, const SetOp& read,
              const Finding& finding) {
    const std::string where =
        key_text(key, source_) + ": element " + element_text(element, source_);
    switch (finding.fate) {
      case Fate::lost:
        ++counts_.lost;
        assert(finding.add != nullptr);
        name(problems_shown_, where + " lost: " + describe_op(*finding.add, source_) +
                                  " completed before the final read " + describe_op(read, source_) +
                                  " was invoked, which does not contain it, and no attempted "
                                  "remove of it explains that");
        break;
      case Fate::unexpected:
        ++counts_.unexpected;
        name(problems_shown_, where + " unexpected in the final read " +
                                  describe_op(read, source_) + ": " + why_unexpected(finding.add));
        break;
      case Fate::recovered:
        ++counts_.recovered;
        name(recovered_, where + " added by " + describe_op(*finding.add, source_));
        break;
      case Fate::removed:
        ++counts_.removed;
        break;
      case Fate::never_read:
        ++counts_.never_read;
        break;
      case Fate::present:
      case Fate::none:
        break;
    }
  }

  std::string why_unexpected(const SetOp* add) const {
    if (add == nullptr) {
      return "no add of it was attempted";
    }
    if (add->outcome == OpOutcome::fail) {
      return "its add failed: " + describe_op(*add, source_);
    }
    return "it was added only after the read completed: " + describe_op(*add, source_);
  }

  static void name(std::vector<std::string>& names, std::string text) {
    if (names.size() < kEvidenceShownMax) {
      names.push_back(std::move(text));
    }
  }

  static std::string join(const std::vector<std::string>& names, std::uint64_t total) {
    std::string text;
    for (const std::string& item : names) {
      text += (text.empty() ? "" : "; ") + item;
    }
    if (total > names.size()) {
      text += "; and " + std::to_string(total - names.size()) + " more";
    }
    return text;
  }

  std::string describe_counts() const {
    const SetCounts& c = counts_;
    return count_of(c.keys, "key") + " (" + std::to_string(c.keys_unread) +
           " without a read); elements: " + std::to_string(c.attempted) + " attempted, " +
           std::to_string(c.ok_added) + " ok, " + std::to_string(c.present) + " present, " +
           std::to_string(c.lost) + " lost, " + std::to_string(c.unexpected) + " unexpected, " +
           std::to_string(c.recovered) + " recovered, " + std::to_string(c.removed) + " removed, " +
           std::to_string(c.never_read) +
           " never read (ok adds concurrent with or after the final read)";
  }

  SetSource source_;
  SetCounts counts_;
  std::vector<std::string> problems_shown_;
  std::vector<std::string> unread_;
  std::vector<std::string> recovered_;
  std::vector<std::string> final_reads_;
};

// ---------------------------------------------------------------------------
// Collecting operations: every add and remove, and each key's final read.

class SetOpCollector {
 public:
  void push(SetOp op) {
    if (op.f != SetFunction::read) {
      operations_.push_back(std::move(op));
      return;
    }
    if (op.outcome != OpOutcome::ok) {
      return;
    }
    const auto [found, inserted] = final_reads_.try_emplace(op.key);
    if (inserted || later_read(op, found->second)) {
      found->second = std::move(op);
    }
  }

  std::vector<SetOp> finish() {
    for (auto& [key, read] : final_reads_) {
      operations_.push_back(std::move(read));
    }
    final_reads_.clear();
    std::stable_sort(operations_.begin(), operations_.end(),
                     [](const SetOp& left, const SetOp& right) { return left.id < right.id; });
    return std::move(operations_);
  }

 private:
  std::vector<SetOp> operations_;
  std::map<std::string, SetOp> final_reads_;
};

std::vector<std::string> distinct(std::vector<std::string> elements) {
  std::sort(elements.begin(), elements.end());
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  return elements;
}

// ---------------------------------------------------------------------------
// Our History.

SetOp base_op(const Operation& op, SetFunction f, const std::string& key) {
  SetOp set_op;
  set_op.id = op.id;
  set_op.process = op.client;
  set_op.key = key;
  set_op.f = f;
  set_op.invoke_time = op.invoke_us;
  if (op.outcome != OpOutcome::indeterminate) {
    set_op.complete_time = op.complete_us;
  }
  set_op.outcome = op.outcome;
  return set_op;
}

void convert_read(const Operation& op, SetOpCollector& collector) {
  if (op.outcome != OpOutcome::ok || !op.reply || op.reply->status != core::ReplyStatus::ok) {
    return;
  }
  const core::ReplyValue& value = op.reply->value;
  if (value.kind != core::ReplyValue::Kind::list && value.kind != core::ReplyValue::Kind::nil) {
    return;  // not a set's members
  }
  SetOp read = base_op(op, SetFunction::read, op.command.keys[0]);
  read.elements = distinct(value.list);
  collector.push(std::move(read));
}

void convert(const Operation& op, SetOpCollector& collector) {
  const core::Command& command = op.command;
  if (command.keys.empty()) {
    return;
  }
  switch (command.kind) {
    case core::CommandKind::sadd:
    case core::CommandKind::gsadd:
    case core::CommandKind::srem: {
      const bool add = command.kind != core::CommandKind::srem;
      SetOp set_op = base_op(op, add ? SetFunction::add : SetFunction::remove, command.keys[0]);
      set_op.elements = distinct(command.args);
      if (!set_op.elements.empty() && (add || op.outcome != OpOutcome::fail)) {
        collector.push(std::move(set_op));
      }
      break;
    }
    case core::CommandKind::del:
      if (op.outcome != OpOutcome::fail) {
        for (const std::string& key : distinct(command.keys)) {
          SetOp remove = base_op(op, SetFunction::remove, key);
          remove.remove_all = true;
          collector.push(std::move(remove));
        }
      }
      break;
    case core::CommandKind::smembers:
    case core::CommandKind::gsmembers:
      convert_read(op, collector);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// Jepsen's EDN history (lines and pairing: harness/checkers/jepsen.h).

using jepsen::fail;
using jepsen::is_pair;

bool is_collection(const edn::Value& value) {
  return value.kind == edn::Value::Kind::set || value.kind == edn::Value::Kind::vector;
}

SetFunction set_function_of(const std::string& name) {
  if (name == "add") {
    return SetFunction::add;
  }
  return name == "remove" ? SetFunction::remove : SetFunction::read;
}

class JepsenSetHandler final : public jepsen::Handler {
 public:
  const std::vector<std::string_view>& functions() const override {
    static const std::vector<std::string_view> names = {"add", "remove", "read"};
    return names;
  }

  void invoked(const jepsen::Invocation& invocation) override {
    const SetFunction f = set_function_of(invocation.f);
    if (f == SetFunction::read) {
      return;
    }
    if (invocation.value.kind == edn::Value::Kind::nil) {
      fail(std::string("a :value on the :") + set_function_name(f) + " (the element)");
    }
    decide_keyed(is_pair(invocation.value), invocation.value);
  }

  void completed(const jepsen::Invocation& invocation,
                 const jepsen::Completion& completion) override {
    if (set_function_of(invocation.f) == SetFunction::read) {
      if (completion.type == "ok") {
        push_read(invocation, completion);
      }
      return;  // a failed or indeterminate read tells nothing
    }
    const OpOutcome outcome = completion.type == "ok"     ? OpOutcome::ok
                              : completion.type == "fail" ? OpOutcome::fail
                                                          : OpOutcome::indeterminate;
    push_update(invocation, outcome,
                outcome == OpOutcome::indeterminate
                    ? std::nullopt
                    : std::optional<std::uint64_t>(completion.line));
  }

  void never_completed(const jepsen::Invocation& invocation) override {
    if (set_function_of(invocation.f) != SetFunction::read) {
      push_update(invocation, OpOutcome::indeterminate, std::nullopt);
    }
  }

  std::vector<SetOp> take() { return collector_.finish(); }

 private:
  // Plain values or [key value] tuples: the first operation decides.
  void decide_keyed(bool looks_keyed, const edn::Value& value) {
    if (!keyed_) {
      keyed_ = looks_keyed;
    } else if (*keyed_ != looks_keyed) {
      fail(*keyed_ ? "a [key value] tuple, as on the earlier lines, got " + edn::to_text(value)
                   : "a plain value, as on the earlier lines, got " + edn::to_text(value));
    }
  }

  void push_read(const jepsen::Invocation& invocation, const jepsen::Completion& completion) {
    const edn::Value& returned = completion.value;
    const bool looks_keyed = is_pair(returned) && is_collection(returned.items[1]);
    if (keyed_.value_or(looks_keyed)) {
      if (!looks_keyed) {
        fail("a [key #{...}] tuple as the :ok :read's :value, as on the earlier lines, got " +
             edn::to_text(returned));
      }
    } else if (!is_collection(returned)) {
      fail("a set #{...} or a vector as the :ok :read's :value, got " + edn::to_text(returned));
    }
    keyed_ = keyed_.value_or(looks_keyed);
    const edn::Value& elements = *keyed_ ? returned.items[1] : returned;
    SetOp read = make_op(invocation, OpOutcome::ok, completion.line);
    read.key = *keyed_ ? edn::to_text(returned.items[0]) : std::string();
    for (const edn::Value& element : elements.items) {
      read.elements.push_back(edn::to_text(element));
    }
    read.elements = distinct(std::move(read.elements));
    collector_.push(std::move(read));
  }

  // The key and element were checked against keyed_ when invoked.
  void push_update(const jepsen::Invocation& invocation, OpOutcome outcome,
                   std::optional<std::uint64_t> complete) {
    const edn::Value& value = invocation.value;
    SetOp op = make_op(invocation, outcome, complete);
    op.key = *keyed_ ? edn::to_text(value.items[0]) : std::string();
    op.elements.push_back(edn::to_text(*keyed_ ? value.items[1] : value));
    collector_.push(std::move(op));
  }

  static SetOp make_op(const jepsen::Invocation& invocation, OpOutcome outcome,
                       std::optional<std::uint64_t> complete) {
    SetOp op;
    op.id = invocation.line;
    op.process = invocation.process;
    op.f = set_function_of(invocation.f);
    op.invoke_time = invocation.line;
    op.complete_time = complete;
    op.outcome = outcome;
    return op;
  }

  std::optional<bool> keyed_;
  SetOpCollector collector_;
};

}  // namespace

const char* set_function_name(SetFunction function) {
  switch (function) {
    case SetFunction::add:
      return "add";
    case SetFunction::remove:
      return "remove";
    case SetFunction::read:
      return "read";
  }
  return "?";
}

std::optional<std::string> validate_set_ops(const std::vector<SetOp>& operations) {
  for (const SetOp& op : operations) {
    const std::string name = "op " + std::to_string(op.id) + " (" + set_function_name(op.f) + ")";
    if (op.outcome == OpOutcome::ok && !op.complete_time) {
      return name + " is ok but has no completion time";
    }
    if (op.complete_time && *op.complete_time < op.invoke_time) {
      return name + " completed before it was invoked";
    }
    if (op.remove_all && (op.f != SetFunction::remove || !op.elements.empty())) {
      return name + " has remove_all but is not a remove without elements";
    }
  }
  return std::nullopt;
}

SetResult check_set_ops(const std::vector<SetOp>& operations, SetSource source) {
  if (const std::optional<std::string> problem = validate_set_ops(operations)) {
    return {Verdict::unknown(kSetProperty, "invalid input: " + *problem), {}};
  }
  Report report(source);
  for (const auto& [key, key_ops] : group_by_key(operations)) {
    report.check_key(key, key_ops);
  }
  return report.verdict();
}

std::vector<SetOp> set_ops_from_history(const History& history) {
  SetOpCollector collector;
  for (const Operation& op : history.operations) {
    convert(op, collector);
  }
  return collector.finish();
}

std::optional<std::vector<SetOp>> set_ops_from_jepsen(std::istream& in, const std::string& source,
                                                      std::string& error) {
  JepsenSetHandler handler;
  if (!jepsen::read_history(in, source, handler, error)) {
    return std::nullopt;
  }
  return handler.take();
}

Verdict check_set_history(const History& history) {
  return check_set_ops(set_ops_from_history(history), SetSource::history).verdict;
}

std::optional<Verdict> check_set_jepsen(std::istream& in, const std::string& source,
                                        std::string& error) {
  const std::optional<std::vector<SetOp>> operations = set_ops_from_jepsen(in, source, error);
  if (!operations) {
    return std::nullopt;
  }
  return check_set_ops(*operations, SetSource::jepsen).verdict;
}

}  // namespace crdtsim::harness
