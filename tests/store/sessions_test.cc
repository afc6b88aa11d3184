// Version tracking, session tokens and LWW timestamp sources: the store side
// of session guarantees (docs/consistency.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/write_clock.h"
#include "core/codec/bytes.h"
#include "core/replication/peer_messages.h"
#include "core/store/command.h"
#include "core/store/key_state.h"
#include "core/store/keyspace.h"
#include "tests/store/store_driver.h"

namespace crdtsim::core {
namespace {

using testing::DriverOptions;
using testing::StoreDriver;

Command command(CommandKind kind, std::vector<std::string> keys,
                std::vector<std::string> args = {}) {
  Command result;
  result.kind = kind;
  result.keys = std::move(keys);
  result.args = std::move(args);
  return result;
}

// ---- keyspace: versions -------------------------------------------------

TEST(Versions, EachWriteAddsOneDotToTheStateAndCarriesItInItsDelta) {
  Keyspace keyspace;
  WriteClock clock;
  const ExecuteOptions tracking{.track_versions = true};
  const Execution first =
      keyspace.execute(command(CommandKind::set, {"k"}, {"a"}), 7, clock, tracking);
  const Execution second =
      keyspace.execute(command(CommandKind::sadd, {"s"}, {"x"}), 7, clock, tracking);
  const Execution third =
      keyspace.execute(command(CommandKind::set, {"k"}, {"b"}), 7, clock, tracking);
  ASSERT_EQ(third.deltas.size(), 1u);
  EXPECT_TRUE(third.deltas[0].second.versions().contains(Dot{7, 2}));
  EXPECT_FALSE(third.deltas[0].second.versions().contains(Dot{7, 1}))
      << "a delta carries only its own update's dot";
  EXPECT_EQ(keyspace.find("k")->versions().max_counter(7), 2u);
  EXPECT_EQ(keyspace.find("s")->versions().max_counter(7), 1u) << "dots count per key";
  ASSERT_EQ(third.reply.metadata.tracking->versions.size(), 1u);
  EXPECT_EQ(third.reply.metadata.tracking->versions[0].first, "k");
  EXPECT_EQ(third.reply.metadata.tracking->versions[0].second, keyspace.find("k")->versions());
  (void)first;
  (void)second;
  const Execution read = keyspace.execute(command(CommandKind::get, {"k"}), 7, clock, tracking);
  ASSERT_EQ(read.reply.metadata.tracking->versions.size(), 1u) << "reads report versions too";
}

TEST(Versions, OffByDefaultSoStatesKeepTheirBytes) {
  Keyspace plain;
  Keyspace tracked;
  WriteClock clock_a;
  WriteClock clock_b;
  plain.execute(command(CommandKind::set, {"k"}, {"a"}), 1, clock_a, ExecuteOptions{});
  tracked.execute(command(CommandKind::set, {"k"}, {"a"}), 1, clock_b,
                  ExecuteOptions{.track_versions = true});
  EXPECT_TRUE(plain.find("k")->versions().empty());
  const Bytes plain_bytes = encode(*plain.find("k"));
  const Bytes tracked_bytes = encode(*tracked.find("k"));
  EXPECT_GT(tracked_bytes.size(), plain_bytes.size());
  const Decoded<KeyState> decoded = decode<KeyState>(tracked_bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded.value, *tracked.find("k"));
}

TEST(Versions, DecoderRejectsVersionsThatAreNotTheLastEntry) {
  Keyspace tracked;
  WriteClock clock;
  tracked.execute(command(CommandKind::set, {"k"}, {"a"}), 1, clock,
                  ExecuteOptions{.track_versions = true});
  Bytes bytes;
  Encoder encoder(bytes);
  const KeyState& state = *tracked.find("k");
  // Count 3: the versions entry followed by a stray register slot.
  encoder.varint(3);
  for (const auto& [type, slot] : state.slots()) {
    encoder.u8(static_cast<std::uint8_t>(type));
    slot.claim.encode_body(encoder);
    std::get<LwwRegister>(slot.value).encode_body(encoder);
  }
  encoder.u8(0xff);
  state.versions().encode_body(encoder);
  encoder.u8(static_cast<std::uint8_t>(ValueType::g_set));
  Decoder decoder(bytes);
  (void)KeyState::decode_body(decoder);
  EXPECT_FALSE(decoder.ok());
}

TEST(Versions, MergeJoinsVersionsAndReportsTheChange) {
  Keyspace a;
  Keyspace b;
  WriteClock clock_a;
  WriteClock clock_b;
  const ExecuteOptions tracking{.track_versions = true};
  const Execution from_a =
      a.execute(command(CommandKind::sadd, {"s"}, {"x"}), 1, clock_a, tracking);
  const Execution from_b =
      b.execute(command(CommandKind::sadd, {"s"}, {"y"}), 2, clock_b, tracking);
  EXPECT_TRUE(a.apply("s", from_b.deltas[0].second));
  EXPECT_FALSE(a.apply("s", from_b.deltas[0].second)) << "a duplicate changes nothing";
  EXPECT_TRUE(a.find("s")->versions().contains(Dot{2, 1}));
  EXPECT_TRUE(a.find("s")->versions().contains(Dot{1, 1}));
  (void)from_a;
}

// ---- timestamp sources --------------------------------------------------

TEST(WriteClock, LamportAndHlcWriteAfterWhatTheKeyHoldsPhysicalDoesNot) {
  // The key holds a write at time 5,000,000 (a peer whose clock ran ahead);
  // this replica's physical clock reads 1,000,000.
  for (const TimestampSource source :
       {TimestampSource::lamport, TimestampSource::hlc, TimestampSource::physical}) {
    WriteClock clock(source);
    clock.set_physical_now(1'000'000);
    const LwwTimestamp seen{5'000'000, 3, 9};
    const LwwTimestamp fresh = clock.fresh(seen.time, seen.logical, 1);
    if (source == TimestampSource::physical) {
      EXPECT_LT(fresh, seen) << "physical time alone loses the later write";
      EXPECT_EQ(fresh.time, 1'000'000u);
    } else {
      EXPECT_GT(fresh, seen) << "source " << static_cast<int>(source);
    }
  }
}

TEST(WriteClock, HlcStaysNearPhysicalTimeAndNeverGoesBack) {
  WriteClock clock(TimestampSource::hlc);
  clock.set_physical_now(2'000'000);
  const LwwTimestamp first = clock.fresh(0, 0, 1);
  EXPECT_EQ(first.time, 2'000'000u);
  clock.set_physical_now(1'500'000);  // the clock jumped back
  const LwwTimestamp second = clock.fresh(0, 0, 1);
  EXPECT_GT(second, first);
  WriteClock physical(TimestampSource::physical);
  physical.set_physical_now(2'000'000);
  const LwwTimestamp before = physical.fresh(0, 0, 1);
  const LwwTimestamp same_us = physical.fresh(0, 0, 1);
  EXPECT_GT(same_us, before) << "a counter orders writes within one microsecond";
  physical.set_physical_now(1'500'000);
  EXPECT_LT(physical.fresh(0, 0, 1), before) << "a jump back reorders physical timestamps";
}

// ---- replicas: the session token ------------------------------------------

DriverOptions isolated_replicas(PlantedBug bug = PlantedBug::none) {
  // No gossip and no anti-entropy: a write stays where it was made unless a
  // replica fetches it.
  return DriverOptions{.replicas = 2,
                       .replication_factor = 2,
                       .gossip = false,
                       .anti_entropy = false,
                       .planted_bug = bug,
                       .track_versions = true};
}

TEST(SessionToken, ReplicaBehindTheTokenRefusesThenFetchesAndServes) {
  StoreDriver driver(isolated_replicas(), 3);
  const auto set = driver.execute(0, command(CommandKind::set, {"k"}, {"v"}));
  ASSERT_TRUE(set);
  ASSERT_EQ(set->status, ReplyStatus::ok);
  ASSERT_EQ(set->metadata.tracking->versions.size(), 1u);
  Command get = command(CommandKind::get, {"k"});
  get.session = set->metadata.tracking->versions;  // the session wrote k at replica 0
  const auto refused = driver.execute(1, get);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, ReplyStatus::session_behind) << refused->error;
  EXPECT_EQ(driver.replica(1)->stats().session_behind, 1u);
  EXPECT_GE(driver.replica(1)->stats().session_pulls, 1u);
  driver.run_for(50'000);  // the fetch completes
  const auto served = driver.execute(1, get);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, ReplyStatus::ok);
  EXPECT_EQ(served->value.text, "v") << "read your writes at another replica";
}

// A forward that reaches a replica not replicating the key (its coordinator
// routed by an older hot-key table: the replica was a ready extra, demoted
// since, and kept a stray copy that takes no deltas) is checked against the
// session token like any command. It was executed as is unless membership
// changes were on: a sweep of sessions with hot keys and no membership
// changes read a stale stray copy (read_your_writes, 3 of 10,000 seeds).
TEST(SessionToken, AForwardToAReplicaThatDoesNotReplicateTheKeyChecksTheToken) {
  StoreDriver driver({.replicas = 3,
                      .replication_factor = 1,
                      .gossip = false,
                      .anti_entropy = false,
                      .track_versions = true},
                     3);
  const std::string key = "k";
  const ReplicaId owner = driver.replica(0)->replicas_of(key).front();
  const ReplicaId other = (owner + 1) % 3;
  const ReplicaId coordinator = (owner + 2) % 3;
  const auto set = driver.execute(owner, command(CommandKind::set, {key}, {"v"}));
  ASSERT_TRUE(set);
  ASSERT_EQ(set->status, ReplyStatus::ok);
  Command get = command(CommandKind::get, {key});
  get.session = set->metadata.tracking->versions;  // the session wrote k at its owner
  driver.inject(coordinator, other, encode_frame(ForwardRequest{7, get}));
  driver.run_for(10'000);
  EXPECT_EQ(driver.replica(other)->stats().session_behind, 1u)
      << "a replica without the session's write served its read";
}

TEST(SessionToken, PlantedBugServesAStaleRead) {
  StoreDriver driver(isolated_replicas(PlantedBug::session_ignore_token), 3);
  const auto set = driver.execute(0, command(CommandKind::set, {"k"}, {"v"}));
  ASSERT_TRUE(set);
  Command get = command(CommandKind::get, {"k"});
  get.session = set->metadata.tracking->versions;
  const auto stale = driver.execute(1, get);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, ReplyStatus::ok);
  EXPECT_EQ(stale->value.kind, ReplyValue::Kind::nil) << "the broken replica ignores the token";
}

TEST(SessionToken, CommandsWithoutTokenAreServedAsBefore) {
  StoreDriver driver(isolated_replicas(), 3);
  ASSERT_TRUE(driver.execute(0, command(CommandKind::set, {"k"}, {"v"})));
  const auto get = driver.execute(1, command(CommandKind::get, {"k"}));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, ReplyStatus::ok);
  EXPECT_EQ(get->value.kind, ReplyValue::Kind::nil) << "eventual: no guarantee without a session";
}

