#pragma once
// Simulated clients and the history they record.
//
// A ClientProcess talks to replicas over the simulated network (so partitions
// and loss reach clients too), one outstanding request at a time. Each
// operation is recorded at invoke and at completion in a HistoryRecorder that
// the run owns (processes get a pointer; a run is single-threaded).
//
// Outcomes: a reply with status ok -> ok; wrong_type, not_supported,
// bad_request, overflow -> fail; unavailable -> indeterminate for a write,
// fail for a read; session_behind -> fail (the replica refused before
// executing). No reply within request_timeout_us -> the same as
// unavailable, and the client moves on; a late or duplicated reply (matched by
// request id) is ignored. Clients' clocks are never faulted, so the times they
// record are true simulated times.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/store/command.h"
#include "harness/history.h"
#include "harness/scenario.h"
#include "harness/workload.h"
#include "sim/process.h"

namespace crdtsim::harness {

class HistoryRecorder {
 public:
  explicit HistoryRecorder(std::uint32_t clients) : finished_(clients, 0) {}

  // Room for `operations` invocations (a hint: more may be recorded), so
  // that the history does not move its operations as it grows.
  void reserve(std::size_t operations) {
    history_.operations.reserve(operations);
    completed_.reserve(operations);
  }

  // Records an invocation; returns the operation's id (its index).
  std::uint64_t invoke(std::uint32_t client, core::ReplicaId replica, std::uint64_t now_us,
                       core::Command&& command);
  // A default reply held by operation `id` (not completed yet), for the
  // client to decode the reply into in place. The reference is valid until
  // the next invoke (which may grow the history).
  core::Reply& reply_slot(std::uint64_t id);
  // Drops the reply reply_slot() made (it did not decode).
  void drop_reply(std::uint64_t id);
  // Records the completion of operation `id`, with the reply decoded into
  // reply_slot(id) if there is one, else without a reply (none came).
  // Requires: not completed yet.
  void complete(std::uint64_t id, std::uint64_t now_us, OpOutcome outcome);
  // Marks `client` as done issuing operations (its last one completed).
  void finish(std::uint32_t client);

  bool all_finished() const { return finished_count_ == finished_.size(); }
  std::uint64_t outstanding() const { return outstanding_; }
  const History& history() const { return history_; }
  // Closes every still-open operation as the clients would on a timeout
  // (writes indeterminate, reads fail, at `now_us`), then hands the history
  // over.
  History take(std::uint64_t now_us);

 private:
  // Operation `id`, which must still be open.
  Operation& open_operation(std::uint64_t id);

  History history_;
  std::vector<std::uint8_t> completed_;  // per operation
  std::vector<std::uint8_t> finished_;   // per client
  std::size_t finished_count_ = 0;
  std::uint64_t outstanding_ = 0;
};

// The outcome a client gives an operation whose reply has `status`.
OpOutcome outcome_of(core::ReplyStatus status, bool write);

struct ClientSetup {
  std::uint32_t index = 0;     // client index; process id = replicas + index
  std::uint32_t replicas = 0;  // replica processes are 0 .. replicas-1
  const Workload* workload = nullptr;
  HistoryRecorder* recorder = nullptr;
  // Scripted run: this client issues exactly `script` (its own operations,
  // in order; may be empty) and draws nothing.
  bool scripted = false;
  const std::vector<ScriptedOperation>* script = nullptr;
  std::uint64_t deadline_us = 0;  // no operation is issued at or after this
  // The causal level: the client is a session whatever workload.sessions
  // says, writes carry its whole token (their causal past), and replies'
  // dependencies join the token.
  bool causal = false;
};

class ClientProcess final : public sim::Process {
 public:
  // Timer tags.
  static constexpr std::uint32_t kTagNext = 1;
  static constexpr std::uint32_t kTagTimeout = 2;

  explicit ClientProcess(const ClientSetup& setup);

  void start(sim::Context& ctx) override;
  void on_message(sim::Context& ctx, const sim::Message& message) override;
  void on_timer(sim::Context& ctx, sim::TimerId id, std::uint32_t tag) override;

 private:
  bool exhausted() const;
  void schedule_next(sim::Context& ctx);
  void issue(sim::Context& ctx);
  // Ends the outstanding operation (its completion already recorded) and
  // schedules the next.
  void complete(sim::Context& ctx, OpOutcome outcome);
  void finish();
  // Encodes the request into frame_: the bytes of
  // core::encode_frame(core::ClientRequest{request_id, command}).
  void encode_request(std::uint64_t request_id, const core::Command& command);
  // Decodes a client_reply frame's payload for the outstanding request into
  // its operation's reply. Returns false, leaving no reply, if the payload
  // is malformed or answers another request.
  bool decode_reply(core::ByteView payload);
  static std::uint64_t local_now(const sim::Context& ctx);

  ClientSetup setup_;
  const WorkloadSpec* spec_;
  std::uint64_t issued_ = 0;                 // operations issued so far
  std::optional<core::Command> churn_undo_;  // Workload::draw_churn
  bool finished_ = false;
  // The outstanding request, if any.
  bool waiting_ = false;
  std::uint64_t request_id_ = 0;
  std::uint64_t operation_id_ = 0;
  bool write_ = false;
  sim::TimerId timeout_timer_ = sim::kNoTimer;
  // The request frame being sent: the network takes its storage and hands
  // back the buffer of a delivered message, so requests allocate nothing.
  core::Bytes frame_;
  // Sessions: what this client's session observed, per key (the versions
  // its successful operations returned). Bounded by the workload's keys.
  core::KeyVersions token_;
};

}  // namespace crdtsim::harness
