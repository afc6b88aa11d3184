#pragma once
// The run's trace: structured events, an optional sink, and the trace hash.
//
// Every event the kernel records is folded into a 64-bit trace hash over a
// canonical encoding (below), always, whether or not a sink is attached: the
// sink only observes, so turning it on or off never changes the hash.
//
// Canonical encoding of one event: 40 bytes, fixed width, little-endian,
// read as five 64-bit words
//   w0 = time_us (int64, two's complement)
//   w1 = kind (uint16) | 0 (uint16) << 16 | process (uint32) << 32
//   w2 = peer (uint32) | tag (uint32) << 32
//   w3 = value (uint64)
//   w4 = digest (uint64)
// The hash starts at kChainBasis, folds each word with chain64 (see hash.h),
// and is reported as mix64 of the running value, printed as 16 hex digits.
// Event names (fault and coverage points) enter the hash through
// digest = fnv1a64(name); the name string itself goes only to the sink.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "sim/hash.h"
#include "sim/types.h"

namespace crdtsim::sim {

// The numbering is part of the hash: append new kinds, never renumber.
enum class TraceKind : std::uint16_t {
  run_start = 1,           // value: seed
  process_start = 2,       // tag: crash count
  process_crash = 3,       // value: unsynced disk keys lost
  process_restart = 4,     //
  process_pause = 5,       //
  process_resume = 6,      // value: paused duration (us); tag: held events
  message_send = 7,        // peer: to; tag: kind; value: message id; digest: payload
  message_deliver = 8,     // peer: from; tag: kind; value: message id
  message_drop = 9,        // peer: to; tag: kind; value: message id; digest: DropReason
  message_duplicate = 10,  // peer: to; tag: kind; value: message id of the copy
  timer_arm = 11,          // tag: timer tag; value: timer id; digest: due time (us)
  timer_cancel = 12,       // value: timer id
  timer_fire = 13,         // tag: timer tag; value: timer id
  clock_jump = 14,         // value: delta (us, two's complement)
  clock_drift = 15,        // value: new drift (ppm, two's complement)
  link_cut = 16,           // process: from; peer: to
  link_heal = 17,          // process: from; peer: to
  disk_write = 18,         // tag: value size; digest: fnv1a64(key)
  disk_remove = 19,        // digest: fnv1a64(key)
  disk_sync = 20,          // value: keys flushed
  fault_point = 21,        // value: 1 if it fired; digest: fnv1a64(name)
  coverage = 22,           // digest: fnv1a64(name)
  action = 23,             // value: action slot
  note = 24,               // free for harnesses: tag, value, name
  run_end = 25,            // tag: Outcome; value: events processed
  invoke = 26,             // process: the process given a harness-made input
};

// Why a message was not delivered (recorded in the drop event's digest).
enum class DropReason : std::uint8_t {
  random = 1,  // the link's drop probability
  partitioned_at_send = 2,
  partitioned_in_flight = 3,  // InFlightPolicy::drop and the link was cut meanwhile
  receiver_down = 4,          // receiver crashed since the send, or is down
  receiver_paused = 5,        // PausePolicy::drop
  held_overflow = 6,          // too many events held for a paused receiver
};

const char* trace_kind_name(TraceKind kind);
const char* drop_reason_name(DropReason reason);

struct TraceEvent {
  TimeUs time_us = 0;
  TraceKind kind = TraceKind::note;
  ProcessId process = kNoProcess;
  ProcessId peer = kNoProcess;
  std::uint32_t tag = 0;
  std::uint64_t value = 0;
  std::uint64_t digest = 0;
  std::string_view name;  // not hashed (its fnv1a64 is the digest)
};

// Receives every event, in order. Must not call back into the simulation.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void write(const TraceEvent& event) = 0;
};

// One JSON object per line:
//   {"t":12,"kind":"message_send","p":0,"peer":1,"tag":3,"value":7,"digest":"00ff..."}
// ("p"/"peer" are omitted when they are kNoProcess, "name" when empty.)
class JsonLinesSink final : public TraceSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void write(const TraceEvent& event) override;

 private:
  std::ostream& out_;
};

class Trace {
 public:
  // Folds the event into the hash and hands it to the sink, if any.
  void record(const TraceEvent& event) {
    record(event.time_us, event.kind, event.process, event.peer, event.tag, event.value,
           event.digest, event.name);
  }
  // The same from the event's fields: the simulation records an event per
  // message, timer and disk change, and builds a TraceEvent only for a sink
  // (a TraceEvent built before the call is stored to memory whether or not
  // a sink is attached).
  void record(TimeUs time_us, TraceKind kind, ProcessId process, ProcessId peer, std::uint32_t tag,
              std::uint64_t value, std::uint64_t digest, std::string_view name) {
    const auto kind_and_process =
        static_cast<std::uint64_t>(kind) | (static_cast<std::uint64_t>(process) << 32U);
    const auto peer_and_tag =
        static_cast<std::uint64_t>(peer) | (static_cast<std::uint64_t>(tag) << 32U);
    std::uint64_t h = chain64(state_, static_cast<std::uint64_t>(time_us));
    h = chain64(h, kind_and_process);
    h = chain64(h, peer_and_tag);
    h = chain64(h, value);
    state_ = chain64(h, digest);
    ++events_;
    if (sink_ != nullptr) [[unlikely]] {
      sink_->write(TraceEvent{time_us, kind, process, peer, tag, value, digest, name});
    }
  }

  // The sink is borrowed: it must outlive the simulation or be reset first.
  void set_sink(TraceSink* sink) { sink_ = sink; }
  std::uint64_t hash() const { return mix64(state_); }
  std::uint64_t events() const { return events_; }

 private:
  std::uint64_t state_ = kChainBasis;
  std::uint64_t events_ = 0;
  TraceSink* sink_ = nullptr;
};

// 16 lowercase hex digits.
std::string hash_hex(std::uint64_t hash);

}  // namespace crdtsim::sim
