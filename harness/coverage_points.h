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
// Tombstone GC collected a whole key / map field tombstones. Not declared:
// only scenarios with cluster.tombstone_gc enabled can reach them.
inline constexpr std::string_view kGcKeyCollected = "gc.key_collected";
inline constexpr std::string_view kGcFieldsCollected = "gc.fields_collected";

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

// Every point a run declares (with 0 hits until reached).
inline constexpr std::array<std::string_view, 9> kDeclared = {
    kRecoveredFromDisk,      kForwardTimeout,           kAntiEntropyRoundAgreed,
    kAntiEntropyRepairedKey, kGossipPeerBufferDropped,  kRecoveredCrashedReplica,
    kIndeterminateOp,        kHealedWithDeltasInFlight, kConcurrentAddRemove,
};

}  // namespace crdtsim::harness::coverage
