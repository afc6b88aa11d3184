#include "core/store/keyspace.h"

#include <absl/strings/string_view.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

namespace crdtsim::core {

namespace {

absl::string_view as_absl(std::string_view view) {
  return {view.data(), view.size()};
}

// Without repeats, in order of first appearance: a command naming a member
// twice acts once, and the dots an SADD reports follow its members' order.
std::vector<std::string> distinct(const std::vector<std::string>& values) {
  std::vector<std::string> result;
  std::set<std::string_view> seen;
  for (const std::string& value : values) {
    if (seen.insert(value).second) {
      result.push_back(value);
    }
  }
  return result;
}

bool grow_only(ValueType type) {
  return type == ValueType::g_counter || type == ValueType::g_set;
}

// Observed-remove of everything `value` holds that this replica has seen.
// Returns the delta. Grow-only values cannot remove (empty delta).
CausalCounter remove_observed(CausalCounter& counter) {
  return counter.reset();
}
ORSet remove_observed(ORSet& set) {
  return set.clear();
}
GCounter remove_observed(GCounter&) {
  return GCounter{};
}
GSet remove_observed(GSet&) {
  return GSet{};
}
LwwMap remove_observed(LwwMap& map) {
  // A tombstone at the field's own timestamp beats exactly that write (see
  // lww_register.h), so concurrent later writes survive.
  LwwMap delta;
  for (const std::string& field : map.fields()) {
    const LwwTimestamp own = map.entries().find(as_absl(field))->second.timestamp;
    delta.merge(map.remove_field(field, own));
  }
  return delta;
}
LwwRegister remove_observed(LwwRegister&) {
  // A register write overwrites: nothing to remove before it.
  return LwwRegister{};
}
MvRegister remove_observed(MvRegister& reg) {
  return reg.clear();
}

// The signed change of a counter command.
std::int64_t counter_change(const Command& command) {
  switch (command.kind) {
    case CommandKind::incr:
      return 1;
    case CommandKind::decr:
      return -1;
    case CommandKind::incrby:
      return command.amount;
    case CommandKind::decrby:
      assert(command.amount != std::numeric_limits<std::int64_t>::min());
      return -command.amount;
    default:
      assert(false && "not a counter command");
      return 0;
  }
}

std::uint64_t magnitude(std::int64_t value) {
  // -(value + 1) + 1 avoids negating INT64_MIN.
  return value >= 0 ? static_cast<std::uint64_t>(value)
                    : static_cast<std::uint64_t>(-(value + 1)) + 1;
}

}  // namespace

// Runs one command. Control flow lives in execute() and the per-family
// functions; the helpers below them are small leaf steps.
class CommandExecutor {
 public:
  CommandExecutor(Keyspace& keyspace, ReplicaId replica, WriteClock& clock,
                  const ExecuteOptions& options)
      : keyspace_(keyspace), replica_(replica), clock_(clock), options_(options) {}

  // The command's reply. One named result returned from one place, so that it
  // is built where the caller wants it (no move of the whole reply).
  Reply run(const Command& command) {
    assert(!options_.validated || !validate(command));
    std::optional<std::string> error = options_.validated ? std::nullopt : validate(command);
    Reply reply =
        error ? Reply::failure(ReplyStatus::bad_request, std::move(*error)) : dispatch(command);
    if (!error) {
      if (reply.status == ReplyStatus::ok && is_write(command.kind)) {
        reply.metadata.written = {replica_};
      }
      assert(reply.status == ReplyStatus::ok || deltas_.empty());
      if (reply.status == ReplyStatus::ok && options_.track_versions) {
        track_versions(command, reply.metadata);
      }
    }
    finish(reply);
    return reply;
  }

  // The deltas of the command run (see Execution::deltas).
  std::vector<std::pair<std::string, KeyState>> take_deltas() { return std::move(deltas_); }

