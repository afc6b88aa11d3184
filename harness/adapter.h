#pragma once
// The adapter: a core::Replica (sans-IO) wrapped as a sim::Process. The only
// place that knows both layers.
//
// Process ids: replicas are processes 0 .. R-1 (process id = ReplicaId);
// clients are R .. R+C-1, and a client's ClientId is its process id. A
// message from a process below R is a peer message, any other is a client
// request. The sim's message kind is the frame's kind byte (PeerMessageKind),
// so the simulator counts messages and bytes per protocol message kind.
//
// Applying an Output follows the replica's contract (as tests/store's
// driver does): storage writes, then a disk sync if `sync`, then messages,
// then timers, then coverage points.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/replica/replica.h"
#include "sim/process.h"
#include "sim/simulation.h"

namespace crdtsim::harness {

// The replica's RandomSource: the process's own stream (ctx.random()).
class PrngSource final : public core::RandomSource {
 public:
  explicit PrngSource(sim::Prng& prng) : prng_(&prng) {}
  std::uint64_t next_u64() override { return prng_->next(); }

 private:
  sim::Prng* prng_;
};

class ReplicaProcess final : public sim::Process {
 public:
  // `config` is copied into the replica at start(); it must outlive nothing.
  explicit ReplicaProcess(const core::ReplicaConfig& config) : config_(config) {}

  void start(sim::Context& ctx) override;
  void on_message(sim::Context& ctx, const sim::Message& message) override;
  void on_timer(sim::Context& ctx, sim::TimerId id, std::uint32_t tag) override;

  // The wrapped replica; nullptr before start().
  const core::Replica* replica() const { return replica_.get(); }

  // A membership change of this replica (an operator's command, given
  // through sim::Simulation::invoke): applies the replica's Output. Returns
  // whether the replica took it (false: refused, see Replica::
  // on_membership_change).
  bool change_membership(sim::Context& ctx, core::MembershipChange change);

 private:
  // A replica timer behind one 32-bit sim tag (the replica's tag is 64-bit).
  struct TimerSlot {
    core::ReplicaTimer timer = core::ReplicaTimer::gossip;
    std::uint64_t tag = 0;
    bool armed = false;
  };

  void apply(sim::Context& ctx, core::Output& output);
  std::uint32_t allocate_timer_slot(core::ReplicaTimer timer, std::uint64_t tag);
  static std::uint64_t local_now(const sim::Context& ctx);

  core::ReplicaConfig config_;
  std::unique_ptr<core::Replica> replica_;
  // The Output of messages and timers, reused across callbacks (cleared
  // before each) so that its vectors are not allocated per callback.
  core::Output output_;
  std::vector<TimerSlot> timer_slots_;
  std::vector<std::uint32_t> free_timer_slots_;
  bool restarted_ = false;  // an earlier incarnation of this replica ran
};

// White-box access to replica `id` of a run (processes 0 .. replicas-1 are
// ReplicaProcess). nullptr while the replica is down (or not yet started).
const core::Replica* replica_at(const sim::Simulation& simulation, core::ReplicaId id);

}  // namespace crdtsim::harness
