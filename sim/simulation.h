#pragma once
// Simulation: one deterministic run. It owns everything the run touches (the
// event queue, processes, network, clocks, disks, fault points, coverage,
// trace), so any number of simulations can exist side by side in a process.
//
// Everything random comes from config.seed through named streams forked from
// the root: "network", "process/<id>", "fault/<name>"; a harness takes its own
// (e.g. "workload", "nemesis") with fork_stream().
//
// Typical use by a harness:
//   Simulation sim(config);
//   for (...) sim.add_process(factory);
//   sim.at(5'000'000, [](Simulation& s) { s.crash(2); });
//   sim.at(9'000'000, [](Simulation& s) { s.restart(2); });
//   sim.at(1'000'000, [](Simulation& s) { s.cut(LinkSet::isolate(0, 5)); });
//   Outcome outcome = sim.run_until(60'000'000);
//   RunResult result = sim.result();   // outcome, trace hash, stats, coverage
//
// The harness API (add_process, at, crash, restart, pause, resume, cut, heal,
// clock changes) may be called between runs or from an action; never from
// inside a process callback.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/check.h"
#include "sim/clock.h"
#include "sim/coverage.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/fault_points.h"
#include "sim/network.h"
#include "sim/prng.h"
#include "sim/process.h"
#include "sim/run_result.h"
#include "sim/trace.h"
#include "sim/types.h"

namespace crdtsim::sim {

// What happens to a message that arrives while its receiver is paused.
enum class PausePolicy : std::uint8_t {
  hold = 1,  // kept, and delivered (in arrival order) when the process resumes
  drop = 2,  // lost, like packets to a stalled machine whose buffers overflow
};

// The largest max_processes a simulation accepts.
inline constexpr std::uint32_t kProcessesMax = 4'096;

struct SimulationConfig {
  std::uint64_t seed = 0;
  NetworkConfig network;
  FaultPointConfig fault_points;  // off by default
  PausePolicy pause = PausePolicy::hold;
  DiskLimits disk;

  // Bounds. Exceeding max_events ends the run with too_many_events; any
  // other bound ends it with bound_exceeded. None ever hangs or grows
  // without limit.
  std::uint64_t max_events = 100'000'000;
  std::uint32_t max_queued_events = 1'000'000;
  std::uint32_t max_processes = 64;  // at most kProcessesMax
  std::uint32_t max_timers_per_process = 1'024;
  std::uint32_t max_held_per_process = 100'000;
  std::uint32_t max_message_bytes = 1U << 20U;
  std::uint32_t max_message_kinds = 256;
};

enum class ProcessState : std::uint8_t { up = 1, down = 2, paused = 3 };

class Simulation {
 public:
  using Action = std::function<void(Simulation&)>;

  explicit Simulation(const SimulationConfig& config);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // --- setup ---------------------------------------------------------------
  // Adds a process; it starts (factory, then start()) at the current time,
  // in order of addition. Requires fewer than max_processes processes.
  ProcessId add_process(ProcessFactory factory, const ClockConfig& clock = {});
  std::uint32_t process_count() const;
  // Per-link override of config.network.link.
  void set_link(ProcessId from, ProcessId to, const LinkConfig& link);
  // Borrowed; nullptr detaches. Never affects the trace hash.
  void set_trace_sink(TraceSink* sink) { trace_.set_sink(sink); }
  // A stream for the harness, independent of every kernel stream.
  Prng fork_stream(std::string_view name) const { return root_.fork(name); }

  // --- scheduling external actions (nemesis, workload, checkers) ------------
  // Runs `action` at true time time_us (>= now). Actions at the same time run
  // in the order they were scheduled.
  void at(TimeUs time_us, Action action);
  void after(TimeUs delay_us, Action action) { at(now_us_ + delay_us, std::move(action)); }

  // --- faults (call between runs or from an action) -------------------------
  // Each returns false and does nothing if the process is not in a state it
  // applies to (crash: up or paused; restart: down; pause: up; resume: paused).
  bool crash(ProcessId process);
  bool restart(ProcessId process);
  bool pause(ProcessId process);
  bool resume(ProcessId process);
  ProcessState state(ProcessId process) const;
  // Gives an up process an input that comes from outside the simulated
  // network (an operator's command, such as a membership change): runs
  // `body` with the process object and its Context, as a callback. Returns
  // false and does nothing unless the process is up.
  using Input = std::function<void(Process&, Context&)>;
  bool invoke(ProcessId process, const Input& body);

  // Cut / heal every link of the set. Returns the number of links changed.
  std::size_t cut(const LinkSet& links);
  std::size_t heal(const LinkSet& links);
  std::size_t heal_all();
  // Flapping: `cycles` times, cut `links` for cut_us then heal them for
  // healed_us, starting at start_us.
  void flap(const LinkSet& links, TimeUs start_us, TimeUs cut_us, TimeUs healed_us,
            std::uint32_t cycles);
  bool is_cut(ProcessId from, ProcessId to) const { return network_.is_cut(from, to); }

