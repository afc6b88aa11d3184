#include "harness/checkers/causal.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/crdt/causal_context.h"
#include "harness/checkers/describe.h"

namespace crdtsim::harness {

namespace {

// A key's update dot: which write made it.
using DotKey = std::tuple<std::string, core::ReplicaId, std::uint64_t>;

struct Event {
  std::uint64_t time_us = 0;
  bool completion = false;  // invocations first at equal times
  std::uint64_t op = 0;
  friend bool operator<(const Event& a, const Event& b) {
    return std::tie(a.time_us, a.completion, a.op) < std::tie(b.time_us, b.completion, b.op);
  }
};

// What a session observed: the updates (per key) in its causal past, and,
// per key, the dots whose writes' pasts were already folded in.
struct SessionPast {
  core::KeyVersions updates;
  core::KeyVersions absorbed;
  // For evidence: the operation that last added to each key's updates.
  std::map<std::string, std::uint64_t> brought_by;
};

// Calls `visit(dot)` for every dot of `context` that `skip` lacks.
template <class Visit>
void for_each_new_dot(const core::CausalContext& context, const core::CausalContext* skip,
                      Visit visit) {
  for (const auto& [replica, counter] : context.version_vector()) {
    const std::uint64_t from = skip == nullptr
                                   ? 1
                                   : std::min(counter, skip->version_vector().contains(replica)
                                                           ? skip->version_vector().at(replica)
                                                           : 0) +
                                         1;
    for (std::uint64_t index = from; index <= counter; ++index) {
      const core::Dot dot{replica, index};
      if (skip == nullptr || !skip->contains(dot)) {
        visit(dot);
      }
    }
  }
  for (const core::Dot& dot : context.dot_cloud()) {
    if (skip == nullptr || !skip->contains(dot)) {
      visit(dot);
    }
  }
}

class CausalChecker {
 public:
  explicit CausalChecker(const History& history) : history_(history) {}

  Verdict run() {
    index_writes();
    index_maybe_values();
    std::vector<Event> events;
    for (const Operation& op : history_.operations) {
      if (op.outcome != OpOutcome::ok || !op.reply.has_value()) {
        continue;
      }
      if (core::is_write(op.command.kind)) {
        events.push_back(Event{op.invoke_us, false, op.id});
      }
      events.push_back(Event{op.complete_us, true, op.id});
    }
    std::sort(events.begin(), events.end());
    std::uint64_t checked = 0;
    for (const Event& event : events) {
      const Operation& op = history_.operations[event.op];
      if (!event.completion) {
        write_pasts_[op.id] = sessions_[op.session].updates;
        continue;
      }
      ++checked;
      check(op);
      check_siblings(op);
      observe(op);
    }
    if (violations_ == 0) {
      return Verdict::valid(kCausalConsistency,
                            std::to_string(checked) + " ok operations in " +
                                std::to_string(sessions_.size()) +
                                " sessions observe the causal past of what they saw");
    }
    return Verdict::invalid(kCausalConsistency,
                            std::to_string(violations_) + " violation(s); first: " + first_);
  }

 private:
  void index_writes() {
    for (const Operation& op : history_.operations) {
      if (op.outcome != OpOutcome::ok || !op.reply.has_value()) {
        continue;
      }
      for (const auto& entry : op.reply->metadata.tracking->updates) {
        const std::string& key = entry.first;  // (clang 14 cannot capture bindings)
        for_each_new_dot(entry.second, nullptr, [&](const core::Dot& dot) {
          writer_of_[DotKey{key, dot.replica, dot.counter}] = op.id;
        });
      }
    }
  }

  // The values an indeterminate SET or MSET may have written, per key.
  void index_maybe_values() {
    for (const Operation& op : history_.operations) {
      if (op.outcome != OpOutcome::indeterminate) {
        continue;
      }
      for (const std::string& key : op.command.keys) {
        if (std::optional<std::string> value = written_value(op, key)) {
          maybe_values_[key].insert(std::move(*value));
        }
      }
    }
  }

