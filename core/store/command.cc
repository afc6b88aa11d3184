#include "core/store/command.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <limits>
#include <utility>

namespace crdtsim::core {

namespace {

// Bounds on one command (see validate()); decoding enforces the same ones so
// that a peer's bytes can never make us allocate more than a command may hold.
constexpr std::size_t kKeysPerCommandMax = 1024;
constexpr std::size_t kArgsPerCommandMax = 4096;
constexpr std::size_t kStringBytesMax = std::size_t{1} << 20;

// Bounds on one reply's lists (a reply can list a whole set or map).
constexpr std::size_t kReplyEntriesMax = std::size_t{1} << 24;

bool known_kind(std::uint8_t raw) {
  switch (static_cast<CommandKind>(raw)) {
    case CommandKind::get:
    case CommandKind::set:
    case CommandKind::del:
    case CommandKind::mset:
    case CommandKind::mget:
    case CommandKind::exists:
    case CommandKind::type:
    case CommandKind::incr:
    case CommandKind::incrby:
    case CommandKind::decr:
    case CommandKind::decrby:
    case CommandKind::gincrby:
    case CommandKind::gget:
    case CommandKind::sadd:
    case CommandKind::srem:
    case CommandKind::smembers:
    case CommandKind::sismember:
    case CommandKind::scard:
    case CommandKind::gsadd:
    case CommandKind::gsmembers:
    case CommandKind::hset:
    case CommandKind::hget:
    case CommandKind::hdel:
    case CommandKind::hgetall:
      return true;
  }
  return false;
}

// The shape of a command's operands: how many keys and args it takes, and
// whether it uses `amount`.
struct Arity {
  std::size_t keys_min = 1;
  std::size_t keys_max = 1;  // 0: up to kKeysPerCommandMax
  std::size_t args_min = 0;
  std::size_t args_max = 0;  // 0 with args_min > 0: up to kArgsPerCommandMax
  bool uses_amount = false;
};

Arity arity_of(CommandKind kind) {
  switch (kind) {
    case CommandKind::get:
    case CommandKind::type:
    case CommandKind::incr:
    case CommandKind::decr:
    case CommandKind::gget:
    case CommandKind::smembers:
    case CommandKind::scard:
    case CommandKind::gsmembers:
    case CommandKind::hgetall:
      return Arity{};
    case CommandKind::set:
    case CommandKind::sismember:
    case CommandKind::hget:
      return Arity{1, 1, 1, 1, false};
    case CommandKind::del:
    case CommandKind::mget:
    case CommandKind::exists:
      return Arity{1, 0, 0, 0, false};
    case CommandKind::mset:
      return Arity{1, 0, 1, 0, false};  // and keys.size() == args.size()
    case CommandKind::incrby:
    case CommandKind::decrby:
    case CommandKind::gincrby:
      return Arity{1, 1, 0, 0, true};
    case CommandKind::sadd:
    case CommandKind::srem:
    case CommandKind::gsadd:
    case CommandKind::hdel:
    case CommandKind::hset:  // and an even count
      return Arity{1, 1, 1, 0, false};
  }
  return Arity{};
}

std::optional<std::string> count_error(std::string_view what, std::size_t count, std::size_t min,
                                       std::size_t max) {
  if (count >= min && count <= max) {
    return std::nullopt;
  }
  std::string error(what);
  error += ": got ";
  error += std::to_string(count);
  error += ", expected ";
  error += std::to_string(min);
  if (max != min) {
    error += max == std::numeric_limits<std::size_t>::max() ? std::string(" or more")
                                                            : " to " + std::to_string(max);
  }
  return error;
}

std::optional<std::string> check_arity(const Command& command) {
  const Arity arity = arity_of(command.kind);
  const std::size_t unbounded = std::numeric_limits<std::size_t>::max();
  const std::size_t keys_max = arity.keys_max == 0 ? unbounded : arity.keys_max;
  const std::size_t args_max =
      arity.args_max == 0 ? (arity.args_min == 0 ? 0 : unbounded) : arity.args_max;
  if (auto error = count_error("keys", command.keys.size(), arity.keys_min, keys_max)) {
    return error;
  }
  if (auto error = count_error("arguments", command.args.size(), arity.args_min, args_max)) {
    return error;
  }
  if (!arity.uses_amount && command.amount != 0) {
    return std::string("this command takes no amount");
  }
  return std::nullopt;
}

std::optional<std::string> check_sizes(const Command& command) {
  if (command.keys.size() > kKeysPerCommandMax) {
    return "more than " + std::to_string(kKeysPerCommandMax) + " keys";
  }
  if (command.args.size() > kArgsPerCommandMax) {
    return "more than " + std::to_string(kArgsPerCommandMax) + " arguments";
  }
  for (const std::string& key : command.keys) {
    if (key.size() > kStringBytesMax) {
      return "a key longer than " + std::to_string(kStringBytesMax) + " bytes";
    }
  }
  for (const std::string& arg : command.args) {
    if (arg.size() > kStringBytesMax) {
      return "an argument longer than " + std::to_string(kStringBytesMax) + " bytes";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_shape(const Command& command) {
  switch (command.kind) {
    case CommandKind::mset:
      if (command.keys.size() != command.args.size()) {
        return std::string("MSET needs one value per key");
      }
      break;
    case CommandKind::hset:
      if (command.args.size() % 2 != 0) {
        return std::string("HSET needs field, value pairs");
      }
      break;
    case CommandKind::decrby:
      if (command.amount == std::numeric_limits<std::int64_t>::min()) {
        return std::string("DECRBY amount cannot be negated");
      }
      break;
    case CommandKind::gincrby:
      if (command.amount < 0) {
        return std::string("GINCRBY amount must not be negative");
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

void encode_strings(Encoder& encoder, const std::vector<std::string>& values) {
  encoder.varint(values.size());
  for (const std::string& value : values) {
    encoder.string(value);
  }
}

// Reads a count (each element at least one byte) and that many strings,
// rejecting more than `count_max` of them or any longer than kStringBytesMax.
// Into `values`, replacing its contents: its vector's and its strings'
// storage is reused (for a decoder that reuses one command).
void decode_strings(Decoder& decoder, std::size_t count_max, std::vector<std::string>& values) {
  const std::size_t count = decoder.count(1);
  if (count > count_max) {
    decoder.fail("list of " + std::to_string(count) + " exceeds the bound " +
                 std::to_string(count_max));
    values.clear();
    return;
  }
  values.resize(count);
  for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
    std::string& value = values[index];
    decoder.string(value);
    if (value.size() > kStringBytesMax) {
      decoder.fail("string of " + std::to_string(value.size()) + " bytes exceeds the bound");
    }
  }
}

std::vector<std::string> decode_strings(Decoder& decoder, std::size_t count_max) {
  std::vector<std::string> values;
  decode_strings(decoder, count_max, values);
  return values;
}

template <class Value>
void encode_keyed(Encoder& encoder, const std::vector<std::pair<std::string, Value>>& entries) {
  encoder.varint(entries.size());
  for (const auto& [key, value] : entries) {
    encoder.string(key);
    value.encode_body(encoder);
  }
}

template <class Value>
std::vector<std::pair<std::string, Value>> decode_keyed(Decoder& decoder) {
  std::vector<std::pair<std::string, Value>> entries;
  // Smallest entry: an empty key (1 byte) and a two-byte value.
  const std::size_t count = decoder.count(3);
  if (count > kReplyEntriesMax) {
    decoder.fail("metadata list exceeds the bound");
    return entries;
  }
  entries.reserve(count);
  for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
    std::string key = decoder.string();
    Value value = Value::decode_body(decoder);
    entries.emplace_back(std::move(key), std::move(value));
  }
  return entries;
}

// Top bit of a command's kind byte or a reply's status byte: KeyVersions
// follow (a session token, or version metadata).
constexpr std::uint8_t kWithVersions = 0x80;
// Next bit of a reply's status byte: after the version metadata, the
// siblings of multi-value registers read (ReplyMetadata::siblings).
constexpr std::uint8_t kWithSiblings = 0x40;

}  // namespace

KeyVersions decode_key_versions(Decoder& decoder) {
  KeyVersions versions = decode_keyed<CausalContext>(decoder);
  for (std::size_t index = 1; index < versions.size() && decoder.ok(); ++index) {
    if (!(versions[index - 1].first < versions[index].first)) {
      decoder.fail("key versions not strictly increasing by key");
    }
  }
  return versions;
}

void encode_key_versions(Encoder& encoder, const KeyVersions& versions) {
  encode_keyed(encoder, versions);
}

namespace {

void encode_value(Encoder& encoder, const ReplyValue& value) {
  encoder.u8(static_cast<std::uint8_t>(value.kind));
  switch (value.kind) {
    case ReplyValue::Kind::nil:
      break;
    case ReplyValue::Kind::integer:
      encoder.zigzag(value.integer);
      break;
    case ReplyValue::Kind::text:
      encoder.string(value.text);
      break;
    case ReplyValue::Kind::list:
      encode_strings(encoder, value.list);
      break;
    case ReplyValue::Kind::maybe_list:
      encoder.varint(value.maybe_list.size());
      for (const std::optional<std::string>& item : value.maybe_list) {
        encoder.u8(item.has_value() ? 1 : 0);
        if (item.has_value()) {
          encoder.string(*item);
        }
      }
      break;
    case ReplyValue::Kind::sibling_lists:
      encoder.varint(value.sibling_lists.size());
      for (const std::vector<std::string>& values : value.sibling_lists) {
        encode_strings(encoder, values);
      }
      break;
  }
}

std::vector<std::vector<std::string>> decode_sibling_lists(Decoder& decoder) {
  std::vector<std::vector<std::string>> lists;
  const std::size_t count = decoder.count(1);
  if (count > kKeysPerCommandMax) {
    decoder.fail("sibling lists exceed the bound on keys per command");
    return lists;
  }
  lists.reserve(count);
  for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
    lists.push_back(decode_strings(decoder, kReplyEntriesMax));
  }
  return lists;
}

std::vector<std::optional<std::string>> decode_maybe_list(Decoder& decoder) {
  std::vector<std::optional<std::string>> items;
  const std::size_t count = decoder.count(1);
  if (count > kReplyEntriesMax) {
    decoder.fail("reply list exceeds the bound");
    return items;
  }
  items.reserve(count);
  for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
    const std::uint8_t present = decoder.u8();
    if (present == 1) {
      items.emplace_back(decoder.string());
    } else if (present == 0) {
      items.emplace_back(std::nullopt);
    } else {
      decoder.fail("presence byte must be 0 or 1");
    }
  }
  return items;
}

// Decodes into `value`, a default ReplyValue (in place: no temporary value).
void decode_value(Decoder& decoder, ReplyValue& value) {
  const std::uint8_t kind = decoder.u8();
  switch (kind) {
    case static_cast<std::uint8_t>(ReplyValue::Kind::nil):
      break;
    case static_cast<std::uint8_t>(ReplyValue::Kind::integer):
      value.kind = ReplyValue::Kind::integer;
      value.integer = decoder.zigzag();
      break;
    case static_cast<std::uint8_t>(ReplyValue::Kind::text):
      value.kind = ReplyValue::Kind::text;
      value.text = decoder.string();
      break;
    case static_cast<std::uint8_t>(ReplyValue::Kind::list):
      value.kind = ReplyValue::Kind::list;
      value.list = decode_strings(decoder, kReplyEntriesMax);
      break;
    case static_cast<std::uint8_t>(ReplyValue::Kind::maybe_list):
      value.kind = ReplyValue::Kind::maybe_list;
      value.maybe_list = decode_maybe_list(decoder);
      break;
    case static_cast<std::uint8_t>(ReplyValue::Kind::sibling_lists):
      value.kind = ReplyValue::Kind::sibling_lists;
      value.sibling_lists = decode_sibling_lists(decoder);
      break;
    default:
      decoder.fail("unknown reply value kind " + std::to_string(kind));
      break;
  }
}

void encode_metadata(Encoder& encoder, const ReplyMetadata& metadata) {
  encoder.varint(metadata.written.size());
  for (const ReplicaId replica : metadata.written) {
    encoder.varint(replica);
  }
  encoder.varint(metadata.executed_by);
  encode_keyed(encoder, metadata.timestamps);
  encode_keyed(encoder, metadata.dots);
  encode_keyed(encoder, metadata.tracking->removed_dots);
  encode_keyed(encoder, metadata.read_timestamps);
  encoder.varint(metadata.lamport);
}

// Decodes into `metadata`, a default ReplyMetadata (in place, as above).
void decode_metadata(Decoder& decoder, ReplyMetadata& metadata) {
  const std::size_t written = decoder.count(1);
  metadata.written.reserve(written);
  for (std::size_t index = 0; index < written && decoder.ok(); ++index) {
    metadata.written.push_back(decoder.varint32());
  }
  metadata.executed_by = decoder.varint32();
  metadata.timestamps = decode_keyed<LwwTimestamp>(decoder);
  metadata.dots = decode_keyed<Dot>(decoder);
  std::vector<std::pair<std::string, Dot>> removed_dots = decode_keyed<Dot>(decoder);
  if (!removed_dots.empty()) {
    metadata.tracking.mut().removed_dots = std::move(removed_dots);
  }
  metadata.read_timestamps = decode_keyed<LwwTimestamp>(decoder);
  metadata.lamport = decoder.varint();
}

}  // namespace

void merge_key_versions(KeyVersions& versions, const std::string& key,
                        const CausalContext& context) {
  const auto position =
      std::lower_bound(versions.begin(), versions.end(), key,
                       [](const std::pair<std::string, CausalContext>& entry,
                          const std::string& wanted) { return entry.first < wanted; });
  if (position != versions.end() && position->first == key) {
    position->second.merge(context);
    return;
  }
  versions.emplace(position, key, context);
}

bool merge_key_versions(KeyVersions& versions, const KeyVersions& other) {
  bool grew = false;
  for (const auto& [key, context] : other) {
    const CausalContext* mine = find_key_versions(versions, key);
    if (mine == nullptr || !mine->includes(context)) {
      merge_key_versions(versions, key, context);
      grew = true;
    }
  }
  return grew;
}

const CausalContext* find_key_versions(const KeyVersions& versions, std::string_view key) {
  const auto position = std::lower_bound(
      versions.begin(), versions.end(), key,
      [](const std::pair<std::string, CausalContext>& entry, std::string_view wanted) {
        return std::string_view(entry.first) < wanted;
      });
  if (position != versions.end() && position->first == key) {
    return &position->second;
  }
  return nullptr;
}

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::none:
      return "none";
    case ValueType::lww_register:
      return "lww_register";
    case ValueType::pn_counter:
      return "pn_counter";
    case ValueType::g_counter:
      return "g_counter";
    case ValueType::or_set:
      return "or_set";
    case ValueType::g_set:
      return "g_set";
    case ValueType::lww_map:
      return "lww_map";
    case ValueType::mv_register:
      return "mv_register";
  }
  return "unknown";
}

std::string_view command_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::get:
      return "GET";
    case CommandKind::set:
      return "SET";
    case CommandKind::del:
      return "DEL";
    case CommandKind::mset:
      return "MSET";
    case CommandKind::mget:
      return "MGET";
    case CommandKind::exists:
      return "EXISTS";
    case CommandKind::type:
      return "TYPE";
    case CommandKind::incr:
      return "INCR";
    case CommandKind::incrby:
      return "INCRBY";
    case CommandKind::decr:
      return "DECR";
    case CommandKind::decrby:
      return "DECRBY";
    case CommandKind::gincrby:
      return "GINCRBY";
    case CommandKind::gget:
      return "GGET";
    case CommandKind::sadd:
      return "SADD";
    case CommandKind::srem:
      return "SREM";
    case CommandKind::smembers:
      return "SMEMBERS";
    case CommandKind::sismember:
      return "SISMEMBER";
    case CommandKind::scard:
      return "SCARD";
    case CommandKind::gsadd:
      return "GSADD";
    case CommandKind::gsmembers:
      return "GSMEMBERS";
    case CommandKind::hset:
      return "HSET";
    case CommandKind::hget:
      return "HGET";
    case CommandKind::hdel:
      return "HDEL";
    case CommandKind::hgetall:
      return "HGETALL";
  }
  return "UNKNOWN";
}

