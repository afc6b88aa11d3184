// Simulation: sending and delivering messages.

#include <type_traits>
#include <utility>

#include "sim/check.h"
#include "sim/hash.h"
#include "sim/simulation.h"
#include "sim/simulation_internal.h"

namespace crdtsim::sim {

// Inline into send(), its only caller (once per message, twice for a
// duplicate): saves a call with seven arguments per message.
[[gnu::always_inline]] inline void Simulation::enqueue_copy(ProcessId from, ProcessId to,
                                                            MessageKind kind, std::uint64_t id,
                                                            const LinkConfig& link, ByteView bytes,
                                                            Bytes* owned) {
  const std::uint32_t index = allocate_message();
  InFlight& message = messages_[index];
  if (owned != nullptr) {
    message.payload.swap(*owned);  // the slot's old buffer goes to the sender
  } else {
    message.payload.assign(bytes.begin(), bytes.end());
  }
  message.id = id;
  message.from = from;
  message.to = to;
  message.kind = kind;
  message.receiver_crash_count = processes_[to].crash_count;
  message.link_generation = network_.cut_generation(from, to);
  schedule(now_us_ + network_.draw_latency(link), EventKind::deliver, index);
}

// Inline into Context::send and send_owned, its only callers (once per
// message): one call per message instead of two.
[[gnu::always_inline]] inline void Simulation::send(ProcessId from, ProcessId to, MessageKind kind,
                                                    ByteView bytes, Bytes* owned) {
  CRDTSIM_CHECK(to < processes_.size());
  CRDTSIM_CHECK(to != from);
  if (bytes.size() > config_.max_message_bytes) [[unlikely]] {
    fail(Outcome::bound_exceeded, "message larger than max_message_bytes");
    return;
  }
  const std::uint64_t id = next_message_id_++;
  KindStats& per_kind = kind_stats(kind);
  ++per_kind.messages_sent;
  per_kind.bytes_sent += bytes.size();
  ++stats_.messages.messages_sent;
  stats_.messages.bytes_sent += bytes.size();
  record(TraceKind::message_send, from, to, kind, id, digest_bytes(bytes));
  if (network_.is_cut(from, to)) {
    drop(from, to, kind, id, DropReason::partitioned_at_send);
    return;
  }
  const LinkConfig& link = network_.link(from, to);  // stable: no set_link below
  if (network_.draw_drop(link)) {
    drop(from, to, kind, id, DropReason::random);
    return;
  }
  // Taking the storage moves the buffer `bytes` views into the slab: the
  // view stays valid for the duplicate's copy (growing the slab moves the
  // vectors, never their buffers).
  static_assert(std::is_nothrow_move_constructible_v<InFlight>);
  enqueue_copy(from, to, kind, id, link, bytes, owned);
  if (network_.draw_duplicate(link)) {
    ++per_kind.messages_duplicated;
    ++stats_.messages.messages_duplicated;
    record(TraceKind::message_duplicate, from, to, kind, id);
    enqueue_copy(from, to, kind, id, link, bytes, nullptr);
  }
}

void Context::send(ProcessId to, MessageKind kind, ByteView bytes) {
  simulation_->send(self_, to, kind, bytes, nullptr);
}

void Context::send_owned(ProcessId to, MessageKind kind, Bytes&& bytes) {
  simulation_->send(self_, to, kind, bytes, &bytes);
}

void Simulation::drop(ProcessId from, ProcessId to, MessageKind kind, std::uint64_t id,
                      DropReason reason) {
  ++kind_stats(kind).messages_dropped;
  ++stats_.messages.messages_dropped;
  record(TraceKind::message_drop, from, to, kind, id, static_cast<std::uint64_t>(reason));
}

// Keeps a delivery or timer for a paused receiver until resume(), or drops
// the message (PausePolicy::drop, or too many held).
void Simulation::hold(ProcessSlot& receiver, const QueueEntry& entry) {
  CRDTSIM_CHECK(receiver.state == ProcessState::paused);
  if (entry.kind == EventKind::deliver) {
    const InFlight& message = messages_[entry.index];
    const bool overflow = receiver.held.size() >= config_.max_held_per_process;
    if (config_.pause == PausePolicy::drop || overflow) {
      drop(message.from, message.to, message.kind, message.id,
           overflow ? DropReason::held_overflow : DropReason::receiver_paused);
      free_message(entry.index);
      return;
    }
  }
  receiver.held.push_back(entry);  // timers: bounded by max_timers_per_process
}

void Simulation::on_deliver(const QueueEntry& entry) {
  CRDTSIM_CHECK(entry.index < messages_.size());
  InFlight& message = messages_[entry.index];
  ProcessSlot& receiver = processes_[message.to];
  if (receiver.state == ProcessState::down ||
      receiver.crash_count != message.receiver_crash_count) {
    drop(message.from, message.to, message.kind, message.id, DropReason::receiver_down);
    free_message(entry.index);
    return;
  }
  if (network_.in_flight() == InFlightPolicy::drop &&
      network_.cut_generation(message.from, message.to) != message.link_generation) {
    drop(message.from, message.to, message.kind, message.id, DropReason::partitioned_in_flight);
    free_message(entry.index);
    return;
  }
  if (receiver.state == ProcessState::paused) {
    hold(receiver, entry);
    return;
  }
  const ProcessId to = message.to;
  const Message delivered{message.from, message.kind, message.id, {}};
  // The payload moves to the delivery buffer (the slot gets the buffer's old
  // storage back), so the callback may send freely while reading it.
  std::swap(delivery_buffer_, message.payload);
  free_message(entry.index);
  KindStats& per_kind = kind_stats(delivered.kind);
  ++per_kind.messages_delivered;
  per_kind.bytes_delivered += delivery_buffer_.size();
  ++stats_.messages.messages_delivered;
  stats_.messages.bytes_delivered += delivery_buffer_.size();
  record(TraceKind::message_deliver, to, delivered.from, delivered.kind, delivered.id);
  CRDTSIM_CHECK(receiver.object != nullptr);
  Context ctx(*this, to, receiver.clock, receiver.random, now_us_);
  in_callback_ = to;
  receiver.object->on_message(
      ctx, Message{delivered.from, delivered.kind, delivered.id, ByteView(delivery_buffer_)});
  in_callback_ = kNoProcess;
}

}  // namespace crdtsim::sim
