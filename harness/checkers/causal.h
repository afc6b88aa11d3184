#pragma once
// Causal consistency over a history (the causal level, docs/consistency.md):
// no operation observes a state of a key that misses an update in the
// causal past of what its session observed before, on any key.
//
// Happened-before, from the history alone (black box but for the update dots
// replies report):
// - session order: every operation of a session follows its earlier ones;
// - reads-from: an operation observed a write when the versions its reply
//   returned for a key contain the write's update dot (ReplyMetadata::updates
//   tells which write made which dot).
// The causal past of a write W is everything W's session had observed when W
// was invoked: the updates its earlier operations returned, and, for every
// write among them, that write's causal past (transitively).
//
// Rule checked: an ok operation's versions for each key it names include
// every update of that key in its session's observed causal past. And a
// write an operation observes for the first time comes with its past: the
// state returned of its key holds the write's past of that key and, for an
// MGET (a causal snapshot of the keys it names), so does the state returned
// of every other key the MGET names. The first
// violation names the session, the operation, the key, the missing update,
// the write that made it and the observation that brought it into the past.
//
// Multi-value registers (reads whose reply lists ReplyMetadata::siblings):
// a read returns exactly the writes of its state (its versions) that no
// other write of that state had observed, where what an acknowledged write
// observed is its reply's versions (its replica replaced all of it). So a
// returned sibling must be in the state and not replaced by a write in it;
// a write in the state that no write in it replaced must be returned
// (unless the state holds an update nobody acknowledged, which may have
// replaced it); and the values returned must be those the siblings' writes
// wrote. Every sibling is read from: its update is in the state returned,
// so rule 1 below and the exposure check cover its causal past.
//
// Sound with indeterminate writes: a write whose reply never came has no
// known dots, so it contributes no causal past (never a false violation).
// Events run in time order, invocations before completions at equal times: a
// write visible to a read was invoked before the read completed.

#include "harness/history.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

inline constexpr const char* kCausalConsistency = "causal_consistency";

Verdict check_causal_consistency(const History& history);

}  // namespace crdtsim::harness