bool is_write(CommandKind kind) {
  switch (kind) {
    case CommandKind::set:
    case CommandKind::del:
    case CommandKind::mset:
    case CommandKind::incr:
    case CommandKind::incrby:
    case CommandKind::decr:
    case CommandKind::decrby:
    case CommandKind::gincrby:
    case CommandKind::sadd:
    case CommandKind::srem:
    case CommandKind::gsadd:
    case CommandKind::hset:
    case CommandKind::hdel:
      return true;
    default:
      return false;
  }
}

std::optional<std::string> validate(const Command& command) {
  if (!known_kind(static_cast<std::uint8_t>(command.kind))) {
    return std::string("unknown command");
  }
  std::optional<std::string> error = check_sizes(command);
  if (!error) {
    error = check_arity(command);
  }
  if (!error) {
    error = check_shape(command);
  }
  if (error) {
    std::string message(command_name(command.kind));
    message += ": ";
    message += *error;
    return message;
  }
  return std::nullopt;
}

std::string_view reply_status_name(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::ok:
      return "OK";
    case ReplyStatus::wrong_type:
      return "WRONGTYPE";
    case ReplyStatus::not_supported:
      return "NOT_SUPPORTED";
    case ReplyStatus::bad_request:
      return "BAD_REQUEST";
    case ReplyStatus::unavailable:
      return "UNAVAILABLE";
    case ReplyStatus::overflow:
      return "OVERFLOW";
    case ReplyStatus::session_behind:
      return "SESSION_BEHIND";
  }
  return "UNKNOWN";
}

