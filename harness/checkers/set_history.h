#pragma once
// Set checker for standalone histories, after Jepsen's jepsen.checker/set:
// a history of adds (and, for the store's add-wins OR-Set, removes) and reads
// of sets, checked key by key against each key's final read.
//
// The final read of a key is its ok read with the latest invoke (ties: the
// later op id). Against it, per element:
//   - lost (invalid): an ok add completed before the final read was invoked,
//     and no attempted remove (ok or indeterminate; a failed one did nothing)
//     of the element (or DEL of the key) can explain its absence. A remove
//     explains an add if it was invoked before the final read completed and
//     it did not complete before the add was invoked: an OR-Set remove only
//     removes the adds it observed, so a later add always survives it;
//   - unexpected (invalid): in the final read, but no add of it was attempted
//     (ok or indeterminate) before the final read completed; an element whose
//     only adds failed is unexpected too;
//   - recovered (fine, reported): in the final read, and its adds before the
//     read completed were all indeterminate;
//   - removed (fine): absent, every required add explained by a remove;
//   - never read (fine): an ok add not completed before the final read was
//     invoked, absent from it.
// Only final reads are checked. Like Jepsen's, this checker compares the
// final state with the adds: its intended inputs are histories whose last
// read of each key follows quiescence (the cluster healed and converged), or
// histories of a linearizable store. Earlier reads are not checked for set
// semantics (a replica may lag behind in an eventually consistent store). A
// key with attempted adds but no ok read is unknown ("no read to check
// against").

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/checkers/jepsen.h"
#include "harness/history.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

inline constexpr const char* kSetProperty = "set";

// Lines of a Jepsen history longer than this are an input error (bounds the
// memory one line can take; a final read of a million small elements fits).
inline constexpr std::size_t kSetJepsenLineBytesMax = jepsen::kLineBytesMax;

enum class SetFunction : std::uint8_t { add = 0, remove = 1, read = 2 };
const char* set_function_name(SetFunction function);  // "add", "remove", "read"

// One operation on one key, whatever history it came from.
struct SetOp {
  std::uint64_t id = 0;  // names the operation in explanations
  std::uint64_t process = 0;
  std::string key;
  SetFunction f = SetFunction::read;
  // add, remove: the elements (distinct); read: the elements seen (sorted,
  // distinct). Elements are compared as strings: a History's members as
  // they are, a Jepsen element as its EDN text (sets sorted, so canonical).
  std::vector<std::string> elements;
  bool remove_all = false;  // remove: of every element (DEL of the key)
  std::uint64_t invoke_time = 0;
  // Required for ok operations, not before invoke_time; indeterminate ones
  // may take effect at any time after their invoke (+infinity).
  std::optional<std::uint64_t> complete_time;
  OpOutcome outcome = OpOutcome::ok;  // fail: it did not take effect

  friend bool operator==(const SetOp&, const SetOp&) = default;
};

// How explanations name operations, times and elements.
enum class SetSource : std::uint8_t {
  history = 0,  // "op 12 (sadd, invoked 1000 us, completed 1200 us)", "a" quoted
  jepsen = 1,   // "op on line 12 (:add, :ok on line 13)", EDN elements
};

// Element counts, summed over keys (an element counts once per key).
struct SetCounts {
  std::uint64_t keys = 0;         // keys with an add or an ok read
  std::uint64_t keys_unread = 0;  // of which: attempted adds but no ok read
  std::uint64_t attempted = 0;    // elements with an add not known to have failed
  std::uint64_t ok_added = 0;     // elements with an ok add
  std::uint64_t present = 0;      // elements in the final reads
  std::uint64_t lost = 0;
  std::uint64_t unexpected = 0;
  std::uint64_t recovered = 0;
  std::uint64_t removed = 0;
  std::uint64_t never_read = 0;

  friend bool operator==(const SetCounts&, const SetCounts&) = default;
};

struct SetResult {
  Verdict verdict;  // property "set"
  SetCounts counts;
};

// Input errors: an ok operation without a completion or completed before its
// invoke, remove_all on an add or read or with elements. nullopt: fine. Reads
// that are not ok are ignored by the checker.
std::optional<std::string> validate_set_ops(const std::vector<SetOp>& operations);

// Checks every key on its own (keys and elements in sorted order). Invalid if
// any element is lost or unexpected (the explanation names the first few:
// key, element, the add and the final read with their times), else unknown
// if some key has no read (or there is nothing to check, or the input is
// invalid), else valid.
SetResult check_set_ops(const std::vector<SetOp>& operations, SetSource source);

// Our history -> SetOps. SADD/GSADD -> add, SREM -> remove, DEL -> remove_all
// of each key, ok SMEMBERS/GSMEMBERS -> read (a nil value reads as empty;
// other values are not reads). Keys are keys[0]; commands without one are
// skipped, as are all other commands, failed removes and reads that are not
// ok. Only each key's final read is kept: no other read is checked.
std::vector<SetOp> set_ops_from_history(const History& history);

// Jepsen's history format: one EDN map per line with :process, :type
// (:invoke, :ok, :fail, :info), :f (:add, :remove, :read) and :value. An
// :add or :remove carries its element in the :invoke's :value; an :ok :read
// returns a set #{...} or a vector of elements. Values are plain or
// independent [key value] tuples (the first operation decides; every other
// must agree). Invokes pair with the next completion of their process; :info
// and invokes never completed are indeterminate; :fail and :info reads are
// dropped. Lines whose :process is not an integer (the nemesis) are skipped.
// Times are line numbers; op ids the line of the :invoke. Only each key's
// final read is kept. On malformed input returns nullopt and sets `error` to
// "<source>:<line>: expected <what>".
std::optional<std::vector<SetOp>> set_ops_from_jepsen(std::istream& in, const std::string& source,
                                                      std::string& error);

// Entry points of `crdtsim check --model set`.
Verdict check_set_history(const History& history);
// On malformed input returns nullopt and sets `error` (a usage error, exit 2).
std::optional<Verdict> check_set_jepsen(std::istream& in, const std::string& source,
                                        std::string& error);

}  // namespace crdtsim::harness
