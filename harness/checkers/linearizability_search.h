#pragma once
// The search behind check_lin_ops, on the operations of one key (internal to
// the linearizability checker; see linearizability.h for the method).

#include <cstdint>
#include <string>
#include <vector>

#include "harness/checkers/linearizability.h"

namespace crdtsim::harness::linearizability {

struct PathStep {
  const LinOp* op = nullptr;
  bool assumed = false;  // an indeterminate operation assumed to take effect
};

struct BlockedOp {
  const LinOp* op = nullptr;
  std::string reason;  // why it cannot go next
};

struct KeyResult {
  Validity validity = Validity::unknown;
  std::uint64_t states = 0;
  std::size_t determinate = 0;    // ok operations
  std::size_t indeterminate = 0;  // indeterminate ones that could take effect
  // Evidence for invalid (and unknown): the deepest dead end found.
  std::size_t placed_max = 0;       // ok operations linearized there
  std::vector<PathStep> path_tail;  // the last steps leading there
  std::string state;                // the model's value there
  std::vector<BlockedOp> blocked;   // what could go next by real time, and why not
  const LinOp* deadline = nullptr;  // the earliest completing unplaced operation
  bool runs_overflow = false;       // unknown because a step had too many options
  // Set when a quick check refuted the key before any search: why `deadline`
  // (then an operation no linearization can place) cannot be placed.
  std::string refutation;
};

// `operations`: the valid ok and indeterminate non-read operations of one
// key (see validate_lin_ops). Deterministic: the result depends only on the
// operations and their order.
KeyResult search_key(const std::vector<const LinOp*>& operations, LinModel model,
                     std::uint64_t max_states);

}  // namespace crdtsim::harness::linearizability
