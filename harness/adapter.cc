#include "harness/adapter.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "harness/coverage_points.h"
#include "sim/check.h"

namespace crdtsim::harness {

// A local clock stepped backwards can read below zero; the replica's time is
// unsigned, and only ever used for durations, so it is clamped at zero.
std::uint64_t ReplicaProcess::local_now(const sim::Context& ctx) {
  return static_cast<std::uint64_t>(std::max<sim::TimeUs>(ctx.now_us(), 0));
}

void ReplicaProcess::start(sim::Context& ctx) {
  CRDTSIM_CHECK(replica_ == nullptr);
  CRDTSIM_CHECK(ctx.self() == config_.id);
  replica_ = std::make_unique<core::Replica>(config_, ctx.disk_contents());
  // Both durability modes keep a synced incarnation record, so a non-zero
  // incarnation means an earlier incarnation ran (this one is a restart).
  restarted_ = replica_->incarnation() > 0;
  PrngSource random(ctx.random());
  core::Output output = replica_->start(local_now(ctx), random);
  apply(ctx, output);
}

void ReplicaProcess::on_message(sim::Context& ctx, const sim::Message& message) {
  CRDTSIM_CHECK(replica_ != nullptr);
  PrngSource random(ctx.random());
  const std::uint64_t now_us = local_now(ctx);
  // Replica processes are 0 .. R-1 (with membership on, members or not).
  const std::size_t replicas =
      config_.membership.enabled ? config_.membership.processes.size() : config_.members.size();
  output_.clear();
  if (message.from < replicas) {
    replica_->on_peer_message(now_us, message.from, message.bytes, random, output_);
  } else {
    replica_->on_client_request(now_us, message.from, message.bytes, random, output_);
  }
  apply(ctx, output_);
}

void ReplicaProcess::on_timer(sim::Context& ctx, sim::TimerId id, std::uint32_t tag) {
  (void)id;
  CRDTSIM_CHECK(replica_ != nullptr);
  CRDTSIM_CHECK(tag < timer_slots_.size());
  TimerSlot& slot = timer_slots_[tag];
  CRDTSIM_CHECK(slot.armed);
  const core::ReplicaTimer timer = slot.timer;
  const std::uint64_t replica_tag = slot.tag;
  slot.armed = false;
  free_timer_slots_.push_back(tag);
  PrngSource random(ctx.random());
  output_.clear();
  replica_->on_timer(local_now(ctx), timer, replica_tag, random, output_);
  apply(ctx, output_);
}

bool ReplicaProcess::change_membership(sim::Context& ctx, core::MembershipChange change) {
  CRDTSIM_CHECK(replica_ != nullptr);
  const std::uint64_t before = replica_->stats().membership_changes;
  PrngSource random(ctx.random());
  core::Output output = replica_->on_membership_change(local_now(ctx), change, random);
  apply(ctx, output);
  return replica_->stats().membership_changes > before;
}

std::uint32_t ReplicaProcess::allocate_timer_slot(core::ReplicaTimer timer, std::uint64_t tag) {
  std::uint32_t index = 0;
  if (free_timer_slots_.empty()) {
    index = static_cast<std::uint32_t>(timer_slots_.size());
    timer_slots_.emplace_back();
  } else {
    index = free_timer_slots_.back();
    free_timer_slots_.pop_back();
  }
  TimerSlot& slot = timer_slots_[index];
  CRDTSIM_CHECK(!slot.armed);
  slot = TimerSlot{timer, tag, true};
  return index;
}

// Takes the frames' and values' storage (`output` is cleared before reuse).
void ReplicaProcess::apply(sim::Context& ctx, core::Output& output) {
  for (core::StorageWrite& write : output.storage) {
    if (write.erase) {
      ctx.disk_remove(write.key);
    } else if (!ctx.disk_write_owned(write.key, std::move(write.value))) {
      ctx.cover(coverage::kDiskWriteRefused);
    }
  }
  if (output.sync) {
    ctx.disk_sync();
  }
  for (core::OutgoingMessage& message : output.messages) {
    // Peer ids are replica process ids; client ids are client process ids.
    CRDTSIM_CHECK(message.to < ctx.process_count());
    ctx.send_owned(static_cast<sim::ProcessId>(message.to), message.kind, std::move(message.frame));
  }
  for (const core::TimerRequest& request : output.timers) {
    const std::uint32_t slot = allocate_timer_slot(request.timer, request.tag);
    ctx.arm_timer(static_cast<sim::TimeUs>(request.delay_us), slot);
  }
  for (const std::string_view name : output.coverage) {
    ctx.cover(name);
    if (restarted_ && name == coverage::kAntiEntropyRepairedKey) {
      ctx.cover(coverage::kRecoveredCrashedReplica);
    }
  }
}

const core::Replica* replica_at(const sim::Simulation& simulation, core::ReplicaId id) {
  // Processes 0 .. replicas-1 are ReplicaProcess by construction (runner.cc).
  const auto* process = static_cast<const ReplicaProcess*>(simulation.process(id));
  return process == nullptr ? nullptr : process->replica();
}

}  // namespace crdtsim::harness
