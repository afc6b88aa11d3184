#include "harness/checkers/edn.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

namespace crdtsim::harness::edn {

namespace {

bool is_delimiter(char character) {
  switch (character) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case ',':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '"':
    case ';':
      return true;
    default:
      return false;
  }
}

constexpr std::string_view kValueExpected =
    "a map, vector, list, set, keyword, string, integer, nil, true or false";

bool is_digit(char character) {
  return character >= '0' && character <= '9';
}

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  std::optional<Value> read_all() {
    skip_space();
    std::optional<Value> value = read_value(0);
    if (value) {
      skip_space();
      if (position_ != text_.size()) {
        return failure("the end of the line after one value");
      }
    }
    return value;
  }

  const std::string& error() const { return error_; }

 private:
  std::optional<Value> failure(std::string_view expected) {
    if (error_.empty()) {
      error_ = "column " + std::to_string(position_ + 1) + ": expected " + std::string(expected);
    }
    return std::nullopt;
  }

  void skip_space() {
    while (position_ < text_.size()) {
      const char character = text_[position_];
      if (character == ';') {
        while (position_ < text_.size() && text_[position_] != '\n') {
          ++position_;
        }
      } else if (character == ' ' || character == '\t' || character == '\n' || character == '\r' ||
                 character == '\f' || character == ',') {
        ++position_;
      } else {
        return;
      }
    }
  }

  std::string_view read_token() {
    const std::size_t start = position_;
    while (position_ < text_.size() && !is_delimiter(text_[position_])) {
      ++position_;
    }
    return text_.substr(start, position_ - start);
  }

  std::optional<Value> read_value(std::size_t depth) {
    if (depth >= kDepthMax) {
      return failure("at most " + std::to_string(kDepthMax) + " levels of nesting");
    }
    if (position_ == text_.size()) {
      return failure("a value");
    }
    switch (text_[position_]) {
      case '{':
        return read_sequence(Value::Kind::map, '}', depth);
      case '[':
        return read_sequence(Value::Kind::vector, ']', depth);
      case '(':
        return read_sequence(Value::Kind::list, ')', depth);
      case '"':
        return read_string();
      case ':':
        return read_keyword();
      case '#':
        if (position_ + 1 < text_.size() && text_[position_ + 1] == '{') {
          return read_set(depth);
        }
        return failure(kValueExpected);
      default:
        return read_atom();
    }
  }

  std::optional<Value> read_sequence(Value::Kind kind, char close, std::size_t depth) {
    ++position_;
    Value result;
    result.kind = kind;
    while (true) {
      skip_space();
      if (position_ == text_.size()) {
        return failure(std::string("'") + close + "'");
      }
      if (text_[position_] == close) {
        ++position_;
        break;
      }
      std::optional<Value> item = read_value(depth + 1);
      if (!item) {
        return std::nullopt;
      }
      result.items.push_back(std::move(*item));
    }
    if (kind == Value::Kind::map) {
      if (result.items.size() % 2 != 0) {
        return failure("a map with a value for every key");
      }
      for (std::size_t i = 0; i < result.items.size(); i += 2) {
        for (std::size_t j = 0; j < i; j += 2) {
          if (result.items[i] == result.items[j]) {
            return failure("a map without the repeated key " + to_text(result.items[i]));
          }
        }
      }
    }
    return result;
  }

  // #{...}: sorted (so equal sets compare equal); a repeated element is an
  // error at the set's '#'.
  std::optional<Value> read_set(std::size_t depth) {
    const std::size_t start = position_;
    ++position_;  // read_sequence skips the '{'
    std::optional<Value> set = read_sequence(Value::Kind::set, '}', depth);
    if (!set) {
      return std::nullopt;
    }
    std::sort(set->items.begin(), set->items.end(),
              [](const Value& left, const Value& right) { return compare(left, right) < 0; });
    for (std::size_t i = 1; i < set->items.size(); ++i) {
      if (compare(set->items[i - 1], set->items[i]) == 0) {
        position_ = start;
        return failure("a set without the repeated element " + to_text(set->items[i]));
      }
    }
    return set;
  }

  std::optional<Value> read_string() {
    ++position_;
    Value result;
    result.kind = Value::Kind::string;
    while (position_ < text_.size() && text_[position_] != '"') {
      char character = text_[position_++];
      if (character == '\\') {
        if (position_ == text_.size()) {
          break;
        }
        switch (text_[position_++]) {
          case '"':
            character = '"';
            break;
          case '\\':
            character = '\\';
            break;
          case 'n':
            character = '\n';
            break;
          case 't':
            character = '\t';
            break;
          case 'r':
            character = '\r';
            break;
          default:
            --position_;
            return failure("a string escape \\\", \\\\, \\n, \\t or \\r");
        }
      }
      result.text += character;
    }
    if (position_ == text_.size()) {
      return failure("'\"' closing the string");
    }
    ++position_;
    return result;
  }

