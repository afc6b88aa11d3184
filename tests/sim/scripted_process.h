#pragma once
// A process for kernel tests whose behaviour is given by lambdas, and which
// records what it observes into a log the test owns (the log lives outside
// the simulation so it survives crashes; it never feeds back into decisions).

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "sim/process.h"
#include "sim/simulation.h"

namespace crdtsim::sim::testing {

struct Received {
  ProcessId from;
  MessageKind kind;
  std::uint64_t id;
  TimeUs local_us;
  Bytes bytes;
};

struct Fired {
  std::uint32_t tag;
  TimeUs local_us;
};

struct Log {
  std::vector<Received> received;
  std::vector<Fired> fired;
  std::uint64_t starts = 0;
};

struct Script {
  std::function<void(Context&)> on_start;
  std::function<void(Context&, const Message&)> on_message;
  std::function<void(Context&, std::uint32_t)> on_timer;
};

class ScriptedProcess final : public Process {
 public:
  ScriptedProcess(Script script, Log* log) : script_(std::move(script)), log_(log) {}

  void start(Context& ctx) override {
    ++log_->starts;
    if (script_.on_start) {
      script_.on_start(ctx);
    }
  }
  void on_message(Context& ctx, const Message& message) override {
    log_->received.push_back(Received{message.from, message.kind, message.id, ctx.now_us(),
                                      Bytes(message.bytes.begin(), message.bytes.end())});
    if (script_.on_message) {
      script_.on_message(ctx, message);
    }
  }
  void on_timer(Context& ctx, TimerId /*id*/, std::uint32_t tag) override {
    log_->fired.push_back(Fired{tag, ctx.now_us()});
    if (script_.on_timer) {
      script_.on_timer(ctx, tag);
    }
  }

 private:
  Script script_;
  Log* log_;
};

// Adds `count` scripted processes with their own logs (logs[i] for process i).
inline void add_scripted(Simulation& sim, std::vector<Log>& logs, std::uint32_t count,
                         const Script& script, const ClockConfig& clock = {}) {
  logs.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Log* log = &logs[i];
    sim.add_process(
        [script, log](ProcessId) { return std::make_unique<ScriptedProcess>(script, log); }, clock);
  }
}

inline std::uint64_t count_from(const Log& log, ProcessId from) {
  std::uint64_t count = 0;
  for (const Received& received : log.received) {
    count += received.from == from ? 1U : 0U;
  }
  return count;
}

inline const Bytes kPing = {1, 2, 3, 4, 5, 6, 7, 8};

}  // namespace crdtsim::sim::testing