  // The value a SET or MSET wrote to `key` (an MSET naming a key twice
  // writes its last value), or nullopt for other commands.
  static std::optional<std::string> written_value(const Operation& op, const std::string& key) {
    const core::Command& command = op.command;
    if (command.kind != core::CommandKind::set && command.kind != core::CommandKind::mset) {
      return std::nullopt;
    }
    std::optional<std::string> value;
    for (std::size_t index = 0; index < command.keys.size() && index < command.args.size();
         ++index) {
      if (command.keys[index] == key) {
        value = command.args[index];
      }
    }
    return value;
  }

  // The values `op` (a GET or MGET) returned for `key`.
  static std::set<std::string> read_values(const Operation& op, const std::string& key) {
    const core::ReplyValue& value = op.reply->value;
    if (op.command.kind == core::CommandKind::get) {
      if (value.kind == core::ReplyValue::Kind::text) {
        return {value.text};
      }
      return {value.list.begin(), value.list.end()};
    }
    std::set<std::string> result;
    const std::vector<std::vector<std::string>> per_key = value.mget_values();
    for (std::size_t index = 0; index < op.command.keys.size() && index < per_key.size(); ++index) {
      if (op.command.keys[index] == key) {
        result.insert(per_key[index].begin(), per_key[index].end());
      }
    }
    return result;
  }

  // Reads of multi-value registers (ReplyMetadata::siblings): a read returns
  // exactly the writes in its state (its versions) that no other write in
  // that state had observed (a write's reply versions name what it
  // observed: its replica replaced all of it). Each sibling is read from:
  // its update is in the state returned, so observe() folds in its past.
  void check_siblings(const Operation& op) {
    for (const auto& [key, siblings] : op.reply->metadata.tracking->siblings) {
      const core::CausalContext* held =
          core::find_key_versions(op.reply->metadata.tracking->versions, key);
      const core::CausalContext none;
      const core::CausalContext& state = held == nullptr ? none : *held;
      // The writes in the state that the history knows, and whether the
      // state holds an update nobody acknowledged (an indeterminate write,
      // which may have superseded anything its replica held).
      std::vector<std::pair<core::Dot, const Operation*>> known;
      bool unknown = false;
      const std::string& key_name = key;  // (clang 14 cannot capture bindings)
      for_each_new_dot(state, nullptr, [&](const core::Dot& dot) {
        const auto writer = writer_of_.find(DotKey{key_name, dot.replica, dot.counter});
        if (writer == writer_of_.end()) {
          unknown = true;
        } else {
          known.emplace_back(dot, &history_.operations[writer->second]);
        }
      });
      auto superseder = [&](const core::Dot& dot, const Operation* writer) -> const Operation* {
        for (const auto& entry : known) {
          const Operation* other = entry.second;
          const core::CausalContext* seen =
              core::find_key_versions(other->reply->metadata.tracking->versions, key_name);
          if (other != writer && seen != nullptr && seen->contains(dot)) {
            return other;
          }
        }
        return nullptr;
      };
      std::set<std::string> sibling_values;
      bool unknown_sibling = false;
      for_each_new_dot(siblings, nullptr, [&](const core::Dot& dot) {
        const auto writer = writer_of_.find(DotKey{key_name, dot.replica, dot.counter});
        const Operation* made_by =
            writer == writer_of_.end() ? nullptr : &history_.operations[writer->second];
        if (made_by == nullptr) {
          unknown_sibling = true;
        } else if (std::optional<std::string> value = written_value(*made_by, key_name)) {
          sibling_values.insert(*value);
        }
        if (!state.contains(dot)) {
          report(describe(op) + " returned sibling " + dot_label(dot) + " of key '" + key_name +
                 "' that the state it returned does not hold");
        } else if (const Operation* later = superseder(dot, made_by)) {
          report(describe(op) + " returned sibling " + dot_label(dot) + " of key '" + key_name +
                 "'" + made_by_label(made_by) + ", which " + describe(*later) +
                 " in the same state had observed and replaced");
        }
      });
      for (const auto& [dot, writer] : known) {
        if (siblings.contains(dot) || !written_value(*writer, key_name) || unknown ||
            superseder(dot, writer) != nullptr) {
          continue;
        }
        report(describe(op) + " dropped sibling " + dot_label(dot) + " of key '" + key_name +
               "' (made by " + describe(*writer) +
               "): its state holds that write and no write in it observed it");
      }
      check_sibling_values(op, key_name, sibling_values, unknown_sibling);
    }
  }