ReplyValue ReplyValue::of_integer(std::int64_t value) {
  ReplyValue result;
  result.kind = Kind::integer;
  result.integer = value;
  return result;
}

ReplyValue ReplyValue::of_text(std::string value) {
  ReplyValue result;
  result.kind = Kind::text;
  result.text = std::move(value);
  return result;
}

ReplyValue ReplyValue::of_list(std::vector<std::string> values) {
  ReplyValue result;
  result.kind = Kind::list;
  result.list = std::move(values);
  return result;
}

ReplyValue ReplyValue::of_maybe_list(std::vector<std::optional<std::string>> values) {
  ReplyValue result;
  result.kind = Kind::maybe_list;
  result.maybe_list = std::move(values);
  return result;
}

ReplyValue ReplyValue::of_mget(std::vector<std::vector<std::string>> values) {
  const bool siblings = std::any_of(values.begin(), values.end(),
                                    [](const auto& key_values) { return key_values.size() > 1; });
  if (siblings) {
    ReplyValue result;
    result.kind = Kind::sibling_lists;
    result.sibling_lists = std::move(values);
    return result;
  }
  std::vector<std::optional<std::string>> items;
  items.reserve(values.size());
  for (std::vector<std::string>& key_values : values) {
    items.push_back(key_values.empty() ? std::nullopt
                                       : std::optional<std::string>(std::move(key_values[0])));
  }
  return of_maybe_list(std::move(items));
}

