// no_lost_writes: the converged value of each key against the history.
#include <algorithm>
#include <array>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "harness/checkers/describe.h"
#include "harness/checkers/ordered_lookup.h"
#include "harness/checkers/state_checkers.h"

namespace crdtsim::harness {

namespace {

using core::CommandKind;

// One operation's effect on one key (MSET and multi-key DEL split per key).
struct KeyOp {
  const Operation* op = nullptr;
  std::size_t key_index = 0;
};

// One key's operations, in history order. `key` views a command's key in
// the history.
struct KeyOps {
  std::string_view key;
  std::vector<KeyOp> ops;
};

// The operations that may have taken effect, per key, in key order. Grouped
// through a hash index (one hash per key an operation names, where a tree
// of keys compares each several times), then sorted once.
std::vector<KeyOps> ops_by_key(const History& history) {
  std::vector<KeyOps> result;
  std::unordered_map<std::string_view, std::size_t> position;  // key -> index in result
  for (const Operation& op : history.operations) {
    if (op.outcome == OpOutcome::fail) {
      continue;  // certainly had no effect
    }
    for (std::size_t index = 0; index < op.command.keys.size(); ++index) {
      const auto [found, added] = position.try_emplace(op.command.keys[index], result.size());
      if (added) {
        result.push_back(KeyOps{op.command.keys[index], {}});
      }
      result[found->second].ops.push_back(KeyOp{&op, index});
    }
  }
  std::sort(result.begin(), result.end(),
            [](const KeyOps& left, const KeyOps& right) { return left.key < right.key; });
  return result;
}

std::string op_label(const Operation& op) {
  std::string label = "op #";
  label += std::to_string(op.id);
  label += " ";
  label += std::string(core::command_name(op.command.kind));
  label += " (client ";
  label += std::to_string(op.client);
  label += ", replica ";
  label += std::to_string(op.replica);
  label += ", ";
  label += outcome_name(op.outcome);
  label += ", invoked ";
  label += std::to_string(op.invoke_us / 1000);
  label += " ms)";
  return label;
}

std::optional<core::LwwTimestamp> written_timestamp(const Operation& op, const std::string& key) {
  if (!op.reply) {
    return std::nullopt;
  }
  std::optional<core::LwwTimestamp> result;
  for (const auto& [written_key, timestamp] : op.reply->metadata.timestamps) {
    if (written_key == key && (!result || *result < timestamp)) {
      result = timestamp;
    }
  }
  return result;
}

struct Finding {
  bool violated = false;
  bool skipped = false;
  std::string explanation;
};

Finding violation(std::string explanation) {
  return Finding{true, false, std::move(explanation)};
}

Finding check_counter(const std::string& key, std::int64_t value, const std::vector<KeyOp>& ops,
                      bool grow_only) {
  std::int64_t sum_ok = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    std::int64_t delta = 0;
    switch (op.command.kind) {
      case CommandKind::incr:
        delta = 1;
        break;
      case CommandKind::decr:
        delta = -1;
        break;
      case CommandKind::incrby:
        delta = op.command.amount;
        break;
      case CommandKind::decrby:
        delta = -op.command.amount;
        break;
      case CommandKind::gincrby:
        delta = op.command.amount;
        break;
      case CommandKind::del:
        if (!grow_only) {
          return Finding{false, true, "counter '" + key + "' was reset by DEL"};
        }
        continue;
      default:
        continue;
    }
    if (op.outcome == OpOutcome::ok) {
      sum_ok += delta;
    } else if (delta < 0) {
      low += delta;
    } else {
      high += delta;
    }
  }
  if (value < sum_ok + low || value > sum_ok + high) {
    return violation((grow_only ? "g-counter '" : "counter '") + key + "' converged to " +
                     std::to_string(value) + ", but acknowledged updates sum to " +
                     std::to_string(sum_ok) + " and indeterminate ones allow only [" +
                     std::to_string(sum_ok + low) + ", " + std::to_string(sum_ok + high) + "]");
  }
  return {};
}

bool adds_element(const Operation& op, CommandKind add_kind, const std::string& element) {
  return op.command.kind == add_kind && std::find(op.command.args.begin(), op.command.args.end(),
                                                  element) != op.command.args.end();
}

// Follows every add to its end, dot by dot. Replies name the dots each SADD
// created and the dots each SADD, SREM or DEL removed (observed-remove), so
// every dot an acknowledged SADD created must still be in the converged set
// unless an acknowledged operation reports removing it or an indeterminate
// one may have; and every dot in the set must come from some SADD.
Finding check_or_set(const std::string& key, const core::ORSet& set,
                     const std::vector<KeyOp>& ops) {
  // The acknowledged SADD that created each dot, and the element it added
  // (a view into the SADD's arguments).
  struct Created {
    const Operation* op = nullptr;
    const std::string* element = nullptr;
  };
  std::map<core::Dot, Created> created;
  std::set<core::Dot> removed;
  std::set<std::string> maybe_added;    // by an indeterminate SADD
  std::set<std::string> maybe_removed;  // by an indeterminate SADD or SREM
  bool maybe_cleared = false;           // by an indeterminate DEL
  std::vector<const std::string*> members;
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    const CommandKind kind = op.command.kind;
    if (op.outcome != OpOutcome::ok || !op.reply) {
      if (kind == CommandKind::sadd) {
        maybe_added.insert(op.command.args.begin(), op.command.args.end());
        maybe_removed.insert(op.command.args.begin(), op.command.args.end());
      } else if (kind == CommandKind::srem) {
        maybe_removed.insert(op.command.args.begin(), op.command.args.end());
      } else if (kind == CommandKind::del) {
        maybe_cleared = true;
      }
      continue;
    }
    // One dot per distinct member, in order of first appearance.
    members.clear();
    for (const std::string& arg : op.command.args) {
      if (std::none_of(members.begin(), members.end(),
                       [&arg](const std::string* member) { return *member == arg; })) {
        members.push_back(&arg);
      }
    }
    std::size_t member = 0;
    for (const auto& [dot_key, dot] : op.reply->metadata.dots) {
      if (dot_key == key && kind == CommandKind::sadd && member < members.size()) {
        created[dot] = Created{&op, members[member++]};
      }
    }
    for (const auto& [dot_key, dot] : op.reply->metadata.tracking->removed_dots) {
      if (dot_key == key) {
        removed.insert(dot);
      }
    }
  }
  std::vector<core::Dot> present;  // sorted below
  for (const core::ORSetEntry& entry : set.entries()) {
    present.push_back(entry.dot);
    const auto origin = created.find(entry.dot);
    const bool from_ok_add = origin != created.end() && *origin->second.element == entry.element;
    if (!from_ok_add && !maybe_added.contains(entry.element)) {
      return violation("set '" + key + "' holds '" + entry.element + "' with dot (r" +
                       std::to_string(entry.dot.replica) + "," + std::to_string(entry.dot.counter) +
                       "), which no SADD created");
    }
    // An acknowledged remove observed this very add: it must stay removed
    // (a removed element coming back, e.g. a context collected too early).
    if (removed.contains(entry.dot)) {
      return violation("set '" + key + "' holds '" + entry.element + "' with dot (r" +
                       std::to_string(entry.dot.replica) + "," + std::to_string(entry.dot.counter) +
                       "), which an acknowledged operation reports removing: it came back");
    }
  }
  std::sort(present.begin(), present.end());
  for (const auto& [dot, made] : created) {
    const std::string& element = *made.element;
    if (std::binary_search(present.begin(), present.end(), dot) || removed.contains(dot) ||
        maybe_cleared || maybe_removed.contains(element)) {
      continue;
    }
    return violation("set '" + key + "' lost '" + element + "': " + op_label(*made.op) +
                     " added it with dot (r" + std::to_string(dot.replica) + "," +
                     std::to_string(dot.counter) + ") and no operation reports removing that dot");
  }
  return {};
}