  void check_sibling_values(const Operation& op, const std::string& key,
                            const std::set<std::string>& written, bool unknown_sibling) {
    const std::set<std::string> returned = read_values(op, key);
    const auto maybe = maybe_values_.find(key);
    for (const std::string& value : returned) {
      const bool maybe_written =
          unknown_sibling && maybe != maybe_values_.end() && maybe->second.contains(value);
      if (!written.contains(value) && !maybe_written) {
        report(describe(op) + " returned '" + value + "' for key '" + key +
               "', which none of the writes of its siblings wrote");
        return;
      }
    }
    for (const std::string& value : written) {
      if (!returned.contains(value)) {
        report(describe(op) + " omitted '" + value + "' of key '" + key +
               "', written by one of the siblings it names");
        return;
      }
    }
  }

  static std::string dot_label(const core::Dot& dot) {
    return "r" + std::to_string(dot.replica) + ":" + std::to_string(dot.counter);
  }

  std::string made_by_label(const Operation* writer) const {
    return writer == nullptr ? std::string(" (an unacknowledged write)")
                             : " (made by " + describe(*writer) + ")";
  }

  void report(std::string evidence) {
    ++violations_;
    if (violations_ == 1) {
      first_ = std::move(evidence);
    }
  }

  void check(const Operation& op) {
    const SessionPast& past = sessions_[op.session];
    for (const std::string& key : op.command.keys) {
      const core::CausalContext* wanted = core::find_key_versions(past.updates, key);
      if (wanted == nullptr) {
        continue;
      }
      const core::CausalContext* held =
          core::find_key_versions(op.reply->metadata.tracking->versions, key);
      const core::CausalContext none;
      const core::CausalContext& have = held == nullptr ? none : *held;
      if (have.includes(*wanted)) {
        continue;
      }
      ++violations_;
      if (violations_ > 1) {
        continue;
      }
      const core::Dot missing = first_missing_dot(*wanted, have);
      first_ = describe(op) + " returned a state of key '" + key + "' missing update r" +
               std::to_string(missing.replica) + ":" + std::to_string(missing.counter);
      const auto writer = writer_of_.find(DotKey{key, missing.replica, missing.counter});
      if (writer != writer_of_.end()) {
        first_ += " (made by " + describe(history_.operations[writer->second]) + ")";
      }
      const auto brought = past.brought_by.find(key);
      if (brought != past.brought_by.end()) {
        first_ += ", which is in the causal past of what the session observed by " +
                  describe(history_.operations[brought->second]);
      }
    }
  }

