#include <string>

#include "core/codec/bytes.h"
#include "harness/checkers/describe.h"
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

}  // namespace

Verdict check_convergence(const RunOutput& output) {
  std::size_t keys = 0;
  for (const auto& [key, replicas] : output.placement) {
    ++keys;
    for (const core::ReplicaId replica : replicas) {
      if (replica >= output.replicas.size() || !output.replicas[replica].up) {
        return Verdict::unknown("convergence",
                                "replica " + std::to_string(replica) + " of key '" + key +
                                    "' was down at the end of the run; its state is unknown");
      }
    }
    const core::ReplicaId first = replicas.front();
    const core::Bytes reference = bytes_of(state_at(output, first, key));
    for (const core::ReplicaId replica : replicas) {
      if (bytes_of(state_at(output, replica, key)) == reference) {
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
