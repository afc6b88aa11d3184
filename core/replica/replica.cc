#include "core/replica/replica.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

#include "core/codec/hash.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

namespace {

constexpr std::string_view kKeyRecordPrefix = "k/";

Bytes encode_u64(std::uint64_t value) {
  Bytes out;
  Encoder encoder(out);
  encoder.varint(value);
  return out;
}

// The Merkle leaf digest of a key's state: its canonical bytes, seeded by
// the key's hash (its token, HashRing::key_token(key) = hash64(key)).
std::uint64_t leaf_digest(std::uint64_t key_token, ByteView state_bytes) {
  return hash64(state_bytes, key_token);
}

std::span<const ReplicaId> as_span(const ReplicaList& list) {
  return {list.data(), list.size()};
}

std::optional<std::uint64_t> decode_u64(const Bytes& bytes) {
  Decoder decoder(bytes);
  const std::uint64_t value = decoder.varint();
  if (!decoder.ok() || !decoder.at_end()) {
    return std::nullopt;
  }
  return value;
}

// Uniform-enough choice among `count` items: the bias of a 64-bit draw
// reduced modulo a count below 2^16 is under 2^-48.
std::size_t choose(RandomSource& random, std::size_t count) {
  assert(count > 0);
  assert(count < (std::size_t{1} << 16));
  return static_cast<std::size_t>(random.next_u64() % count);
}

bool multi_key(CommandKind kind) {
  return kind == CommandKind::mset || kind == CommandKind::mget || kind == CommandKind::del ||
         kind == CommandKind::exists;
}

std::uint32_t extra_replicas_of(const ReplicaConfig& config) {
  return config.hot_keys.enabled ? config.hot_keys.extra_replicas : 0;
}

}  // namespace

std::string Replica::key_record(std::string_view key) {
  std::string record(kKeyRecordPrefix);
  record += key;
  return record;
}

std::shared_ptr<const RingSeed> RingSeed::of(const ReplicaConfig& config) {
  HashRing ring(config.members, config.virtual_nodes);
  KeyPlacement placement(ring, config.replication_factor, extra_replicas_of(config));
  return std::make_shared<const RingSeed>(RingSeed{std::move(ring), std::move(placement)});
}

Replica::Replica(ReplicaConfig config, const std::map<std::string, Bytes>& recovered)
    : config_(std::move(config)),
      ring_(config_.ring_seed ? config_.ring_seed->ring
                              : HashRing(config_.members, config_.virtual_nodes)),
      placement_(config_.ring_seed
                     ? config_.ring_seed->placement
                     : KeyPlacement(ring_, config_.replication_factor, extra_replicas_of(config_))),
      clock_(config_.timestamp_source),
      delta_log_(config_.delta_log, {}) {
  assert(config_.id < (1u << 16));
  assert(config_.replication_factor >= 1);
  // A seed must be the ring this replica would have built.
  assert(!config_.ring_seed ||
         (ring_.members() == config_.members && ring_.virtual_nodes() == config_.virtual_nodes &&
          placement_.factor() ==
              std::min<std::size_t>(config_.replication_factor, config_.members.size())));
  // Tombstone GC drops whole keys without their version dots (see docs).
  assert(!(config_.tombstone_gc.enabled && config_.track_versions));
  const std::vector<ReplicaId>& universe =
      config_.membership.enabled ? config_.membership.processes : config_.members;
  assert(std::find(universe.begin(), universe.end(), config_.id) != universe.end());
  for (const ReplicaId member : ring_.members()) {
    if (member != config_.id) {
      peers_.push_back(member);
    }
  }
  if (config_.membership.enabled) {
    assert(std::is_sorted(universe.begin(), universe.end()));
    membership_ = MembershipTable(universe, config_.members);
    std::copy_if(universe.begin(), universe.end(), std::back_inserter(processes_),
                 [this](ReplicaId process) { return process != config_.id; });
  }
  DeltaLog::Config log_config = config_.delta_log;
  log_config.forget_unacked = config_.planted_bug == PlantedBug::gossip_forget_unacked;
  // With membership on, the log knows every process: a peer that joins later
  // is routed deltas from then on (one routed nothing acknowledges trivially).
  delta_log_ = DeltaLog(log_config, others());
  anti_entropy_.skip_last_subtree = config_.planted_bug == PlantedBug::ae_skip_last_subtree;
  if (config_.hot_keys.enabled) {
    hot_counter_ = SlidingHeavyHitters(config_.hot_keys.sub_windows, config_.hot_keys.capacity);
  }
  recover(recovered);
}

void Replica::recover(const std::map<std::string, Bytes>& recovered) {
  if (const auto found = recovered.find(std::string(kIncarnationRecord));
      found != recovered.end()) {
    incarnation_ = decode_u64(found->second).value_or(0) + 1;
  }
  if (const auto found = recovered.find(std::string(kClockRecord)); found != recovered.end()) {
    clock_ceiling_ = decode_u64(found->second).value_or(0);
    clock_ = WriteClock(config_.timestamp_source, LamportClock(clock_ceiling_));
  }
  if (const auto found = recovered.find(std::string(kGcTimeFloorRecord));
      found != recovered.end()) {
    Decoder decoder(found->second);
    const std::uint64_t time = decoder.varint();
    const std::uint32_t logical = decoder.varint32();
    if (decoder.ok() && decoder.at_end()) {
      gc_time_floor_ = LwwTimestamp{time, logical, 0};
      clock_.observe(time, logical);
    } else {
      stats_.recovered_corrupt += 1;
    }
  }
  if (const auto found = recovered.find(std::string(kGcDotFloorRecord));
      found != recovered.end() && config_.durable) {
    // Volatile replicas never write it: a restart gets a new writer id.
    const std::optional<std::uint64_t> floor = decode_u64(found->second);
    if (floor.has_value()) {
      gc_dot_floor_ = *floor;
    } else {
      stats_.recovered_corrupt += 1;
    }
  }
  assert(incarnation_ < (1u << 16));
  writer_id_ =
      config_.durable ? config_.id : static_cast<ReplicaId>((incarnation_ << 16) | config_.id);
  // A round waits at least a forward timeout (the store's bound on a round
  // trip), however short the GC interval.
  gc_.start(
      incarnation_, config_.membership.enabled,
      TombstoneGc::round_ticks_for(config_.tombstone_gc.interval_us, config_.forward_timeout_us));
  if (config_.membership.enabled) {
    recover_membership(recovered);  // before the keys: it decides which are strays
  }
  if (!config_.durable) {
    return;
  }
  for (const auto& [record, bytes] : recovered) {
    if (!record.starts_with(kKeyRecordPrefix)) {
      continue;
    }
    const Decoded<KeyState> state = decode<KeyState>(bytes);
    if (!state) {
      stats_.recovered_corrupt += 1;
      continue;
    }
    const std::string key = record.substr(kKeyRecordPrefix.size());
    keyspace_.apply(key, *state.value);
    const LwwTimestamp seen = state.value->max_timestamp();
    clock_.observe(state.value->max_time(), seen.logical);
    mark_dirty(key);
    stats_.recovered_keys += 1;
    if (handoff_enabled() && !replicates(config_.id, key)) {
      strays_[key];  // not this replica's key (any more): hand it off
    }
  }
}

