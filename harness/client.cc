#include "harness/client.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/replication/peer_messages.h"
#include "core/wire/frame.h"
#include "harness/coverage_points.h"
#include "sim/check.h"

namespace crdtsim::harness {

std::uint64_t HistoryRecorder::invoke(std::uint32_t client, core::ReplicaId replica,
                                      std::uint64_t now_us, core::Command&& command) {
  const std::uint64_t id = history_.operations.size();
  Operation& operation = history_.operations.emplace_back();
  operation.id = id;
  operation.client = client;
  operation.session = client;  // one session per client
  operation.replica = replica;
  operation.invoke_us = now_us;
  operation.complete_us = now_us;
  operation.command = std::move(command);
  operation.outcome = OpOutcome::indeterminate;
  completed_.push_back(0);
  ++outstanding_;
  return id;
}

Operation& HistoryRecorder::open_operation(std::uint64_t id) {
  CRDTSIM_CHECK(id < history_.operations.size());
  CRDTSIM_CHECK(completed_[id] == 0);
  return history_.operations[id];
}

core::Reply& HistoryRecorder::reply_slot(std::uint64_t id) {
  return open_operation(id).reply.emplace();
}

void HistoryRecorder::drop_reply(std::uint64_t id) {
  open_operation(id).reply.reset();
}

void HistoryRecorder::complete(std::uint64_t id, std::uint64_t now_us, OpOutcome outcome) {
  Operation& operation = open_operation(id);
  CRDTSIM_CHECK(outstanding_ > 0);
  CRDTSIM_CHECK(now_us >= operation.invoke_us);
  operation.complete_us = now_us;
  operation.outcome = outcome;
  completed_[id] = 1;
  --outstanding_;
}

void HistoryRecorder::finish(std::uint32_t client) {
  CRDTSIM_CHECK(client < finished_.size());
  if (finished_[client] == 0) {
    finished_[client] = 1;
    ++finished_count_;
  }
}

History HistoryRecorder::take(std::uint64_t now_us) {
  for (std::uint64_t id = 0; id < completed_.size(); ++id) {
    if (completed_[id] == 0) {
      const bool write = core::is_write(history_.operations[id].command.kind);
      complete(id, std::max(now_us, history_.operations[id].invoke_us),
               write ? OpOutcome::indeterminate : OpOutcome::fail);
    }
  }
  return std::move(history_);
}

OpOutcome outcome_of(core::ReplyStatus status, bool write) {
  switch (status) {
    case core::ReplyStatus::ok:
      return OpOutcome::ok;
    case core::ReplyStatus::unavailable:
      return write ? OpOutcome::indeterminate : OpOutcome::fail;
    case core::ReplyStatus::wrong_type:
    case core::ReplyStatus::not_supported:
    case core::ReplyStatus::bad_request:
    case core::ReplyStatus::overflow:
    case core::ReplyStatus::session_behind:  // refused before executing
      return OpOutcome::fail;
  }
  return write ? OpOutcome::indeterminate : OpOutcome::fail;  // an unknown status
}

ClientProcess::ClientProcess(const ClientSetup& setup)
    : setup_(setup), spec_(&setup.workload->spec()) {
  CRDTSIM_CHECK(setup_.workload != nullptr);
  CRDTSIM_CHECK(setup_.recorder != nullptr);
  CRDTSIM_CHECK(setup_.replicas >= 1);
  CRDTSIM_CHECK(!setup_.scripted || setup_.script != nullptr);
}

std::uint64_t ClientProcess::local_now(const sim::Context& ctx) {
  return static_cast<std::uint64_t>(std::max<sim::TimeUs>(ctx.now_us(), 0));
}

bool ClientProcess::exhausted() const {
  if (setup_.scripted) {
    return issued_ >= setup_.script->size();
  }
  return !setup_.workload->has_operations() || issued_ >= spec_->ops_per_client;
}

void ClientProcess::start(sim::Context& ctx) {
  // Clients are never crashed, so this runs once.
  schedule_next(ctx);
}

void ClientProcess::schedule_next(sim::Context& ctx) {
  CRDTSIM_CHECK(!waiting_);
  if (exhausted()) {
    finish();
    return;
  }
  std::uint64_t delay_us = 0;
  if (setup_.scripted) {
    const std::uint64_t at_us = (*setup_.script)[issued_].at_us;
    const std::uint64_t now_us = local_now(ctx);
    delay_us = at_us > now_us ? at_us - now_us : 0;
  } else if (spec_->think_us_max > spec_->think_us_min) {
    delay_us = static_cast<std::uint64_t>(
        ctx.random().range(static_cast<std::int64_t>(spec_->think_us_min),
                           static_cast<std::int64_t>(spec_->think_us_max)));
  } else {
    delay_us = spec_->think_us_min;
  }
  if (local_now(ctx) + delay_us >= setup_.deadline_us) {
    finish();  // the workload stops issuing at the deadline
    return;
  }
  ctx.arm_timer(static_cast<sim::TimeUs>(delay_us), kTagNext);
}

void ClientProcess::issue(sim::Context& ctx) {
  CRDTSIM_CHECK(!waiting_);
  CRDTSIM_CHECK(!exhausted());
  // Built in place (no default Command assigned over), drawn before the
  // replica as always.
  core::Command command = setup_.scripted ? (*setup_.script)[issued_].command
                                          : setup_.workload->draw_command(
                                                ctx.random(), setup_.index, issued_, churn_undo_);
  core::ReplicaId replica = 0;
  if (setup_.scripted) {
    replica = (*setup_.script)[issued_].replica;
  } else {
    replica = spec_->replica_choice == ReplicaChoice::sticky
                  ? setup_.index % setup_.replicas
                  : static_cast<core::ReplicaId>(ctx.random().uniform(setup_.replicas));
  }
  CRDTSIM_CHECK(replica < setup_.replicas);
  ++issued_;
  request_id_ = issued_;
  write_ = core::is_write(command.kind);
  if (setup_.causal && write_) {
    command.session = token_;  // the write's causal past
  } else if (spec_->sessions || setup_.causal) {
    // The token travels with the request, restricted to the keys it names;
    // the history records the command alone.
    for (const std::string& key : command.keys) {
      if (const core::CausalContext* seen = core::find_key_versions(token_, key)) {
        core::merge_key_versions(command.session, key, *seen);
      }
    }
  }
  encode_request(request_id_, command);
  command.session.clear();
  operation_id_ =
      setup_.recorder->invoke(setup_.index, replica, local_now(ctx), std::move(command));
  waiting_ = true;
  ctx.send_owned(replica, static_cast<sim::MessageKind>(core::PeerMessageKind::client_request),
                 std::move(frame_));
  timeout_timer_ = ctx.arm_timer(static_cast<sim::TimeUs>(spec_->request_timeout_us), kTagTimeout);
}

void ClientProcess::encode_request(std::uint64_t request_id, const core::Command& command) {
  // As core::encode_frame(ClientRequest): the request id, then the command.
  frame_.clear();
  const std::size_t start =
      core::begin_frame(frame_, static_cast<std::uint8_t>(core::PeerMessageKind::client_request));
  core::Encoder encoder(frame_);
  encoder.varint(request_id);
  command.encode_body(encoder);
  core::end_frame(frame_, start);
}

bool ClientProcess::decode_reply(core::ByteView payload) {
  // As core::decode_payload(ClientReply), the reply decoded in place into
  // the history once its request id is known to be the outstanding one.
  core::Decoder decoder(payload);
  const std::uint64_t request_id = decoder.varint();
  if (!decoder.ok() || !waiting_ || request_id != request_id_) {
    return false;  // malformed, or a late or duplicated reply
  }
  core::Reply::decode_body(decoder, setup_.recorder->reply_slot(operation_id_));
  if (!decoder.ok() || !decoder.at_end()) {
    setup_.recorder->drop_reply(operation_id_);
    return false;
  }
  return true;
}

void ClientProcess::on_message(sim::Context& ctx, const sim::Message& message) {
  core::FrameView frame;
  std::string error;
  if (!core::parse_frame(message.bytes, frame, error) ||
      frame.kind != static_cast<std::uint8_t>(core::PeerMessageKind::client_reply) ||
      !decode_reply(frame.payload)) {
    return;  // not a reply we can trust (the request times out), or not ours
  }
  ctx.cancel_timer(timeout_timer_);
  const core::Reply& reply = *setup_.recorder->history().operations[operation_id_].reply;
  const OpOutcome outcome = outcome_of(reply.status, write_);
  if ((spec_->sessions || setup_.causal) && outcome == OpOutcome::ok) {
    core::merge_key_versions(token_, reply.metadata.tracking->versions);
    core::merge_key_versions(token_, reply.metadata.tracking->dependencies);
  }
  setup_.recorder->complete(operation_id_, local_now(ctx), outcome);
  complete(ctx, outcome);
}

void ClientProcess::on_timer(sim::Context& ctx, sim::TimerId id, std::uint32_t tag) {
  if (tag == kTagNext) {
    issue(ctx);
    return;
  }
  CRDTSIM_CHECK(tag == kTagTimeout);
  if (!waiting_ || id != timeout_timer_) {
    return;  // a timer of a request that was answered meanwhile
  }
  const OpOutcome outcome = write_ ? OpOutcome::indeterminate : OpOutcome::fail;
  setup_.recorder->complete(operation_id_, local_now(ctx), outcome);
  complete(ctx, outcome);
}

void ClientProcess::complete(sim::Context& ctx, OpOutcome outcome) {
  CRDTSIM_CHECK(waiting_);
  if (outcome == OpOutcome::indeterminate) {
    ctx.cover(coverage::kIndeterminateOp);
  }
  waiting_ = false;
  timeout_timer_ = sim::kNoTimer;
  schedule_next(ctx);
}

void ClientProcess::finish() {
  if (!finished_) {
    finished_ = true;
    setup_.recorder->finish(setup_.index);
  }
}

}  // namespace crdtsim::harness
