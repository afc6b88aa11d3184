// DeltaLog: interval acknowledgements, retransmission, routing exclusions and
// the backlog bound.
#include "core/replication/delta_log.h"

#include <gtest/gtest.h>

#include "core/store/keyspace.h"

namespace crdtsim::core {
namespace {

KeyState delta_of(const std::string& key) {
  Keyspace keyspace;
  LamportClock clock;
  Command command;
  command.kind = CommandKind::incr;
  command.keys = {key};
  return keyspace.execute(command, 0, clock).deltas.front().second;
}

// Every peer of these tests replicates every key unless a test says otherwise.
const std::vector<ReplicaId> kAll = {0, 1, 2, 3};

// Regression: an ack of a later batch used to advance the cursor past an
// earlier, lost batch, so its deltas were trimmed and never sent again
// (found by the gossip-only convergence property).
TEST(DeltaLog, AckPastALostBatchAcknowledgesNothing) {
  DeltaLog log(DeltaLog::Config{}, {1});
  log.append("a", 0, 0, delta_of("a"), 0, kAll);
  const auto lost = log.next_batch(1, 10);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->first_seq, 1u);
  log.append("b", 0, 0, delta_of("b"), 20, kAll);
  const auto delivered = log.next_batch(1, 30);
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->first_seq, 2u);
  log.on_ack(1, delivered->first_seq, delivered->last_seq, 40);
  EXPECT_EQ(log.size(), 2u) << "the lost batch's delta was trimmed";
  // After the retransmission timeout, the batch covers the gap again.
  const auto again = log.next_batch(1, 40 + DeltaLog::Config{}.retransmit_us);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->first_seq, 1u);
  EXPECT_EQ(again->entries.size(), 2u);
  log.on_ack(1, again->first_seq, again->last_seq, 300'000);
  EXPECT_EQ(log.size(), 0u);
}

TEST(DeltaLog, NeverSendsBackToTheWriterOrTheSender) {
  DeltaLog log(DeltaLog::Config{}, {1, 2, 3});
  log.append("k", 1, 2, delta_of("k"), 0, kAll);
  EXPECT_FALSE(log.next_batch(1, 10)) << "sent back to the writer";
  EXPECT_FALSE(log.next_batch(2, 10)) << "sent back to the sender";
  const auto batch = log.next_batch(3, 10);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->entries.front().origin, 1u);
}

TEST(DeltaLog, JoinsEntriesPerKeyAndRoutesOnlyToReplicasOfTheKey) {
  DeltaLog log(DeltaLog::Config{}, {1});
  log.append("k", 0, 0, delta_of("k"), 0, kAll);
  log.append("k", 0, 0, delta_of("k"), 0, kAll);
  const std::vector<ReplicaId> elsewhere = {0, 2};
  log.append("elsewhere", 0, 0, delta_of("elsewhere"), 0, elsewhere);
  const auto batch = log.next_batch(1, 10);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->entries.size(), 1u);
  EXPECT_EQ(batch->entries.front().key, "k");
}

// Routing tests a bit per replica below 64 and searches the key's replica
// list for larger ids: both must route exactly to the key's replicas.
TEST(DeltaLog, RoutesToReplicasOfTheKeyWhateverTheirIds) {
  DeltaLog log(DeltaLog::Config{}, {1, 2, 63, 64, 70});
  const std::vector<ReplicaId> replicas = {0, 2, 63, 70};
  log.append("k", 0, 0, delta_of("k"), 0, replicas);
  for (const ReplicaId peer : {2U, 63U, 70U}) {
    EXPECT_TRUE(log.next_batch(peer, 10)) << "not sent to replica " << peer;
  }
  for (const ReplicaId peer : {1U, 64U}) {
    EXPECT_FALSE(log.next_batch(peer, 10)) << "sent to replica " << peer;
  }
}