Output Replica::start(std::uint64_t now_us, RandomSource& random) {
  (void)now_us;
  Output out;
  out.storage.push_back(StorageWrite{std::string(kIncarnationRecord), encode_u64(incarnation_)});
  persist_clock(out);
  out.sync = true;
  // Random first offsets keep replicas from ticking in lockstep.
  out.timers.push_back(
      TimerRequest{ReplicaTimer::gossip, 1 + random.next_u64() % config_.gossip_interval_us, 0});
  out.timers.push_back(TimerRequest{ReplicaTimer::anti_entropy,
                                    1 + random.next_u64() % config_.anti_entropy_interval_us, 0});
  if (config_.hot_keys.enabled) {
    out.timers.push_back(TimerRequest{ReplicaTimer::hot_keys,
                                      1 + random.next_u64() % config_.hot_keys.tick_us(), 0});
  }
  if (gc_enabled()) {
    out.timers.push_back(TimerRequest{ReplicaTimer::tombstone_gc,
                                      1 + random.next_u64() % config_.tombstone_gc.interval_us, 0});
  }
  if (config_.membership.enabled) {
    persist_membership(out);
    out.timers.push_back(TimerRequest{ReplicaTimer::membership,
                                      1 + random.next_u64() % config_.membership.interval_us, 0});
  }
  if (stats_.recovered_keys > 0) {
    out.coverage.push_back("replica.recovered_from_disk");
  }
  return out;
}

bool Replica::serves(std::string_view key) const {
  const ReplicaList serving = placement_.serving_of(key);
  return std::find(serving.begin(), serving.end(), config_.id) != serving.end();
}

bool Replica::replicates(ReplicaId replica, std::string_view key) const {
  return placement_.is_replica(replica, key);
}

std::vector<ReplicaId> Replica::replicas_of(std::string_view key) const {
  const ReplicaList list = placement_.replicas_of(key);
  return {list.begin(), list.end()};
}

Replica::DirtyKey& Replica::mark_dirty(std::string_view key) {
  return mark_dirty(key, HashRing::key_token(key));
}

Replica::DirtyKey& Replica::mark_dirty(std::string_view key, std::uint64_t token) {
  assert(token == HashRing::key_token(key));
  if (dirty_keys_.size() >= std::max(kDirtyRecordsMin, 2 * dirty_keys_compacted_)) {
    compact_dirty_keys();
  }
  dirty_keys_.push_back(DirtyKey{std::string(key), token, std::nullopt});
  return dirty_keys_.back();
}

const std::vector<std::uint32_t>& Replica::latest_dirty_records() {
  // Record indices by (key, index): a key's latest record is its last one.
  // Ranked keys (KeyRank) compare as integers where they differ in their
  // first 16 bytes.
  std::vector<DirtyRank>& ranks = dirty_rank_scratch_;
  ranks.clear();
  for (std::size_t index = 0; index < dirty_keys_.size(); ++index) {
    ranks.push_back(
        DirtyRank{KeyRank::of(dirty_keys_[index].key), static_cast<std::uint32_t>(index)});
  }
  std::sort(ranks.begin(), ranks.end(), [](const DirtyRank& left, const DirtyRank& right) {
    const int by_key = compare(left.rank, right.rank);
    return by_key < 0 || (by_key == 0 && left.index < right.index);
  });
  std::vector<std::uint32_t>& order = dirty_order_scratch_;
  order.clear();
  for (std::size_t position = 0; position < ranks.size(); ++position) {
    const bool superseded =
        position + 1 < ranks.size() && compare(ranks[position].rank, ranks[position + 1].rank) == 0;
    if (!superseded) {
      order.push_back(ranks[position].index);
    }
  }
  return order;
}

void Replica::compact_dirty_keys() {
  const std::vector<std::uint32_t>& latest = latest_dirty_records();
  std::vector<DirtyKey> compacted;
  compacted.reserve(latest.size());
  for (const std::uint32_t index : latest) {
    compacted.push_back(std::move(dirty_keys_[index]));
  }
  dirty_keys_ = std::move(compacted);
  dirty_keys_compacted_ = dirty_keys_.size();
}

void Replica::send_client(ClientId client, Bytes frame, Output& out) const {
  out.messages.push_back(OutgoingMessage{OutgoingMessage::Destination::client, client,
                                         static_cast<std::uint8_t>(PeerMessageKind::client_reply),
                                         std::move(frame)});
}

void Replica::answer_client(ClientId client, std::uint64_t request_id, const Reply& reply,
                            Output& out) {
  // Every answer is remembered, so a duplicate of the request gets the same
  // one (rejections included) instead of running or hanging.
  Bytes frame = encode_client_reply_frame(request_id, reply);
  recent_clients_.answer(client, request_id, frame);
  send_client(client, std::move(frame), out);
}

void Replica::send_peer(ReplicaId to, PeerMessageKind kind, Bytes frame, Output& out) const {
  assert(to != config_.id);
  if (gc_enabled()) {
    frame = gc_wrap(to, std::move(frame));
  }
  out.messages.push_back(OutgoingMessage{OutgoingMessage::Destination::peer, to,
                                         static_cast<std::uint8_t>(kind), std::move(frame)});
}

void Replica::persist_key(const std::string& key, DirtyKey& dirty, Output& out) {
  if (!config_.durable) {
    return;
  }
  const KeyState* state = keyspace_.find(key);
  assert(state != nullptr);
  persist_key(key, *state, dirty, out);
}

void Replica::persist_key(const std::string& key, const KeyState& state, DirtyKey& dirty,
                          Output& out) {
  if (!config_.durable) {
    return;
  }
  assert(keyspace_.find(key) == &state);
  assert(dirty.key == key && dirty.token == HashRing::key_token(key));
  Bytes bytes = encode(state);
  // The leaf digest of exactly the state written (every change calls
  // mark_dirty first, which clears a stale one).
  dirty.persisted_digest = leaf_digest(dirty.token, bytes);
  if (config_.planted_bug == PlantedBug::ack_before_write) {
    deferred_writes_.push_back(StorageWrite{key_record(key), std::move(bytes)});
    return;
  }
  out.storage.push_back(StorageWrite{key_record(key), std::move(bytes)});
}

void Replica::persist_clock(Output& out) {
  // A lease on the clock: the durable ceiling is always ahead of the clock,
  // so a restarted replica resumes above every timestamp it issued.
  if (clock_.value() + kClockLeaseStep / 2 < clock_ceiling_) {
    return;
  }
  clock_ceiling_ = clock_.value() + kClockLeaseStep;
  out.storage.push_back(StorageWrite{std::string(kClockRecord), encode_u64(clock_ceiling_)});
  out.sync = true;
}