 private:
  Reply dispatch(const Command& command) {
    switch (command.kind) {
      case CommandKind::get:
        return get(command.keys[0]);
      case CommandKind::set:
      case CommandKind::mset:
        return set(command);
      case CommandKind::mget:
        return mget(command);
      case CommandKind::exists:
        return exists(command);
      case CommandKind::type:
        return type(command.keys[0]);
      case CommandKind::del:
        return del(command);
      case CommandKind::incr:
      case CommandKind::incrby:
      case CommandKind::decr:
      case CommandKind::decrby:
        return counter_update(command.keys[0], counter_change(command));
      case CommandKind::gincrby:
        return g_counter_increment(command.keys[0], command.amount);
      case CommandKind::gget:
        return g_counter_get(command.keys[0]);
      case CommandKind::sadd:
        return set_add(command.keys[0], distinct(command.args));
      case CommandKind::srem:
        return set_remove(command.keys[0], distinct(command.args));
      case CommandKind::smembers:
      case CommandKind::sismember:
      case CommandKind::scard:
        return set_read(command);
      case CommandKind::gsadd:
        return g_set_add(command.keys[0], distinct(command.args));
      case CommandKind::gsmembers:
        return g_set_members(command.keys[0]);
      case CommandKind::hset:
        return map_set(command);
      case CommandKind::hdel:
        return map_delete(command.keys[0], distinct(command.args));
      case CommandKind::hget:
      case CommandKind::hgetall:
        return map_read(command);
    }
    return Reply::failure(ReplyStatus::bad_request, "unknown command");
  }

  // ---- registers and key-level commands ----

  Reply get(const std::string& key) {
    const KeyState* state = existing(key);
    if (state == nullptr) {
      return Reply{};
    }
    if (state->visible_type() == ValueType::pn_counter) {
      return ok(ReplyValue::of_integer(state->value<CausalCounter>()->value()));
    }
    if (state->visible_type() != register_type()) {
      return wrong_type(key, state->visible_type());
    }
    if (register_type() == ValueType::mv_register) {
      std::vector<std::string> values = read_siblings(key, *state->value<MvRegister>());
      return ok(values.size() == 1 ? ReplyValue::of_text(std::move(values[0]))
                                   : ReplyValue::of_list(std::move(values)));
    }
    const LwwWrite& write = *state->value<LwwRegister>()->last_write();
    read_timestamps_.emplace_back(key, write.timestamp);
    return ok(ReplyValue::of_text(write.value));
  }

  Reply set(const Command& command) {
    for (const std::string& key : command.keys) {
      if (!type_allows(key, register_type())) {
        return wrong_type(key, existing(key)->visible_type());
      }
    }
    if (register_type() == ValueType::mv_register) {
      return set_siblings(command);
    }
    for (std::size_t index = 0; index < command.keys.size(); ++index) {
      const std::string& key = command.keys[index];
      const LwwTimestamp timestamp = begin_write<LwwRegister>(key);
      KeyState& state = state_for_write(key);
      LwwRegister delta = state.mutable_value<LwwRegister>().write(command.args[index], timestamp);
      // A fresh timestamp beats what the key holds, so the write wins here;
      // only physical timestamps can lose at once (the loss they exist to show).
      assert(!delta.empty() || clock_.source() == TimestampSource::physical);
      record_delta<LwwRegister>(key, std::move(delta));
      timestamps_.emplace_back(key, timestamp);
    }
    return ok(ReplyValue::of_text("OK"));
  }

  // SET and MSET of multi-value registers (the causal level): each key's
  // write gets the command's update dot of the key as its sibling's dot and
  // supersedes every write whose update this replica holds (its versions of
  // the key: the siblings held and everything they superseded), so what a
  // write replaced can be read off its reply's versions. A key named twice is
  // written once, with its last value, in order of first appearance.
  Reply set_siblings(const Command& command) {
    assert(options_.track_versions);
    std::vector<std::size_t> last_of(command.keys.size());
    for (std::size_t index = 0; index < command.keys.size(); ++index) {
      last_of[index] = index;
      for (std::size_t later = index + 1; later < command.keys.size(); ++later) {
        if (command.keys[later] == command.keys[index]) {
          last_of[index] = later;
        }
      }
    }
    for (std::size_t index = 0; index < command.keys.size(); ++index) {
      const std::string& key = command.keys[index];
      if (std::find(command.keys.begin(), command.keys.begin() + static_cast<std::ptrdiff_t>(index),
                    key) != command.keys.begin() + static_cast<std::ptrdiff_t>(index)) {
        continue;  // written at its first appearance
      }
      begin_write<MvRegister>(key);
      KeyState& state = state_for_write(key);
      const CausalContext observed = state.versions();  // before this write's own dot
      const Dot dot = update_dot(key);
      MvRegister delta =
          state.mutable_value<MvRegister>().write(dot, command.args[last_of[index]], observed);
      assert(state.value<MvRegister>()->entries().size() == 1);
      record_delta<MvRegister>(key, std::move(delta));
    }
    return ok(ReplyValue::of_text("OK"));
  }

