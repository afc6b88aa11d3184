#include "harness/history.h"

#include <cassert>
#include <cstdio>
#include <exception>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string_view>
#include <utility>

namespace crdtsim::harness {

namespace {

// ordered_json keeps the fields in the order docs/history.md lists them.
using Json = nlohmann::ordered_json;

// Bounds on one line, so a hostile file cannot make the reader allocate
// without limit through one huge line.
constexpr std::size_t kLineBytesMax = std::size_t{64} << 20;

std::string lower_case(std::string_view text) {
  std::string result(text);
  for (char& character : result) {
    if (character >= 'A' && character <= 'Z') {
      character = static_cast<char>(character - 'A' + 'a');
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// Names: command kinds and reply statuses by their lower-case names.

constexpr core::CommandKind kAllKinds[] = {
    core::CommandKind::get,      core::CommandKind::set,       core::CommandKind::del,
    core::CommandKind::mset,     core::CommandKind::mget,      core::CommandKind::exists,
    core::CommandKind::type,     core::CommandKind::incr,      core::CommandKind::incrby,
    core::CommandKind::decr,     core::CommandKind::decrby,    core::CommandKind::gincrby,
    core::CommandKind::gget,     core::CommandKind::sadd,      core::CommandKind::srem,
    core::CommandKind::smembers, core::CommandKind::sismember, core::CommandKind::scard,
    core::CommandKind::gsadd,    core::CommandKind::gsmembers, core::CommandKind::hset,
    core::CommandKind::hget,     core::CommandKind::hdel,      core::CommandKind::hgetall,
};

constexpr core::ReplyStatus kAllStatuses[] = {
    core::ReplyStatus::ok,
    core::ReplyStatus::wrong_type,
    core::ReplyStatus::not_supported,
    core::ReplyStatus::bad_request,
    core::ReplyStatus::unavailable,
    core::ReplyStatus::overflow,
};

constexpr OpOutcome kAllOutcomes[] = {OpOutcome::ok, OpOutcome::fail, OpOutcome::indeterminate};

bool uses_amount(core::CommandKind kind) {
  return kind == core::CommandKind::incrby || kind == core::CommandKind::decrby ||
         kind == core::CommandKind::gincrby;
}

// ---------------------------------------------------------------------------
// Writing.

Json timestamps_json(const std::vector<std::pair<std::string, core::LwwTimestamp>>& entries) {
  Json result = Json::array();
  for (const auto& [key, timestamp] : entries) {
    result.push_back(Json::array({key, timestamp.time, timestamp.logical, timestamp.replica}));
  }
  return result;
}

Json metadata_json(const core::ReplyMetadata& metadata) {
  Json result = Json::object();
  result["written"] = metadata.written;
  result["executed_by"] = metadata.executed_by;
  result["timestamps"] = timestamps_json(metadata.timestamps);
  Json dots = Json::array();
  for (const auto& [key, dot] : metadata.dots) {
    dots.push_back(Json::array({key, dot.replica, dot.counter}));
  }
  result["dots"] = std::move(dots);
  Json removed_dots = Json::array();
  for (const auto& [key, dot] : metadata.removed_dots) {
    removed_dots.push_back(Json::array({key, dot.replica, dot.counter}));
  }
  result["removed_dots"] = std::move(removed_dots);
  result["read_timestamps"] = timestamps_json(metadata.read_timestamps);
  result["lamport"] = metadata.lamport;
  return result;
}

Json value_json(const core::ReplyValue& value) {
  switch (value.kind) {
    case core::ReplyValue::Kind::nil:
      return Json(nullptr);
    case core::ReplyValue::Kind::integer:
      return Json(value.integer);
    case core::ReplyValue::Kind::text:
      return Json(value.text);
    case core::ReplyValue::Kind::list:
      return Json(value.list);
    case core::ReplyValue::Kind::maybe_list: {
      Json result = Json::array();
      for (const std::optional<std::string>& item : value.maybe_list) {
        result.push_back(item ? Json(*item) : Json(nullptr));
      }
      return result;
    }
  }
  return Json(nullptr);
}

Json operation_json(const Operation& operation) {
  Json line = Json::object();
  line["id"] = operation.id;
  line["client"] = operation.client;
  line["session"] = operation.session;
  line["replica"] = operation.replica;
  line["invoke_us"] = operation.invoke_us;
  line["complete_us"] = operation.complete_us;
  line["f"] = lower_case(core::command_name(operation.command.kind));
  line["keys"] = operation.command.keys;
  line["args"] = operation.command.args;
  if (uses_amount(operation.command.kind) || operation.command.amount != 0) {
    line["amount"] = operation.command.amount;
  }
  line["outcome"] = outcome_name(operation.outcome);
  if (operation.reply) {
    const core::Reply& reply = *operation.reply;
    line["status"] = lower_case(core::reply_status_name(reply.status));
    line["error"] = reply.error;
    line["value"] = value_json(reply.value);
    line["metadata"] = metadata_json(reply.metadata);
  }
  return line;
}

// ---------------------------------------------------------------------------
// Reading. A malformed line throws LineError inside this file only; read_jsonl
// catches it (and anything else) and turns it into the error string.

struct LineError {
  std::string pointer;
  std::string expected;
};

[[noreturn]] void fail(std::string pointer, std::string expected) {
  throw LineError{std::move(pointer), std::move(expected)};
}

std::string escape_pointer_token(std::string_view token) {
  std::string result;
  for (char character : token) {
    if (character == '~') {
      result += "~0";
    } else if (character == '/') {
      result += "~1";
    } else {
      result += character;
    }
  }
  return result;
}

std::string child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + escape_pointer_token(token);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::uint64_t read_unsigned(const Json& value, const std::string& pointer, std::uint64_t max) {
  if (!value.is_number_unsigned() &&
      !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    fail(pointer, "expected an unsigned integer");
  }
  const std::uint64_t result = value.get<std::uint64_t>();
  if (result > max) {
    fail(pointer, "expected an unsigned integer at most " + std::to_string(max));
  }
  return result;
}

std::uint32_t read_u32(const Json& value, const std::string& pointer) {
  return static_cast<std::uint32_t>(
      read_unsigned(value, pointer, std::numeric_limits<std::uint32_t>::max()));
}

std::uint64_t read_u64(const Json& value, const std::string& pointer) {
  return read_unsigned(value, pointer, std::numeric_limits<std::uint64_t>::max());
}

std::int64_t read_i64(const Json& value, const std::string& pointer) {
  if (value.is_number_unsigned()) {
    const auto magnitude = value.get<std::uint64_t>();
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(pointer, "expected a signed 64-bit integer");
    }
    return static_cast<std::int64_t>(magnitude);
  }
  if (!value.is_number_integer()) {
    fail(pointer, "expected a signed 64-bit integer");
  }
  return value.get<std::int64_t>();
}

std::string read_string(const Json& value, const std::string& pointer) {
  if (!value.is_string()) {
    fail(pointer, "expected a string");
  }
  return value.get<std::string>();
}

const Json& expect_array(const Json& value, const std::string& pointer, std::string_view of) {
  if (!value.is_array()) {
    fail(pointer, "expected an array of " + std::string(of));
  }
  return value;
}

std::vector<std::string> read_strings(const Json& value, const std::string& pointer) {
  std::vector<std::string> result;
  std::size_t index = 0;
  for (const Json& item : expect_array(value, pointer, "strings")) {
    result.push_back(read_string(item, child(pointer, index)));
    ++index;
  }
  return result;
}

// An object's fields, looked up by name; finish() rejects any field that was
// never asked for.
class Fields {
 public:
  Fields(const Json& object, std::string pointer) : object_(object), pointer_(std::move(pointer)) {
    if (!object_.is_object()) {
      fail(pointer_, "expected a JSON object");
    }
  }

  const Json* optional(std::string_view name) {
    asked_.emplace(name);
    const auto found = object_.find(std::string(name));
    return found == object_.end() ? nullptr : &*found;
  }

  const Json& required(std::string_view name) {
    const Json* value = optional(name);
    if (value == nullptr) {
      fail(at(name), "expected a field \"" + std::string(name) + "\"");
    }
    return *value;
  }

  void forbid(std::string_view name, std::string_view why) {
    if (optional(name) != nullptr) {
      fail(at(name), "expected no field \"" + std::string(name) + "\" " + std::string(why));
    }
  }

  std::string at(std::string_view name) const { return child(pointer_, name); }

  void finish() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (asked_.count(it.key()) == 0) {
        fail(child(pointer_, it.key()), "expected no unknown field \"" + it.key() + "\"");
      }
    }
  }

 private:
  const Json& object_;
  std::string pointer_;
  std::set<std::string, std::less<>> asked_;
};

core::CommandKind read_kind(const Json& value, const std::string& pointer) {
  const std::string name = read_string(value, pointer);
  for (core::CommandKind kind : kAllKinds) {
    if (lower_case(core::command_name(kind)) == name) {
      return kind;
    }
  }
  fail(pointer, "expected a command name (get, set, del, mset, incrby, ...), got \"" + name + "\"");
}

core::ReplyStatus read_status(const Json& value, const std::string& pointer) {
  const std::string name = read_string(value, pointer);
  for (core::ReplyStatus status : kAllStatuses) {
    if (lower_case(core::reply_status_name(status)) == name) {
      return status;
    }
  }
  fail(pointer,
       "expected a reply status (ok, wrongtype, not_supported, bad_request, "
       "unavailable, overflow), got \"" +
           name + "\"");
}

OpOutcome read_outcome(const Json& value, const std::string& pointer) {
  const std::string name = read_string(value, pointer);
  for (OpOutcome outcome : kAllOutcomes) {
    if (name == outcome_name(outcome)) {
      return outcome;
    }
  }
  fail(pointer, "expected \"ok\", \"fail\" or \"indeterminate\", got \"" + name + "\"");
}

const Json& expect_tuple(const Json& value, const std::string& pointer, std::size_t size,
                         std::string_view shape) {
  if (!value.is_array() || value.size() != size) {
    fail(pointer, "expected " + std::string(shape));
  }
  return value;
}

std::vector<std::pair<std::string, core::LwwTimestamp>> read_timestamps(
    const Json& value, const std::string& pointer) {
  constexpr std::string_view kShape = "[key, time, logical, replica]";
  std::vector<std::pair<std::string, core::LwwTimestamp>> result;
  std::size_t index = 0;
  for (const Json& item : expect_array(value, pointer, kShape)) {
    const std::string at = child(pointer, index);
    expect_tuple(item, at, 4, kShape);
    core::LwwTimestamp timestamp;
    timestamp.time = read_u64(item[1], child(at, 1));
    timestamp.logical = read_u32(item[2], child(at, 2));
    timestamp.replica = read_u32(item[3], child(at, 3));
    result.emplace_back(read_string(item[0], child(at, 0)), timestamp);
    ++index;
  }
  return result;
}

std::vector<std::pair<std::string, core::Dot>> read_dots(const Json& value,
                                                         const std::string& pointer) {
  constexpr std::string_view kShape = "[key, replica, counter]";
  std::vector<std::pair<std::string, core::Dot>> result;
  std::size_t index = 0;
  for (const Json& item : expect_array(value, pointer, kShape)) {
    const std::string at = child(pointer, index);
    expect_tuple(item, at, 3, kShape);
    core::Dot dot;
    dot.replica = read_u32(item[1], child(at, 1));
    dot.counter = read_unsigned(item[2], child(at, 2), std::numeric_limits<std::uint64_t>::max());
    if (dot.counter == 0) {
      fail(child(at, 2), "expected a dot counter of at least 1");
    }
    result.emplace_back(read_string(item[0], child(at, 0)), dot);
    ++index;
  }
  return result;
}

core::ReplyMetadata read_metadata(const Json& value, const std::string& pointer) {
  Fields fields(value, pointer);
  core::ReplyMetadata metadata;
  const std::string written_at = fields.at("written");
  std::size_t index = 0;
  for (const Json& item : expect_array(fields.required("written"), written_at, "replica ids")) {
    metadata.written.push_back(read_u32(item, child(written_at, index)));
    ++index;
  }
  metadata.executed_by = read_u32(fields.required("executed_by"), fields.at("executed_by"));
  metadata.timestamps = read_timestamps(fields.required("timestamps"), fields.at("timestamps"));
  metadata.dots = read_dots(fields.required("dots"), fields.at("dots"));
  metadata.removed_dots = read_dots(fields.required("removed_dots"), fields.at("removed_dots"));
  metadata.read_timestamps =
      read_timestamps(fields.required("read_timestamps"), fields.at("read_timestamps"));
  metadata.lamport = read_u64(fields.required("lamport"), fields.at("lamport"));
  fields.finish();
  return metadata;
}

// The JSON shape gives the kind, except that an array is a maybe_list for
// MGET (one optional string per key) and a list for every other command.
core::ReplyValue read_value(const Json& value, const std::string& pointer, core::CommandKind kind) {
  if (value.is_null()) {
    return core::ReplyValue::nil();
  }
  if (value.is_string()) {
    return core::ReplyValue::of_text(value.get<std::string>());
  }
  if (value.is_number()) {
    return core::ReplyValue::of_integer(read_i64(value, pointer));
  }
  if (!value.is_array()) {
    fail(pointer, "expected null, an integer, a string or an array");
  }
  if (kind != core::CommandKind::mget) {
    return core::ReplyValue::of_list(read_strings(value, pointer));
  }
  std::vector<std::optional<std::string>> items;
  std::size_t index = 0;
  for (const Json& item : value) {
    if (item.is_null()) {
      items.emplace_back(std::nullopt);
    } else {
      items.emplace_back(read_string(item, child(pointer, index)));
    }
    ++index;
  }
  return core::ReplyValue::of_maybe_list(std::move(items));
}

core::Reply read_reply(Fields& fields, const Json& status, core::CommandKind kind) {
  core::Reply reply;
  reply.status = read_status(status, fields.at("status"));
  reply.error = read_string(fields.required("error"), fields.at("error"));
  reply.value = read_value(fields.required("value"), fields.at("value"), kind);
  reply.metadata = read_metadata(fields.required("metadata"), fields.at("metadata"));
  return reply;
}

void read_command(Fields& fields, core::Command& command) {
  command.kind = read_kind(fields.required("f"), fields.at("f"));
  command.keys = read_strings(fields.required("keys"), fields.at("keys"));
  command.args = read_strings(fields.required("args"), fields.at("args"));
  if (const Json* amount = fields.optional("amount")) {
    command.amount = read_i64(*amount, fields.at("amount"));
  } else if (uses_amount(command.kind)) {
    fail(fields.at("amount"), "expected a field \"amount\" (this command takes one)");
  }
}

Operation read_operation(const Json& line) {
  Fields fields(line, "");
  Operation operation;
  operation.id = read_u64(fields.required("id"), fields.at("id"));
  operation.client = read_u32(fields.required("client"), fields.at("client"));
  operation.session = read_u64(fields.required("session"), fields.at("session"));
  operation.replica = read_u32(fields.required("replica"), fields.at("replica"));
  operation.invoke_us = read_u64(fields.required("invoke_us"), fields.at("invoke_us"));
  operation.complete_us = read_u64(fields.required("complete_us"), fields.at("complete_us"));
  if (operation.complete_us < operation.invoke_us) {
    fail(fields.at("complete_us"), "expected a time not before invoke_us");
  }
  read_command(fields, operation.command);
  operation.outcome = read_outcome(fields.required("outcome"), fields.at("outcome"));
  if (const Json* status = fields.optional("status")) {
    operation.reply = read_reply(fields, *status, operation.command.kind);
  } else {
    const char* why = "(they come with \"status\", when a reply arrived)";
    fields.forbid("error", why);
    fields.forbid("value", why);
    fields.forbid("metadata", why);
  }
  fields.finish();
  return operation;
}

// Parses one line; a field repeated within one object is an error (JSON
// parsers disagree on which copy wins, so a file must not depend on it).
Json parse_line(const std::string& text) {
  std::vector<std::set<std::string>> open_objects;
  const auto reject_repeats = [&open_objects](int /*depth*/, Json::parse_event_t event,
                                              Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty() &&
               !open_objects.back().insert(parsed.get<std::string>()).second) {
      fail("", "expected no repeated field \"" + parsed.get<std::string>() + "\"");
    }
    return true;
  };
  try {
    return Json::parse(text, reject_repeats);
  } catch (const Json::parse_error& error) {
    fail("", "expected one JSON object (" + std::string(error.what()) + ")");
  }
}

std::string format_error(const std::string& source, std::uint64_t line_number,
                         const std::string& pointer, const std::string& expected) {
  return source + ":" + std::to_string(line_number) + ": " +
         (pointer.empty() ? "(root)" : pointer) + ": " + expected;
}

}  // namespace