// next_batch_frame encodes the log's entries in place (an entry sent alone
// once, to another peer or again unacknowledged, reuses its bytes); it must
// send exactly the bytes of next_batch's batch, and move the cursors the
// same way.
TEST(DeltaLog, BatchFrameEqualsTheEncodedBatch) {
  const std::vector<ReplicaId> elsewhere = {0, 2};
  DeltaLog::Config config;
  for (const bool forget : {false, true}) {
    config.forget_unacked = forget;
    DeltaLog built(config, {1, 2});
    DeltaLog framed(config, {1, 2});
    for (DeltaLog* log : {&built, &framed}) {
      log->append("k", 0, 0, delta_of("k"), 0, kAll);
      log->append("b", 3, 2, delta_of("b"), 0, kAll);
      log->append("k", 3, 3, delta_of("k"), 0, kAll);  // joined, mixed origins
      log->append("elsewhere", 0, 0, delta_of("elsewhere"), 0, elsewhere);
    }
    // The second round retransmits what the first sent (no acks).
    for (const std::uint64_t now_us : {std::uint64_t{10}, 20 + config.retransmit_us}) {
      for (const ReplicaId peer : {1u, 2u}) {
        const auto batch = built.next_batch(peer, now_us);
        const auto frame = framed.next_batch_frame(peer, now_us);
        ASSERT_EQ(batch.has_value(), frame.has_value()) << "peer " << peer << " at " << now_us;
        if (batch) {
          EXPECT_EQ(encode_frame(*batch), *frame) << "peer " << peer << " at " << now_us;
        }
        EXPECT_EQ(built.size(), framed.size());
      }
    }
    EXPECT_EQ(built.stats().batches, framed.stats().batches);
  }
}

TEST(DeltaLog, StopsBufferingForAPeerPastTheBacklogBoundAndResumesWhenHeardFrom) {
  DeltaLog::Config config;
  config.peer_backlog_max = 3;
  DeltaLog log(config, {1});
  for (int index = 0; index < 5; ++index) {
    log.append("k", 0, 0, delta_of("k"), 0, kAll);
  }
  EXPECT_FALSE(log.next_batch(1, 10));
  EXPECT_FALSE(log.buffering_for(1));
  EXPECT_EQ(log.stats().buffers_dropped, 1u);
  EXPECT_EQ(log.size(), 0u) << "an abandoned backlog must not be kept";
  log.on_heard_from(1, 20);
  EXPECT_TRUE(log.buffering_for(1));
  log.append("k", 0, 0, delta_of("k"), 30, kAll);
  EXPECT_TRUE(log.next_batch(1, 40));
}

// Entries appended while a peer was not buffered count as acknowledged by it
// once it is heard from again; they used to stay until a later ack or
// append trimmed the log, which never came once writes stopped, and
// tombstone GC (which skips keys its log still holds) never collected them
// (a generated scenario: two replicas, one clock stepped 5 s ahead, so its
// first tick found the peer silent).
TEST(DeltaLog, EntriesAppendedWhileAPeerWasNotBufferedGoWhenItIsHeardFrom) {
  DeltaLog::Config config;
  config.peer_backlog_max = 3;
  DeltaLog log(config, {1});
  for (int index = 0; index < 5; ++index) {
    log.append("k", 0, 0, delta_of("k"), 0, kAll);
  }
  EXPECT_FALSE(log.next_batch(1, 10));
  ASSERT_FALSE(log.buffering_for(1));
  log.append("late", 0, 0, delta_of("late"), 15, kAll);
  EXPECT_EQ(log.size(), 1u);
  log.on_heard_from(1, 20);
  EXPECT_TRUE(log.buffering_for(1));
  EXPECT_EQ(log.size(), 0u) << "every peer has acknowledged it: nothing to keep";
  EXPECT_TRUE(log.keys().empty());
  EXPECT_FALSE(log.next_batch(1, 30));
}

}  // namespace
}  // namespace crdtsim::core