std::vector<std::string> Replica::behind_session(const Command& command, Output& out) {
  std::vector<std::string> behind;
  for (const std::string& key : command.keys) {
    const CausalContext* seen = find_key_versions(command.session, key);
    // A forwarded command for a key this replica does not replicate is
    // checked too: its coordinator routed it by a view (a ring, or a hot-key
    // table naming this replica a ready extra) this replica no longer
    // shares, and its copy (a demoted extra's stray, frozen since) may miss
    // the token. Executed as is, it served a session a read without its own
    // write (hot keys with sessions and no membership changes).
    if (seen == nullptr || std::find(behind.begin(), behind.end(), key) != behind.end()) {
      continue;  // nothing seen
    }
    const KeyState* state = keyspace_.find(key);
    if (state == nullptr || !state->versions().includes(*seen)) {
      behind.push_back(key);
    }
  }
  if (behind.empty()) {
    return behind;
  }
  // Fetch: every other replica of each key is asked for its state (the
  // answer merges like an anti-entropy repair), so a retry finds it here.
  std::map<ReplicaId, AeStates> requests;
  for (const std::string& key : behind) {
    for (const ReplicaId replica : placement_.replicas_of(key)) {
      if (replica != config_.id) {
        requests[replica].wanted.push_back(key);
      }
    }
  }
  for (const auto& [replica, request] : requests) {
    stats_.session_pulls += 1;
    send_peer(replica, PeerMessageKind::ae_states, encode_frame(request), out);
  }
  return behind;
}

Execution Replica::execute_local(std::uint64_t now_us, const Command& command, Output& out) {
  const bool planted_skip =
      config_.planted_bug == PlantedBug::session_ignore_token && !is_write(command.kind);
  std::vector<std::string> behind;
  if (!command.session.empty() && !planted_skip) {
    behind = behind_session(command, out);
  }
  // Both prvalues: the execution is built where the caller holds it.
  return behind.empty() ? execute_here(now_us, command, out)
                        : refuse_behind_session(behind.front(), out);
}

Execution Replica::refuse_behind_session(const std::string& key, Output& out) {
  stats_.session_behind += 1;
  out.coverage.push_back("session.replica_behind_token");  // harness/coverage_points.h
  Execution refusal{Reply::failure(ReplyStatus::session_behind,
                                   "replica " + std::to_string(config_.id) +
                                       " is behind the session token on key '" + key + "'; retry"),
                    {}};
  refusal.reply.metadata.executed_by = config_.id;
  refusal.reply.metadata.lamport = clock_.value();
  return refusal;
}

Execution Replica::execute_here(std::uint64_t now_us, const Command& command, Output& out) {
  clock_.set_physical_now(now_us);
  const bool record_past =
      config_.causal && config_.planted_bug != PlantedBug::causal_forget_dependencies;
  // Tombstone GC: dots past every own dot in a state this writer dropped.
  const std::uint64_t dot_floor =
      config_.planted_bug == PlantedBug::gc_ignore_dot_floor ? 0 : gc_dot_floor_;
  Execution execution =
      keyspace_.execute(command, writer_id_, clock_,
                        ExecuteOptions{.track_versions = config_.track_versions,
                                       .dependencies = record_past ? &command.session : nullptr,
                                       .multi_value_registers = config_.causal,
                                       .tombstone_gc = gc_enabled(),
                                       .dot_floor = dot_floor,
                                       .validated = true});
  stats_.commands_executed += 1;
  const ReplyValue& value = execution.reply.value;
  if ((value.kind == ReplyValue::Kind::list && command.kind == CommandKind::get) ||
      value.kind == ReplyValue::Kind::sibling_lists) {
    out.coverage.push_back("causal.siblings_returned");  // harness/coverage_points.h
  }
  if (handoff_enabled()) {
    note_served(command);
  }
  const bool wrote = !execution.deltas.empty();
  for (auto& [key, delta] : execution.deltas) {
    DirtyKey& dirty = mark_dirty(key);
    const std::uint64_t token = dirty.token;  // the key hashed once
    persist_key(key, dirty, out);
    delta_log_.append(key, config_.id, config_.id, std::move(delta), now_us,
                      as_span(placement_.replicas_of(key, token)));
  }
  execution.deltas.clear();  // consumed
  if (wrote) {
    persist_clock(out);
    out.sync = out.sync || config_.durable;
  }
  Reply& reply = execution.reply;
  reply.metadata.executed_by = config_.id;
  // Only a command that changed state wrote anything (a DEL of a missing
  // key did not).
  reply.metadata.written.clear();
  if (wrote) {
    reply.metadata.written = {config_.id};
  }
  reply.metadata.lamport = clock_.value();
  return execution;
}

// ---- client requests and forwarding ---------------------------------------

Output Replica::on_client_request(std::uint64_t now_us, ClientId client, ByteView frame,
                                  RandomSource& random) {
  Output out;
  on_client_request(now_us, client, frame, random, out);
  return out;
}

void Replica::on_client_request(std::uint64_t now_us, ClientId client, ByteView frame_bytes,
                                RandomSource& random, Output& out) {
  assert(out.empty());
  FrameView frame;
  std::string error;
  ClientRequest& request = client_request_scratch_;
  if (!parse_frame(frame_bytes, frame, error) ||
      frame.kind != static_cast<std::uint8_t>(PeerMessageKind::client_request) ||
      !decode_payload(frame.payload, request, error)) {
    stats_.corrupt_messages += 1;
    return;  // nothing trustworthy to answer: the client times out
  }
  const Bytes* cached = nullptr;
  switch (recent_clients_.admit(client, request.request_id, &cached)) {
    case RecentRequests::Seen::answered:
      stats_.duplicate_requests += 1;
      send_client(client, *cached, out);
      return;
    case RecentRequests::Seen::in_progress:
      stats_.duplicate_requests += 1;
      return;  // the first copy's reply is on its way
    case RecentRequests::Seen::new_request:
      break;
  }
  if (const auto invalid = validate(request.command)) {
    answer_client(client, request.request_id, Reply::failure(ReplyStatus::bad_request, *invalid),
                  out);
    return;
  }
  if (pending_.size() >= config_.pending_requests_max) {
    answer_client(client, request.request_id,
                  Reply::failure(ReplyStatus::unavailable, "too many pending requests"), out);
    return;
  }
  if (config_.hot_keys.enabled) {
    note_access(request.command);
  }
  // A command executed here at once is answered at once: what
  // complete_part and finish do for a pending record of one local part,
  // without the record (and for a single key, without a part).
  std::vector<Part> parts;
  if (multi_key(request.command.kind)) {
    parts = split(request.command);
  } else {
    ReplicaList targets = execution_targets(request.command.keys[0]);
    if (targets.empty()) {
      const Execution execution = execute_local(now_us, request.command, out);
      answer_client(client, request.request_id, execution.reply, out);
      return;
    }
    parts.resize(1);
    parts.front().targets = targets;
    parts.front().command = std::move(request.command);
  }
  if (config_.hot_keys.enabled) {
    spread_reads(parts, random);  // draws only for parts with targets
  }
  if (parts.size() == 1 && parts.front().targets.empty() &&
      !snapshot_read(parts.front().command.kind)) {
    const Execution execution = execute_local(now_us, parts.front().command, out);
    answer_client(client, request.request_id, execution.reply, out);
    return;
  }
  const std::uint64_t pending_id = next_pending_id_++;
  Pending& pending = pending_[pending_id];
  pending.client = client;
  pending.request_id = request.request_id;
  pending.parts = std::move(parts);
  // Only aggregate() reads the whole command, and only for several parts; a
  // single part holds it (moved there by split).
  if (pending.parts.size() > 1) {
    pending.command = std::move(request.command);
  } else {
    pending.command.kind = pending.parts.front().command.kind;
  }
  pending.outstanding = pending.parts.size();
  for (std::size_t index = 0; index < pending.parts.size(); ++index) {
    Part& part = pending_.at(pending_id).parts[index];
    if (part.targets.empty()) {
      part.reply = std::move(execute_local(now_us, part.command, out).reply);
      complete_part(now_us, pending_id, index, out);
      if (!pending_.contains(pending_id)) {
        return;
      }
    } else {
      send_part(pending_id, index, out);
    }
  }
}

