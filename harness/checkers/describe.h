#pragma once
// Short, human-readable summaries of key states for checker explanations.

#include <string>

#include "core/crdt/causal_context.h"
#include "core/store/key_state.h"
#include "harness/history.h"

namespace crdtsim::harness {

// E.g. "register \"c1-7\" @(12,0,r2)", "counter 14", "set {a, b}" (at most a
// handful of elements, then "... (n more)"), "map {f1=v, f2=w}", "none".
std::string describe(const core::KeyState* state);
std::string describe(const core::LwwTimestamp& timestamp);

// E.g. "op 57 (session 3: GET sent to r1, executed by r2, invoked 1.234567 s)".
std::string describe(const Operation& op);

// A dot of `wanted` that `held` lacks (the greatest such counter of the first
// replica that has one); {0, 0} when `held` includes `wanted`.
core::Dot first_missing_dot(const core::CausalContext& wanted, const core::CausalContext& held);

}  // namespace crdtsim::harness