// A multi-key write one part of which is refused (SESSION_BEHIND: nothing
// changed) while another part's forward times out (it may have written) is
// indeterminate, whichever part comes first: answering the refusal would tell
// the client the whole write failed. (everything-swarm seed 213: an MSET
// recorded as failed had written one key.)
TEST(SessionToken, MultiKeyWriteWithARefusedPartAndATimedOutPartIsIndeterminate) {
  DriverOptions options = isolated_replicas();
  options.replication_factor = 1;
  StoreDriver driver(options, 3);
  std::string here;   // replicated by replica 0 only
  std::string there;  // replicated by replica 1 only
  for (int index = 0; index < 64 && (here.empty() || there.empty()); ++index) {
    const std::string key = "k" + std::to_string(index);
    const std::vector<ReplicaId> owners = driver.replica(0)->replicas_of(key);
    ASSERT_EQ(owners.size(), 1u);
    (owners.front() == 0 ? here : there) = key;
  }
  ASSERT_FALSE(here.empty());
  ASSERT_FALSE(there.empty());
  driver.crash(1);  // the forward of `there` times out
  CausalContext unseen;
  unseen.add(Dot{9, 1});  // an update replica 0 does not hold
  for (const bool refused_first : {true, false}) {
    Command mset = refused_first ? command(CommandKind::mset, {here, there}, {"a", "b"})
                                 : command(CommandKind::mset, {there, here}, {"b", "a"});
    merge_key_versions(mset.session, here, unseen);
    const auto reply = driver.execute(0, mset);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, ReplyStatus::unavailable)
        << "refused part first: " << refused_first << ", " << reply->error;
  }
}

}  // namespace
}  // namespace crdtsim::core