ReplicaList Replica::execution_targets(std::string_view key) const {
  // Here if this replica serves the key (replicates it; for a hot key's
  // extra replica, once it holds the key's state), else the key's first
  // replica (then the next ones, for reads, on timeout).
  ReplicaList targets = placement_.serving_of(key);
  if (std::find(targets.begin(), targets.end(), config_.id) != targets.end()) {
    targets.clear();
  }
  return targets;
}

std::vector<Replica::Part> Replica::split(const Command& command) const {
  assert(multi_key(command.kind));
  // Group the command's keys by where they execute.
  std::map<ReplicaList, std::vector<std::size_t>> groups;
  for (std::size_t index = 0; index < command.keys.size(); ++index) {
    groups[execution_targets(command.keys[index])].push_back(index);
  }
  std::vector<Part> parts;
  parts.reserve(groups.size());  // each part built in place, never moved
  for (auto& [targets, indices] : groups) {
    Part& part = parts.emplace_back();
    part.targets = targets;
    part.key_indices = std::move(indices);
    part.command.kind = command.kind;
    if (config_.causal) {
      part.command.session = command.session;  // the whole causal past
    }
    part.command.keys.reserve(part.key_indices.size());
    for (const std::size_t index : part.key_indices) {
      part.command.keys.push_back(command.keys[index]);
      const CausalContext* seen = find_key_versions(command.session, command.keys[index]);
      if (seen != nullptr && !config_.causal) {
        merge_key_versions(part.command.session, command.keys[index], *seen);
      }
      if (command.kind == CommandKind::mset) {
        part.command.args.push_back(command.args[index]);
      }
    }
  }
  return parts;
}

void Replica::send_part(std::uint64_t pending_id, std::size_t part_index, Output& out) {
  Part& part = pending_.at(pending_id).parts[part_index];
  assert(part.attempt < part.targets.size());
  // Qualified by the incarnation: ids must not repeat after a restart, or
  // the target would take new requests for duplicates of old ones.
  const std::uint64_t forward_id = (incarnation_ << 40) | next_forward_id_++;
  forwards_[forward_id] = Forward{pending_id, part_index};
  stats_.commands_forwarded += 1;
  send_peer(part.targets[part.attempt], PeerMessageKind::forward_request,
            encode_forward_request_frame(forward_id, part.command), out);
  out.timers.push_back(
      TimerRequest{ReplicaTimer::forward_timeout, config_.forward_timeout_us, forward_id});
}

void Replica::complete_part(std::uint64_t now_us, std::uint64_t pending_id, std::size_t part_index,
                            Output& out) {
  Pending& pending = pending_.at(pending_id);
  Part& part = pending.parts[part_index];
  assert(!part.done);
  part.done = true;
  assert(pending.outstanding > 0);
  pending.outstanding -= 1;
  if (pending.outstanding == 0) {
    finish(now_us, pending_id, out);
  }
}

bool Replica::snapshot_read(CommandKind kind) const {
  return config_.causal && config_.planted_bug != PlantedBug::mget_no_snapshot &&
         kind == CommandKind::mget;
}

void Replica::finish(std::uint64_t now_us, std::uint64_t pending_id, Output& out) {
  if (snapshot_read(pending_.at(pending_id).command.kind) &&
      !reread_for_snapshot(now_us, pending_id, out)) {
    return;
  }
  const Pending& pending = pending_.at(pending_id);
  if (pending.parts.size() == 1) {
    answer_client(pending.client, pending.request_id, pending.parts.front().reply, out);
  } else {
    answer_client(pending.client, pending.request_id, aggregate(pending), out);
  }
  pending_.erase(pending_id);
}

std::vector<std::size_t> Replica::snapshot_gaps(const Pending& pending, KeyVersions& past) {
  past.clear();
  for (const Part& part : pending.parts) {
    if (part.reply.status != ReplyStatus::ok) {
      return {};  // the MGET fails anyway
    }
    merge_key_versions(past, part.reply.metadata.tracking->dependencies);
  }
  std::vector<std::size_t> gaps;
  for (std::size_t index = 0; index < pending.parts.size(); ++index) {
    const Part& part = pending.parts[index];
    for (const std::string& key : part.command.keys) {
      const CausalContext* wanted = find_key_versions(past, key);
      const CausalContext* held = find_key_versions(part.reply.metadata.tracking->versions, key);
      if (wanted != nullptr && (held == nullptr || !held->includes(*wanted))) {
        gaps.push_back(index);
        break;
      }
    }
  }
  return gaps;
}

bool Replica::reread_for_snapshot(std::uint64_t now_us, std::uint64_t pending_id, Output& out) {
  // At most this many rounds of re-reads: each brings states that hold what
  // the previous round's states depend on, but may depend on newer updates
  // of the other keys again while writes go on.
  constexpr std::uint32_t kRoundsMax = 3;
  Pending& pending = pending_.at(pending_id);  // std::map: stable while parts run
  KeyVersions past;
  for (;;) {
    const std::vector<std::size_t> gaps = snapshot_gaps(pending, past);
    if (gaps.empty()) {
      return true;
    }
    if (pending.snapshot_rounds == kRoundsMax) {
      stats_.mget_snapshot_refused += 1;
      answer_client(pending.client, pending.request_id,
                    Reply::failure(ReplyStatus::session_behind,
                                   "no causally consistent snapshot of the keys after " +
                                       std::to_string(kRoundsMax) + " re-reads; retry"),
                    out);
      pending_.erase(pending_id);
      return false;
    }
    pending.snapshot_rounds += 1;
    stats_.mget_snapshot_rereads += gaps.size();
    out.coverage.push_back("causal.mget_snapshot_reread");  // harness/coverage_points.h
    // A part is read again with the past added to its token: its replica
    // answers only once its state holds that past (else SESSION_BEHIND,
    // fetching it meanwhile), so the new state closes the gap.
    pending.outstanding = gaps.size();
    for (const std::size_t index : gaps) {
      Part& part = pending.parts[index];
      part.done = false;
      part.reply = Reply{};  // a part's reply is default until it completes
      merge_key_versions(part.command.session, past);
    }
    for (const std::size_t index : gaps) {
      Part& part = pending.parts[index];
      if (!part.targets.empty()) {
        send_part(pending_id, index, out);
        continue;
      }
      part.reply = std::move(execute_local(now_us, part.command, out).reply);
      part.done = true;
      pending.outstanding -= 1;
    }
    if (pending.outstanding > 0) {
      return false;  // complete_part finishes it when the forwarded parts answer
    }
  }
}