const char* outcome_name(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::ok:
      return "ok";
    case OpOutcome::fail:
      return "fail";
    case OpOutcome::indeterminate:
      return "indeterminate";
  }
  return "indeterminate";
}

void write_jsonl(const History& history, std::ostream& out) {
  for (const Operation& operation : history.operations) {
    out << operation_json(operation).dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
  }
}

std::optional<History> read_jsonl(std::istream& in, const std::string& source, std::string& error) {
  History history;
  std::string text;
  std::uint64_t line_number = 0;
  try {
    while (std::getline(in, text)) {
      ++line_number;
      if (text.size() > kLineBytesMax) {
        fail("", "expected a line of at most " + std::to_string(kLineBytesMax) + " bytes");
      }
      Operation operation = read_operation(parse_line(text));
      if (!history.operations.empty() && operation.id <= history.operations.back().id) {
        fail("/id", "expected an id greater than the previous line's (" +
                        std::to_string(history.operations.back().id) + ")");
      }
      history.operations.push_back(std::move(operation));
    }
    if (in.bad()) {
      fail("", "expected a readable stream (read error)");
    }
  } catch (const LineError& line_error) {
    error = format_error(source, line_number, line_error.pointer, line_error.expected);
    return std::nullopt;
  } catch (const std::exception& exception) {
    error = format_error(source, line_number, "", std::string("unexpected: ") + exception.what());
    return std::nullopt;
  }
  return history;
}

bool write_jsonl_file(const History& history, const std::string& path, std::string& error) {
  const std::string temporary = path + ".tmp";
  bool written = false;
  try {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot open " + temporary + " for writing";
      return false;
    }
    for (const Operation& operation : history.operations) {
      out << operation_json(operation).dump() << '\n';  // strict: throws on invalid UTF-8
    }
    out.close();
    written = static_cast<bool>(out);
    if (!written) {
      error = "cannot write " + temporary;
    }
  } catch (const std::exception& exception) {
    error = "cannot write " + path + ": " + exception.what();
  }
  if (written && std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temporary + " to " + path;
    written = false;
  }
  if (!written) {
    std::remove(temporary.c_str());
  }
  return written;
}

}  // namespace crdtsim::harness
