// Simulation: process lifecycle (start, crash, restart, pause), timers,
// clocks and links.

#include <utility>

#include "sim/check.h"
#include "sim/simulation.h"
#include "sim/simulation_internal.h"

namespace crdtsim::sim {

void Simulation::start_incarnation(ProcessId process) {
  ProcessSlot& target = slot(process);
  CRDTSIM_CHECK(target.state == ProcessState::up);
  CRDTSIM_CHECK(target.object == nullptr);
  target.object = target.factory(process);
  CRDTSIM_CHECK(target.object != nullptr);
  record(TraceKind::process_start, process, kNoProcess, target.crash_count);
  Context ctx(*this, process, target.clock, target.random, now_us_);
  in_callback_ = process;
  target.object->start(ctx);
  in_callback_ = kNoProcess;
}

bool Simulation::invoke(ProcessId process, const Input& body) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  ProcessSlot& target = slot(process);
  if (target.state != ProcessState::up || target.object == nullptr) {
    return false;
  }
  record(TraceKind::invoke, process);
  Context ctx(*this, process, target.clock, target.random, now_us_);
  in_callback_ = process;
  body(*target.object, ctx);
  in_callback_ = kNoProcess;
  return true;
}

void Simulation::on_start(ProcessId process) {
  // A process crashed before its first start stays down until restarted.
  if (slot(process).state == ProcessState::up && slot(process).object == nullptr) {
    start_incarnation(process);
  }
}

bool Simulation::crash(ProcessId process) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  ProcessSlot& target = slot(process);
  if (target.state == ProcessState::down) {
    return false;
  }
  discard_held(process);
  target.state = ProcessState::down;
  target.object.reset();
  ++target.crash_count;  // in-flight messages and armed timers become stale
  target.timers_armed = 0;
  ++stats_.crashes;
  record(TraceKind::process_crash, process, kNoProcess, 0, target.disk.crash());
  return true;
}

bool Simulation::restart(ProcessId process) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  ProcessSlot& target = slot(process);
  if (target.state != ProcessState::down) {
    return false;
  }
  target.state = ProcessState::up;
  ++stats_.restarts;
  record(TraceKind::process_restart, process);
  start_incarnation(process);
  return true;
}

bool Simulation::pause(ProcessId process) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  ProcessSlot& target = slot(process);
  if (target.state != ProcessState::up) {
    return false;
  }
  target.state = ProcessState::paused;
  target.paused_at_us = now_us_;
  ++stats_.pauses;
  record(TraceKind::process_pause, process);
  return true;
}

bool Simulation::resume(ProcessId process) {
  CRDTSIM_CHECK(in_callback_ == kNoProcess);
  ProcessSlot& target = slot(process);
  if (target.state != ProcessState::paused) {
    return false;
  }
  target.state = ProcessState::up;
  record(TraceKind::process_resume, process, kNoProcess,
         static_cast<std::uint32_t>(target.held.size()),
         static_cast<std::uint64_t>(now_us_ - target.paused_at_us));
  // Held events run now, in the order they arrived.
  std::vector<QueueEntry> held = std::move(target.held);
  target.held.clear();
  for (const QueueEntry& entry : held) {
    schedule(now_us_, entry.kind, entry.index);
  }
  return true;
}

ProcessState Simulation::state(ProcessId process) const {
  return slot(process).state;
}

// Drops held messages and frees held timers of a process that is crashing.
void Simulation::discard_held(ProcessId process) {
  ProcessSlot& target = slot(process);
  for (const QueueEntry& entry : target.held) {
    if (entry.kind == EventKind::deliver) {
      const InFlight& message = messages_[entry.index];
      drop(message.from, message.to, message.kind, message.id, DropReason::receiver_down);
      free_message(entry.index);
    } else {
      CRDTSIM_CHECK(entry.kind == EventKind::timer);
      free_timer(entry.index);
    }
  }
  target.held.clear();
}

TimerId Simulation::arm_timer(ProcessId owner, TimeUs delay_us, std::uint32_t tag) {
  CRDTSIM_CHECK(delay_us >= 0);
  ProcessSlot& target = slot(owner);
  CRDTSIM_CHECK(target.state == ProcessState::up);
  if (target.timers_armed >= config_.max_timers_per_process) [[unlikely]] {
    fail(Outcome::bound_exceeded, "too many timers armed (max_timers_per_process)");
    return kNoTimer;
  }
  std::uint32_t index = 0;
  if (free_timers_.empty()) {
    index = static_cast<std::uint32_t>(timers_.size());
    timers_.emplace_back();
  } else {
    index = free_timers_.back();
    free_timers_.pop_back();
  }
  TimerSlot& timer = timers_[index];
  timer.owner = owner;
  timer.owner_crash_count = target.crash_count;
  timer.tag = tag;
  timer.armed = true;
  ++target.timers_armed;
  const TimerId id = make_timer_id(index, timer.generation);
  record(TraceKind::timer_arm, owner, kNoProcess, tag, id,
         static_cast<std::uint64_t>(now_us_ + delay_us));
  schedule(now_us_ + delay_us, EventKind::timer, index);
  return id;
}

