#include "harness/checkers/sessions.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/crdt/causal_context.h"
#include "harness/checkers/describe.h"

namespace crdtsim::harness {

namespace {

enum Guarantee : std::size_t {
  read_your_writes = 0,
  monotonic_reads = 1,
  monotonic_writes = 2,
  writes_follow_reads = 3,
};
constexpr std::array<const char*, 4> kNames = {kReadYourWrites, kMonotonicReads, kMonotonicWrites,
                                               kWritesFollowReads};

// What a session observed of one key, and the last operation that added to it.
struct Observed {
  core::CausalContext versions;
  std::uint64_t op = 0;
  std::optional<core::LwwTimestamp> timestamp;  // registers only
  std::uint64_t timestamp_op = 0;
};

struct KeyObserved {
  Observed written;
  Observed read;
};

struct Finding {
  std::uint64_t count = 0;
  std::string first;  // evidence of the first violation
};

bool lww_register_command(core::CommandKind kind) {
  switch (kind) {
    case core::CommandKind::set:
    case core::CommandKind::mset:
    case core::CommandKind::del:
    case core::CommandKind::get:
    case core::CommandKind::mget:
      return true;
    default:
      return false;
  }
}

class SessionChecker {
 public:
  explicit SessionChecker(const History& history) : history_(history) {}

  std::vector<Verdict> run() {
    std::uint64_t checked = 0;
    for (const Operation& op : history_.operations) {
      if (op.outcome != OpOutcome::ok || !op.reply.has_value()) {
        continue;
      }
      ++checked;
      std::map<std::string, KeyObserved>& keys = sessions_[op.session];
      check_versions(op, keys);
      if (lww_register_command(op.command.kind)) {
        check_lww_order(op, keys);
      }
    }
    std::vector<Verdict> verdicts;
    for (std::size_t index = 0; index < kNames.size(); ++index) {
      const Finding& finding = findings_[index];
      if (finding.count == 0) {
        verdicts.push_back(Verdict::valid(
            kNames[index], std::to_string(checked) + " ok operations in " +
                               std::to_string(sessions_.size()) + " sessions respect it"));
      } else {
        verdicts.push_back(Verdict::invalid(
            kNames[index],
            std::to_string(finding.count) + " violation(s); first: " + finding.first));
      }
    }
    return verdicts;
  }

 private:
  void check_versions(const Operation& op, std::map<std::string, KeyObserved>& keys) {
    const bool write = core::is_write(op.command.kind);
    const core::CausalContext none;
    for (const std::string& key : op.command.keys) {
      const core::CausalContext* found =
          core::find_key_versions(op.reply->metadata.tracking->versions, key);
      const core::CausalContext& held = found == nullptr ? none : *found;
      KeyObserved& observed = keys[key];
      compare(op, key, held, observed.written, write ? monotonic_writes : read_your_writes,
              "wrote");
      compare(op, key, held, observed.read, write ? writes_follow_reads : monotonic_reads, "read");
    }
    for (const std::string& key : op.command.keys) {
      const core::CausalContext* found =
          core::find_key_versions(op.reply->metadata.tracking->versions, key);
      Observed& target = write ? keys[key].written : keys[key].read;
      if (found != nullptr && !target.versions.includes(*found)) {
        target.versions.merge(*found);
        target.op = op.id;
      }
    }
  }

  void compare(const Operation& op, const std::string& key, const core::CausalContext& held,
               const Observed& earlier, Guarantee guarantee, const char* verb) {
    if (held.includes(earlier.versions)) {
      return;
    }
    const core::Dot dot = first_missing_dot(earlier.versions, held);
    report(guarantee, describe(op) + " on key '" + key + "' saw a state missing update r" +
                          std::to_string(dot.replica) + ":" + std::to_string(dot.counter) +
                          " that the session " + verb + " by " +
                          describe(history_.operations[earlier.op]));
  }

  void check_lww_order(const Operation& op, std::map<std::string, KeyObserved>& keys) {
    const core::ReplyMetadata& metadata = op.reply->metadata;
    for (const auto& [key, timestamp] : metadata.timestamps) {
      KeyObserved& observed = keys[key];
      order(op, key, timestamp, observed.written, monotonic_writes, "wrote", true);
      order(op, key, timestamp, observed.read, writes_follow_reads, "read", true);
    }
    for (const auto& [key, timestamp] : metadata.read_timestamps) {
      KeyObserved& observed = keys[key];
      order(op, key, timestamp, observed.written, read_your_writes, "wrote", false);
      order(op, key, timestamp, observed.read, monotonic_reads, "read", false);
    }
    raise(op, metadata.timestamps, keys, true);
    raise(op, metadata.read_timestamps, keys, false);
  }

  // A write must be stamped after `earlier`; a read must return at least it.
  void order(const Operation& op, const std::string& key, const core::LwwTimestamp& timestamp,
             const Observed& earlier, Guarantee guarantee, const char* verb, bool write) {
    if (!earlier.timestamp.has_value()) {
      return;
    }
    const bool ordered = write ? *earlier.timestamp < timestamp : *earlier.timestamp <= timestamp;
    if (ordered) {
      return;
    }
    report(guarantee, describe(op) + " on key '" + key + "' " +
                          (write ? "wrote at " : "returned the write of ") + describe(timestamp) +
                          ", before " + describe(*earlier.timestamp) + " that the session " + verb +
                          " by " + describe(history_.operations[earlier.timestamp_op]) +
                          (write ? ": the later write loses to the earlier one" : ""));
  }

  static void raise(const Operation& op,
                    const std::vector<std::pair<std::string, core::LwwTimestamp>>& stamps,
                    std::map<std::string, KeyObserved>& keys, bool write) {
    for (const auto& [key, timestamp] : stamps) {
      Observed& target = write ? keys[key].written : keys[key].read;
      if (!target.timestamp.has_value() || *target.timestamp < timestamp) {
        target.timestamp = timestamp;
        target.timestamp_op = op.id;
      }
    }
  }

  void report(Guarantee guarantee, std::string evidence) {
    Finding& finding = findings_[guarantee];
    if (finding.count == 0) {
      finding.first = std::move(evidence);
    }
    finding.count += 1;
  }

  const History& history_;
  std::map<std::uint64_t, std::map<std::string, KeyObserved>> sessions_;
  std::array<Finding, 4> findings_;
};

}  // namespace

std::vector<Verdict> check_session_guarantees(const History& history) {
  return SessionChecker(history).run();
}

}  // namespace crdtsim::harness
