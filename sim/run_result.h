#pragma once
// What a run reports: its outcome, trace hash, statistics and coverage.

#include <cstdint>
#include <map>
#include <string>

#include "sim/coverage.h"
#include "sim/fault_points.h"
#include "sim/types.h"

namespace crdtsim::sim {

enum class Outcome : std::uint8_t {
  ok = 0,
  too_many_events = 1,  // the explicit event bound was reached
  bound_exceeded = 2,   // another bound (queue, timers, message size, ...)
};

const char* outcome_name(Outcome outcome);

struct KindStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t messages_duplicated = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_delivered = 0;
};

struct RunStats {
  std::uint64_t events = 0;  // queue entries processed
  KindStats messages;        // all kinds together
  std::map<MessageKind, KindStats> per_kind;
  std::uint64_t timers_fired = 0;
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  std::uint64_t pauses = 0;
};

struct RunResult {
  Outcome outcome = Outcome::ok;
  std::string failure;  // why, when outcome != ok
  std::uint64_t trace_hash = 0;
  std::uint64_t trace_events = 0;
  TimeUs end_time_us = 0;
  RunStats stats;
  CoverageHits coverage;
  std::map<std::string, FaultPointStats, std::less<>> fault_points;
};

}  // namespace crdtsim::sim
