#pragma once
// Coverage point names ("sometimes" assertions) that the harness declares in
// every run, so a sweep can report the ones no seed reached. Stable strings:
// sweep reports and docs/harness.md refer to them by name.

#include <array>
#include <string_view>

namespace crdtsim::harness::coverage {

// Marked by the store (core::Output::coverage), forwarded by the adapter.
inline constexpr std::string_view kRecoveredFromDisk = "replica.recovered_from_disk";
inline constexpr std::string_view kForwardTimeout = "forward.timeout";
inline constexpr std::string_view kAntiEntropyRoundAgreed = "anti_entropy.round_agreed";
inline constexpr std::string_view kAntiEntropyRepairedKey = "anti_entropy.repaired_key";
inline constexpr std::string_view kGossipPeerBufferDropped = "gossip.peer_buffer_dropped";
// A replica decided to raise a hot key's replication, or to lower it again.
inline constexpr std::string_view kHotKeyPromoted = "hot_key.promoted";
inline constexpr std::string_view kHotKeyDemoted = "hot_key.demoted";
// Tombstone GC collected a whole key / map field tombstones. Not declared:
// only scenarios with cluster.tombstone_gc enabled can reach them.
inline constexpr std::string_view kGcKeyCollected = "gc.key_collected";
inline constexpr std::string_view kGcFieldsCollected = "gc.fields_collected";
// ... a whole dead key holding an OR-Set or PN-counter slot (its causal
// context went with it). Not declared either.
inline constexpr std::string_view kGcCausalKeyCollected = "gc.causal_key_collected";

// Membership (docs/membership.md). Marked by the store: a replica joined the
// ring / decommissioned itself / dropped a key it no longer replicates once
// every replica of the key acknowledged it. Marked by the nemesis: a
// membership change, or a cut while hand-offs are pending, with some
// replica-to-replica link cut.
inline constexpr std::string_view kMembershipJoined = "membership.joined";
inline constexpr std::string_view kMembershipLeft = "membership.left";
inline constexpr std::string_view kMembershipKeyHandedOff = "membership.key_handed_off";
inline constexpr std::string_view kMembershipHandoffDuringPartition =
    "membership.handoff_during_partition";

// Marked by the harness.
// The adapter: a replica that had crashed and restarted repaired a key
// through anti-entropy.
inline constexpr std::string_view kRecoveredCrashedReplica =
    "anti_entropy.recovered_crashed_replica";
// A client op timed out or came back UNAVAILABLE, leaving it indeterminate.
inline constexpr std::string_view kIndeterminateOp = "client.indeterminate_op";
// The nemesis healed a partition while some replica still had unacknowledged
// deltas in its log.
inline constexpr std::string_view kHealedWithDeltasInFlight =
    "nemesis.partition_healed_with_deltas_in_flight";
// From the history: an SREM and an SADD of the same element of the same key,
// overlapping in time and sent to different replicas.
inline constexpr std::string_view kConcurrentAddRemove = "store.concurrent_add_remove";
// The adapter: a disk write was refused (the simulated disk's limits). Not
// declared: it is a situation no seed should reach, not a coverage goal.
inline constexpr std::string_view kDiskWriteRefused = "adapter.disk_write_refused";

// Marked by the store: a replica refused a command whose session token it was
// behind (SESSION_BEHIND) and fetched the missing state.
inline constexpr std::string_view kSessionReplicaBehind = "session.replica_behind_token";
// Marked by the store at the causal level: a delta held back until its causal
// past arrived was applied.
inline constexpr std::string_view kCausalBufferedDeltaApplied = "causal.buffered_delta_applied";
// Marked by the store at the causal level: a read (GET, MGET) returned a
// register's concurrent writes as two or more distinct sibling values.
inline constexpr std::string_view kCausalSiblingsReturned = "causal.siblings_returned";
// Marked by the store at the causal level: an MGET's parts returned states
// of which one missed another's causal past, so parts were read again.
inline constexpr std::string_view kCausalMgetSnapshotReread = "causal.mget_snapshot_reread";
// Declared only by runs whose workload has sessions.
inline constexpr std::array<std::string_view, 1> kDeclaredWithSessions = {kSessionReplicaBehind};
// Declared only by runs at the causal level.
inline constexpr std::array<std::string_view, 3> kDeclaredCausal = {
    kCausalBufferedDeltaApplied, kCausalSiblingsReturned, kCausalMgetSnapshotReread};
// Every point a run declares (with 0 hits until reached).
inline constexpr std::array<std::string_view, 9> kDeclared = {
    kRecoveredFromDisk,      kForwardTimeout,           kAntiEntropyRoundAgreed,
    kAntiEntropyRepairedKey, kGossipPeerBufferDropped,  kRecoveredCrashedReplica,
    kIndeterminateOp,        kHealedWithDeltasInFlight, kConcurrentAddRemove,
};
// Declared only by runs with hot keys enabled (a run without them cannot
// reach them, and must not report them as missed).
inline constexpr std::array<std::string_view, 2> kDeclaredHotKeys = {
    kHotKeyPromoted,
    kHotKeyDemoted,
};
// Declared only by runs that use membership (harness/scenario.h,
// membership_in_use).
inline constexpr std::array<std::string_view, 4> kDeclaredMembership = {
    kMembershipJoined,
    kMembershipLeft,
    kMembershipKeyHandedOff,
    kMembershipHandoffDuringPartition,
};

}  // namespace crdtsim::harness::coverage
