// check(): the checkers a scenario's properties ask for.
#include "harness/checkers/causal.h"
#include "harness/checkers/linearizability.h"
#include "harness/checkers/sessions.h"
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
  if (properties.linearizability) {
    // Registers and counters are checked separately and reported as one
    // property: invalid if either is, unknown if either ran out of budget.
    Verdict registers = check_linearizable(output.history, LinModel::cas_register);
    Verdict counters = check_linearizable(output.history, LinModel::counter);
    Verdict combined = registers;
    combined.property = "linearizability";
    if (counters.validity == Validity::invalid ||
        (counters.validity == Validity::unknown && registers.validity == Validity::valid)) {
      combined.validity = counters.validity;
      combined.explanation = "counters: " + counters.explanation;
    } else {
      combined.explanation =
          "registers: " + registers.explanation + "; counters: " + counters.explanation;
    }
    output.verdicts.push_back(std::move(combined));
  }
  if (properties.session_guarantees) {
    for (Verdict& verdict : check_session_guarantees(output.history)) {
      output.verdicts.push_back(std::move(verdict));
    }
  }
  if (properties.causal_consistency) {
    output.verdicts.push_back(check_causal_consistency(output.history));
  }
  if (properties.determinism) {
    output.verdicts.push_back(check_determinism(scenario, output));
  }
}

}  // namespace crdtsim::harness
