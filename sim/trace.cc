#include "sim/trace.h"

#include <array>

namespace crdtsim::sim {

const char* trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::run_start:
      return "run_start";
    case TraceKind::process_start:
      return "process_start";
    case TraceKind::process_crash:
      return "process_crash";
    case TraceKind::process_restart:
      return "process_restart";
    case TraceKind::process_pause:
      return "process_pause";
    case TraceKind::process_resume:
      return "process_resume";
    case TraceKind::message_send:
      return "message_send";
    case TraceKind::message_deliver:
      return "message_deliver";
    case TraceKind::message_drop:
      return "message_drop";
    case TraceKind::message_duplicate:
      return "message_duplicate";
    case TraceKind::timer_arm:
      return "timer_arm";
    case TraceKind::timer_cancel:
      return "timer_cancel";
    case TraceKind::timer_fire:
      return "timer_fire";
    case TraceKind::clock_jump:
      return "clock_jump";
    case TraceKind::clock_drift:
      return "clock_drift";
    case TraceKind::link_cut:
      return "link_cut";
    case TraceKind::link_heal:
      return "link_heal";
    case TraceKind::disk_write:
      return "disk_write";
    case TraceKind::disk_remove:
      return "disk_remove";
    case TraceKind::disk_sync:
      return "disk_sync";
    case TraceKind::fault_point:
      return "fault_point";
    case TraceKind::coverage:
      return "coverage";
    case TraceKind::action:
      return "action";
    case TraceKind::note:
      return "note";
    case TraceKind::run_end:
      return "run_end";
    case TraceKind::invoke:
      return "invoke";
  }
  return "unknown";
}

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::random:
      return "random";
    case DropReason::partitioned_at_send:
      return "partitioned_at_send";
    case DropReason::partitioned_in_flight:
      return "partitioned_in_flight";
    case DropReason::receiver_down:
      return "receiver_down";
    case DropReason::receiver_paused:
      return "receiver_paused";
    case DropReason::held_overflow:
      return "held_overflow";
  }
  return "unknown";
}

std::string hash_hex(std::uint64_t hash) {
  static constexpr std::array<char, 16> kDigits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                   '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string text(16, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    text[15 - i] = kDigits[(hash >> (4U * i)) & 0xfU];
  }
  return text;
}

namespace {

// Names are project-chosen identifiers; escape the two JSON specials and
// control characters anyway so any name yields valid JSON.
void write_json_string(std::ostream& out, std::string_view text) {
  out << '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20U) {
      out << "\\u00" << hash_hex(static_cast<unsigned char>(c)).substr(14);
    } else {
      out << c;
    }
  }
  out << '"';
}

}  // namespace

void JsonLinesSink::write(const TraceEvent& event) {
  out_ << "{\"t\":" << event.time_us << ",\"kind\":\"" << trace_kind_name(event.kind) << '"';
  if (event.process != kNoProcess) {
    out_ << ",\"p\":" << event.process;
  }
  if (event.peer != kNoProcess) {
    out_ << ",\"peer\":" << event.peer;
  }
  out_ << ",\"tag\":" << event.tag << ",\"value\":" << event.value << ",\"digest\":\""
       << hash_hex(event.digest) << '"';
  if (event.kind == TraceKind::message_drop) {
    out_ << ",\"reason\":\"" << drop_reason_name(static_cast<DropReason>(event.digest)) << '"';
  }
  if (!event.name.empty()) {
    out_ << ",\"name\":";
    write_json_string(out_, event.name);
  }
  out_ << "}\n";
}

}  // namespace crdtsim::sim