  // The sibling values of a multi-value register read, noting their dots.
  std::vector<std::string> read_siblings(const std::string& key, const MvRegister& reg) {
    CausalContext dots;
    for (const auto& entry : reg.entries()) {
      dots.add(entry.first);
    }
    merge_key_versions(siblings_, key, dots);
    return reg.values();
  }

  Reply mget(const Command& command) {
    std::vector<std::vector<std::string>> values;
    values.reserve(command.keys.size());
    for (const std::string& key : command.keys) {
      values.push_back(mget_one(key));
    }
    return ok(ReplyValue::of_mget(std::move(values)));
  }

  std::vector<std::string> mget_one(const std::string& key) {
    const KeyState* state = existing(key);
    if (state == nullptr) {
      return {};
    }
    if (state->visible_type() == ValueType::pn_counter) {
      return {std::to_string(state->value<CausalCounter>()->value())};
    }
    if (state->visible_type() != register_type()) {
      return {};
    }
    if (register_type() == ValueType::mv_register) {
      return read_siblings(key, *state->value<MvRegister>());
    }
    const LwwWrite& write = *state->value<LwwRegister>()->last_write();
    read_timestamps_.emplace_back(key, write.timestamp);
    return {write.value};
  }

  Reply exists(const Command& command) {
    std::int64_t count = 0;
    for (const std::string& key : command.keys) {
      count += existing(key) != nullptr ? 1 : 0;
    }
    return ok(ReplyValue::of_integer(count));
  }

  Reply type(const std::string& key) {
    const KeyState* state = existing(key);
    const ValueType visible = state == nullptr ? ValueType::none : state->visible_type();
    return ok(ReplyValue::of_text(std::string(value_type_name(visible))));
  }

  Reply del(const Command& command) {
    for (const std::string& key : command.keys) {
      const KeyState* state = existing(key);
      if (state != nullptr && grow_only(state->visible_type())) {
        std::string error = "DEL of grow-only key '";
        error += key;
        error += "' of type ";
        error += value_type_name(state->visible_type());
        return Reply::failure(ReplyStatus::not_supported, std::move(error));
      }
    }
    std::int64_t deleted = 0;
    for (const std::string& key : command.keys) {
      if (existing(key) != nullptr) {
        delete_key(key);
        ++deleted;
      }
    }
    return ok(ReplyValue::of_integer(deleted));
  }

  void delete_key(const std::string& key) {
    KeyState& state = *find_state(key);
    switch (state.visible_type()) {
      case ValueType::lww_register: {
        const LwwTimestamp timestamp = fresh_timestamp(state);
        record_delta<LwwRegister>(key, state.mutable_value<LwwRegister>().clear(timestamp));
        timestamps_.emplace_back(key, timestamp);
        break;
      }
      case ValueType::pn_counter:
        record_delta<CausalCounter>(key, state.mutable_value<CausalCounter>().reset());
        break;
      case ValueType::or_set:
        note_removed_entries(key, *state.value<ORSet>());
        record_delta<ORSet>(key, state.mutable_value<ORSet>().clear());
        break;
      case ValueType::lww_map:
        record_delta<LwwMap>(key, remove_observed(state.mutable_value<LwwMap>()));
        break;
      case ValueType::mv_register:
        // Observed-remove: the writes held here go, concurrent writes stay.
        record_delta<MvRegister>(key, state.mutable_value<MvRegister>().clear(state.versions()));
        break;
      default:
        assert(false && "DEL of a grow-only or missing key");
        break;
    }
    // Physical timestamps alone can stamp the tombstone below the value it
    // should delete (the loss they exist to show); the other sources cannot.
    assert(!state.exists() || clock_.source() == TimestampSource::physical);
  }

  // ---- counters ----

