#pragma once
// White-box checkers over a run's final replica states and its history.
//
// - convergence: after settling, every replica of every key holds
//   byte-identical canonical state.
// - liveness: that convergence was reached within the settle bound; reports
//   how long it took.
// - no_lost_writes: the converged value of every key agrees with the history
//   (Maelstrom's pn-counter range check for counters; add-wins evidence for
//   OR-Sets; G-Sets and G-Counters likewise; for LWW registers and map fields,
//   the write with the greatest timestamp among those that could have taken
//   effect; for multi-value registers, the causal level, the siblings are
//   exactly the writes that no write which may have taken effect observed,
//   where an acknowledged write observed the updates its reply's versions
//   name), and holds nothing that was never written.

#include "harness/runner.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

Verdict check_convergence(const RunOutput& output);
Verdict check_liveness(const RunOutput& output, std::uint64_t settle_us);
Verdict check_no_lost_writes(const RunOutput& output);

}  // namespace crdtsim::harness
