#pragma once
// Short, human-readable summaries of key states for checker explanations.

#include <string>

#include "core/store/key_state.h"

namespace crdtsim::harness {

// E.g. "register \"c1-7\" @(12,0,r2)", "counter 14", "set {a, b}" (at most a
// handful of elements, then "... (n more)"), "map {f1=v, f2=w}", "none".
std::string describe(const core::KeyState* state);
std::string describe(const core::LwwTimestamp& timestamp);

}  // namespace crdtsim::harness
