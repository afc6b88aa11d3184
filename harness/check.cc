// check(): the checkers a scenario's properties ask for.
#include "harness/checkers/state_checkers.h"
#include "harness/runner.h"
#include "sim/trace.h"

namespace crdtsim::harness {

namespace {

Verdict check_determinism(const Scenario& scenario, const RunOutput& output) {
  const RunOutput again = run(scenario, output.seed);
  if (again.sim.trace_hash != output.sim.trace_hash) {
    return Verdict::invalid("determinism", "seed " + std::to_string(output.seed) +
                                               " gave trace hash " +
                                               sim::hash_hex(output.sim.trace_hash) + ", then " +
                                               sim::hash_hex(again.sim.trace_hash));
  }
  if (!(again.history == output.history)) {
    return Verdict::invalid("determinism", "same trace hash but different histories for seed " +
                                               std::to_string(output.seed));
  }
  return Verdict::valid("determinism", "a second run gave the same trace hash " +
                                           sim::hash_hex(again.sim.trace_hash));
}

}  // namespace

void check(const Scenario& scenario, RunOutput& output) {
  output.verdicts.clear();
  if (output.sim.outcome != sim::Outcome::ok) {
    output.verdicts.push_back(Verdict::invalid(
        "simulation",
        std::string(sim::outcome_name(output.sim.outcome)) + ": " + output.sim.failure));
  }
  const Properties& properties = scenario.properties;
  if (properties.convergence) {
    output.verdicts.push_back(check_convergence(output));
  }
  if (properties.liveness) {
    output.verdicts.push_back(check_liveness(output, scenario.settle_us));
  }
  if (properties.no_lost_writes) {
    output.verdicts.push_back(check_no_lost_writes(output));
  }
  if (properties.determinism) {
    output.verdicts.push_back(check_determinism(scenario, output));
  }
}

}  // namespace crdtsim::harness