Reply Replica::aggregate(const Pending& pending) const {
  assert(pending.parts.size() > 1);
  Reply result;
  const CommandKind kind = pending.command.kind;
  std::int64_t sum = 0;
  std::vector<std::vector<std::string>> values(pending.command.keys.size());
  for (const Part& part : pending.parts) {
    const Reply& reply = part.reply;
    if (reply.status != ReplyStatus::ok && result.status == ReplyStatus::ok) {
      result.status = reply.status;
      result.error = reply.error;
    }
    ReplyMetadata& meta = result.metadata;
    meta.written.insert(meta.written.end(), reply.metadata.written.begin(),
                        reply.metadata.written.end());
    meta.timestamps.insert(meta.timestamps.end(), reply.metadata.timestamps.begin(),
                           reply.metadata.timestamps.end());
    meta.dots.insert(meta.dots.end(), reply.metadata.dots.begin(), reply.metadata.dots.end());
    meta.read_timestamps.insert(meta.read_timestamps.end(), reply.metadata.read_timestamps.begin(),
                                reply.metadata.read_timestamps.end());
    meta.lamport = std::max(meta.lamport, reply.metadata.lamport);
    if (reply.metadata.tracking.allocated()) {
      const TrackingMetadata& part_tracking = *reply.metadata.tracking;
      TrackingMetadata& tracking = meta.tracking.mut();
      merge_key_versions(tracking.versions, part_tracking.versions);
      merge_key_versions(tracking.updates, part_tracking.updates);
      merge_key_versions(tracking.dependencies, part_tracking.dependencies);
      merge_key_versions(tracking.siblings, part_tracking.siblings);
      if (config_.planted_bug != PlantedBug::multi_del_drop_removed_dots) {
        tracking.removed_dots.insert(tracking.removed_dots.end(),
                                     part_tracking.removed_dots.begin(),
                                     part_tracking.removed_dots.end());
      }
    }
    if (reply.status != ReplyStatus::ok) {
      continue;
    }
    sum += reply.value.integer;
    std::vector<std::vector<std::string>> part_values = reply.value.mget_values();
    for (std::size_t index = 0; index < part.key_indices.size(); ++index) {
      if (index < part_values.size()) {
        values[part.key_indices[index]] = std::move(part_values[index]);
      }
    }
  }
  std::sort(result.metadata.written.begin(), result.metadata.written.end());
  result.metadata.written.erase(
      std::unique(result.metadata.written.begin(), result.metadata.written.end()),
      result.metadata.written.end());
  const bool any_indeterminate =
      std::any_of(pending.parts.begin(), pending.parts.end(),
                  [](const Part& part) { return part.reply.status == ReplyStatus::unavailable; });
  if (result.status != ReplyStatus::ok && is_write(kind) &&
      (any_indeterminate || !result.metadata.written.empty())) {
    // Some parts wrote, or may have (a part that timed out): the command is
    // not "nothing changed", so it must not read as a definite failure,
    // whichever part's refusal came first.
    if (result.status != ReplyStatus::unavailable) {
      result.error = "partly applied: " + result.error;
    }
    result.status = ReplyStatus::unavailable;
  }
  if (result.status != ReplyStatus::ok) {
    return result;
  }
  if (kind == CommandKind::mget) {
    result.value = ReplyValue::of_mget(std::move(values));
  } else if (kind == CommandKind::del || kind == CommandKind::exists) {
    result.value = ReplyValue::of_integer(sum);
  } else {
    result.value = pending.parts.front().reply.value;  // MSET: OK
  }
  return result;
}

void Replica::on_forward_request(std::uint64_t now_us, ReplicaId from,
                                 const ForwardRequest& message, Output& out) {
  // A duplicate is answered from the cache: executing it again would apply
  // a non-idempotent command (INCRBY) twice.
  const Bytes* cached = nullptr;
  if (recent_forwards_.admit(from, message.forward_id, &cached) !=
      RecentRequests::Seen::new_request) {
    stats_.duplicate_requests += 1;
    if (cached != nullptr) {
      send_peer(from, PeerMessageKind::forward_reply, *cached, out);
    }
    return;
  }
  // A forwarded command executes here unconditionally (never re-forwarded),
  // so a disagreement about placement cannot loop. Except, with tombstone GC
  // on, a write of a key this replica does not serve: a forward delayed past
  // a demotion (or a ring change) and the drop of the stray copy would write
  // a key it holds nothing of, and the dot floor would then seed its new
  // context over its own earlier dots of the key, which may still be live
  // at the key's replicas (docs/tombstone-gc.md). Nothing is written; the
  // coordinator answers UNAVAILABLE, which the client takes as indeterminate.
  Bytes frame;
  if (const auto invalid = validate(message.command)) {
    frame = encode_forward_reply_frame(message.forward_id,
                                       Reply::failure(ReplyStatus::bad_request, *invalid));
  } else if (gc_enabled() && is_write(message.command.kind) &&
             std::any_of(message.command.keys.begin(), message.command.keys.end(),
                         [this](const std::string& key) { return !serves(key); })) {
    stats_.forwarded_writes_refused += 1;
    frame = encode_forward_reply_frame(
        message.forward_id,
        Reply::failure(ReplyStatus::unavailable, "replica " + std::to_string(config_.id) +
                                                     " does not serve the key; nothing written"));
  } else {
    const Execution execution = execute_local(now_us, message.command, out);
    frame = encode_forward_reply_frame(message.forward_id, execution.reply);
  }
  recent_forwards_.answer(from, message.forward_id, frame);
  send_peer(from, PeerMessageKind::forward_reply, std::move(frame), out);
}

bool Replica::on_forward_reply(std::uint64_t now_us, ByteView payload, Output& out) {
  // The forward id first, so that an awaited reply decodes into its part.
  Decoder id_decoder(payload);
  const std::uint64_t forward_id = id_decoder.varint();
  const auto found = id_decoder.ok() ? forwards_.find(forward_id) : forwards_.end();
  std::string error;
  if (found == forwards_.end()) {
    ForwardReply ignored;  // a duplicate, or an answer after the timeout
    return decode_payload(payload, ignored, error);
  }
  const Forward forward = found->second;
  Part& part = pending_.at(forward.pending_id).parts[forward.part];
  std::uint64_t decoded_id = 0;
  if (!decode_forward_reply(payload, decoded_id, part.reply, error)) {
    return false;  // the part still waits (its reply is left default)
  }
  assert(decoded_id == forward_id);
  forwards_.erase(found);
  complete_part(now_us, forward.pending_id, forward.part, out);
  return true;
}