Finding check_g_set(const std::string& key, const core::GSet& set, const std::vector<KeyOp>& ops) {
  for (const std::string& element : set.elements()) {
    const bool added = std::any_of(ops.begin(), ops.end(), [&](const KeyOp& key_op) {
      return adds_element(*key_op.op, CommandKind::gsadd, element);
    });
    if (!added) {
      return violation("g-set '" + key + "' holds '" + element + "', which no GSADD added");
    }
  }
  for (const KeyOp& add : ops) {
    if (add.op->outcome != OpOutcome::ok || add.op->command.kind != CommandKind::gsadd) {
      continue;
    }
    for (const std::string& element : add.op->command.args) {
      if (!set.contains(element)) {
        return violation("g-set '" + key + "' lost '" + element + "' added by " +
                         op_label(*add.op));
      }
    }
  }
  return {};
}

// The value an op wrote to `key` as an LWW register, if it wrote one.
std::optional<std::optional<std::string>> register_write(const KeyOp& key_op) {
  const Operation& op = *key_op.op;
  switch (op.command.kind) {
    case CommandKind::set:
      return std::optional<std::string>(op.command.args.at(0));
    case CommandKind::mset:
      return std::optional<std::string>(op.command.args.at(key_op.key_index));
    case CommandKind::del:
      return std::optional<std::string>(std::nullopt);
    default:
      return std::nullopt;
  }
}

