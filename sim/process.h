#pragma once
// The interface a simulated process implements, and the Context through which
// it touches the world. A process written only against this header can run
// under every fault the simulator injects.
//
// Rules for process code (the determinism contract):
//   - all time comes from ctx.now_us() (the local clock), all randomness from
//     ctx.random(), all durability from ctx.disk_*(); never a wall clock,
//     std::random_device, a global, or an object address as a value;
//   - volatile state lives in the process object, which a crash destroys;
//     start() of a fresh object must rebuild state from ctx.disk_contents();
//   - callbacks must not call Simulation's harness API (crash, cut, ...).

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "sim/clock.h"
#include "sim/disk.h"
#include "sim/prng.h"
#include "sim/types.h"

namespace crdtsim::sim {

class Simulation;

// One received message. `bytes` is valid only during the callback.
struct Message {
  ProcessId from = kNoProcess;
  MessageKind kind = 0;
  std::uint64_t id = 0;  // per run; a duplicated message has its original's id
  ByteView bytes;
};

class Context {
 public:
  ProcessId self() const { return self_; }
  // Number of processes in the simulation (ids are 0 .. count-1).
  std::uint32_t process_count() const;

  // The local clock reading (offset, drift and jumps applied). Never the true
  // simulated time. Inline: processes read it on almost every callback, and
  // neither the clock nor the true time changes during one.
  TimeUs now_us() const { return clock_->read(true_now_us_); }

  // Sends a copy of `bytes` to `to` (which may be down or cut off: the message
  // is then dropped, as on a real network). Requires to < process_count(),
  // to != self(), kind < max_message_kinds. A message above
  // max_message_bytes ends the run (bound_exceeded).
  void send(ProcessId to, MessageKind kind, ByteView bytes);
  // The same, taking the bytes' storage instead of copying it (the message
  // and the trace are the same). `bytes` is left with unspecified contents.
  // (Not an overload of send: a braced `{}` argument would be ambiguous.)
  void send_owned(ProcessId to, MessageKind kind, Bytes&& bytes);

  // Arms a timer that fires after delay_us (>= 0) of true time, calling
  // on_timer(ctx, id, tag). More than max_timers_per_process armed timers
  // ends the run (bound_exceeded) and returns kNoTimer.
  TimerId arm_timer(TimeUs delay_us, std::uint32_t tag);
  // Cancels an armed timer of this process. Returns false if it already
  // fired, was cancelled, or is not this process's.
  bool cancel_timer(TimerId id);

  // This process's own random stream (it survives restarts; it is not reset).
  Prng& random() { return *random_; }

  // Durable storage (see disk.h): writes are volatile until disk_sync().
  bool disk_write(std::string_view key, ByteView value);
  // The same, taking the value's storage (`value` is left with unspecified
  // contents).
  bool disk_write_owned(std::string_view key, Bytes&& value);
  bool disk_remove(std::string_view key);
  const Bytes* disk_read(std::string_view key) const;
  // A copy of the disk's current contents (start() reads it once).
  Disk::Contents disk_contents() const;
  void disk_sync();

  // Whether the named fault point fires now (see fault_points.h).
  bool fault(std::string_view name);
  // Counts a hit of the named coverage point.
  void cover(std::string_view name);

 private:
  friend class Simulation;
  // Made by the simulation for one callback of `self`, from the process's
  // slot (its clock and stream) and the true time.
  Context(Simulation& simulation, ProcessId self, const LocalClock& clock, Prng& random,
          TimeUs true_now_us)
      : simulation_(&simulation),
        self_(self),
        clock_(&clock),
        random_(&random),
        true_now_us_(true_now_us) {}

  Simulation* simulation_;
  ProcessId self_;
  // The process's clock and stream, in its slot (the slots never move while
  // processes run: add_process is not allowed in a callback).
  const LocalClock* clock_;
  Prng* random_;
  TimeUs true_now_us_;  // the simulation's time, fixed during a callback
};

class Process {
 public:
  virtual ~Process() = default;

  // Called once per incarnation: at the simulation's start (or when added),
  // and on every restart, with a fresh object.
  virtual void start(Context& ctx) = 0;
  virtual void on_message(Context& ctx, const Message& message) = 0;
  virtual void on_timer(Context& ctx, TimerId id, std::uint32_t tag) = 0;
};

// Makes a fresh process object for `id`: called at the start and on restart.
using ProcessFactory = std::function<std::unique_ptr<Process>(ProcessId id)>;

}  // namespace crdtsim::sim
