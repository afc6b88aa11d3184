#pragma once
// History: the client-visible record of a run. Each operation has an invoke
// and a completion; its outcome is ok, fail (it certainly did not take
// effect) or indeterminate (it may or may not have: a timeout, or an
// UNAVAILABLE write), exactly as in Jepsen.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/store/command.h"
#include "core/types.h"

namespace crdtsim::harness {

enum class OpOutcome : std::uint8_t { ok = 0, fail = 1, indeterminate = 2 };
const char* outcome_name(OpOutcome outcome);

struct Operation {
  std::uint64_t id = 0;         // position in invoke order, from 0
  std::uint32_t client = 0;     // client index (0-based)
  std::uint64_t session = 0;    // session id (one per client unless re-opened)
  core::ReplicaId replica = 0;  // the replica the request was sent to
  std::uint64_t invoke_us = 0;
  std::uint64_t complete_us = 0;  // for indeterminate ops: when the client gave up
  core::Command command;
  OpOutcome outcome = OpOutcome::indeterminate;
  std::optional<core::Reply> reply;  // present when a reply arrived

  friend bool operator==(const Operation&, const Operation&) = default;
};

struct History {
  std::vector<Operation> operations;  // sorted by id (invoke order)

  friend bool operator==(const History&, const History&) = default;
};

// JSON Lines: one operation per line (see docs/history.md for the fields).
void write_jsonl(const History& history, std::ostream& out);

// Parses a JSON Lines history. On error returns nullopt and sets `error` to
// "<source>:<line>: <JSON pointer>: <what was expected>".
std::optional<History> read_jsonl(std::istream& in, const std::string& source, std::string& error);

// Writes the history to `path` through "<path>.tmp" and a rename, so that a
// failure never leaves a partial file behind and never touches an existing
// `path`. Returns false and sets `error` (naming the path) on failure, e.g.
// an unwritable directory or a string that is not valid UTF-8 (JSON cannot
// hold it; write_jsonl replaces such bytes with U+FFFD instead).
bool write_jsonl_file(const History& history, const std::string& path, std::string& error);

}  // namespace crdtsim::harness