Finding check_register(const std::string& key, const core::LwwRegister& reg,
                       const std::vector<KeyOp>& ops) {
  const Operation* greatest_ok = nullptr;
  core::LwwTimestamp greatest_ok_timestamp;
  bool produced = false;
  const std::optional<core::LwwWrite>& final_write = reg.last_write();
  for (const KeyOp& key_op : ops) {
    const auto written = register_write(key_op);
    if (!written) {
      continue;
    }
    const auto timestamp = written_timestamp(*key_op.op, key);
    if (key_op.op->outcome == OpOutcome::ok && timestamp &&
        (greatest_ok == nullptr || greatest_ok_timestamp < *timestamp)) {
      greatest_ok = key_op.op;
      greatest_ok_timestamp = *timestamp;
    }
    if (final_write && written->has_value() != !final_write->tombstone) {
      continue;
    }
    if (final_write && written->has_value() && **written != final_write->value) {
      continue;
    }
    // This op could have produced the final write, if its timestamp agrees.
    if (key_op.op->outcome != OpOutcome::ok || !timestamp ||
        (final_write && *timestamp == final_write->timestamp)) {
      produced = true;
    }
  }
  if (greatest_ok != nullptr && (!final_write || final_write->timestamp < greatest_ok_timestamp)) {
    return violation("register '" + key + "' lost a write: " + op_label(*greatest_ok) +
                     " was acknowledged at " + describe(greatest_ok_timestamp) +
                     " but the key converged to " +
                     (final_write ? describe(final_write->timestamp) : std::string("nothing")));
  }
  if (final_write && !produced) {
    return violation(
        "register '" + key + "' holds " +
        (final_write->tombstone ? std::string("a deletion") : "'" + final_write->value + "'") +
        " at " + describe(final_write->timestamp) + ", which no operation in the history wrote");
  }
  return {};
}

// The update dot an acknowledged operation created on `key`, if it reports one.
std::optional<core::Dot> update_dot_of(const Operation& op, const std::string& key) {
  const core::CausalContext* updates =
      core::find_key_versions(op.reply->metadata.tracking->updates, key);
  if (updates == nullptr) {
    return std::nullopt;
  }
  // One dot per command and key: the first of the context.
  if (!updates->version_vector().empty()) {
    const auto& [replica, counter] = *updates->version_vector().begin();
    return core::Dot{replica, counter};
  }
  if (!updates->dot_cloud().empty()) {
    return *updates->dot_cloud().begin();
  }
  return std::nullopt;
}

std::string dot_label(const core::Dot& dot) {
  return "r" + std::to_string(dot.replica) + ":" + std::to_string(dot.counter);
}

// What the history says about one multi-value register (the causal level).
// A sibling's dot is the update dot of the write that made it. An
// acknowledged SET, MSET or DEL superseded every write whose update dot its
// reply's versions hold (the executing replica held that write, and a write
// or DEL replaces every sibling held). Indeterminate writes made dots the
// history does not know and superseded what their replica held.
struct MvHistory {
  struct Write {
    const Operation* op = nullptr;
    std::string value;
  };
  std::map<core::Dot, Write> created;            // by acknowledged SET/MSET
  std::vector<const Operation*> superseders;     // acknowledged SET/MSET/DEL
  std::set<std::string> maybe_written;           // by an indeterminate SET/MSET
  const Operation* maybe_superseding = nullptr;  // an indeterminate SET/MSET/DEL
};

