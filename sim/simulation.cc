#include "sim/simulation.h"

#include <string>
#include <utility>

#include "sim/check.h"
#include "sim/simulation_internal.h"

namespace crdtsim::sim {

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok:
      return "ok";
    case Outcome::too_many_events:
      return "too_many_events";
    case Outcome::bound_exceeded:
      return "bound_exceeded";
  }
  return "unknown";
}

Simulation::Simulation(const SimulationConfig& config)
    : config_(config),
      root_(config.seed),
      queue_(config.max_queued_events),
      network_(config.network, config.max_processes, root_.fork("network")),
      fault_points_(config.fault_points, root_) {
  CRDTSIM_CHECK(config.max_processes >= 1);
  CRDTSIM_CHECK(config.max_processes <= kProcessesMax);  // link matrices are its square
  CRDTSIM_CHECK(config.max_message_kinds >= 1);
  processes_.reserve(config.max_processes);
  record(TraceKind::run_start, kNoProcess, kNoProcess, 0, config.seed);
}

Simulation::~Simulation() = default;

ProcessId Simulation::add_process(ProcessFactory factory, const ClockConfig& clock) {
  CRDTSIM_CHECK(processes_.size() < config_.max_processes);
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  const auto id = static_cast<ProcessId>(processes_.size());
  processes_.emplace_back(std::move(factory), root_.fork("process/" + std::to_string(id)),
                          LocalClock(clock, now_us_), Disk(config_.disk));
  schedule(now_us_, EventKind::start, id);
  return id;
}

std::uint32_t Simulation::process_count() const {
  return static_cast<std::uint32_t>(processes_.size());
}

void Simulation::set_link(ProcessId from, ProcessId to, const LinkConfig& link) {
  network_.set_link(from, to, link);
}

void Simulation::at(TimeUs time_us, Action action) {
  CRDTSIM_CHECK(time_us >= now_us_);
  CRDTSIM_CHECK(action != nullptr);
  std::uint32_t index = 0;
  if (free_actions_.empty()) {
    index = static_cast<std::uint32_t>(actions_.size());
    actions_.push_back(std::move(action));
  } else {
    index = free_actions_.back();
    free_actions_.pop_back();
    actions_[index] = std::move(action);
  }
  schedule(time_us, EventKind::action, index);
}

void Simulation::fail(Outcome outcome, std::string reason) {
  CRDTSIM_CHECK(outcome != Outcome::ok);
  if (outcome_ != Outcome::ok) {
    return;  // the first failure wins
  }
  outcome_ = outcome;
  failure_ = std::move(reason);
  record(TraceKind::run_end, kNoProcess, kNoProcess, static_cast<std::uint32_t>(outcome),
         stats_.events);
}

Outcome Simulation::run_until(TimeUs time_us) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  CRDTSIM_CHECK(time_us >= now_us_);
  while (outcome_ == Outcome::ok && !queue_.empty() && queue_.top().time_us <= time_us) {
    if (stats_.events >= config_.max_events) {
      fail(Outcome::too_many_events, "max_events reached");
      break;
    }
    step();
  }
  if (outcome_ == Outcome::ok) {
    now_us_ = time_us;
  }
  return outcome_;
}

Outcome Simulation::run_until_quiescent(std::uint64_t max_events) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  const std::uint64_t events_start = stats_.events;
  while (outcome_ == Outcome::ok && !queue_.empty()) {
    if (stats_.events - events_start >= max_events || stats_.events >= config_.max_events) {
      fail(Outcome::too_many_events, "not quiescent after the event bound");
      break;
    }
    step();
  }
  return outcome_;
}

void Simulation::step() {
  const QueueEntry entry = queue_.pop();
  CRDTSIM_CHECK(entry.time_us >= now_us_);
  now_us_ = entry.time_us;
  ++stats_.events;
  dispatch(entry);
}

void Simulation::dispatch(const QueueEntry& entry) {
  switch (entry.kind) {
    case EventKind::deliver:
      on_deliver(entry);
      return;
    case EventKind::timer:
      on_timer(entry);
      return;
    case EventKind::action:
      on_action(entry.index);
      return;
    case EventKind::start:
      on_start(entry.index);
      return;
  }
  CRDTSIM_CHECK(false && "unknown event kind");
}

void Simulation::on_action(std::uint32_t index) {
  CRDTSIM_CHECK(index < actions_.size());
  // Move the action out first: it may schedule actions (growing the slab).
  Action action = std::move(actions_[index]);
  actions_[index] = nullptr;
  free_actions_.push_back(index);
  record(TraceKind::action, kNoProcess, kNoProcess, 0, actions_run_++);
  action(*this);
}

void Simulation::cover(std::string_view name) {
  cover_from(kNoProcess, name);
}

void Simulation::cover_from(ProcessId process, std::string_view name) {
  coverage_.mark(name);
  record(TraceKind::coverage, process, kNoProcess, 0, 0, fnv1a64(name), name);
}

bool Simulation::fault(ProcessId process, std::string_view name) {
  if (!config_.fault_points.enabled) {
    return false;  // off: no draw, no trace, so turning it on is the only change
  }
  const bool fired = fault_points_.fire(name);
  record(TraceKind::fault_point, process, kNoProcess, 0, fired ? 1U : 0U, fnv1a64(name), name);
  return fired;
}

void Simulation::note(std::uint32_t tag, std::uint64_t value, std::string_view name) {
  record(TraceKind::note, kNoProcess, kNoProcess, tag, value, fnv1a64(name), name);
}

RunResult Simulation::result() const {
  RunResult result;
  result.outcome = outcome_;
  result.failure = failure_;
  result.trace_hash = trace_.hash();
  result.trace_events = trace_.events();
  result.end_time_us = now_us_;
  result.stats = stats_;
  for (std::size_t kind = 0; kind < kinds_.size(); ++kind) {
    if (kinds_[kind].messages_sent != 0) {
      result.stats.per_kind.emplace(static_cast<MessageKind>(kind), kinds_[kind]);
    }
  }
  result.coverage = coverage_.all();
  result.fault_points = fault_points_.stats();
  return result;
}

Process* Simulation::process(ProcessId process) const {
  return slot(process).object.get();
}

const Disk& Simulation::disk(ProcessId process) const {
  return slot(process).disk;
}

std::size_t Simulation::queue_memory_bytes() const {
  std::size_t bytes = queue_.memory_bytes() + messages_.capacity() * sizeof(InFlight) +
                      free_messages_.capacity() * sizeof(std::uint32_t);
  for (const InFlight& message : messages_) {
    bytes += message.payload.capacity();
  }
  return bytes;
}

}  // namespace crdtsim::sim
