#pragma once
// Strict JSON reading shared by every input format of the harness (scenario
// files, failure artifacts, histories): each value is read at a JSON pointer,
// and anything unexpected throws JsonInputError naming that pointer and what
// was expected. Unknown fields are errors (they are typos), and so is a field
// repeated within one object (parsers disagree on which copy wins).

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crdtsim::harness::json {

// ordered_json: writers keep fields in the order the docs list them.
using Json = nlohmann::ordered_json;

// Thrown by the readers below; callers turn it into
// "<file>[:<line>]: <pointer>: <expected>".
struct JsonInputError : std::runtime_error {
  JsonInputError(std::string pointer_in, std::string expected_in)
      : std::runtime_error(expected_in),
        pointer(std::move(pointer_in)),
        expected(std::move(expected_in)) {}
  std::string pointer;   // RFC 6901; empty means the document root
  std::string expected;  // "expected ..."
};

[[noreturn]] void fail(std::string pointer, std::string expected);

// "<source>: <pointer or (root)>: <expected>"; with a line when line > 0.
std::string format_error(const std::string& source, std::uint64_t line, const std::string& pointer,
                         const std::string& expected);

std::string child(const std::string& pointer, std::string_view token);
std::string child(const std::string& pointer, std::size_t index);

// Parses one JSON document; rejects repeated fields and trailing garbage.
Json parse_strict(const std::string& text, std::string_view what = "one JSON document");

std::uint64_t read_unsigned(const Json& value, const std::string& pointer, std::uint64_t min,
                            std::uint64_t max);
std::int64_t read_signed(const Json& value, const std::string& pointer, std::int64_t min,
                         std::int64_t max);
std::uint32_t read_u32(const Json& value, const std::string& pointer);
std::uint64_t read_u64(const Json& value, const std::string& pointer);
std::int64_t read_i64(const Json& value, const std::string& pointer);
bool read_bool(const Json& value, const std::string& pointer);
std::string read_string(const Json& value, const std::string& pointer);
// A probability in parts per million: an integer 0 .. 1,000,000.
std::uint32_t read_ppm(const Json& value, const std::string& pointer);
const Json& expect_array(const Json& value, const std::string& pointer, std::string_view of);
std::vector<std::string> read_strings(const Json& value, const std::string& pointer);
// One of `names`; the error lists them.
std::size_t read_choice(const Json& value, const std::string& pointer,
                        const std::vector<std::string_view>& names);

// An object's fields, looked up by name; finish() rejects any field that was
// never asked for.
class Fields {
 public:
  Fields(const Json& object, std::string pointer);

  const Json* optional(std::string_view name);
  const Json& required(std::string_view name);
  // Rejects `name` if present, saying why it does not belong here.
  void forbid(std::string_view name, std::string_view why);
  // The pointer of field `name` of this object.
  std::string at(std::string_view name) const;
  const std::string& pointer() const { return pointer_; }
  void finish() const;

  // Reads `name` into `target` when present (leaving the default otherwise).
  template <typename T, typename Reader>
  void read(std::string_view name, T& target, Reader reader) {
    if (const Json* value = optional(name)) {
      target = reader(*value, at(name));
    }
  }

 private:
  const Json& object_;
  std::string pointer_;
  std::set<std::string, std::less<>> asked_;
};

std::string lower_case(std::string_view text);

// Indented like dump(2), but arrays of scalars and small objects of scalars
// stay on one line, so commands and fault events read as they are written.
std::string pretty(const Json& value);

}  // namespace crdtsim::harness::json