MvHistory mv_history(const std::string& key, const std::vector<KeyOp>& ops) {
  MvHistory history;
  for (const KeyOp& key_op : ops) {
    const auto written = register_write(key_op);
    if (!written) {
      continue;
    }
    const Operation& op = *key_op.op;
    if (op.outcome != OpOutcome::ok || !op.reply) {
      if (written->has_value()) {
        history.maybe_written.insert(**written);
      }
      history.maybe_superseding = &op;
      continue;
    }
    history.superseders.push_back(&op);
    const std::optional<core::Dot> dot = update_dot_of(op, key);
    if (written->has_value() && dot) {
      history.created[*dot] = MvHistory::Write{&op, **written};
    }
  }
  return history;
}

// An acknowledged operation other than `writer` whose reply shows it held
// update `dot` of `key` (so it superseded that write), or nullptr.
const Operation* superseder_of(const MvHistory& history, const std::string& key,
                               const core::Dot& dot, const Operation* writer) {
  for (const Operation* op : history.superseders) {
    const core::CausalContext* held =
        core::find_key_versions(op->reply->metadata.tracking->versions, key);
    if (op != writer && held != nullptr && held->contains(dot)) {
      return op;
    }
  }
  return nullptr;
}

// The converged siblings must be exactly the writes that may have taken
// effect and that no write observed: every sibling was written (with that
// value, by the write that made its dot) and not superseded by an
// acknowledged operation; every acknowledged write is a sibling or was
// superseded by one that may have taken effect.
Finding check_mv_register(const std::string& key, const core::MvRegister& reg,
                          const std::vector<KeyOp>& ops) {
  const MvHistory history = mv_history(key, ops);
  for (const auto& [dot, value] : reg.entries()) {
    const auto made = history.created.find(dot);
    const Operation* writer = made == history.created.end() ? nullptr : made->second.op;
    if (writer != nullptr && made->second.value != value) {
      return violation("register '" + key + "' holds sibling '" + value + "' with dot " +
                       dot_label(dot) + ", but " + op_label(*writer) + " made that dot writing '" +
                       made->second.value + "'");
    }
    if (writer == nullptr && !history.maybe_written.contains(value)) {
      return violation("register '" + key + "' holds sibling '" + value + "' with dot " +
                       dot_label(dot) + ", which no write in the history made");
    }
    if (const Operation* later = superseder_of(history, key, dot, writer)) {
      return violation("register '" + key + "' holds sibling '" + value + "' with dot " +
                       dot_label(dot) + ", which " + op_label(*later) +
                       " had observed and so superseded: it came back");
    }
  }
  for (const auto& [dot, write] : history.created) {
    if (reg.entries().contains(dot) || history.maybe_superseding != nullptr ||
        superseder_of(history, key, dot, write.op) != nullptr) {
      continue;
    }
    return violation("register '" + key + "' lost a write: " + op_label(*write.op) + " wrote '" +
                     write.value + "' with dot " + dot_label(dot) +
                     ", no operation observed it, and the converged siblings lack it");
  }
  return {};
}

// Whether some operation that may have taken effect removes `field` of the
// map `key` (HDEL naming it, or DEL of the key).
bool may_remove_field(const std::vector<KeyOp>& ops, const std::string& field) {
  return std::any_of(ops.begin(), ops.end(), [&field](const KeyOp& key_op) {
    const core::Command& command = key_op.op->command;
    return command.kind == CommandKind::del ||
           (command.kind == CommandKind::hdel &&
            std::find(command.args.begin(), command.args.end(), field) != command.args.end());
  });
}