void Replica::on_forward_timeout(std::uint64_t now_us, std::uint64_t forward_id, Output& out) {
  const auto found = forwards_.find(forward_id);
  if (found == forwards_.end()) {
    return;  // answered in time
  }
  const Forward forward = found->second;
  forwards_.erase(found);
  stats_.forward_timeouts += 1;
  out.coverage.push_back("forward.timeout");
  Part& part = pending_.at(forward.pending_id).parts[forward.part];
  // Reads are safe to retry at the next replica; a write may have taken
  // effect, so it is reported as unavailable (indeterminate to the client).
  if (!is_write(part.command.kind) && part.attempt + 1 < part.targets.size()) {
    part.attempt += 1;
    send_part(forward.pending_id, forward.part, out);
    return;
  }
  std::string error = "replica ";
  error += std::to_string(part.targets[part.attempt]);
  error += " did not answer in time";
  part.reply = Reply::failure(ReplyStatus::unavailable, std::move(error));
  complete_part(now_us, forward.pending_id, forward.part, out);
}

// ---- peer messages ------------------------------------------------------------

Output Replica::on_peer_message(std::uint64_t now_us, ReplicaId from, ByteView frame,
                                RandomSource& random) {
  Output out;
  on_peer_message(now_us, from, frame, random, out);
  return out;
}

void Replica::on_peer_message(std::uint64_t now_us, ReplicaId from, ByteView frame_bytes,
                              RandomSource& random, Output& out) {
  (void)random;
  assert(out.empty());
  FrameView frame;
  std::string error;
  if (!parse_frame(frame_bytes, frame, error)) {
    stats_.corrupt_messages += 1;
    return;
  }
  delta_log_.on_heard_from(from, now_us);
  // With tombstone GC on, every peer message comes in an envelope whose
  // stamps fence off content older than a collection (tombstone_gc.h).
  std::optional<Bytes> unwrapped;
  if (gc_enabled()) {
    if (frame.kind != static_cast<std::uint8_t>(PeerMessageKind::gc_envelope)) {
      stats_.corrupt_messages += 1;
      return;
    }
    unwrapped = gc_unwrap(from, frame.payload);
    if (!unwrapped) {
      return;
    }
    const bool parsed = parse_frame(*unwrapped, frame, error);
    assert(parsed);
    (void)parsed;
  }
  bool decoded = false;
  switch (static_cast<PeerMessageKind>(frame.kind)) {
    case PeerMessageKind::delta_batch: {
      if ((decoded = decode_payload(frame.payload, delta_batch_scratch_, error))) {
        on_delta_batch(now_us, from, delta_batch_scratch_, out);
      }
      break;
    }
    case PeerMessageKind::delta_ack: {
      DeltaAck message;
      if ((decoded = decode_payload(frame.payload, message, error))) {
        delta_log_.on_ack(from, message.first_seq, message.last_seq, now_us);
      }
      break;
    }
    case PeerMessageKind::ae_compare: {
      AeCompare message;
      if ((decoded = decode_payload(frame.payload, message, error))) {
        on_ae_compare(from, message, out);
      }
      break;
    }
    case PeerMessageKind::ae_entries: {
      AeEntries message;
      if ((decoded = decode_payload(frame.payload, message, error))) {
        on_ae_entries(from, message, out);
      }
      break;
    }
    case PeerMessageKind::ae_states: {
      AeStates message;
      if ((decoded = decode_payload(frame.payload, message, error))) {
        on_ae_states(now_us, from, message, out);
      }
      break;
    }
    case PeerMessageKind::forward_request: {
      if ((decoded = decode_payload(frame.payload, forward_request_scratch_, error))) {
        on_forward_request(now_us, from, forward_request_scratch_, out);
      }
      break;
    }
    case PeerMessageKind::forward_reply:
      decoded = on_forward_reply(now_us, frame.payload, out);
      break;
    case PeerMessageKind::hot_keys_table: {
      HotKeysTableMessage message;
      if ((decoded = config_.hot_keys.enabled && decode_payload(frame.payload, message, error))) {
        on_hot_keys_table(message);
      }
      break;
    }
    case PeerMessageKind::hot_key_handoff: {
      HotKeyHandoff message;
      if ((decoded = handoff_enabled() && decode_payload(frame.payload, message, error))) {
        on_hot_key_handoff(from, message, out);
      }
      break;
    }
    case PeerMessageKind::hot_key_handoff_ack: {
      HotKeyHandoffAck message;
      if ((decoded = handoff_enabled() && decode_payload(frame.payload, message, error))) {
        on_hot_key_handoff_ack(from, message);
      }
      break;
    }
    case PeerMessageKind::membership_table: {
      MembershipMessage message;
      if ((decoded = config_.membership.enabled && decode_payload(frame.payload, message, error))) {
        on_membership_table(message, out);
      }
      break;
    }
    default:
      on_gc_message(from, frame.kind, frame.payload, out, decoded);
      break;
  }
  if (!decoded) {
    stats_.corrupt_messages += 1;
  }
}

void Replica::on_delta_batch(std::uint64_t now_us, ReplicaId from, DeltaBatch& batch, Output& out) {
  bool applied = false;
  for (DeltaBatch::Entry& entry : batch.entries) {
    // One placement lookup: whether to apply, and where to relay. The key is
    // hashed once for it, its dirty record and its Merkle leaves.
    const std::uint64_t token = HashRing::key_token(entry.key);
    const ReplicaList targets = placement_.replicas_of(entry.key, token);
    if (std::find(targets.begin(), targets.end(), config_.id) == targets.end()) {
      continue;  // placement disagrees: anti-entropy settles it
    }
    const bool ordered =
        config_.causal && config_.planted_bug != PlantedBug::causal_apply_out_of_order;
    if (ordered && !causally_ready(entry.key, entry.delta)) {
      buffer_delta(from, entry);
      continue;
    }
    applied |= apply_delta(now_us, from, std::move(entry), token, targets, out);
  }
  send_peer(from, PeerMessageKind::delta_ack,
            encode_frame(DeltaAck{batch.first_seq, batch.last_seq}), out);
  if (applied) {
    drain_causal_buffer(now_us, out);
  }
}

