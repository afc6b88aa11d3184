#include "harness/json_fields.h"

#include <limits>
#include <utility>

namespace crdtsim::harness::json {

namespace {

std::string escape_pointer_token(std::string_view token) {
  std::string result;
  result.reserve(token.size());
  for (const char character : token) {
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

}  // namespace

void fail(std::string pointer, std::string expected) {
  throw JsonInputError(std::move(pointer), std::move(expected));
}

std::string format_error(const std::string& source, std::uint64_t line, const std::string& pointer,
                         const std::string& expected) {
  std::string where = source;
  if (line > 0) {
    where += ":" + std::to_string(line);
  }
  return where + ": " + (pointer.empty() ? "(root)" : pointer) + ": " + expected;
}

std::string child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + escape_pointer_token(token);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

Json parse_strict(const std::string& text, std::string_view what) {
  // One set of seen keys per open object, innermost last.
  std::vector<std::set<std::string>> open_objects;
  const auto reject_repeats = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
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
    fail("", "expected " + std::string(what) + " (" + std::string(error.what()) + ")");
  }
}

std::uint64_t read_unsigned(const Json& value, const std::string& pointer, std::uint64_t min,
                            std::uint64_t max) {
  const std::string range = std::to_string(min) + " .. " + std::to_string(max);
  if (!value.is_number_unsigned() &&
      !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
    fail(pointer, "expected an integer in " + range + ", got " + value.dump());
  }
  const auto result = value.get<std::uint64_t>();
  if (result < min || result > max) {
    fail(pointer, "expected an integer in " + range + ", got " + std::to_string(result));
  }
  return result;
}

std::int64_t read_signed(const Json& value, const std::string& pointer, std::int64_t min,
                         std::int64_t max) {
  const std::string range = std::to_string(min) + " .. " + std::to_string(max);
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(pointer, "expected an integer in " + range + ", got " + value.dump());
  }
  if (!value.is_number_integer()) {
    fail(pointer, "expected an integer in " + range + ", got " + value.dump());
  }
  const auto result = value.get<std::int64_t>();
  if (result < min || result > max) {
    fail(pointer, "expected an integer in " + range + ", got " + std::to_string(result));
  }
  return result;
}

std::uint32_t read_u32(const Json& value, const std::string& pointer) {
  return static_cast<std::uint32_t>(
      read_unsigned(value, pointer, 0, std::numeric_limits<std::uint32_t>::max()));
}

std::uint64_t read_u64(const Json& value, const std::string& pointer) {
  return read_unsigned(value, pointer, 0, std::numeric_limits<std::uint64_t>::max());
}

std::int64_t read_i64(const Json& value, const std::string& pointer) {
  return read_signed(value, pointer, std::numeric_limits<std::int64_t>::min(),
                     std::numeric_limits<std::int64_t>::max());
}

bool read_bool(const Json& value, const std::string& pointer) {
  if (!value.is_boolean()) {
    fail(pointer, "expected true or false, got " + value.dump());
  }
  return value.get<bool>();
}

std::string read_string(const Json& value, const std::string& pointer) {
  if (!value.is_string()) {
    fail(pointer, "expected a string, got " + value.dump());
  }
  return value.get<std::string>();
}

std::uint32_t read_ppm(const Json& value, const std::string& pointer) {
  if (value.is_number_float()) {
    fail(pointer, "expected a probability in parts per million (an integer 0 .. 1000000), got " +
                      value.dump());
  }
  return static_cast<std::uint32_t>(read_unsigned(value, pointer, 0, 1'000'000));
}

const Json& expect_array(const Json& value, const std::string& pointer, std::string_view of) {
  if (!value.is_array()) {
    fail(pointer, "expected an array of " + std::string(of) + ", got " + value.dump());
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

std::size_t read_choice(const Json& value, const std::string& pointer,
                        const std::vector<std::string_view>& names) {
  std::string listed;
  for (const std::string_view name : names) {
    listed += (listed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  }
  if (!value.is_string()) {
    fail(pointer, "expected one of " + listed + ", got " + value.dump());
  }
  const auto& text = value.get_ref<const std::string&>();
  for (std::size_t index = 0; index < names.size(); ++index) {
    if (text == names[index]) {
      return index;
    }
  }
  fail(pointer, "expected one of " + listed + ", got \"" + text + "\"");
}

Fields::Fields(const Json& object, std::string pointer)
    : object_(object), pointer_(std::move(pointer)) {
  if (!object_.is_object()) {
    fail(pointer_, "expected a JSON object, got " + object_.dump());
  }
}

const Json* Fields::optional(std::string_view name) {
  asked_.emplace(name);
  const auto found = object_.find(std::string(name));
  return found == object_.end() ? nullptr : &*found;
}

const Json& Fields::required(std::string_view name) {
  const Json* value = optional(name);
  if (value == nullptr) {
    fail(at(name), "expected a field \"" + std::string(name) + "\"");
  }
  return *value;
}

void Fields::forbid(std::string_view name, std::string_view why) {
  if (optional(name) != nullptr) {
    fail(at(name), "expected no field \"" + std::string(name) + "\" " + std::string(why));
  }
}

std::string Fields::at(std::string_view name) const {
  return child(pointer_, name);
}

void Fields::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (asked_.count(it.key()) == 0) {
      fail(child(pointer_, it.key()), "expected no unknown field \"" + it.key() + "\"");
    }
  }
}

std::string lower_case(std::string_view text) {
  std::string result(text);
  for (char& character : result) {
    if (character >= 'A' && character <= 'Z') {
      character = static_cast<char>(character - 'A' + 'a');
    }
  }
  return result;
}

namespace {

bool is_flat(const Json& value) {
  if (!value.is_structured()) {
    return true;
  }
  if (value.is_object() && value.size() > 6) {
    return false;
  }
  for (const Json& item : value) {
    if (item.is_structured() && !(item.is_array() && is_flat(item))) {
      return false;
    }
  }
  return value.dump().size() <= 100;
}

std::string scalar(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// One line: {"a": 1, "b": [1, 2]}.
void write_flat(const Json& value, std::string& out) {
  if (!value.is_structured()) {
    out += scalar(value);
    return;
  }
  const bool object = value.is_object();
  out += object ? "{" : "[";
  for (auto it = value.begin(); it != value.end(); ++it) {
    out += it == value.begin() ? "" : ", ";
    if (object) {
      out += scalar(Json(it.key())) + ": ";
    }
    write_flat(*it, out);
  }
  out += object ? "}" : "]";
}

void write_pretty(const Json& value, std::size_t depth, std::string& out) {
  if (is_flat(value) || value.empty()) {
    write_flat(value, out);
    return;
  }
  const std::string indent(2 * (depth + 1), ' ');
  const bool object = value.is_object();
  out += object ? "{\n" : "[\n";
  for (auto it = value.begin(); it != value.end(); ++it) {
    out += it == value.begin() ? indent : ",\n" + indent;
    if (object) {
      out += scalar(Json(it.key())) + ": ";
    }
    write_pretty(*it, depth + 1, out);
  }
  out += "\n" + std::string(2 * depth, ' ') + (object ? "}" : "]");
}

}  // namespace

std::string pretty(const Json& value) {
  std::string out;
  write_pretty(value, 0, out);
  return out;
}

}  // namespace crdtsim::harness::json
