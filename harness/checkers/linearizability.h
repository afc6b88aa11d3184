#pragma once
// Linearizability checker: is there a total order of the operations that
// respects real time (an operation that completed before another was invoked
// comes first) and that a sequential model accepts?
//
// The search is Wing and Gong's (1993) with Lowe's (2017) memoization, as in
// Knossos and porcupine: it is P-compositional (each key is checked on its
// own), it extends a linearized prefix one operation at a time in depth-first
// order, taking next only operations that no pending operation's completion
// precedes, and it never revisits a (linearized set, model state) pair.
//
// Indeterminate operations (a timeout; Jepsen's :info) may have taken effect
// at any point after their invoke, or never: their completion is +infinity.
// The search needs no guess about them until a determinate operation needs
// one: a read of v (or a CAS expecting v) may be preceded by the
// indeterminate writes or CASes that lead to v (or indeterminate adds that
// sum to it), and nothing else. Indeterminate operations with equal effects
// are interchangeable once invoked, so the search always assumes the earliest
// invoked ones first; indeterminate reads constrain nothing and are dropped.
// This keeps histories of thousands of operations with many indeterminate
// ones fast where a plain search explodes.
//
// A search budget (states explored, per key) yields `unknown` rather than
// hanging.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/history.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

// The sequential specification an operation history is checked against.
enum class LinModel : std::uint8_t {
  cas_register = 0,  // read, write, compare-and-set; initial value nil
  counter = 1,       // add(delta), read, write (a reset, e.g. DEL); initial 0
};
const char* lin_model_name(LinModel model);  // "register", "counter"

enum class LinFunction : std::uint8_t { read = 0, write = 1, cas = 2, add = 3 };
const char* lin_function_name(LinFunction function);

// A value of the models: nil, an integer or a string.
struct LinValue {
  enum class Kind : std::uint8_t { nil = 0, integer = 1, text = 2 };
  Kind kind = Kind::nil;
  std::int64_t integer = 0;
  std::string text;

  static LinValue nil() { return {}; }
  static LinValue of_integer(std::int64_t value) { return {Kind::integer, value, {}}; }
  static LinValue of_text(std::string value) { return {Kind::text, 0, std::move(value)}; }

  friend auto operator<=>(const LinValue&, const LinValue&) = default;
  friend bool operator==(const LinValue&, const LinValue&) = default;
};
std::string describe(const LinValue& value);  // nil, 42, "text" (quoted)

// One operation as the checker sees it, whatever history it came from.
struct LinOp {
  std::uint64_t id = 0;       // names the operation in explanations
  std::uint64_t process = 0;  // the client or Jepsen process
  std::string key;            // operations on different keys are independent
  std::uint64_t invoke_time = 0;
  // Required for ok operations; ignored for indeterminate ones (+infinity).
  std::optional<std::uint64_t> complete_time;
  LinFunction f = LinFunction::read;
  LinValue value;      // read: the value seen; write: written; cas: expected; add: delta
  LinValue value_new;  // cas: the value it sets
  OpOutcome outcome = OpOutcome::ok;  // fail: dropped (it did not take effect)

  friend bool operator==(const LinOp&, const LinOp&) = default;
};

// Default search budget: states explored per key. Memory grows with it (one
// bitset of the key's operations per state).
inline constexpr std::uint64_t kLinearizabilityStatesDefault = 500'000;

struct LinearizabilityResult {
  Verdict verdict;
  std::uint64_t states_explored = 0;  // over all keys
};

// Input errors (an operation the model does not have, an ok operation without
// a completion, completion before invoke, a non-integer delta). nullopt: fine.
std::optional<std::string> validate_lin_ops(const std::vector<LinOp>& operations, LinModel model);

// Checks every key of `operations` on its own (keys in sorted order). Invalid
// if any key is, else unknown if any key ran out of budget (or the input is
// invalid: see validate_lin_ops), else valid.
LinearizabilityResult check_lin_ops(const std::vector<LinOp>& operations, LinModel model,
                                    std::uint64_t max_states = kLinearizabilityStatesDefault);

// Our history -> LinOps for `model`. Each key is classified by what was done
// to it: SET/MSET make it a register, INCR/INCRBY/DECR/DECRBY a counter, a GET
// reply of integer (text) a counter (register); keys with neither are
// registers; a key with both is skipped (listed in `mixed_keys` if given).
// Registers: SET -> write, GET/MGET -> read (nil when missing), DEL -> write
// nil, MSET -> one write per key. Counters: INCR/DECR/INCRBY/DECRBY ->
// add(+-n), GET/MGET -> read (nil is 0), DEL -> write 0. Failed operations and
// indeterminate reads are dropped, other commands ignored.
std::vector<LinOp> lin_ops_from_history(const History& history, LinModel model,
                                        std::vector<std::string>* mixed_keys = nullptr);

// Jepsen's history format: one EDN map per line with :process, :type
// (:invoke, :ok, :fail, :info) and :f (:read, :write, :cas, :add), and
// :value either plain or an independent [key value] tuple (cas: [old new] or
// [key [old new]]). Invokes pair with the next completion of their process;
// :info and invokes never completed are indeterminate. Lines whose :process
// is not an integer (the nemesis) are skipped; other keys are ignored. Times
// are line numbers and op ids the line number of the :invoke. On malformed
// input returns nullopt and sets `error` to "<source>:<line>: <what>".
std::optional<std::vector<LinOp>> lin_ops_from_jepsen(std::istream& in, const std::string& source,
                                                      std::string& error);

// Entry points. The History one checks the keys of the model's kind.
Verdict check_linearizable(const History& history, LinModel model,
                           std::uint64_t max_states = kLinearizabilityStatesDefault);
// `error` set (and an unknown verdict returned) on malformed input or input
// the model cannot hold: a usage error for the CLI (exit 2), not a verdict.
Verdict check_linearizable_jepsen(std::istream& in, const std::string& source, LinModel model,
                                  std::uint64_t max_states, std::string& error);

}  // namespace crdtsim::harness