std::vector<std::vector<std::string>> ReplyValue::mget_values() const {
  if (kind == Kind::sibling_lists) {
    return sibling_lists;
  }
  std::vector<std::vector<std::string>> result;
  result.reserve(maybe_list.size());
  for (const std::optional<std::string>& item : maybe_list) {
    result.push_back(item.has_value() ? std::vector<std::string>{*item}
                                      : std::vector<std::string>{});
  }
  return result;
}

Reply Reply::failure(ReplyStatus status, std::string error) {
  assert(status != ReplyStatus::ok);
  Reply reply;
  reply.status = status;
  reply.error = std::move(error);
  return reply;
}

// Layout: kind, keys, args, amount (zigzag). Decoding checks the kind and the
// size bounds, not the arity: validate() does that, so that a malformed but
// decodable command gets a BAD_REQUEST reply naming what is wrong.
void Command::encode_body(Encoder& encoder) const {
  // The kind byte's top bit says a session token follows the command.
  const auto raw_kind = static_cast<std::uint8_t>(kind);
  encoder.u8(session.empty() ? raw_kind : static_cast<std::uint8_t>(raw_kind | kWithVersions));
  encode_strings(encoder, keys);
  encode_strings(encoder, args);
  encoder.zigzag(amount);
  if (!session.empty()) {
    encode_keyed(encoder, session);
  }
}