bool Replica::apply_delta(std::uint64_t now_us, ReplicaId from, DeltaBatch::Entry&& entry,
                          std::uint64_t token, const ReplicaList& targets, Output& out) {
  const std::vector<std::string> removed = removal_targets(entry);
  const KeyState* state = keyspace_.apply_changed(entry.key, entry.delta);
  const bool changed = state != nullptr;
  if (changed && config_.planted_bug == PlantedBug::mv_register_drop_siblings) {
    planted_drop_siblings(entry.key);
  }
  if (config_.planted_bug != PlantedBug::none) {
    planted_delta_bug(now_us, entry, changed, removed, out);
    state = changed ? keyspace_.find(entry.key) : nullptr;  // the bugs may change the keyspace
  }
  if (!changed) {
    stats_.deltas_redundant += 1;
    return false;
  }
  stats_.deltas_applied += 1;
  DirtyKey& dirty = mark_dirty(entry.key, token);
  persist_key(entry.key, *state, dirty, out);
  // Forward to the key's other replicas, never back to the writer or the
  // sender (the log's routing excludes both).
  // The entry is not used after this: its key and delta move into the log.
  delta_log_.append(std::move(entry.key), entry.origin, from, std::move(entry.delta), now_us,
                    as_span(targets));
  return true;
}

bool Replica::causally_ready(const std::string& key, const KeyState& delta) const {
  if (config_.membership.enabled) {
    // A writer's updates of one key are numbered in order, each in the
    // past of the next. With a fixed ring they arrive in order; a ring
    // change can route a later one to a replica the earlier ones never
    // reached: hold it until they are here (a gap in the merged versions).
    const KeyState* state = keyspace_.find(key);
    CausalContext have = state == nullptr ? CausalContext() : state->versions();
    have.merge(delta.versions());
    if (!have.dot_cloud().empty()) {
      return false;
    }
  }
  for (const auto& [other, past] : delta.dependencies()) {
    // Another key kept elsewhere: sessions' tokens guard reads of it. Never
    // the delta's own key, even where a ring change has just moved it away
    // (a buffered delta drains after the change): applied without its past
    // here, the gap would be handed off with this stray copy to the key's
    // new replicas, which merge hand-offs as they come.
    if (other != key && !replicates(config_.id, other)) {
      continue;
    }
    const KeyState* state = keyspace_.find(other);
    if (other == key) {
      // A joined delta may itself bring part of its own key's past.
      CausalContext have = state == nullptr ? CausalContext() : state->versions();
      have.merge(delta.versions());
      if (!have.includes(past)) {
        return false;
      }
    } else if (state == nullptr || !state->versions().includes(past)) {
      return false;
    }
  }
  return true;
}

void Replica::buffer_delta(ReplicaId from, const DeltaBatch::Entry& entry) {
  const KeyState* state = keyspace_.find(entry.key);
  if (state != nullptr && state->versions().includes(entry.delta.versions())) {
    stats_.deltas_redundant += 1;  // everything it brings is here already
    return;
  }
  if (causal_buffer_.size() >= kCausalBufferMax) {
    stats_.causal_buffer_dropped += 1;  // anti-entropy brings it with its past
    return;
  }
  stats_.causal_buffered += 1;
  causal_buffer_.push_back(BufferedDelta{from, entry});
}

void Replica::drain_causal_buffer(std::uint64_t now_us, Output& out) {
  // Each pass applies what became ready; bounded by the buffer's size, since
  // every pass that continues removes at least one entry.
  bool progress = !causal_buffer_.empty();
  while (progress) {
    progress = false;
    for (std::size_t index = 0; index < causal_buffer_.size();) {
      const BufferedDelta& buffered = causal_buffer_[index];
      const KeyState* state = keyspace_.find(buffered.entry.key);
      const bool obsolete =
          state != nullptr && state->versions().includes(buffered.entry.delta.versions());
      if (!obsolete && !causally_ready(buffered.entry.key, buffered.entry.delta)) {
        ++index;
        continue;
      }
      BufferedDelta ready = std::move(causal_buffer_[index]);
      causal_buffer_.erase(causal_buffer_.begin() + static_cast<std::ptrdiff_t>(index));
      if (!obsolete) {
        const std::uint64_t token = HashRing::key_token(ready.entry.key);
        const ReplicaList targets = placement_.replicas_of(ready.entry.key, token);
        if (std::find(targets.begin(), targets.end(), config_.id) == targets.end()) {
          // The key moved away since the delta was held back (a demotion or
          // a ring change): drop it, as on_delta_batch would now. Applied, it
          // would leave this copy with the update and without its past, and
          // the copy is served again if the key comes back here.
          continue;
        }
        out.coverage.push_back("causal.buffered_delta_applied");  // harness/coverage_points.h
        apply_delta(now_us, ready.from, std::move(ready.entry), token, targets, out);
        progress = true;
      }
    }
  }
}

std::vector<std::string> Replica::removal_targets(const DeltaBatch::Entry& entry) const {
  std::vector<std::string> covered;
  if (config_.planted_bug != PlantedBug::or_set_remove_unobserved) {
    return covered;
  }
  const auto* removal = entry.delta.value<ORSet>();
  const KeyState* local = keyspace_.find(entry.key);
  if (removal == nullptr || local == nullptr || local->value<ORSet>() == nullptr) {
    return covered;
  }
  for (const ORSetEntry& local_entry : local->value<ORSet>()->entries()) {
    // An add delta's context covers the element's superseded dots, but its
    // element is in the delta: that is no removal.
    if (removal->context().contains(local_entry.dot) && !removal->contains(local_entry.element) &&
        std::find(covered.begin(), covered.end(), local_entry.element) == covered.end()) {
      covered.push_back(local_entry.element);
    }
  }
  return covered;
}

void Replica::planted_drop_siblings(const std::string& key) {
  const KeyState* state = keyspace_.find(key);
  const MvRegister* reg = state == nullptr ? nullptr : state->value<MvRegister>();
  if (reg == nullptr || reg->entries().size() < 2) {
    return;
  }
  // Like an LWW register: the greatest dot wins, the other siblings vanish
  // (their dots stay in the context, so merges elsewhere drop them too).
  const Dot kept = reg->entries().rbegin()->first;
  MvRegister scratch = *reg;
  MvRegister dropped;
  for (const auto& sibling : reg->entries()) {
    if (!(sibling.first == kept)) {
      dropped.merge(scratch.remove(sibling.first));
    }
  }
  const LwwTimestamp claim = state->slot(ValueType::mv_register)->claim;
  keyspace_.apply(key, KeyState::of<MvRegister>(claim, std::move(dropped)));
}

void Replica::planted_delta_bug(std::uint64_t now_us, const DeltaBatch::Entry& entry, bool changed,
                                const std::vector<std::string>& removed, Output& out) {
  Command command;
  command.keys = {entry.key};
  if (config_.planted_bug == PlantedBug::counter_double_apply && !changed) {
    // A duplicate delivery, taken for a new increment of the same amount.
    const auto* counter = entry.delta.value<CausalCounter>();
    if (counter == nullptr || counter->value() == 0) {
      return;
    }
    command.kind = CommandKind::incrby;
    command.amount = counter->value();
  } else if (config_.planted_bug == PlantedBug::or_set_remove_unobserved && !removed.empty()) {
    // The removed elements are removed outright here, including adds the
    // remover never observed.
    command.kind = CommandKind::srem;
    command.args = removed;
  } else {
    return;
  }
  execute_local(now_us, command, out);  // the planted write answers no one
}