  std::optional<Value> read_keyword() {
    ++position_;
    const std::string_view name = read_token();
    if (name.empty() || name[0] == ':') {
      return failure("a keyword name after ':'");
    }
    Value result;
    result.kind = Value::Kind::keyword;
    result.text = std::string(name);
    return result;
  }

  std::optional<Value> read_atom() {
    const std::size_t start = position_;
    const std::string_view token = read_token();
    Value result;
    if (token == "nil") {
      return result;
    }
    if (token == "true" || token == "false") {
      result.kind = Value::Kind::boolean;
      result.boolean = token == "true";
      return result;
    }
    if (!token.empty()) {
      const std::optional<std::int64_t> integer = parse_integer(token);
      if (integer) {
        result.kind = Value::Kind::integer;
        result.integer = *integer;
        return result;
      }
    }
    position_ = start;
    return failure(kValueExpected);
  }

  // A decimal integer with an optional sign, in int64 range.
  static std::optional<std::int64_t> parse_integer(std::string_view token) {
    const bool negative = token[0] == '-';
    const std::size_t first = (token[0] == '-' || token[0] == '+') ? 1 : 0;
    if (first == token.size()) {
      return std::nullopt;
    }
    std::uint64_t magnitude = 0;
    const std::uint64_t limit =
        negative ? std::uint64_t{1} << 63 : std::uint64_t{std::numeric_limits<std::int64_t>::max()};
    for (std::size_t i = first; i < token.size(); ++i) {
      if (!is_digit(token[i])) {
        return std::nullopt;
      }
      const auto digit = static_cast<std::uint64_t>(token[i] - '0');
      if (magnitude > (limit - digit) / 10) {
        return std::nullopt;
      }
      magnitude = magnitude * 10 + digit;
    }
    if (negative) {
      return magnitude == (std::uint64_t{1} << 63) ? std::numeric_limits<std::int64_t>::min()
                                                   : -static_cast<std::int64_t>(magnitude);
    }
    return static_cast<std::int64_t>(magnitude);
  }

  std::string_view text_;
  std::size_t position_ = 0;
  std::string error_;
};

int compare_integers(std::int64_t left, std::int64_t right) {
  return left < right ? -1 : left > right ? 1 : 0;
}

int compare_texts(const std::string& left, const std::string& right) {
  const int order = left.compare(right);
  return order < 0 ? -1 : order > 0 ? 1 : 0;
}

void append_items(const Value& value, std::string& out, std::string_view open, char close) {
  out += open;
  for (std::size_t i = 0; i < value.items.size(); ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += to_text(value.items[i]);
  }
  out += close;
}

}  // namespace

std::optional<Value> parse(std::string_view text, std::string& error) {
  Reader reader(text);
  std::optional<Value> value = reader.read_all();
  if (!value) {
    error = reader.error();
    assert(!error.empty());
  }
  return value;
}

int compare(const Value& left, const Value& right) {
  if (left.kind != right.kind) {
    return left.kind < right.kind ? -1 : 1;
  }
  switch (left.kind) {
    case Value::Kind::nil:
      return 0;
    case Value::Kind::boolean:
      return compare_integers(left.boolean ? 1 : 0, right.boolean ? 1 : 0);
    case Value::Kind::integer:
      return compare_integers(left.integer, right.integer);
    case Value::Kind::string:
    case Value::Kind::keyword:
      return compare_texts(left.text, right.text);
    case Value::Kind::vector:
    case Value::Kind::list:
    case Value::Kind::map:
    case Value::Kind::set:
      break;
  }
  const std::size_t common = std::min(left.items.size(), right.items.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (const int order = compare(left.items[i], right.items[i]); order != 0) {
      return order;
    }
  }
  return compare_integers(static_cast<std::int64_t>(left.items.size()),
                          static_cast<std::int64_t>(right.items.size()));
}

const Value* find(const Value& map, std::string_view name) {
  assert(map.kind == Value::Kind::map);
  for (std::size_t i = 0; i + 1 < map.items.size(); i += 2) {
    if (map.items[i].kind == Value::Kind::keyword && map.items[i].text == name) {
      return &map.items[i + 1];
    }
  }
  return nullptr;
}

std::string to_text(const Value& value) {
  std::string out;
  switch (value.kind) {
    case Value::Kind::nil:
      return "nil";
    case Value::Kind::boolean:
      return value.boolean ? "true" : "false";
    case Value::Kind::integer:
      return std::to_string(value.integer);
    case Value::Kind::string:
      out = "\"";
      for (char character : value.text) {
        if (character == '"' || character == '\\') {
          out += '\\';
        }
        out += character;
      }
      return out + "\"";
    case Value::Kind::keyword:
      return ":" + value.text;
    case Value::Kind::vector:
      append_items(value, out, "[", ']');
      return out;
    case Value::Kind::list:
      append_items(value, out, "(", ')');
      return out;
    case Value::Kind::map:
      append_items(value, out, "{", '}');
      return out;
    case Value::Kind::set:
      append_items(value, out, "#{", '}');
      return out;
  }
  return out;
}

}  // namespace crdtsim::harness::edn
