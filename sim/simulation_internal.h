#pragma once
// Private records of Simulation, shared by its .cc files. Not part of the API.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sim/check.h"
#include "sim/simulation.h"

namespace crdtsim::sim {

struct Simulation::ProcessSlot {
  ProcessSlot(ProcessFactory factory_in, Prng random_in, LocalClock clock_in, Disk disk_in)
      : factory(std::move(factory_in)),
        random(random_in),
        clock(clock_in),
        disk(std::move(disk_in)) {}

  ProcessFactory factory;
  std::unique_ptr<Process> object;  // nullptr while down (or not yet started)
  Prng random;
  LocalClock clock;
  Disk disk;
  std::vector<QueueEntry> held;  // deliveries and timers held while paused
  TimeUs paused_at_us = 0;
  std::uint32_t crash_count = 0;  // incarnation guard for messages and timers
  std::uint32_t timers_armed = 0;
  ProcessState state = ProcessState::up;
};

// A message copy in flight (a slab entry; reused through a free list).
struct Simulation::InFlight {
  Bytes payload;
  std::uint64_t id = 0;
  ProcessId from = kNoProcess;
  ProcessId to = kNoProcess;
  MessageKind kind = 0;
  std::uint32_t receiver_crash_count = 0;  // receiver's crash count at send
  std::uint32_t link_generation = 0;       // link's cut generation at send
};

// A timer (slab entry). The slot is freed only when its queue entry pops, so
// an index in the queue always names the timer it was pushed for; the
// generation makes stale TimerIds harmless.
struct Simulation::TimerSlot {
  ProcessId owner = kNoProcess;
  std::uint32_t owner_crash_count = 0;
  std::uint32_t tag = 0;
  std::uint32_t generation = 1;
  bool armed = false;
};

// Inline (every file that calls them includes this one): the process's
// slot is looked up on every callback and context call.
inline Simulation::ProcessSlot& Simulation::slot(ProcessId process) {
  CRDTSIM_CHECK(process < processes_.size());
  return processes_[process];
}

inline const Simulation::ProcessSlot& Simulation::slot(ProcessId process) const {
  CRDTSIM_CHECK(process < processes_.size());
  return processes_[process];
}

// Inline: once each per message copy (a slab slot reused through a free
// list).
inline std::uint32_t Simulation::allocate_message() {
  if (!free_messages_.empty()) {
    const std::uint32_t index = free_messages_.back();
    free_messages_.pop_back();
    return index;
  }
  CRDTSIM_CHECK(messages_.size() < UINT32_MAX);
  messages_.emplace_back();
  return static_cast<std::uint32_t>(messages_.size() - 1);
}

inline void Simulation::free_message(std::uint32_t index) {
  CRDTSIM_CHECK(index < messages_.size());
  messages_[index].payload.clear();  // keeps its capacity for reuse
  free_messages_.push_back(index);
}

// TimerId = generation << 32 | (slot index + 1): never 0.
inline TimerId make_timer_id(std::uint32_t index, std::uint32_t generation) {
  return (static_cast<TimerId>(generation) << 32U) | (static_cast<TimerId>(index) + 1U);
}

}  // namespace crdtsim::sim
