#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "harness/checkers/describe.h"
#include "harness/checkers/ordered_lookup.h"
#include "harness/checkers/state_checkers.h"

namespace crdtsim::harness {

namespace {

const core::KeyState* state_at(const RunOutput& output, core::ReplicaId replica,
                               const std::string& key) {
  return output.replicas[replica].keyspace.find(key);
}

core::Bytes bytes_of(const core::KeyState* state) {
  return state == nullptr ? core::Bytes{} : core::encode(*state);
}

std::string members_text(const std::vector<core::ReplicaId>& members) {
  std::string text = "{";
  for (const core::ReplicaId member : members) {
    text += (text.size() > 1 ? ", r" : "r") + std::to_string(member);
  }
  return text + "}";
}

// With membership in use: every up replica's view is the final membership
// (the nemesis's changes, in order). Empty if so; else the explanation.
std::string membership_disagreement(const RunOutput& output) {
  std::string disagreeing;
  for (const ReplicaSnapshot& replica : output.replicas) {
    if (replica.up && replica.members != output.final_members) {
      disagreeing += (disagreeing.empty() ? "replica " : "; replica ") +
                     std::to_string(replica.id) + " sees " + members_text(replica.members);
    }
  }
  if (disagreeing.empty()) {
    return {};
  }
  return "replicas disagree on the membership after settling: the final membership is " +
         members_text(output.final_members) + ", but " + disagreeing;
}

}  // namespace

Verdict check_convergence(const RunOutput& output) {
  if (output.membership) {
    std::string disagreement = membership_disagreement(output);
    if (!disagreement.empty()) {
      return Verdict::invalid("convergence", std::move(disagreement));
    }
  }
  std::size_t keys = 0;
  // The placement lists keys in order: each replica's states are found by
  // one cursor over its keyspace.
  std::vector<OrderedLookup<core::Keyspace>> states;
  states.reserve(output.replicas.size());
  for (const ReplicaSnapshot& replica : output.replicas) {
    states.emplace_back(replica.keyspace);
  }
  std::vector<const core::KeyState*> held;  // per replica of the key
  for (const auto& [key, replicas] : output.placement) {
    ++keys;
    for (const core::ReplicaId replica : replicas) {
      if (replica >= output.replicas.size() || !output.replicas[replica].up) {
        return Verdict::unknown("convergence",
                                "replica " + std::to_string(replica) + " of key '" + key +
                                    "' was down at the end of the run; its state is unknown");
      }
    }
    held.clear();
    for (const core::ReplicaId replica : replicas) {
      held.push_back(states[replica].find(key));
    }
    // Bytes, not KeyState's operator==: the property is byte-identical
    // state, checked without trusting the store's own equality. The first
    // replica's state is encoded once for all the others.
    const core::ReplicaId first = replicas.front();
    const core::Bytes reference = replicas.size() > 1 ? bytes_of(held.front()) : core::Bytes{};
    for (std::size_t index = 1; index < replicas.size(); ++index) {
      const core::ReplicaId replica = replicas[index];
      if (held[index] == held.front() || bytes_of(held[index]) == reference) {
        continue;
      }
      std::string explanation = "key '" + key + "' differs after settling: replica ";
      explanation += std::to_string(first) + " holds " + describe(state_at(output, first, key));
      explanation += ", replica " + std::to_string(replica) + " holds " +
                     describe(state_at(output, replica, key));
      return Verdict::invalid("convergence", std::move(explanation));
    }
  }
  return Verdict::valid("convergence", "all replicas of all " + std::to_string(keys) +
                                           " keys hold byte-identical state");
}

Verdict check_liveness(const RunOutput& output, std::uint64_t settle_us) {
  if (!output.converged_us) {
    return Verdict::invalid("liveness",
                            "replicas did not converge within " + std::to_string(settle_us / 1000) +
                                " ms of settling (started at " +
                                std::to_string(output.settle_started_us / 1000) + " ms)");
  }
  const std::uint64_t took_us = *output.converged_us - output.settle_started_us;
  if (took_us > settle_us) {
    return Verdict::invalid("liveness", "converged only after " + std::to_string(took_us / 1000) +
                                            " ms of settling, bound " +
                                            std::to_string(settle_us / 1000) + " ms");
  }
  return Verdict::valid("liveness",
                        "converged " + std::to_string(took_us / 1000) + " ms after settling began");
}

}  // namespace crdtsim::harness
