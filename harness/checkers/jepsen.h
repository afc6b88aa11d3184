#pragma once
// Jepsen's history format, shared by the standalone checkers: one EDN map per
// line with :process, :type (:invoke, :ok, :fail, :info), :f and :value.
// read_history pairs each client process's :invoke with its completion and
// hands both to a model-specific handler; lines of a non-integer :process
// (the nemesis) are skipped. Errors are "<source>:<line>: expected ...",
// the line being the one read when the problem was found.

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "harness/checkers/edn.h"

namespace crdtsim::harness::jepsen {

// Lines longer than this are an error (bounds the reader's memory).
inline constexpr std::size_t kLineBytesMax = std::size_t{16} << 20;

// Thrown by handlers (through fail) to report bad input at the current line.
struct InputError {
  std::string expected;
};
[[noreturn]] void fail(std::string expected);

const edn::Value& require(const edn::Value& map, std::string_view name);
std::string keyword_of(const edn::Value& value, std::string_view what);
bool is_pair(const edn::Value& value);  // a vector of two

struct Invocation {
  std::uint64_t line = 0;
  std::uint64_t process = 0;
  std::string f;     // the keyword's name, one of the handler's functions
  edn::Value value;  // nil when the line has none
};

struct Completion {
  std::uint64_t line = 0;
  std::string type;  // "ok", "fail" or "info"
  edn::Value value;  // nil when the line has none
};

class Handler {
 public:
  virtual ~Handler() = default;
  // The :f names this model accepts, e.g. {"read", "write", "cas", "add"}.
  virtual const std::vector<std::string_view>& functions() const = 0;
  // On the :invoke line; may reject the invocation (fail).
  virtual void invoked(const Invocation& invocation) { (void)invocation; }
  // On the completion line.
  virtual void completed(const Invocation& invocation, const Completion& completion) = 0;
  // At the end, for each process whose last invocation never completed, in
  // process order.
  virtual void never_completed(const Invocation& invocation) = 0;
};

// Reads every line of `in` into `handler`. On bad input returns false and
// sets `error`.
bool read_history(std::istream& in, const std::string& source, Handler& handler,
                  std::string& error);

}  // namespace crdtsim::harness::jepsen
