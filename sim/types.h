#pragma once
// Small vocabulary types shared by every part of the simulator.

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace crdtsim::sim {

// Simulated time, in integer microseconds. The true (global) time of a run
// starts at 0 and only moves forward; a process's local clock reading is also
// a TimeUs but may run fast, slow, or jump backwards.
using TimeUs = std::int64_t;

// A process's index in its simulation: 0, 1, 2, ... in order of add_process.
using ProcessId = std::uint32_t;
inline constexpr ProcessId kNoProcess = std::numeric_limits<ProcessId>::max();

// The small tag a sender attaches to a message ("message kind"); statistics
// are kept per tag. Bounded by SimulationConfig::max_message_kinds.
using MessageKind = std::uint32_t;

// Identifies one armed timer of one process; 0 is never a valid timer.
using TimerId = std::uint64_t;
inline constexpr TimerId kNoTimer = 0;

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Probabilities are integer parts per million: 0 = never, 1'000'000 = always.
inline constexpr std::uint32_t kPpmOne = 1'000'000;

}  // namespace crdtsim::sim