// A field an acknowledged HSET wrote that the map no longer holds at all
// (tombstone GC collected its removal) must have been removed by someone.
Finding check_missing_fields(const std::string& key, const core::LwwMap* map,
                             const std::vector<KeyOp>& ops) {
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    if (op.command.kind != CommandKind::hset || op.outcome != OpOutcome::ok) {
      continue;
    }
    const auto& args = op.command.args;
    for (std::size_t index = 0; index + 1 < args.size(); index += 2) {
      const std::string& field = args[index];
      const bool held = map != nullptr && map->entries().contains(field);
      if (!held && !may_remove_field(ops, field)) {
        return violation("map '" + key + "' field '" + field + "' lost a write: " + op_label(op) +
                         " set it, no operation removed it, and no replica holds the field");
      }
    }
  }
  return {};
}

bool any_kind(const std::vector<KeyOp>& ops, std::initializer_list<CommandKind> kinds) {
  return std::any_of(ops.begin(), ops.end(), [&](const KeyOp& key_op) {
    return std::find(kinds.begin(), kinds.end(), key_op.op->command.kind) != kinds.end();
  });
}

// A key no replica holds although acknowledged operations wrote it, as a set
// or counter: tombstone GC collects a dead one (no live dot), so it must hold
// what an empty one would. Every acknowledged SADD's dot must be reported
// removed, a counter must have been deleted (DEL is its only removal), and
// grow-only values are never dead unless empty.
Finding check_collected_causal(const std::string& key, const std::vector<KeyOp>& ops) {
  if (any_kind(ops, {CommandKind::sadd, CommandKind::srem})) {
    if (Finding finding = check_or_set(key, core::ORSet{}, ops); finding.violated) {
      return finding;
    }
  }
  if (any_kind(ops,
               {CommandKind::incr, CommandKind::incrby, CommandKind::decr, CommandKind::decrby}) &&
      !any_kind(ops, {CommandKind::del})) {
    // Only a reset leaves a counter without a live dot (updates summing to 0
    // still leave one).
    for (const KeyOp& key_op : ops) {
      if (key_op.op->outcome == OpOutcome::ok && core::is_write(key_op.op->command.kind)) {
        return violation("counter '" + key + "' was updated by " + op_label(*key_op.op) +
                         " and never deleted, but no replica holds it");
      }
    }
  }
  if (any_kind(ops, {CommandKind::gincrby})) {
    if (Finding finding = check_counter(key, 0, ops, true); finding.violated) {
      return finding;
    }
  }
  if (any_kind(ops, {CommandKind::gsadd})) {
    if (Finding finding = check_g_set(key, core::GSet{}, ops); finding.violated) {
      return finding;
    }
  }
  return {};
}

// A key no replica holds although acknowledged operations wrote it: only a
// key whose deletion tombstone GC collected may be absent (a register or map
// only if deleting was the last thing that happened to it; a set or counter
// only if it is empty: check_collected_causal).
Finding check_collected(const std::string& key, const std::vector<KeyOp>& ops) {
  if (Finding finding = check_collected_causal(key, ops); finding.violated) {
    return finding;
  }
  const Operation* greatest_ok = nullptr;
  core::LwwTimestamp greatest_ok_timestamp;
  bool greatest_is_value = false;
  bool maybe_deleted = false;  // by an indeterminate DEL
  bool map_key = false;
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    const CommandKind kind = op.command.kind;
    map_key = map_key || kind == CommandKind::hset || kind == CommandKind::hdel;
    const auto written = register_write(key_op);
    if (!written) {
      continue;
    }
    maybe_deleted = maybe_deleted || (kind == CommandKind::del && op.outcome != OpOutcome::ok);
    const auto timestamp = written_timestamp(op, key);
    if (op.outcome == OpOutcome::ok && timestamp &&
        (greatest_ok == nullptr || greatest_ok_timestamp < *timestamp)) {
      greatest_ok = &op;
      greatest_ok_timestamp = *timestamp;
      greatest_is_value = written->has_value();
    }
  }
  if (map_key) {
    return check_missing_fields(key, nullptr, ops);
  }
  // A multi-value register write (an update dot, no LWW timestamp): tombstone
  // GC never collects those keys, so an acknowledged one must be held.
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    const auto written = register_write(key_op);
    if (written && written->has_value() && op.outcome == OpOutcome::ok && op.reply &&
        !written_timestamp(op, key) && update_dot_of(op, key)) {
      return violation("register '" + key + "' lost a write: " + op_label(op) +
                       " wrote it as a multi-value register, but no replica holds the key");
    }
  }
  if (greatest_ok != nullptr && greatest_is_value && !maybe_deleted) {
    return violation("register '" + key + "' lost a write: " + op_label(*greatest_ok) +
                     " was acknowledged at " + describe(greatest_ok_timestamp) +
                     " and is the last write, but no replica holds the key");
  }
  // Writes check_collected_causal did not weigh (none today: a safety net
  // for command kinds added later).
  const bool other_writes = std::any_of(ops.begin(), ops.end(), [](const KeyOp& key_op) {
    const CommandKind kind = key_op.op->command.kind;
    constexpr std::array kWeighed = {CommandKind::sadd,    CommandKind::srem, CommandKind::incr,
                                     CommandKind::incrby,  CommandKind::decr, CommandKind::decrby,
                                     CommandKind::gincrby, CommandKind::gsadd};
    return key_op.op->outcome == OpOutcome::ok && core::is_write(kind) &&
           !register_write(key_op).has_value() &&
           std::find(kWeighed.begin(), kWeighed.end(), kind) == kWeighed.end();
  });
  if (other_writes) {
    return violation("key '" + key +
                     "' was written by acknowledged operations but no replica holds it");
  }
  return {};
}