void Replica::refresh_trees() {
  // In key order: the trees' shapes depend on the order of updates.
  for (const std::uint32_t index : latest_dirty_records()) {
    const auto& [key, token, persisted_digest] = dirty_keys_[index];
    const ReplicaList replicas = placement_.replicas_of(key, token);
    const bool mine = std::find(replicas.begin(), replicas.end(), config_.id) != replicas.end();
    std::optional<std::uint64_t> digest;  // the leaf's; nullopt: no leaf here
    if (mine && persisted_digest) {
      // The digest persist_key computed from the same state's bytes: it ran
      // after the key's last change, so the state is there (a removal marks
      // the key dirty again, which clears the digest): no search needed.
      assert(keyspace_.find(key) != nullptr);
      digest = *persisted_digest;
    } else if (mine) {
      if (const KeyState* state = keyspace_.find(key)) {
        digest = leaf_digest(token, encode(*state));  // once for all peers
      }
    }
    for (const ReplicaId peer : replicas) {
      if (peer == config_.id) {
        continue;
      }
      if (!digest) {
        anti_entropy_.tree(peer).erase(key, token);
      } else {
        anti_entropy_.tree(peer).upsert(key, token, *digest);
      }
    }
  }
  dirty_keys_.clear();
  dirty_keys_compacted_ = 0;
}

void Replica::on_ae_compare(ReplicaId from, const AeCompare& message, Output& out) {
  refresh_trees();
  AntiEntropy::CompareAnswer answer = anti_entropy_.on_compare(from, message);
  if (message.items.size() == 1 && message.items.front().prefix.depth == 0 &&
      answer.compare.items.empty() && answer.entries.prefixes.empty()) {
    out.coverage.push_back("anti_entropy.round_agreed");
  }
  if (!answer.compare.items.empty()) {
    send_peer(from, PeerMessageKind::ae_compare, encode_frame(answer.compare), out);
  }
  if (!answer.entries.prefixes.empty()) {
    send_peer(from, PeerMessageKind::ae_entries, encode_frame(answer.entries), out);
  }
}

AeStates Replica::states_of(const std::vector<std::string>& keys) const {
  AeStates message;
  for (const std::string& key : keys) {
    if (message.states.size() == kAeStatesMax) {
      break;  // the rest is repaired by a later round
    }
    if (const KeyState* state = keyspace_.find(key)) {
      message.states.push_back(AeStates::State{key, *state});
    }
  }
  return message;
}

void Replica::on_ae_entries(ReplicaId from, const AeEntries& message, Output& out) {
  refresh_trees();
  AntiEntropy::ListingDiff diff = anti_entropy_.on_entries(from, message);
  AeStates answer = states_of(diff.send);
  answer.wanted = std::move(diff.wanted);
  if (answer.wanted.size() > kAeEntriesMax) {
    answer.wanted.resize(kAeEntriesMax);
  }
  if (!answer.states.empty() || !answer.wanted.empty()) {
    send_peer(from, PeerMessageKind::ae_states, encode_frame(answer), out);
  }
}

void Replica::on_ae_states(std::uint64_t now_us, ReplicaId from, const AeStates& message,
                           Output& out) {
  bool repaired = false;
  for (const AeStates::State& state : message.states) {
    if (!replicates(config_.id, state.key) || !replicates(from, state.key)) {
      continue;
    }
    if (const KeyState* merged = keyspace_.apply_changed(state.key, state.state)) {
      stats_.keys_repaired += 1;
      out.coverage.push_back("anti_entropy.repaired_key");
      persist_key(state.key, *merged, mark_dirty(state.key), out);
      repaired = true;
    }
  }
  if (repaired && !causal_buffer_.empty()) {
    drain_causal_buffer(now_us, out);
  }
  if (!message.wanted.empty()) {
    AeStates answer = states_of(message.wanted);
    if (!answer.states.empty()) {
      send_peer(from, PeerMessageKind::ae_states, encode_frame(answer), out);
    }
  }
}

// ---- timers ----------------------------------------------------------------------

Output Replica::on_timer(std::uint64_t now_us, ReplicaTimer timer, std::uint64_t tag,
                         RandomSource& random) {
  Output out;
  on_timer(now_us, timer, tag, random, out);
  return out;
}

void Replica::on_timer(std::uint64_t now_us, ReplicaTimer timer, std::uint64_t tag,
                       RandomSource& random, Output& out) {
  assert(out.empty());
  switch (timer) {
    case ReplicaTimer::gossip:
      // PlantedBug::ack_before_write: the writes acknowledged since the last
      // tick reach storage only now.
      std::move(deferred_writes_.begin(), deferred_writes_.end(), std::back_inserter(out.storage));
      deferred_writes_.clear();
      gossip(now_us, out);
      out.timers.push_back(TimerRequest{ReplicaTimer::gossip, config_.gossip_interval_us, 0});
      break;
    case ReplicaTimer::anti_entropy:
      start_anti_entropy(random, out);
      out.timers.push_back(
          TimerRequest{ReplicaTimer::anti_entropy, config_.anti_entropy_interval_us, 0});
      break;
    case ReplicaTimer::forward_timeout:
      on_forward_timeout(now_us, tag, out);
      break;
    case ReplicaTimer::hot_keys:
      hot_keys_tick(out);
      out.timers.push_back(TimerRequest{ReplicaTimer::hot_keys, config_.hot_keys.tick_us(), 0});
      break;
    case ReplicaTimer::tombstone_gc:
      gc_round(out);
      out.timers.push_back(
          TimerRequest{ReplicaTimer::tombstone_gc, config_.tombstone_gc.interval_us, 0});
      break;
    case ReplicaTimer::membership:
      membership_tick(out);
      out.timers.push_back(
          TimerRequest{ReplicaTimer::membership, config_.membership.interval_us, 0});
      break;
  }
}

void Replica::gossip(std::uint64_t now_us, Output& out) {
  const std::uint64_t dropped_before = delta_log_.stats().buffers_dropped;
  for (const ReplicaId peer : others()) {
    std::optional<Bytes> frame = delta_log_.next_batch_frame(peer, now_us);
    if (frame) {
      send_peer(peer, PeerMessageKind::delta_batch, std::move(*frame), out);
    }
  }
  if (delta_log_.stats().buffers_dropped > dropped_before) {
    out.coverage.push_back("gossip.peer_buffer_dropped");
  }
}

void Replica::start_anti_entropy(RandomSource& random, Output& out) {
  if (peers_.empty() || (config_.membership.enabled && !membership_.is_member(config_.id))) {
    return;  // alone, or not a member: no key to compare
  }
  refresh_trees();
  const ReplicaId peer = peers_[choose(random, peers_.size())];
  send_peer(peer, PeerMessageKind::ae_compare, encode_frame(anti_entropy_.start_round(peer)), out);
}

}  // namespace crdtsim::core