Command Command::decode_body(Decoder& decoder) {
  Command command;
  decode_body(decoder, command);
  return command;
}

void Command::decode_body(Decoder& decoder, Command& command) {
  const std::uint8_t raw_kind = decoder.u8();
  const bool with_session = (raw_kind & kWithVersions) != 0;
  const auto kind = static_cast<std::uint8_t>(raw_kind & ~kWithVersions);
  if (decoder.ok() && !known_kind(kind)) {
    decoder.fail("unknown command kind " + std::to_string(kind));
  }
  command.kind = static_cast<CommandKind>(kind);
  decode_strings(decoder, kKeysPerCommandMax, command.keys);
  decode_strings(decoder, kArgsPerCommandMax, command.args);
  command.amount = decoder.zigzag();
  command.session.clear();
  if (with_session && decoder.ok()) {
    command.session = decode_key_versions(decoder);
  }
  if (!decoder.ok()) {
    command = Command{};
  }
}

// Layout: status, error, value (kind, then only that kind's field), metadata.
// Canonical for replies built by the ReplyValue factories (fields of other
// kinds empty); fields of other kinds are not encoded.
void Reply::encode_body(Encoder& encoder) const {
  // The status byte's top bit says version metadata follows the rest.
  const auto raw_status = static_cast<std::uint8_t>(status);
  const TrackingMetadata& tracking = *metadata.tracking;
  const bool with_siblings = !tracking.siblings.empty();
  const bool with_versions = with_siblings || !tracking.versions.empty() ||
                             !tracking.updates.empty() || !tracking.dependencies.empty();
  std::uint8_t flags = with_versions ? kWithVersions : 0;
  flags = static_cast<std::uint8_t>(flags | (with_siblings ? kWithSiblings : 0));
  encoder.u8(static_cast<std::uint8_t>(raw_status | flags));
  encoder.string(error);
  encode_value(encoder, value);
  encode_metadata(encoder, metadata);
  if (with_versions) {
    encode_keyed(encoder, tracking.versions);
    encode_keyed(encoder, tracking.updates);
    encode_keyed(encoder, tracking.dependencies);
    if (with_siblings) {
      encode_keyed(encoder, tracking.siblings);
    }
  }
}

