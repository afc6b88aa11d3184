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

#include "harness/json_fields.h"

namespace crdtsim::harness {

namespace {

// ordered_json keeps the fields in the order docs/history.md lists them.
using json::child;
using json::expect_array;
using json::fail;
using json::Fields;
using json::Json;
using json::lower_case;
using json::read_i64;
using json::read_string;
using json::read_strings;
using json::read_u32;
using json::read_u64;

// Bounds on one line, so a hostile file cannot make the reader allocate
// without limit through one huge line.
constexpr std::size_t kLineBytesMax = std::size_t{64} << 20;

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
  for (const auto& [key, dot] : metadata.tracking->removed_dots) {
    removed_dots.push_back(Json::array({key, dot.replica, dot.counter}));
  }
  result["removed_dots"] = std::move(removed_dots);
  result["read_timestamps"] = timestamps_json(metadata.read_timestamps);
  result["lamport"] = metadata.lamport;
  // Ranges of update dots: [key, replica, first counter, last counter].
  const auto ranges = [](const core::KeyVersions& entries) {
    Json list = Json::array();
    for (const auto& [key, context] : entries) {
      for (const auto& [replica, counter] : context.version_vector()) {
        list.push_back(Json::array({key, replica, 1, counter}));
      }
      for (const core::Dot& dot : context.dot_cloud()) {
        list.push_back(Json::array({key, dot.replica, dot.counter, dot.counter}));
      }
    }
    return list;
  };
  const core::TrackingMetadata& tracking = *metadata.tracking;
  if (!tracking.versions.empty()) {
    result["versions"] = ranges(tracking.versions);
  }
  if (!tracking.updates.empty()) {
    result["updates"] = ranges(tracking.updates);
  }
  if (!tracking.dependencies.empty()) {
    result["dependencies"] = ranges(tracking.dependencies);
  }
  if (!tracking.siblings.empty()) {
    result["siblings"] = ranges(tracking.siblings);
  }
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
    case core::ReplyValue::Kind::sibling_lists: {
      // Per key: null (missing), a string (one value) or an array (siblings).
      Json result = Json::array();
      for (const std::vector<std::string>& values : value.sibling_lists) {
        result.push_back(values.empty()       ? Json(nullptr)
                         : values.size() == 1 ? Json(values.front())
                                              : Json(values));
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
// Reading. A malformed line throws json::JsonInputError; read_jsonl catches it
// (and anything else) and turns it into the error string.

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

// Bound on the dots one history line may describe (ranges expand to dots).
constexpr std::uint64_t kVersionDotsMax = std::uint64_t{1} << 24;

core::KeyVersions read_versions(const Json& value, const std::string& pointer) {
  constexpr std::string_view kShape = "[key, replica, first counter, last counter]";
  core::KeyVersions result;
  std::uint64_t dots = 0;
  std::size_t index = 0;
  for (const Json& item : expect_array(value, pointer, kShape)) {
    const std::string at = child(pointer, index);
    expect_tuple(item, at, 4, kShape);
    const core::ReplicaId replica = read_u32(item[1], child(at, 1));
    const std::uint64_t first = read_u64(item[2], child(at, 2));
    const std::uint64_t last = read_u64(item[3], child(at, 3));
    if (first == 0 || last < first) {
      fail(at, "expected 1 <= first counter <= last counter");
    }
    dots += last - first + 1;
    if (dots > kVersionDotsMax) {
      fail(at, "expected at most " + std::to_string(kVersionDotsMax) + " version dots per line");
    }
    core::CausalContext context;
    for (std::uint64_t counter = first; counter <= last; ++counter) {
      context.add(core::Dot{replica, counter});
    }
    core::merge_key_versions(result, read_string(item[0], child(at, 0)), context);
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
    dot.counter = read_u64(item[2], child(at, 2));
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
  std::vector<std::pair<std::string, core::Dot>> removed_dots =
      read_dots(fields.required("removed_dots"), fields.at("removed_dots"));
  if (!removed_dots.empty()) {
    metadata.tracking.mut().removed_dots = std::move(removed_dots);
  }
  metadata.read_timestamps =
      read_timestamps(fields.required("read_timestamps"), fields.at("read_timestamps"));
  metadata.lamport = read_u64(fields.required("lamport"), fields.at("lamport"));
  if (const Json* versions = fields.optional("versions")) {
    metadata.tracking.mut().versions = read_versions(*versions, fields.at("versions"));
  }
  if (const Json* updates = fields.optional("updates")) {
    metadata.tracking.mut().updates = read_versions(*updates, fields.at("updates"));
  }
  if (const Json* dependencies = fields.optional("dependencies")) {
    metadata.tracking.mut().dependencies = read_versions(*dependencies, fields.at("dependencies"));
  }
  if (const Json* siblings = fields.optional("siblings")) {
    metadata.tracking.mut().siblings = read_versions(*siblings, fields.at("siblings"));
  }
  fields.finish();
  return metadata;
}

// The JSON shape gives the kind, except that an array is a maybe_list for
// MGET (one optional string per key; sibling_lists when some item is itself
// an array of siblings) and a list for every other command.
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
  std::vector<std::vector<std::string>> items;
  std::size_t index = 0;
  for (const Json& item : value) {
    if (item.is_null()) {
      items.emplace_back();
    } else if (item.is_array()) {
      items.push_back(read_strings(item, child(pointer, index)));
      if (items.back().size() < 2) {
        fail(child(pointer, index), "expected an array of at least two sibling values");
      }
    } else {
      items.push_back({read_string(item, child(pointer, index))});
    }
    ++index;
  }
  return core::ReplyValue::of_mget(std::move(items));
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
      Operation operation = read_operation(json::parse_strict(text, "one JSON object"));
      if (!history.operations.empty() && operation.id <= history.operations.back().id) {
        fail("/id", "expected an id greater than the previous line's (" +
                        std::to_string(history.operations.back().id) + ")");
      }
      history.operations.push_back(std::move(operation));
    }
    if (in.bad()) {
      fail("", "expected a readable stream (read error)");
    }
  } catch (const json::JsonInputError& line_error) {
    error = json::format_error(source, line_number, line_error.pointer, line_error.expected);
    return std::nullopt;
  } catch (const std::exception& exception) {
    error =
        json::format_error(source, line_number, "", std::string("unexpected: ") + exception.what());
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