Finding check_map(const std::string& key, const core::LwwMap& map, const std::vector<KeyOp>& ops) {
  if (Finding missing = check_missing_fields(key, &map, ops); missing.violated) {
    return missing;
  }
  for (const auto& [field, write] : map.entries()) {
    const Operation* greatest_ok = nullptr;
    core::LwwTimestamp greatest_ok_timestamp;
    bool produced = false;
    for (const KeyOp& key_op : ops) {
      const Operation& op = *key_op.op;
      const auto& args = op.command.args;
      if (op.command.kind == CommandKind::hset) {
        for (std::size_t index = 0; index + 1 < args.size(); index += 2) {
          if (args[index] != field) {
            continue;
          }
          const auto timestamp = written_timestamp(op, key);
          if (op.outcome == OpOutcome::ok && timestamp &&
              (greatest_ok == nullptr || greatest_ok_timestamp < *timestamp)) {
            greatest_ok = &op;
            greatest_ok_timestamp = *timestamp;
          }
          produced = produced || (!write.tombstone && args[index + 1] == write.value);
        }
      } else if (op.command.kind == CommandKind::del ||
                 (op.command.kind == CommandKind::hdel &&
                  std::find(args.begin(), args.end(), field) != args.end())) {
        produced = produced || write.tombstone;
      }
    }
    if (greatest_ok != nullptr && write.timestamp < greatest_ok_timestamp) {
      return violation("map '" + key + "' field '" + field +
                       "' lost a write: " + op_label(*greatest_ok) + " was acknowledged at " +
                       describe(greatest_ok_timestamp) + " but the field converged to " +
                       describe(write.timestamp));
    }
    if (!produced) {
      return violation("map '" + key + "' field '" + field + "' holds " +
                       (write.tombstone ? std::string("a deletion") : "'" + write.value + "'") +
                       ", which no operation in the history wrote");
    }
  }
  return {};
}

// Every dot names one event: two acknowledged operations reporting the same
// new dot of one key (SADD, INCR) mean a writer issued it twice, e.g. a key
// re-created after tombstone GC dropped its causal context, reusing a dot a
// replica still holding the old context takes for one already removed. The
// history's adds and removes of that dot can then not be told apart.
Finding check_dots_unique(const std::string& key, const std::vector<KeyOp>& ops) {
  std::map<core::Dot, const Operation*> issued;
  for (const KeyOp& key_op : ops) {
    const Operation& op = *key_op.op;
    if (op.outcome != OpOutcome::ok || !op.reply) {
      continue;
    }
    for (const auto& [dot_key, dot] : op.reply->metadata.dots) {
      if (dot_key != key) {
        continue;
      }
      const auto [found, inserted] = issued.emplace(dot, &op);
      if (!inserted && found->second != &op) {
        return violation("key '" + key + "': dot (r" + std::to_string(dot.replica) + "," +
                         std::to_string(dot.counter) + ") was issued twice, by " +
                         op_label(*found->second) + " and by " + op_label(op) +
                         " (a writer reused a dot, e.g. re-creating a key whose causal context "
                         "was collected)");
      }
    }
  }
  return {};
}