  void jump_clock(ProcessId process, TimeUs delta_us);
  void set_clock_drift(ProcessId process, std::int32_t drift_ppm);
  TimeUs local_time_us(ProcessId process) const;

  // Coverage and notes from harness code (checkers): same as a process's.
  void cover(std::string_view name);
  void declare_coverage(std::string_view name) { coverage_.declare(name); }
  void note(std::uint32_t tag, std::uint64_t value, std::string_view name);

  // --- running --------------------------------------------------------------
  // Processes every event with time <= time_us, then sets the time to
  // time_us. Stops early (returning the failure) if a bound is hit. Once a
  // run has failed it stays failed: later calls return the same outcome.
  Outcome run_until(TimeUs time_us);
  // Processes events until the queue is empty. Processing max_events events
  // with more still queued ends the run with too_many_events.
  Outcome run_until_quiescent(std::uint64_t max_events);

  // --- results --------------------------------------------------------------
  TimeUs now_us() const { return now_us_; }
  Outcome outcome() const { return outcome_; }
  std::uint64_t trace_hash() const { return trace_.hash(); }
  RunResult result() const;
  const Coverage& coverage() const { return coverage_; }
  // White-box access for checkers: nullptr while the process is down.
  Process* process(ProcessId process) const;
  const Disk& disk(ProcessId process) const;
  std::size_t queued_events() const { return queue_.size(); }
  // Bytes held by the queue and its payload slabs (capacity, not size).
  std::size_t queue_memory_bytes() const;

 private:
  friend class Context;

  struct ProcessSlot;
  struct InFlight;
  struct TimerSlot;

  // Context implementation.
  // `owned`, if not null, holds `bytes`: the first copy takes its storage.
  void send(ProcessId from, ProcessId to, MessageKind kind, ByteView bytes, Bytes* owned);
  TimerId arm_timer(ProcessId owner, TimeUs delay_us, std::uint32_t tag);
  bool cancel_timer(ProcessId owner, TimerId id);
  ProcessSlot& slot(ProcessId process);
  const ProcessSlot& slot(ProcessId process) const;
  // Records a trace event at the current time (fields as in trace.h).
  void record(TraceKind kind, ProcessId process = kNoProcess, ProcessId peer = kNoProcess,
              std::uint32_t tag = 0, std::uint64_t value = 0, std::uint64_t digest = 0,
              std::string_view name = {}) {
    trace_.record(now_us_, kind, process, peer, tag, value, digest, name);
  }
  bool fault(ProcessId process, std::string_view name);
  void cover_from(ProcessId process, std::string_view name);

  // Event loop.
  void step();
  void dispatch(const QueueEntry& entry);
  void on_start(ProcessId process);
  void on_deliver(const QueueEntry& entry);
  void on_timer(const QueueEntry& entry);
  void on_action(std::uint32_t index);
  // Inline: once per message copy and per timer.
  void schedule(TimeUs time_us, EventKind kind, std::uint32_t index) {
    if (queue_.full()) [[unlikely]] {
      fail(Outcome::bound_exceeded, "event queue full (max_queued_events)");
      return;
    }
    queue_.push(time_us, kind, index);
  }
  void fail(Outcome outcome, std::string reason);

  // Messages.
  void enqueue_copy(ProcessId from, ProcessId to, MessageKind kind, std::uint64_t id,
                    const LinkConfig& link, ByteView bytes, Bytes* owned);
  void drop(ProcessId from, ProcessId to, MessageKind kind, std::uint64_t id, DropReason reason);
  std::uint32_t allocate_message();
  void free_message(std::uint32_t index);
  KindStats& kind_stats(MessageKind kind) {
    CRDTSIM_CHECK(kind < config_.max_message_kinds);
    if (kind >= kinds_.size()) [[unlikely]] {
      kinds_.resize(static_cast<std::size_t>(kind) + 1);
    }
    return kinds_[kind];
  }
  void hold(ProcessSlot& receiver, const QueueEntry& entry);

  // Timers and processes.
  void free_timer(std::uint32_t index);
  void start_incarnation(ProcessId process);
  void discard_held(ProcessId process);
  std::size_t change_links(const LinkSet& links, bool cut_them);

  SimulationConfig config_;
  Prng root_;
  EventQueue queue_;
  Network network_;
  FaultPoints fault_points_;
  Coverage coverage_;
  Trace trace_;
  std::vector<ProcessSlot> processes_;
  std::vector<InFlight> messages_;
  std::vector<std::uint32_t> free_messages_;
  std::vector<TimerSlot> timers_;
  std::vector<std::uint32_t> free_timers_;
  std::vector<Action> actions_;
  std::vector<std::uint32_t> free_actions_;
  std::vector<KindStats> kinds_;
  Bytes delivery_buffer_;  // the payload being delivered (reused)
  RunStats stats_;
  TimeUs now_us_ = 0;
  std::uint64_t next_message_id_ = 1;
  std::uint64_t actions_run_ = 0;
  ProcessId in_callback_ = kNoProcess;
  Outcome outcome_ = Outcome::ok;
  std::string failure_;
};

}  // namespace crdtsim::sim