Reply Reply::decode_body(Decoder& decoder) {
  Reply reply;
  decode_body(decoder, reply);
  return reply;
}

void Reply::decode_body(Decoder& decoder, Reply& reply) {
  assert(reply == Reply{});
  const std::uint8_t raw_status = decoder.u8();
  const bool with_versions = (raw_status & kWithVersions) != 0;
  const bool with_siblings = (raw_status & kWithSiblings) != 0;
  const auto status = static_cast<std::uint8_t>(raw_status & ~(kWithVersions | kWithSiblings));
  if (decoder.ok() && status > static_cast<std::uint8_t>(ReplyStatus::session_behind)) {
    decoder.fail("unknown reply status " + std::to_string(status));
  }
  if (decoder.ok() && with_siblings && !with_versions) {
    decoder.fail("reply sibling dots without version metadata");
  }
  reply.status = static_cast<ReplyStatus>(status);
  reply.error = decoder.string();
  decode_value(decoder, reply.value);
  decode_metadata(decoder, reply.metadata);
  if (with_versions && decoder.ok()) {
    TrackingMetadata& tracking = reply.metadata.tracking.mut();
    tracking.versions = decode_key_versions(decoder);
    tracking.updates = decode_key_versions(decoder);
    tracking.dependencies = decode_key_versions(decoder);
    if (with_siblings && decoder.ok()) {
      tracking.siblings = decode_key_versions(decoder);
    }
  }
  if (!decoder.ok()) {
    reply = Reply{};
  }
}

}  // namespace crdtsim::core