Finding check_key(const std::string& key, const core::KeyState& state,
                  const std::vector<KeyOp>& ops) {
  const core::KeySlot* slot = state.slot(state.visible_type());
  if (slot == nullptr) {
    return {};
  }
  if (const auto* counter = std::get_if<core::CausalCounter>(&slot->value)) {
    return check_counter(key, counter->value(), ops, false);
  }
  if (const auto* counter = std::get_if<core::GCounter>(&slot->value)) {
    const auto value = static_cast<std::int64_t>(
        std::min<std::uint64_t>(counter->value(), std::numeric_limits<std::int64_t>::max()));
    return check_counter(key, value, ops, true);
  }
  if (const auto* set = std::get_if<core::ORSet>(&slot->value)) {
    return check_or_set(key, *set, ops);
  }
  if (const auto* set = std::get_if<core::GSet>(&slot->value)) {
    return check_g_set(key, *set, ops);
  }
  if (const auto* reg = std::get_if<core::LwwRegister>(&slot->value)) {
    return check_register(key, *reg, ops);
  }
  if (const auto* map = std::get_if<core::LwwMap>(&slot->value)) {
    return check_map(key, *map, ops);
  }
  if (const auto* reg = std::get_if<core::MvRegister>(&slot->value)) {
    return check_mv_register(key, *reg, ops);
  }
  return {};
}

}  // namespace

Verdict check_no_lost_writes(const RunOutput& output) {
  const auto by_key = ops_by_key(output.history);
  std::size_t checked = 0;
  std::size_t skipped = 0;
  std::string skipped_reason;
  // Keys come in order: the placement and each replica's states are found
  // by one cursor each.
  OrderedLookup<std::map<std::string, std::vector<core::ReplicaId>>> placements(output.placement);
  std::vector<OrderedLookup<core::Keyspace>> states;
  states.reserve(output.replicas.size());
  for (const ReplicaSnapshot& replica : output.replicas) {
    states.emplace_back(replica.keyspace);
  }
  for (const auto& [key_view, ops] : by_key) {
    const std::string key(key_view);
    const std::vector<core::ReplicaId>* placement = placements.find(key);
    const core::KeyState* state = nullptr;
    if (placement != nullptr) {
      state = states[placement->front()].find(key);
    }
    // Removals (DEL, SREM, HDEL) of a key that does not exist create nothing.
    const bool any_ok_write = std::any_of(ops.begin(), ops.end(), [](const KeyOp& key_op) {
      const CommandKind kind = key_op.op->command.kind;
      return key_op.op->outcome == OpOutcome::ok && core::is_write(kind) &&
             kind != CommandKind::del && kind != CommandKind::srem && kind != CommandKind::hdel;
    });
    if (const Finding reused = check_dots_unique(key, ops); reused.violated) {
      return Verdict::invalid("no_lost_writes", reused.explanation);
    }
    if (state == nullptr) {
      if (any_ok_write) {
        const Finding finding = check_collected(key, ops);
        if (finding.violated) {
          return Verdict::invalid("no_lost_writes", finding.explanation);
        }
        ++checked;
      }
      continue;
    }
    const Finding finding = check_key(key, *state, ops);
    if (finding.violated) {
      return Verdict::invalid("no_lost_writes", finding.explanation);
    }
    if (finding.skipped) {
      ++skipped;
      skipped_reason = finding.explanation;
      continue;
    }
    ++checked;
  }
  std::string explanation = std::to_string(checked) + " keys agree with the history";
  if (skipped > 0) {
    explanation += "; " + std::to_string(skipped) + " not checkable (e.g. " + skipped_reason + ")";
  }
  return Verdict::valid("no_lost_writes", std::move(explanation));
}

}  // namespace crdtsim::harness