  // Folds what `op` observed, and the causal past of every write it
  // observed, into its session's past. A write seen for the first time must
  // come with its past: the state returned for each key named holds every
  // update of that key the write depends on (else it was exposed early).
  void observe(const Operation& op) {
    SessionPast& past = sessions_[op.session];
    for (const auto& entry : op.reply->metadata.tracking->versions) {
      const std::string& key = entry.first;  // (clang 14 cannot capture bindings)
      const core::CausalContext& seen = entry.second;
      add(past, key, seen, op.id);
      const core::CausalContext* absorbed = core::find_key_versions(past.absorbed, key);
      std::vector<std::pair<std::uint64_t, core::Dot>> writers;
      for_each_new_dot(seen, absorbed, [&](const core::Dot& dot) {
        const auto writer = writer_of_.find(DotKey{key, dot.replica, dot.counter});
        if (writer != writer_of_.end()) {
          writers.emplace_back(writer->second, dot);
        }
      });
      core::merge_key_versions(past.absorbed, key, seen);
      for (const auto& [writer, dot] : writers) {
        const auto found = write_pasts_.find(writer);
        if (found == write_pasts_.end()) {
          continue;  // not invoked yet in event order: cannot happen for a visible write
        }
        check_exposed(op, key, dot, writer, found->second);
        for (const auto& [other, updates] : found->second) {
          add(past, other, updates, op.id);
        }
      }
    }
  }

  // `op` returned write `writer` (its update `dot` of `key`): the state of
  // `key` it returned must hold the write's causal past of that key, and an
  // MGET (one read of several keys: a causal snapshot) must return, for
  // every other key it names, a state holding the write's past of that key
  // too. (A multi-key write's parts are separate updates; rule 1 covers the
  // session's later operations on its keys.)
  void check_exposed(const Operation& op, const std::string& key, const core::Dot& dot,
                     std::uint64_t writer, const core::KeyVersions& write_past) {
    check_exposed_on(op, key, key, dot, writer, write_past);
    if (op.command.kind != core::CommandKind::mget) {
      return;
    }
    for (const std::string& other : op.command.keys) {
      if (other != key) {
        check_exposed_on(op, key, other, dot, writer, write_past);
      }
    }
  }

  // The state of `target` that `op` returned must hold the past, of that
  // key, of write `writer` (update `dot` of `key`).
  void check_exposed_on(const Operation& op, const std::string& key, const std::string& target,
                        const core::Dot& dot, std::uint64_t writer,
                        const core::KeyVersions& write_past) {
    const core::CausalContext* wanted = core::find_key_versions(write_past, target);
    if (wanted == nullptr) {
      return;
    }
    const core::CausalContext* held =
        core::find_key_versions(op.reply->metadata.tracking->versions, target);
    const core::CausalContext none;
    const core::CausalContext& have = held == nullptr ? none : *held;
    if (have.includes(*wanted)) {
      return;
    }
    ++violations_;
    if (violations_ > 1) {
      return;
    }
    const core::Dot missing = first_missing_dot(*wanted, have);
    first_ = describe(op) + " returned update r" + std::to_string(dot.replica) + ":" +
             std::to_string(dot.counter) + " of key '" + key + "' (made by " +
             describe(history_.operations[writer]) + ") without update r" +
             std::to_string(missing.replica) + ":" + std::to_string(missing.counter) +
             (target == key ? std::string(" of that key")
                            : " of key '" + target + "', which the same MGET read,") +
             " in its causal past";
    const auto maker = writer_of_.find(DotKey{target, missing.replica, missing.counter});
    if (maker != writer_of_.end()) {
      first_ += " (made by " + describe(history_.operations[maker->second]) + ")";
    }
  }

  static void add(SessionPast& past, const std::string& key, const core::CausalContext& updates,
                  std::uint64_t op) {
    const core::CausalContext* mine = core::find_key_versions(past.updates, key);
    if (mine != nullptr && mine->includes(updates)) {
      return;
    }
    core::merge_key_versions(past.updates, key, updates);
    past.brought_by.insert_or_assign(key, op);
  }

  const History& history_;
  std::map<DotKey, std::uint64_t> writer_of_;
  std::map<std::uint64_t, core::KeyVersions> write_pasts_;
  std::map<std::uint64_t, SessionPast> sessions_;
  std::map<std::string, std::set<std::string>> maybe_values_;
  std::uint64_t violations_ = 0;
  std::string first_;
};

}  // namespace

Verdict check_causal_consistency(const History& history) {
  return CausalChecker(history).run();
}

}  // namespace crdtsim::harness