bool Simulation::cancel_timer(ProcessId owner, TimerId id) {
  const auto index_plus_one = static_cast<std::uint32_t>(id & 0xffffffffU);
  const auto generation = static_cast<std::uint32_t>(id >> 32U);
  if (index_plus_one == 0 || index_plus_one > timers_.size()) {
    return false;
  }
  TimerSlot& timer = timers_[index_plus_one - 1];
  ProcessSlot& target = slot(owner);
  if (!timer.armed || timer.generation != generation || timer.owner != owner ||
      timer.owner_crash_count != target.crash_count) {
    return false;
  }
  timer.armed = false;  // the slot is freed when its queue entry pops
  CRDTSIM_CHECK(target.timers_armed > 0);
  --target.timers_armed;
  record(TraceKind::timer_cancel, owner, kNoProcess, 0, id);
  return true;
}

void Simulation::free_timer(std::uint32_t index) {
  CRDTSIM_CHECK(index < timers_.size());
  TimerSlot& timer = timers_[index];
  timer.armed = false;
  ++timer.generation;
  if (timer.generation == 0) {
    timer.generation = 1;  // keep TimerIds distinct from stale ones
  }
  free_timers_.push_back(index);
}

void Simulation::on_timer(const QueueEntry& entry) {
  CRDTSIM_CHECK(entry.index < timers_.size());
  const TimerSlot timer = timers_[entry.index];
  ProcessSlot& target = slot(timer.owner);
  if (!timer.armed || timer.owner_crash_count != target.crash_count) {
    free_timer(entry.index);  // cancelled, or armed by a crashed incarnation
    return;
  }
  if (target.state == ProcessState::paused) {
    hold(target, entry);
    return;
  }
  CRDTSIM_CHECK(target.state == ProcessState::up);
  const TimerId id = make_timer_id(entry.index, timer.generation);
  free_timer(entry.index);
  --target.timers_armed;
  ++stats_.timers_fired;
  record(TraceKind::timer_fire, timer.owner, kNoProcess, timer.tag, id);
  Context ctx(*this, timer.owner, target.clock, target.random, now_us_);
  in_callback_ = timer.owner;
  target.object->on_timer(ctx, id, timer.tag);
  in_callback_ = kNoProcess;
}

void Simulation::jump_clock(ProcessId process, TimeUs delta_us) {
  slot(process).clock.jump(delta_us);
  record(TraceKind::clock_jump, process, kNoProcess, 0, static_cast<std::uint64_t>(delta_us));
}

void Simulation::set_clock_drift(ProcessId process, std::int32_t drift_ppm) {
  slot(process).clock.set_drift(now_us_, drift_ppm);
  record(TraceKind::clock_drift, process, kNoProcess, 0,
         static_cast<std::uint64_t>(static_cast<std::int64_t>(drift_ppm)));
}

TimeUs Simulation::local_time_us(ProcessId process) const {
  return slot(process).clock.read(now_us_);
}

std::size_t Simulation::change_links(const LinkSet& links, bool cut_them) {
  std::size_t changed = 0;
  for (const auto& [from, to] : links.links()) {
    CRDTSIM_CHECK(from < processes_.size());
    CRDTSIM_CHECK(to < processes_.size());
    if (cut_them ? network_.cut(from, to) : network_.heal(from, to)) {
      ++changed;
      record(cut_them ? TraceKind::link_cut : TraceKind::link_heal, from, to);
    }
  }
  return changed;
}

std::size_t Simulation::cut(const LinkSet& links) {
  return change_links(links, true);
}

std::size_t Simulation::heal(const LinkSet& links) {
  return change_links(links, false);
}

std::size_t Simulation::heal_all() {
  LinkSet all;
  for (ProcessId from = 0; from < processes_.size(); ++from) {
    for (ProcessId to = 0; to < processes_.size(); ++to) {
      if (from != to && network_.is_cut(from, to)) {
        all.add(from, to);
      }
    }
  }
  return heal(all);
}

void Simulation::flap(const LinkSet& links, TimeUs start_us, TimeUs cut_us, TimeUs healed_us,
                      std::uint32_t cycles) {
  CRDTSIM_CHECK(cut_us > 0);
  CRDTSIM_CHECK(healed_us > 0);
  for (std::uint32_t cycle = 0; cycle < cycles; ++cycle) {
    const TimeUs cut_at_us = start_us + static_cast<TimeUs>(cycle) * (cut_us + healed_us);
    at(cut_at_us, [links](Simulation& simulation) { simulation.cut(links); });
    at(cut_at_us + cut_us, [links](Simulation& simulation) { simulation.heal(links); });
  }
}

}  // namespace crdtsim::sim
