#pragma once
// Session guarantees (Terry, Demers, Petersen, Spreitzer, Theimer and Welch,
// "Session Guarantees for Weakly Consistent Replicated Data", PDIS 1994),
// checked over a history, one verdict each:
//
// - read_your_writes:    a read observes the session's earlier writes;
// - monotonic_reads:     a read observes whatever the session read before;
// - monotonic_writes:    a write is ordered after the session's earlier writes;
// - writes_follow_reads: a write is ordered after what the session read.
//
// Per key, two kinds of evidence, both from the replies of ok operations:
// 1. Versions (every key type): the update dots the executing replica's state
//    held after the operation (ReplyMetadata::versions). What an operation
//    observed is that whole set: a read observes the state, and a write is
//    applied on top of the state it supersedes or builds on. An operation of
//    the session must return versions including everything its earlier
//    operations on the key returned; which guarantee a gap breaks depends on
//    the earlier operation (write or read) and the later one (read or write).
// 2. LWW order (registers: SET, MSET, DEL, GET, MGET): a later write's
//    timestamp must be greater than every timestamp the session wrote or read
//    on the key (else the later write loses to an earlier one: the loss that
//    physical timestamps under clock skew cause), and a read must return a
//    timestamp at least as great as those. Multi-value registers (the causal
//    level) are not ordered by timestamps and their replies list none, so
//    only the version evidence applies to them (and causal.h checks their
//    siblings).
//
// Failed and indeterminate operations observe nothing and are not checked.
// Operations of one session are taken in invoke order (a client has at most
// one outstanding operation). Requires: the history of a run with version
// tracking on (sessions); an operation without version metadata for a key
// observed nothing of it.

#include <vector>

#include "harness/history.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

inline constexpr const char* kReadYourWrites = "read_your_writes";
inline constexpr const char* kMonotonicReads = "monotonic_reads";
inline constexpr const char* kMonotonicWrites = "monotonic_writes";
inline constexpr const char* kWritesFollowReads = "writes_follow_reads";

// Four verdicts, in the order above.
std::vector<Verdict> check_session_guarantees(const History& history);

}  // namespace crdtsim::harness