// ---- the causal level: deltas wait for their causal past -------------------

namespace crdtsim::core {
namespace {

// Two deltas of key k made at "replica 0" (writer 0): the second was written
// by a session that had seen the first, so it depends on it.
std::pair<KeyState, KeyState> dependent_deltas() {
  Keyspace writer;
  WriteClock clock;
  Command first = command(CommandKind::sadd, {"k"}, {"x"});
  const KeyVersions none;
  const Execution one = writer.execute(
      first, 0, clock, ExecuteOptions{.track_versions = true, .dependencies = &none});
  Command second = command(CommandKind::sadd, {"k"}, {"y"});
  const KeyVersions past = one.reply.metadata.tracking->versions;  // the session saw r0:1
  const Execution two = writer.execute(
      second, 0, clock, ExecuteOptions{.track_versions = true, .dependencies = &past});
  return {one.deltas.at(0).second, two.deltas.at(0).second};
}

Bytes batch_frame(std::uint64_t seq, const KeyState& delta, const std::string& key = "k") {
  DeltaBatch batch;
  batch.first_seq = seq;
  batch.last_seq = seq;
  batch.entries.push_back(DeltaBatch::Entry{key, 0, delta});
  return encode_frame(batch);
}

DriverOptions causal_replicas(PlantedBug bug = PlantedBug::none) {
  return DriverOptions{.replicas = 2,
                       .replication_factor = 2,
                       .gossip = false,
                       .anti_entropy = false,
                       .planted_bug = bug,
                       .track_versions = true,
                       .causal = true};
}

TEST(CausalOrder, ADeltaWaitsForTheUpdateItDependsOnThenBothApply) {
  const auto [earlier, later] = dependent_deltas();
  StoreDriver driver(causal_replicas(), 5);
  driver.inject(0, 1, batch_frame(2, later));
  driver.run_for(10'000);
  EXPECT_EQ(driver.replica(1)->stats().causal_buffered, 1u);
  EXPECT_EQ(driver.replica(1)->keyspace().find("k"), nullptr) << "held back, not applied";
  driver.inject(0, 1, batch_frame(1, earlier));
  driver.run_for(10'000);
  const KeyState* state = driver.replica(1)->keyspace().find("k");
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->versions().contains(Dot{0, 1}));
  EXPECT_TRUE(state->versions().contains(Dot{0, 2})) << "the held-back delta applied after";
  EXPECT_EQ(state->value<ORSet>()->size(), 2u);
}

// Two deltas of `key` by different writers: writer 0's update, then writer
// 2's, made after seeing it (so it depends on writer 0's update).
std::pair<KeyState, KeyState> dependent_deltas_of_two_writers(const std::string& key) {
  Keyspace writer;
  WriteClock clock;
  const KeyVersions none;
  const Execution one =
      writer.execute(command(CommandKind::sadd, {key}, {"x"}), 0, clock,
                     ExecuteOptions{.track_versions = true, .dependencies = &none});
  const KeyVersions past = one.reply.metadata.tracking->versions;
  const Execution two =
      writer.execute(command(CommandKind::sadd, {key}, {"y"}), 2, clock,
                     ExecuteOptions{.track_versions = true, .dependencies = &past});
  return {one.deltas.at(0).second, two.deltas.at(0).second};
}

// A delta held back for its past stays held back when its key moves away
// (here a join takes keys from replica 1; a hot key's demotion does the
// same). Found by a sweep of causal sessions with hot keys and a join or
// leave every 50 ms: the buffer was drained by the next delta applied to
// any key, and a held-back delta of a key replica 1 no longer replicated
// was applied without its past (its own key's dependencies were skipped
// like those of keys held elsewhere). The copy was served again once the
// key came back, exposing writer 2's update without writer 0's.
TEST(CausalOrder, AHeldBackDeltaOfAKeyThatMovedAwayIsNotAppliedWithoutItsPast) {
  StoreDriver driver({.replicas = 5,
                      .replication_factor = 2,
                      .gossip = false,
                      .anti_entropy = false,
                      .track_versions = true,
                      .causal = true,
                      .initial_members = {0, 1, 2, 3}},
                     5);
  std::vector<std::string> held;  // keys of replica 1 with a held-back delta
  for (int index = 0; index < 64; ++index) {
    const std::string key = "k" + std::to_string(index);
    const std::vector<ReplicaId> owners = driver.replica(1)->replicas_of(key);
    if (std::find(owners.begin(), owners.end(), ReplicaId{1}) == owners.end()) {
      continue;
    }
    driver.inject(2, 1,
                  batch_frame(held.size() + 1, dependent_deltas_of_two_writers(key).second, key));
    held.push_back(key);
  }
  driver.run_for(10'000);
  ASSERT_EQ(driver.replica(1)->stats().causal_buffered, held.size());
  ASSERT_TRUE(driver.change_membership(4, MembershipChange::join));
  driver.run_for(200'000);  // every process learns of the join
  std::size_t moved = 0;
  std::string kept;  // a key replica 1 still replicates
  for (const std::string& key : held) {
    const std::vector<ReplicaId> owners = driver.replica(1)->replicas_of(key);
    if (std::find(owners.begin(), owners.end(), ReplicaId{1}) == owners.end()) {
      moved += 1;
    } else if (kept.empty()) {
      kept = key;
    }
  }
  ASSERT_GT(moved, 0u) << "the join moved none of the keys away from replica 1";
  ASSERT_FALSE(kept.empty());
  // An update of a key replica 1 still replicates, with no past: applied at
  // once, it drains the buffer.
  driver.inject(3, 1, batch_frame(1, dependent_deltas_of_two_writers(kept).first, kept));
  driver.run_for(10'000);
  for (const std::string& key : held) {
    const KeyState* state = driver.replica(1)->keyspace().find(key);
    if (state != nullptr && state->versions().contains(Dot{2, 1})) {
      EXPECT_TRUE(state->versions().contains(Dot{0, 1}))
          << key << ": writer 2's update applied without writer 0's, which it depends on";
    }
  }
}

TEST(CausalOrder, PlantedBugAppliesADeltaBeforeItsPast) {
  const auto [earlier, later] = dependent_deltas();
  (void)earlier;
  StoreDriver driver(causal_replicas(PlantedBug::causal_apply_out_of_order), 5);
  driver.inject(0, 1, batch_frame(2, later));
  driver.run_for(10'000);
  const KeyState* state = driver.replica(1)->keyspace().find("k");
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->versions().contains(Dot{0, 2}));
  EXPECT_FALSE(state->versions().contains(Dot{0, 1})) << "exposed without its past";
}

// An MGET is one causal snapshot: replica 2 holds a state of b whose write
// depended on an update of a that a's only replica (1) lacks. Read through
// replica 0, b's part comes back with that dependency and a's part without
// the update, so a is read again with it in the token: replica 1 answers
// SESSION_BEHIND and the MGET fails (retryably) instead of returning b
// without its past. With the planted bug the MGET returns both as read.
struct SnapshotSetup {
  std::string a;  // replicated by replica 1 only
  std::string b;  // replicated by replica 2 only
  KeyState a_delta;
  KeyState b_delta;  // depends on a_delta's update
};

// Finds the keys, makes the two deltas and delivers b's to replica 2.
SnapshotSetup snapshot_setup(StoreDriver& driver) {
  SnapshotSetup setup;
  for (int index = 0; index < 64 && (setup.a.empty() || setup.b.empty()); ++index) {
    const std::string key = "k" + std::to_string(index);
    const std::vector<ReplicaId> owners = driver.replica(0)->replicas_of(key);
    if (owners.size() == 1 && owners.front() == 1 && setup.a.empty()) {
      setup.a = key;
    } else if (owners.size() == 1 && owners.front() == 2 && setup.b.empty()) {
      setup.b = key;
    }
  }
  if (setup.a.empty() || setup.b.empty()) {
    return setup;  // the tests assert on it
  }
  Keyspace writer;
  WriteClock clock;
  const KeyVersions none;
  const ExecuteOptions first{
      .track_versions = true, .dependencies = &none, .multi_value_registers = true};
  const Execution one =
      writer.execute(command(CommandKind::set, {setup.a}, {"x"}), 9, clock, first);
  const KeyVersions past = one.reply.metadata.tracking->versions;  // the session saw a's r9:1
  const ExecuteOptions second{
      .track_versions = true, .dependencies = &past, .multi_value_registers = true};
  const Execution two =
      writer.execute(command(CommandKind::set, {setup.b}, {"y"}), 9, clock, second);
  setup.a_delta = one.deltas.at(0).second;
  setup.b_delta = two.deltas.at(0).second;
  driver.inject(0, 2, batch_frame(1, setup.b_delta, setup.b));
  driver.run_for(10'000);
  return setup;
}

DriverOptions snapshot_replicas(PlantedBug bug) {
  DriverOptions options = causal_replicas(bug);
  options.replicas = 3;
  options.replication_factor = 1;
  return options;
}

TEST(CausalOrder, MgetReadsAPartAgainWhenAnotherPartDependsOnWhatItMisses) {
  StoreDriver driver(snapshot_replicas(PlantedBug::none), 7);
  const SnapshotSetup setup = snapshot_setup(driver);
  ASSERT_FALSE(setup.a.empty());
  ASSERT_FALSE(setup.b.empty());
  ASSERT_NE(driver.replica(2)->keyspace().find(setup.b), nullptr);
  const auto torn = driver.execute(0, command(CommandKind::mget, {setup.a, setup.b}));
  ASSERT_TRUE(torn);
  EXPECT_EQ(torn->status, ReplyStatus::session_behind) << torn->error;
  EXPECT_EQ(driver.replica(0)->stats().mget_snapshot_rereads, 1u);
  EXPECT_EQ(driver.replica(1)->stats().session_behind, 1u) << "a was read again with the past";
  // Once a's replica holds the update, the MGET is one snapshot.
  driver.inject(0, 1, batch_frame(1, setup.a_delta, setup.a));
  driver.run_for(10'000);
  const auto whole = driver.execute(0, command(CommandKind::mget, {setup.a, setup.b}));
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, ReplyStatus::ok) << whole->error;
  const CausalContext* a_seen = find_key_versions(whole->metadata.tracking->versions, setup.a);
  ASSERT_NE(a_seen, nullptr);
  EXPECT_TRUE(a_seen->contains(Dot{9, 1}));
  EXPECT_EQ(driver.replica(0)->stats().mget_snapshot_rereads, 1u) << "no gap the second time";
}

TEST(CausalOrder, PlantedBugAnswersAnMgetThatIsNoSnapshot) {
  StoreDriver driver(snapshot_replicas(PlantedBug::mget_no_snapshot), 7);
  const SnapshotSetup setup = snapshot_setup(driver);
  ASSERT_FALSE(setup.a.empty());
  ASSERT_FALSE(setup.b.empty());
  const auto torn = driver.execute(0, command(CommandKind::mget, {setup.a, setup.b}));
  ASSERT_TRUE(torn);
  ASSERT_EQ(torn->status, ReplyStatus::ok) << torn->error;
  const CausalContext* a_seen = find_key_versions(torn->metadata.tracking->versions, setup.a);
  EXPECT_TRUE(a_seen == nullptr || !a_seen->contains(Dot{9, 1}))
      << "b returned without the update of a it depends on";
  EXPECT_EQ(driver.replica(0)->stats().mget_snapshot_rereads, 0u);
}

}  // namespace
}  // namespace crdtsim::core
