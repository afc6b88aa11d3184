#include "harness/checkers/jepsen.h"

#include <exception>
#include <map>
#include <optional>

namespace crdtsim::harness::jepsen {

namespace {

// Reads one line (without its '\n') into `line`, at most kLineBytesMax
// bytes; false at the end of input.
bool next_line(std::streambuf& buffer, std::string& line) {
  using Traits = std::streambuf::traits_type;
  line.clear();
  bool any = false;
  for (Traits::int_type next = buffer.sbumpc(); !Traits::eq_int_type(next, Traits::eof());
       next = buffer.sbumpc()) {
    any = true;
    if (Traits::to_char_type(next) == '\n') {
      return true;
    }
    if (line.size() == kLineBytesMax) {
      fail("a line of at most " + std::to_string(kLineBytesMax) + " bytes");
    }
    line.push_back(Traits::to_char_type(next));
  }
  return any;
}

// ":a, :b or :c"
std::string listed(const std::vector<std::string_view>& names) {
  std::string text;
  for (std::size_t index = 0; index < names.size(); ++index) {
    text += index == 0 ? "" : index + 1 == names.size() ? " or " : ", ";
    text += ":" + std::string(names[index]);
  }
  return text;
}

class Pairing {
 public:
  explicit Pairing(Handler& handler) : handler_(handler) {}

  void line(const std::string& text, std::uint64_t number) {
    std::string error;
    const std::optional<edn::Value> parsed = edn::parse(text, error);
    if (!parsed) {
      fail("an EDN map (" + error + ")");
    }
    if (parsed->kind != edn::Value::Kind::map) {
      fail("an EDN map, got " + edn::to_text(*parsed));
    }
    const edn::Value& process = require(*parsed, "process");
    if (process.kind != edn::Value::Kind::integer) {
      return;  // the nemesis, or another non-client process
    }
    if (process.integer < 0) {
      fail("a non-negative :process, got " + std::to_string(process.integer));
    }
    const std::string type = keyword_of(require(*parsed, "type"), "a :type keyword");
    const std::string f = function_of(require(*parsed, "f"));
    const edn::Value* found = edn::find(*parsed, "value");
    edn::Value value = found == nullptr ? edn::Value{} : *found;
    const auto process_id = static_cast<std::uint64_t>(process.integer);
    if (type == "invoke") {
      invoke(Invocation{number, process_id, f, std::move(value)});
    } else if (type == "ok" || type == "fail" || type == "info") {
      complete(process_id, f, Completion{number, type, std::move(value)});
    } else {
      fail(":type :invoke, :ok, :fail or :info, got :" + type);
    }
  }

  void finish() {
    for (const auto& [process, invocation] : pending_) {
      handler_.never_completed(invocation);
    }
    pending_.clear();
  }

 private:
  std::string function_of(const edn::Value& value) const {
    const std::string expected = "an :f of " + listed(handler_.functions());
    const std::string name = keyword_of(value, expected);
    for (const std::string_view function : handler_.functions()) {
      if (name == function) {
        return name;
      }
    }
    fail(expected + ", got :" + name);
  }

  void invoke(Invocation invocation) {
    const auto found = pending_.find(invocation.process);
    if (found != pending_.end()) {
      fail("a completion for process " + std::to_string(invocation.process) +
           "'s operation invoked on line " + std::to_string(found->second.line) +
           " before it invokes another");
    }
    handler_.invoked(invocation);
    pending_.emplace(invocation.process, std::move(invocation));
  }

  void complete(std::uint64_t process, const std::string& f, const Completion& completion) {
    const auto found = pending_.find(process);
    if (found == pending_.end()) {
      fail("an :invoke by process " + std::to_string(process) + " before its :" + completion.type);
    }
    if (found->second.f != f) {
      fail("the :f of the :invoke on line " + std::to_string(found->second.line) +
           " (:" + found->second.f + "), got :" + f);
    }
    const Invocation invocation = std::move(found->second);
    pending_.erase(found);
    handler_.completed(invocation, completion);
  }

  Handler& handler_;
  std::map<std::uint64_t, Invocation> pending_;  // by process: deterministic order
};

}  // namespace

void fail(std::string expected) {
  throw InputError{std::move(expected)};
}

const edn::Value& require(const edn::Value& map, std::string_view name) {
  const edn::Value* value = edn::find(map, name);
  if (value == nullptr) {
    fail("a :" + std::string(name) + " entry");
  }
  return *value;
}

std::string keyword_of(const edn::Value& value, std::string_view what) {
  if (value.kind != edn::Value::Kind::keyword) {
    fail(std::string(what) + ", got " + edn::to_text(value));
  }
  return value.text;
}

bool is_pair(const edn::Value& value) {
  return value.kind == edn::Value::Kind::vector && value.items.size() == 2;
}

bool read_history(std::istream& in, const std::string& source, Handler& handler,
                  std::string& error) {
  Pairing pairing(handler);
  std::string text;
  std::uint64_t number = 0;
  try {
    std::streambuf* buffer = in.rdbuf();
    if (buffer == nullptr || in.fail()) {
      fail("a readable stream");
    }
    for (++number; next_line(*buffer, text); ++number) {
      if (text.find_first_not_of(" \t\r,") == std::string::npos) {
        continue;  // blank lines are allowed
      }
      pairing.line(text, number);
    }
    pairing.finish();
    return true;
  } catch (const InputError& problem) {
    error = source + ":" + std::to_string(number) + ": expected " + problem.expected;
  } catch (const std::exception& exception) {
    error = source + ":" + std::to_string(number) + ": unexpected: " + exception.what();
  }
  return false;
}

}  // namespace crdtsim::harness::jepsen
