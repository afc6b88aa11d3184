#pragma once
// A small, strict reader for the subset of EDN that Jepsen history lines use:
// maps, vectors, lists, sets, keywords, integers, strings, nil, true and
// false. Anything else (floats, symbols, tagged literals, characters, #_
// discards) is an error that says what was expected where, never a guess.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crdtsim::harness::edn {

struct Value {
  enum class Kind : std::uint8_t {
    nil,
    boolean,
    integer,
    string,
    keyword,
    vector,
    list,
    map,
    set,  // #{...}: elements distinct, kept sorted (see compare), so equal sets are ==
  };
  Kind kind = Kind::nil;
  bool boolean = false;
  std::int64_t integer = 0;
  std::string text;          // string: its content; keyword: the name without ':'
  std::vector<Value> items;  // vector, list, set: elements; map: key, value, key, value...

  friend bool operator==(const Value&, const Value&) = default;
};

// Nesting deeper than this is rejected (bounds the reader's recursion).
inline constexpr std::size_t kDepthMax = 64;

// A total order on values: by kind, then by content (integers numerically,
// strings and keywords bytewise, sequences element by element). Sets are
// sorted by it when read, so #{2 1} and #{1 2} are the same value; maps keep
// the order they were written in.
int compare(const Value& left, const Value& right);

// Parses exactly one value from `text` (whitespace, commas and ;-comments
// around it allowed). On error returns nullopt and sets `error` to
// "column <n>: expected ...". A set with a repeated element is an error, as
// in Clojure's reader.
std::optional<Value> parse(std::string_view text, std::string& error);

// The value of keyword key `name` (without ':') in a map, or nullptr.
const Value* find(const Value& map, std::string_view name);

// The value written back as EDN, for messages and key names.
std::string to_text(const Value& value);

}  // namespace crdtsim::harness::edn