  Reply counter_update(const std::string& key, std::int64_t change) {
    if (!type_allows(key, ValueType::pn_counter)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    const KeyState* state = existing(key);
    const std::optional<std::int64_t> before = state == nullptr
                                                   ? std::optional<std::int64_t>(0)
                                                   : state->value<CausalCounter>()->exact_value();
    std::int64_t after = 0;
    if (!before.has_value() || __builtin_add_overflow(*before, change, &after)) {
      return overflow(key);
    }
    // Check the accumulated pair first, so that an overflow changes nothing
    // (not even a claim). A new counter's pair starts at zero and fits any
    // magnitude of an int64.
    if (state != nullptr && !counter_step_fits(*state->value<CausalCounter>(), change)) {
      return overflow(key);
    }
    begin_write<CausalCounter>(key);
    CausalCounter& counter = state_for_write(key).mutable_value<CausalCounter>();
    std::optional<CausalCounter> delta = counter_step(counter, change);
    assert(delta.has_value());
    dots_.emplace_back(key, *counter.live_dot(replica_));
    record_delta<CausalCounter>(key, std::move(*delta));
    assert(counter.value() == after);
    return ok(ReplyValue::of_integer(after));
  }

  bool counter_step_fits(const CausalCounter& counter, std::int64_t change) const {
    return change >= 0 ? counter.can_increment(replica_, magnitude(change))
                       : counter.can_decrement(replica_, magnitude(change));
  }
  std::optional<CausalCounter> counter_step(CausalCounter& counter, std::int64_t change) {
    return change >= 0 ? counter.increment(replica_, magnitude(change), options_.dot_floor)
                       : counter.decrement(replica_, magnitude(change), options_.dot_floor);
  }

  Reply g_counter_increment(const std::string& key, std::int64_t amount) {
    assert(amount >= 0);
    if (!type_allows(key, ValueType::g_counter)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    const KeyState* state = existing(key);
    const GCounter* current = state == nullptr ? nullptr : state->value<GCounter>();
    const std::uint64_t before = current == nullptr ? 0 : current->value();
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const auto step = static_cast<std::uint64_t>(amount);
    if ((current != nullptr && current->value_saturated()) || before > limit ||
        step > limit - before) {
      return overflow(key);
    }
    begin_write<GCounter>(key);
    std::optional<GCounter> delta =
        state_for_write(key).mutable_value<GCounter>().increment(replica_, step);
    // The sum fits in int64, so no entry (at most the sum) can overflow.
    assert(delta.has_value());
    record_delta<GCounter>(key, std::move(*delta));
    return ok(ReplyValue::of_integer(static_cast<std::int64_t>(before + step)));
  }

  Reply g_counter_get(const std::string& key) {
    const KeyState* state = existing(key);
    if (state == nullptr) {
      return ok(ReplyValue::of_integer(0));
    }
    if (state->visible_type() != ValueType::g_counter) {
      return wrong_type(key, state->visible_type());
    }
    const std::uint64_t value = state->value<GCounter>()->value();
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return ok(ReplyValue::of_integer(static_cast<std::int64_t>(std::min(value, limit))));
  }

  // ---- sets ----

  Reply set_add(const std::string& key, const std::vector<std::string>& members) {
    if (!type_allows(key, ValueType::or_set)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    begin_write<ORSet>(key);
    ORSet& set = state_for_write(key).mutable_value<ORSet>();
    std::int64_t added = 0;
    ORSet delta;
    for (const std::string& member : members) {
      added += set.contains(member) ? 0 : 1;
      if (options_.tombstone_gc) {
        note_removed_entries(key, set.dots_of(member));
      }
      ORSet part = set.add(replica_, member, options_.dot_floor);
      dots_.emplace_back(key, part.entries().begin()->dot);
      delta.merge(part);
    }
    record_delta<ORSet>(key, std::move(delta));
    return ok(ReplyValue::of_integer(added));
  }

  Reply set_remove(const std::string& key, const std::vector<std::string>& members) {
    if (!type_allows(key, ValueType::or_set)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    if (existing(key) == nullptr) {
      return ok(ReplyValue::of_integer(0));
    }
    ORSet& set = state_for_write(key).mutable_value<ORSet>();
    std::int64_t removed = 0;
    ORSet delta;
    for (const std::string& member : members) {
      if (set.contains(member)) {
        if (options_.tombstone_gc) {
          note_removed_entries(key, set.dots_of(member));
        }
        delta.merge(set.remove(member));
        ++removed;
      }
    }
    if (removed > 0) {
      record_delta<ORSet>(key, std::move(delta));
    }
    return ok(ReplyValue::of_integer(removed));
  }

  Reply set_read(const Command& command) {
    const std::string& key = command.keys[0];
    const KeyState* state = existing(key);
    if (state != nullptr && state->visible_type() != ValueType::or_set) {
      return wrong_type(key, state->visible_type());
    }
    const ORSet empty_set;
    const ORSet& set = state == nullptr ? empty_set : *state->value<ORSet>();
    if (command.kind == CommandKind::smembers) {
      return ok(ReplyValue::of_list(set.elements()));
    }
    if (command.kind == CommandKind::sismember) {
      return ok(ReplyValue::of_integer(set.contains(command.args[0]) ? 1 : 0));
    }
    return ok(ReplyValue::of_integer(static_cast<std::int64_t>(set.size())));
  }

  Reply g_set_add(const std::string& key, const std::vector<std::string>& members) {
    if (!type_allows(key, ValueType::g_set)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    begin_write<GSet>(key);
    GSet& set = state_for_write(key).mutable_value<GSet>();
    GSet delta;
    for (const std::string& member : members) {
      delta.merge(set.add(member));
    }
    const auto added = static_cast<std::int64_t>(delta.size());
    record_delta<GSet>(key, std::move(delta));
    return ok(ReplyValue::of_integer(added));
  }

  Reply g_set_members(const std::string& key) {
    const KeyState* state = existing(key);
    if (state == nullptr) {
      return ok(ReplyValue::of_list({}));
    }
    if (state->visible_type() != ValueType::g_set) {
      return wrong_type(key, state->visible_type());
    }
    const GSet::Elements& elements = state->value<GSet>()->elements();
    return ok(ReplyValue::of_list(std::vector<std::string>(elements.begin(), elements.end())));
  }

  // ---- maps ----

  Reply map_set(const Command& command) {
    const std::string& key = command.keys[0];
    if (!type_allows(key, ValueType::lww_map)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    // The last value of a repeated field wins (all share one timestamp, so
    // the map's own tie-break would not pick it).
    absl::btree_map<std::string, std::string> fields;
    for (std::size_t index = 0; index + 1 < command.args.size(); index += 2) {
      fields[command.args[index]] = command.args[index + 1];
    }
    const LwwTimestamp timestamp = begin_write<LwwMap>(key);
    LwwMap& map = state_for_write(key).mutable_value<LwwMap>();
    std::int64_t created = 0;
    LwwMap delta;
    for (auto& [field, value] : fields) {
      created += map.get(field).has_value() ? 0 : 1;
      delta.merge(map.set_field(field, std::move(value), timestamp));
    }
    record_delta<LwwMap>(key, std::move(delta));
    timestamps_.emplace_back(key, timestamp);
    return ok(ReplyValue::of_integer(created));
  }

  Reply map_delete(const std::string& key, const std::vector<std::string>& fields) {
    if (!type_allows(key, ValueType::lww_map)) {
      return wrong_type(key, existing(key)->visible_type());
    }
    KeyState* state = existing(key);
    if (state == nullptr) {
      return ok(ReplyValue::of_integer(0));
    }
    LwwMap& map = state->mutable_value<LwwMap>();
    const bool any_live = std::any_of(fields.begin(), fields.end(), [&map](const auto& field) {
      return map.get(field).has_value();
    });
    if (!any_live) {
      return ok(ReplyValue::of_integer(0));
    }
    const LwwTimestamp timestamp = fresh_timestamp(*state);
    std::int64_t removed = 0;
    LwwMap delta;
    for (const std::string& field : fields) {
      if (map.get(field).has_value()) {
        delta.merge(map.remove_field(field, timestamp));
        ++removed;
      }
    }
    record_delta<LwwMap>(key, std::move(delta));
    timestamps_.emplace_back(key, timestamp);
    return ok(ReplyValue::of_integer(removed));
  }

  Reply map_read(const Command& command) {
    const std::string& key = command.keys[0];
    const KeyState* state = existing(key);
    if (state != nullptr && state->visible_type() != ValueType::lww_map) {
      return wrong_type(key, state->visible_type());
    }
    if (command.kind == CommandKind::hget) {
      return map_get(key, state, command.args[0]);
    }
    std::vector<std::string> flat;
    if (state != nullptr) {
      for (const auto& [field, write] : state->value<LwwMap>()->entries()) {
        if (!write.tombstone) {
          flat.push_back(field);
          flat.push_back(write.value);
        }
      }
    }
    return ok(ReplyValue::of_list(std::move(flat)));
  }

  Reply map_get(const std::string& key, const KeyState* state, const std::string& field) {
    if (state == nullptr) {
      return Reply{};
    }
    const LwwMap::Fields& entries = state->value<LwwMap>()->entries();
    const auto found = entries.find(as_absl(field));
    if (found == entries.end() || found->second.tombstone) {
      return Reply{};
    }
    read_timestamps_.emplace_back(key, found->second.timestamp);
    return ok(ReplyValue::of_text(found->second.value));
  }

  // ---- helpers ----

  // One update dot per key the command changed, in its state and its delta;
  // then the versions of every key named, for the reply.
  void track_versions(const Command& command, ReplyMetadata& metadata) {
    for (auto& [key, delta] : deltas_) {
      KeyState& state = *find_state(key);
      const Dot dot = update_dot(key);
      delta.add_version(dot);
      CausalContext created;
      created.add(dot);
      merge_key_versions(metadata.tracking.mut().updates, key, created);
      if (options_.dependencies != nullptr) {
        // The key's own entry included: a replica applies this delta only
        // once it holds what the writer had seen of the key.
        state.add_dependencies(*options_.dependencies);
        delta.add_dependencies(*options_.dependencies);
      }
    }
    for (const std::string& key : command.keys) {
      const KeyState* state = find_state(key);
      if (state == nullptr) {
        continue;
      }
      if (!state->versions().empty()) {
        merge_key_versions(metadata.tracking.mut().versions, key, state->versions());
      }
      if (options_.dependencies != nullptr) {
        merge_key_versions(metadata.tracking.mut().dependencies, state->dependencies());
      }
    }
  }

  // The update dot of this command on `key` (KeyState::versions), issued once
  // per key: a multi-value register write takes it as its sibling's dot
  // before track_versions adds it to the key's delta.
  Dot update_dot(const std::string& key) {
    for (const auto& [issued_key, dot] : update_dots_) {
      if (issued_key == key) {
        return dot;
      }
    }
    const Dot dot = find_state(key)->next_version(replica_);
    update_dots_.emplace_back(key, dot);
    return dot;
  }

  // The type register commands (SET, GET, MSET, MGET) work on.
  ValueType register_type() const {
    return options_.multi_value_registers ? ValueType::mv_register : ValueType::lww_register;
  }

  // The state of `key`, or nullptr if the keyspace holds none. A command
  // looks its key up several times (type check, claim, write, delta), so the
  // last state found is kept: the keyspace's states have stable addresses and
  // a command never erases one.
  KeyState* find_state(const std::string& key) {
    if (last_state_ != nullptr && last_key_ == key) {
      assert(last_state_ == keyspace_.find_mutable(key));
      return last_state_;
    }
    KeyState* state = keyspace_.find_mutable(key);
    if (state != nullptr) {
      remember(key, *state);
    }
    return state;
  }
  // The state of `key`, created empty if missing.
  KeyState& state_for_write(const std::string& key) {
    if (KeyState* state = find_state(key)) {
      return *state;
    }
    KeyState& state = keyspace_.state_for_write(key);
    remember(key, state);
    return state;
  }
  // A copy of the key, not a view: the strings a command passes (its own
  // keys, the keys of `deltas_`) may move while the executor runs.
  void remember(const std::string& key, KeyState& state) {
    last_key_ = key;
    last_state_ = &state;
  }

  // The state of `key` if the key exists (its visible slot is non-empty).
  KeyState* existing(const std::string& key) {
    KeyState* state = find_state(key);
    return state == nullptr || !state->exists() ? nullptr : state;
  }

  // A command of `type` may touch `key`: it does not exist, or has that type.
  bool type_allows(const std::string& key, ValueType type) {
    const KeyState* state = existing(key);
    return state == nullptr || state->visible_type() == type;
  }

  // A timestamp later than every claim and LWW write `state` holds here.
  LwwTimestamp fresh_timestamp(const KeyState& state) {
    if (clock_.source() == TimestampSource::lamport) {
      return clock_.fresh(state.max_time(), 0, replica_);
    }
    const LwwTimestamp seen = state.max_timestamp();
    return clock_.fresh(seen.time, seen.logical, replica_);
  }

  // Starts a write of T to `key`: if the key does not exist, claims T at a
  // fresh timestamp and removes the observed hidden content of T's slot (see
  // keyspace.h). Returns a fresh timestamp for LWW writes: the claim when
  // creating, a new one otherwise.
  template <class T>
  LwwTimestamp begin_write(const std::string& key) {
    KeyState& state = state_for_write(key);
    const bool creating = !state.exists();
    const LwwTimestamp timestamp = fresh_timestamp(state);
    if (!creating) {
      assert(state.visible_type() == kValueTypeOf<T>);
      return timestamp;
    }
    state.raise_claim(kValueTypeOf<T>, timestamp);
    const bool hidden_content = !value_empty(state.slot(kValueTypeOf<T>)->value);
    if constexpr (std::is_same_v<T, ORSet>) {
      note_removed_entries(key, *state.value<ORSet>());
    }
    T cleared = hidden_content ? remove_observed(state.mutable_value<T>()) : T{};
    record_delta<T>(key, std::move(cleared));
    // LWW writes list their own; multi-value registers are not ordered by
    // timestamps, so their claims are not listed (checkers read LWW order
    // from `timestamps` of register commands).
    if (kValueTypeOf<T> != ValueType::lww_register && kValueTypeOf<T> != ValueType::lww_map &&
        kValueTypeOf<T> != ValueType::mv_register) {
      timestamps_.emplace_back(key, timestamp);
    }
    assert(state.visible_type() == kValueTypeOf<T>);
    return timestamp;
  }

  // Adds `delta` (of T's slot, at the slot's current claim) to `key`'s delta,
  // keeping one delta per key in the order keys were first written. Taken by
  // rvalue reference: the CRDT is moved once more only, into KeyState::of.
  template <class T>
  void record_delta(const std::string& key, T&& delta) {
    if constexpr (std::is_same_v<T, ORSet>) {
      if (!options_.tombstone_gc) {
        note_removed_dots(key, delta);
      }
    }
    const KeySlot* slot = find_state(key)->slot(kValueTypeOf<T>);
    assert(slot != nullptr);
    KeyState part = KeyState::of<T>(slot->claim, std::move(delta));
    for (auto& [written_key, written] : deltas_) {
      if (written_key == key) {
        written.merge(part);
        return;
      }
    }
    deltas_.emplace_back(key, std::move(part));
  }

  // The dots an OR-Set delta removes: those its context covers that it does
  // not itself hold (an add's context covers the dots it supersedes, a
  // remove's the dots it observed). A delta's context holds only the dots it
  // was built from, so this walk is bounded by the delta's size.
  void note_removed_dots(const std::string& key, const ORSet& delta) {
    auto held = [&](const Dot& dot) {
      return std::any_of(delta.entries().begin(), delta.entries().end(),
                         [&](const ORSetEntry& entry) { return entry.dot == dot; });
    };
    for (const auto& [replica, counter] : delta.context().version_vector()) {
      for (std::uint64_t index = 1; index <= counter; ++index) {
        if (!held(Dot{replica, index})) {
          removed_dots_.emplace_back(key, Dot{replica, index});
        }
      }
    }
    for (const Dot& dot : delta.context().dot_cloud()) {
      if (!held(dot)) {
        removed_dots_.emplace_back(key, dot);
      }
    }
  }

  // Tombstone GC on: the removed dots are the entries a command removes here
  // (a seeded context, enumerated, would cost the writer's whole history).
  // Before the removal: `dots` are the removed element's entries.
  void note_removed_entries(const std::string& key, const std::vector<Dot>& dots) {
    assert(options_.tombstone_gc);
    for (const Dot& dot : dots) {
      removed_dots_.emplace_back(key, dot);
    }
  }
  // Before clearing `set`: all its entries go.
  void note_removed_entries(const std::string& key, const ORSet& set) {
    if (!options_.tombstone_gc) {
      return;
    }
    for (const ORSetEntry& entry : set.entries()) {
      removed_dots_.emplace_back(key, entry.dot);
    }
  }

  static Reply ok(ReplyValue value) {
    Reply reply;
    reply.value = std::move(value);
    return reply;
  }

  static Reply wrong_type(const std::string& key, ValueType actual) {
    std::string error = "WRONGTYPE key '";
    error += key;
    error += "' holds a value of type ";
    error += value_type_name(actual);
    return Reply::failure(ReplyStatus::wrong_type, std::move(error));
  }

  static Reply overflow(const std::string& key) {
    std::string error = "counter '";
    error += key;
    error += "' would overflow";
    return Reply::failure(ReplyStatus::overflow, std::move(error));
  }

  // Completes `reply` with the metadata gathered while running.
  void finish(Reply& reply) {
    reply.metadata.executed_by = replica_;
    reply.metadata.lamport = clock_.value();
    if (reply.status == ReplyStatus::ok) {
      reply.metadata.timestamps = std::move(timestamps_);
      reply.metadata.dots = std::move(dots_);
      reply.metadata.read_timestamps = std::move(read_timestamps_);
      if (!removed_dots_.empty()) {
        reply.metadata.tracking.mut().removed_dots = std::move(removed_dots_);
      }
      if (!siblings_.empty()) {
        reply.metadata.tracking.mut().siblings = std::move(siblings_);
      }
    }
  }

  Keyspace& keyspace_;
  const ReplicaId replica_;
  WriteClock& clock_;
  const ExecuteOptions& options_;
  std::vector<std::pair<std::string, KeyState>> deltas_;
  std::vector<std::pair<std::string, LwwTimestamp>> timestamps_;
  std::vector<std::pair<std::string, Dot>> dots_;
  std::vector<std::pair<std::string, Dot>> removed_dots_;
  std::vector<std::pair<std::string, LwwTimestamp>> read_timestamps_;
  KeyVersions siblings_;
  std::vector<std::pair<std::string, Dot>> update_dots_;
  std::string last_key_;  // see find_state
  KeyState* last_state_ = nullptr;
};

Execution Keyspace::execute(const Command& command, ReplicaId replica, LamportClock& clock) {
  WriteClock write_clock(TimestampSource::lamport, clock);
  Execution execution = execute(command, replica, write_clock, ExecuteOptions{});
  clock = write_clock.lamport();
  return execution;
}

Execution Keyspace::execute(const Command& command, ReplicaId replica, WriteClock& clock,
                            const ExecuteOptions& options) {
  CommandExecutor executor(*this, replica, clock, options);
  // Braced, so run() goes first and its reply is built in place.
  return Execution{executor.run(command), executor.take_deltas()};
}

bool Keyspace::apply(std::string_view key, const KeyState& delta) {
  return apply_changed(key, delta) != nullptr;
}

const KeyState* Keyspace::apply_changed(std::string_view key, const KeyState& delta) {
  if (delta.empty()) {
    return nullptr;
  }
  // Build the key's string only when inserting (rare: a key is new to a
  // replica once).
  KeyState* state = find_mutable(key);
  const bool inserted = state == nullptr;
  if (inserted) {
    state = &state_for_write(key);
  }
  const bool changed = state->merge(delta);
  assert(!inserted || changed);
  return changed ? state : nullptr;
}

Keyspace::Keyspace(const Keyspace& other) : keys_(other.keys_) {
  build_index();
}

Keyspace& Keyspace::operator=(const Keyspace& other) {
  if (this != &other) {
    keys_ = other.keys_;
    build_index();
  }
  return *this;
}

void Keyspace::build_index() {
  index_.clear();
  index_.reserve(keys_.size());
  for (auto& [key, state] : keys_) {
    index_.insert(key, &state);
  }
}

const KeyState* Keyspace::find(std::string_view key) const {
  return index_.find(key);
}

KeyState* Keyspace::find_mutable(std::string_view key) {
  return index_.find(key);
}

KeyState& Keyspace::state_for_write(std::string_view key) {
  if (KeyState* state = find_mutable(key)) {
    return *state;
  }
  // The index views the node's key, which lives as long as the node.
  auto& [stored, state] = *keys_.emplace(std::string(key), KeyState{}).first;
  index_.insert(stored, &state);
  return state;
}

bool Keyspace::erase(std::string_view key) {
  const auto found = keys_.find(key);
  if (found == keys_.end()) {
    return false;
  }
  index_.erase(found->first);  // before its key goes
  keys_.erase(found);
  return true;
}

bool Keyspace::index_consistent() const {
  if (index_.size() != keys_.size()) {
    return false;
  }
  for (const auto& [key, state] : keys_) {
    if (index_.find(key) != &state) {
      return false;
    }
  }
  return true;
}

}  // namespace crdtsim::core
