#pragma once
// StoreDriver: a small deterministic driver that runs replicas directly, with
// no simulator: an in-memory network that delays, reorders, drops and
// duplicates frames, timers, and per-replica storage that loses unsynced
// writes on a crash. Every choice comes from one seed (SplitMix64), so a test
// failure replays exactly.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replica/replica.h"
#include "core/replication/peer_messages.h"
#include "core/store/command.h"
#include "core/wire/frame.h"

namespace crdtsim::testing {

using core::Bytes;
using core::ReplicaId;

class SplitMix final : public core::RandomSource {
 public:
  explicit SplitMix(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // In [0, bound); the modulo bias is negligible for the small bounds here.
  std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : next_u64() % bound; }
  bool chance_percent(std::uint64_t percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

struct DriverOptions {
  std::size_t replicas = 3;
  std::uint32_t replication_factor = 3;
  std::uint32_t virtual_nodes = 16;
  bool durable = true;
  bool gossip = true;
  bool anti_entropy = true;
  core::PlantedBug planted_bug = core::PlantedBug::none;
  bool track_versions = false;
  bool causal = false;
  core::TimestampSource timestamp_source = core::TimestampSource::lamport;
  bool tombstone_gc = false;
  std::uint64_t gc_interval_us = 20'000;
  std::uint64_t latency_us_max = 5'000;
  std::uint64_t drop_percent = 0;
  std::uint64_t duplicate_percent = 0;
  // Non-empty: membership on, these the members at the start (all
  // `replicas` processes run).
  std::vector<ReplicaId> initial_members = {};
};

class StoreDriver {
 public:
  StoreDriver(DriverOptions options, std::uint64_t seed)
      : StoreDriver(options, core::HotKeysConfig{}, seed) {}
  // With hot keys configured (core/replication/hot_keys.h).
  StoreDriver(DriverOptions options, core::HotKeysConfig hot_keys, std::uint64_t seed)
      : options_(options), hot_keys_(hot_keys), random_(seed) {
    for (ReplicaId id = 0; id < options_.replicas; ++id) {
      members_.push_back(id);
    }
    nodes_.resize(options_.replicas);
    for (ReplicaId id = 0; id < options_.replicas; ++id) {
      boot(id);
    }
  }

  core::ReplicaConfig config_for(ReplicaId id) const {
    core::ReplicaConfig config;
    config.id = id;
    config.members = members_;
    config.replication_factor = options_.replication_factor;
    config.virtual_nodes = options_.virtual_nodes;
    config.durable = options_.durable;
    config.planted_bug = options_.planted_bug;
    config.track_versions = options_.track_versions;
    config.causal = options_.causal;
    config.timestamp_source = options_.timestamp_source;
    // Disabled mechanisms get an interval longer than any test.
    constexpr std::uint64_t kNever = std::uint64_t{1} << 50;
    config.gossip_interval_us = options_.gossip ? 10'000 : kNever;
    config.anti_entropy_interval_us = options_.anti_entropy ? 50'000 : kNever;
    config.forward_timeout_us = 50'000;
    config.hot_keys = hot_keys_;
    config.tombstone_gc.enabled = options_.tombstone_gc;
    config.tombstone_gc.interval_us = options_.gc_interval_us;
    if (!options_.initial_members.empty()) {
      config.membership.enabled = true;
      config.membership.processes = members_;
      config.membership.interval_us = 20'000;
      config.members = options_.initial_members;
    }
    return config;
  }

  // A membership change of replica `id` (given to it directly, like an
  // operator's command). Returns whether the replica took it.
  bool change_membership(ReplicaId id, core::MembershipChange change) {
    core::Replica& node = *nodes_[id].replica;
    const std::uint64_t before = node.stats().membership_changes;
    apply_output(id, node.on_membership_change(now_us_, change, random_));
    return node.stats().membership_changes > before;
  }

  // Sends `command` from a client to replica `at`; returns the request id.
  std::uint64_t submit(ReplicaId at, core::Command command) {
    const std::uint64_t request_id = next_request_id_++;
    const Bytes frame = core::encode_frame(core::ClientRequest{request_id, std::move(command)});
    if (nodes_[at].replica) {
      apply_output(at, nodes_[at].replica->on_client_request(now_us_, request_id, frame, random_));
    }
    return request_id;
  }

  // Submits, runs until the reply arrives or `timeout_us` passes.
  std::optional<core::Reply> execute(ReplicaId at, core::Command command,
                                     std::uint64_t timeout_us = 500'000) {
    const std::uint64_t request_id = submit(at, std::move(command));
    const std::uint64_t deadline = now_us_ + timeout_us;
    while (!replies_.contains(request_id) && now_us_ < deadline && step(deadline)) {
    }
    const auto found = replies_.find(request_id);
    if (found == replies_.end()) {
      return std::nullopt;
    }
    return found->second;
  }

  // Processes events until simulated time reaches `until_us`.
  void run_until(std::uint64_t until_us) {
    while (step(until_us)) {
    }
    now_us_ = std::max(now_us_, until_us);
  }
  void run_for(std::uint64_t duration_us) { run_until(now_us_ + duration_us); }

  // Loses this share of the messages sent from now on.
  void set_drop_percent(std::uint64_t percent) { options_.drop_percent = percent; }
  // Loses every message of `kind` that `from` sends from now on (no random
  // draw, so the other messages' fate is unchanged).
  void drop_kind_from(ReplicaId from, core::PeerMessageKind kind) {
    dropped_kinds_.emplace(from, static_cast<std::uint8_t>(kind));
  }

  // Stops losing and duplicating messages (the settle phase).
  void heal_network() {
    options_.drop_percent = 0;
    options_.duplicate_percent = 0;
  }

  void crash(ReplicaId id) {
    Node& node = nodes_[id];
    node.replica.reset();
    node.unsynced.clear();
    node.incarnation += 1;  // in-flight messages and timers to it die
  }

  void restart(ReplicaId id) {
    assert(!nodes_[id].replica);
    boot(id);
  }

  const core::Replica* replica(ReplicaId id) const { return nodes_[id].replica.get(); }
  // Direct access, for feeding a replica inputs by hand.
  core::Replica& mutable_replica(ReplicaId id) { return *nodes_[id].replica; }
  const std::map<std::uint64_t, core::Reply>& replies() const { return replies_; }
  std::uint64_t now_us() const { return now_us_; }
  std::uint64_t messages_delivered() const { return messages_delivered_; }
  std::uint64_t messages_dropped() const { return messages_dropped_; }
  std::uint64_t frame_bytes_sent() const { return frame_bytes_sent_; }
  const std::map<std::uint8_t, std::uint64_t>& messages_by_kind() const { return by_kind_; }
  SplitMix& random() { return random_; }

  // Delivers `frame` to `to` as if sent by `from` (for corruption tests).
  void inject(ReplicaId from, ReplicaId to, Bytes frame) {
    schedule_message(from, to, std::move(frame));
  }

  // The keys some replica holds, and for each the replicas that must hold it.
  std::map<std::string, std::vector<ReplicaId>> placement() const {
    std::map<std::string, std::vector<ReplicaId>> result;
    for (const Node& node : nodes_) {
      if (!node.replica) {
        continue;
      }
      for (const auto& [key, state] : node.replica->keyspace()) {
        result.emplace(key, node.replica->replicas_of(key));
      }
    }
    return result;
  }

  // Empty when every replica of every key holds byte-identical state;
  // otherwise a description of the first difference.
  std::string divergence() const {
    for (const auto& [key, replicas] : placement()) {
      std::optional<Bytes> first;
      ReplicaId first_id = 0;
      for (const ReplicaId id : replicas) {
        const core::Replica* node = replica(id);
        if (node == nullptr) {
          continue;
        }
        if (!node->keyspace().index_consistent()) {
          return "replica " + std::to_string(id) + "'s key index disagrees with its keyspace";
        }
        const core::KeyState* state = node->keyspace().find(key);
        const Bytes bytes = state == nullptr ? Bytes{} : core::encode(*state);
        if (!first) {
          first = bytes;
          first_id = id;
        } else if (*first != bytes) {
          std::string message = "key '";
          message += key;
          message += "' differs between replicas ";
          message += std::to_string(first_id);
          message += " and ";
          message += std::to_string(id);
          return message;
        }
      }
    }
    return {};
  }

 private:
  struct Node {
    std::unique_ptr<core::Replica> replica;
    std::map<std::string, Bytes> durable;
    std::map<std::string, std::optional<Bytes>> unsynced;
    std::uint64_t incarnation = 0;
  };
  struct Event {
    std::uint64_t time_us = 0;
    std::uint64_t seq = 0;
    bool is_timer = false;
    ReplicaId from = 0;
    ReplicaId to = 0;
    std::uint64_t incarnation = 0;
    Bytes frame;
    core::ReplicaTimer timer = core::ReplicaTimer::gossip;
    std::uint64_t tag = 0;
  };
  struct Later {
    bool operator()(const Event& left, const Event& right) const {
      return std::tie(left.time_us, left.seq) > std::tie(right.time_us, right.seq);
    }
  };

  void boot(ReplicaId id) {
    Node& node = nodes_[id];
    node.replica = std::make_unique<core::Replica>(config_for(id), node.durable);
    apply_output(id, node.replica->start(now_us_, random_));
  }

  void schedule_message(ReplicaId from, ReplicaId to, Bytes frame) {
    Event event;
    event.time_us = now_us_ + 1 + random_.below(options_.latency_us_max);
    event.seq = next_seq_++;
    event.from = from;
    event.to = to;
    event.incarnation = nodes_[to].incarnation;
    event.frame = std::move(frame);
    queue_.push(std::move(event));
  }

  void apply_output(ReplicaId id, core::Output output) {
    Node& node = nodes_[id];
    for (core::StorageWrite& write : output.storage) {
      node.unsynced[write.key] =
          write.erase ? std::nullopt : std::optional<Bytes>(std::move(write.value));
    }
    if (output.sync) {
      for (auto& [key, value] : node.unsynced) {
        if (value) {
          node.durable[key] = std::move(*value);
        } else {
          node.durable.erase(key);
        }
      }
      node.unsynced.clear();
    }
    for (core::OutgoingMessage& message : output.messages) {
      frame_bytes_sent_ += message.frame.size();
      by_kind_[message.kind] += 1;
      if (message.destination == core::OutgoingMessage::Destination::client) {
        record_reply(message.frame);
        continue;
      }
      const auto to = static_cast<ReplicaId>(message.to);
      if (dropped_kinds_.contains({id, message.kind})) {
        messages_dropped_ += 1;
        continue;
      }
      if (random_.chance_percent(options_.drop_percent)) {
        messages_dropped_ += 1;
        continue;
      }
      if (random_.chance_percent(options_.duplicate_percent)) {
        schedule_message(id, to, message.frame);
      }
      schedule_message(id, to, std::move(message.frame));
    }
    for (const core::TimerRequest& timer : output.timers) {
      Event event;
      event.time_us = now_us_ + timer.delay_us;
      event.seq = next_seq_++;
      event.is_timer = true;
      event.to = id;
      event.incarnation = node.incarnation;
      event.timer = timer.timer;
      event.tag = timer.tag;
      queue_.push(std::move(event));
    }
  }

  void record_reply(const Bytes& frame) {
    core::FrameView view;
    std::string error;
    core::ClientReply reply;
    const bool ok =
        core::parse_frame(frame, view, error) && core::decode_payload(view.payload, reply, error);
    assert(ok);
    (void)ok;
    replies_[reply.request_id] = std::move(reply.reply);
  }

  // Runs the next event due before `until_us`; false if there is none.
  bool step(std::uint64_t until_us) {
    if (queue_.empty() || queue_.top().time_us > until_us) {
      return false;
    }
    Event event = queue_.top();
    queue_.pop();
    now_us_ = std::max(now_us_, event.time_us);
    Node& node = nodes_[event.to];
    if (!node.replica || event.incarnation != node.incarnation) {
      return true;  // sent to a replica that crashed since
    }
    if (event.is_timer) {
      apply_output(event.to, node.replica->on_timer(now_us_, event.timer, event.tag, random_));
    } else {
      messages_delivered_ += 1;
      apply_output(event.to,
                   node.replica->on_peer_message(now_us_, event.from, event.frame, random_));
    }
    return true;
  }

  DriverOptions options_;
  core::HotKeysConfig hot_keys_;
  SplitMix random_;
  std::vector<ReplicaId> members_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::map<std::uint64_t, core::Reply> replies_;
  std::uint64_t now_us_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_request_id_ = 1;
  std::uint64_t messages_delivered_ = 0;
  std::uint64_t messages_dropped_ = 0;
  std::uint64_t frame_bytes_sent_ = 0;
  std::map<std::uint8_t, std::uint64_t> by_kind_;
  std::set<std::pair<ReplicaId, std::uint8_t>> dropped_kinds_;
};

inline core::Command command(core::CommandKind kind, std::vector<std::string> keys,
                             std::vector<std::string> args = {}, std::int64_t amount = 0) {
  core::Command result;
  result.kind = kind;
  result.keys = std::move(keys);
  result.args = std::move(args);
  result.amount = amount;
  return result;
}

}  // namespace crdtsim::testing
