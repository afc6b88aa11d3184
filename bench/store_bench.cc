// Store benchmarks: anti-entropy repair cost against the number of divergent
// keys, gossip bytes per applied update (delta beside full-state), and replica
// command throughput.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replica/replica.h"
#include "core/replication/peer_messages.h"
#include "core/store/keyspace.h"

namespace {

using crdtsim::core::Bytes;
using crdtsim::core::ClientRequest;
using crdtsim::core::Command;
using crdtsim::core::CommandKind;
using crdtsim::core::OutgoingMessage;
using crdtsim::core::Output;
using crdtsim::core::PeerMessageKind;
using crdtsim::core::Replica;
using crdtsim::core::ReplicaConfig;
using crdtsim::core::ReplicaId;
using crdtsim::core::ReplicaTimer;

class Counter final : public crdtsim::core::RandomSource {
 public:
  std::uint64_t next_u64() override {
    state_ += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_ = 1;
};

constexpr std::uint64_t kNever = std::uint64_t{1} << 50;

std::string key_name(std::uint64_t index) {
  std::string name = "key:";
  name += std::to_string(index);
  return name;
}

// A lossless, in-order message pump between replicas, counting frames and
// bytes per message kind.
struct Pump {
  std::vector<std::unique_ptr<Replica>> replicas;
  struct InFlight {
    ReplicaId from;
    ReplicaId to;
    Bytes frame;
  };
  std::deque<InFlight> queue;
  std::map<std::uint8_t, std::uint64_t> messages;
  std::map<std::uint8_t, std::uint64_t> bytes;
  Counter random;
  std::uint64_t now_us = 0;

  void take(ReplicaId from, Output output) {
    for (OutgoingMessage& message : output.messages) {
      if (message.destination == OutgoingMessage::Destination::client) {
        continue;
      }
      messages[message.kind] += 1;
      bytes[message.kind] += message.frame.size();
      queue.push_back(InFlight{from, static_cast<ReplicaId>(message.to), std::move(message.frame)});
    }
  }
  void drain() {
    while (!queue.empty()) {
      InFlight next = std::move(queue.front());
      queue.pop_front();
      take(next.to, replicas[next.to]->on_peer_message(now_us, next.from, next.frame, random));
    }
  }
  // Each request gets a fresh id: the replica answers a repeated id from its
  // cache of recent requests without executing it again.
  void execute(ReplicaId at, Command command) {
    const Bytes frame =
        crdtsim::core::encode_frame(ClientRequest{next_request_id++, std::move(command)});
    take(at, replicas[at]->on_client_request(now_us, 1, frame, random));
  }
  std::uint64_t next_request_id = 1;
  std::uint64_t total(std::initializer_list<PeerMessageKind> kinds,
                      const std::map<std::uint8_t, std::uint64_t>& counts) const {
    std::uint64_t sum = 0;
    for (const PeerMessageKind kind : kinds) {
      const auto found = counts.find(static_cast<std::uint8_t>(kind));
      sum += found == counts.end() ? 0 : found->second;
    }
    return sum;
  }
};

ReplicaConfig config(ReplicaId id, std::vector<ReplicaId> members, std::uint32_t factor) {
  ReplicaConfig result;
  result.id = id;
  result.members = std::move(members);
  result.replication_factor = factor;
  result.virtual_nodes = 16;
  result.gossip_interval_us = kNever;
  result.anti_entropy_interval_us = kNever;
  return result;
}

Command make_command(CommandKind kind, std::vector<std::string> keys,
                     std::vector<std::string> args = {}, std::int64_t amount = 0) {
  Command command;
  command.kind = kind;
  command.keys = std::move(keys);
  command.args = std::move(args);
  command.amount = amount;
  return command;
}

// Anti-entropy repair of d divergent keys among N: two replicas built from
// the same durable image, d keys then written at one of them only, then
// anti-entropy rounds until they agree. Reported: messages and bytes of
// anti-entropy, and the bytes a full-state exchange of all N keys would cost.
void BM_AntiEntropyRepair(benchmark::State& state) {
  const auto keys = static_cast<std::uint64_t>(state.range(0));
  const auto divergent = static_cast<std::uint64_t>(state.range(1));
  std::map<std::string, Bytes> image;
  {
    crdtsim::core::Keyspace keyspace;
    crdtsim::core::LamportClock clock;
    for (std::uint64_t index = 0; index < keys; ++index) {
      keyspace.execute(make_command(CommandKind::set, {key_name(index)}, {"value"}), 0, clock);
    }
    for (const auto& [key, key_state] : keyspace) {
      std::string record = "k/";
      record += key;
      image.emplace(std::move(record), crdtsim::core::encode(key_state));
    }
  }
  std::uint64_t full_state_bytes = 0;
  for (const auto& [record, bytes] : image) {
    full_state_bytes += bytes.size() + record.size();
  }
  auto pump_holder = std::make_unique<Pump>();
  for (auto _ : state) {
    state.PauseTiming();
    pump_holder = std::make_unique<Pump>();  // the previous one is freed untimed
    Pump& pump = *pump_holder;
    for (ReplicaId id = 0; id < 2; ++id) {
      pump.replicas.push_back(std::make_unique<Replica>(config(id, {0, 1}, 2), image));
      pump.take(id, pump.replicas[id]->start(0, pump.random));
    }
    for (std::uint64_t index = 0; index < divergent; ++index) {
      pump.execute(0, make_command(CommandKind::set, {key_name(index * 7919 % keys)}, {"new"}));
    }
    pump.queue.clear();
    pump.messages.clear();
    pump.bytes.clear();
    pump.replicas[0]->refresh_trees();
    pump.replicas[1]->refresh_trees();
    state.ResumeTiming();
    // Rounds until a round repairs nothing (bounded: each repairs >= 1 key).
    for (std::uint64_t round = 0; round < divergent + 2; ++round) {
      const std::uint64_t repaired_before = pump.replicas[1]->stats().keys_repaired;
      pump.take(0, pump.replicas[0]->on_timer(0, ReplicaTimer::anti_entropy, 0, pump.random));
      pump.drain();
      if (pump.replicas[1]->stats().keys_repaired == repaired_before) {
        break;
      }
    }
    state.PauseTiming();
    const auto kinds = {PeerMessageKind::ae_compare, PeerMessageKind::ae_entries,
                        PeerMessageKind::ae_states};
    state.counters["ae_messages"] = static_cast<double>(pump.total(kinds, pump.messages));
    state.counters["ae_bytes"] = static_cast<double>(pump.total(kinds, pump.bytes));
    state.counters["full_state_bytes"] = static_cast<double>(full_state_bytes);
    state.counters["full_over_ae"] =
        static_cast<double>(full_state_bytes) / static_cast<double>(pump.total(kinds, pump.bytes));
    state.counters["repaired"] = static_cast<double>(pump.replicas[1]->stats().keys_repaired);
    state.ResumeTiming();
  }
  // The last pump is freed here, after the timed loop.
}
BENCHMARK(BM_AntiEntropyRepair)
    ->ArgsProduct({{1'000, 100'000, 1'000'000}, {0, 1, 100}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Gossip bytes per applied update under a steady write load at three
// replicas (RF 3): delta gossip as sent, beside what shipping the full state
// of every changed key to each peer at every tick would have cost.
void gossip_bytes(benchmark::State& state, CommandKind kind) {
  constexpr std::uint64_t kKeys = 20;
  constexpr std::uint64_t kTicks = 200;
  constexpr std::uint64_t kWritesPerTick = 10;
  for (auto _ : state) {
    Pump pump;
    for (ReplicaId id = 0; id < 3; ++id) {
      pump.replicas.push_back(
          std::make_unique<Replica>(config(id, {0, 1, 2}, 3), std::map<std::string, Bytes>{}));
    }
    std::uint64_t full_state_bytes = 0;
    std::uint64_t element = 0;
    for (std::uint64_t tick = 0; tick < kTicks; ++tick) {
      std::map<std::string, ReplicaId> changed;
      for (std::uint64_t write = 0; write < kWritesPerTick; ++write) {
        const auto at = static_cast<ReplicaId>(pump.random.next_u64() % 3);
        const std::string key = key_name(pump.random.next_u64() % kKeys);
        if (kind == CommandKind::sadd) {
          pump.execute(at, make_command(kind, {key}, {"member:" + std::to_string(element++)}));
        } else {
          pump.execute(at, make_command(kind, {key}, {}, 1));
        }
        changed[key] = at;
      }
      for (const auto& [key, at] : changed) {
        const auto* key_state = pump.replicas[at]->keyspace().find(key);
        full_state_bytes += 2 * (crdtsim::core::encode(*key_state).size() + key.size());
      }
      pump.now_us += 20'000;
      for (ReplicaId id = 0; id < 3; ++id) {
        pump.take(id,
                  pump.replicas[id]->on_timer(pump.now_us, ReplicaTimer::gossip, 0, pump.random));
      }
      pump.drain();
    }
    const std::uint64_t updates = kTicks * kWritesPerTick;
    const std::uint64_t delta_bytes =
        pump.total({PeerMessageKind::delta_batch, PeerMessageKind::delta_ack}, pump.bytes);
    state.counters["delta_bytes_per_update"] =
        static_cast<double>(delta_bytes) / static_cast<double>(updates);
    state.counters["full_state_bytes_per_update"] =
        static_cast<double>(full_state_bytes) / static_cast<double>(updates);
    state.counters["full_over_delta"] =
        static_cast<double>(full_state_bytes) / static_cast<double>(delta_bytes);
  }
}
void BM_GossipBytesCounters(benchmark::State& state) {
  gossip_bytes(state, CommandKind::incrby);
}
void BM_GossipBytesSets(benchmark::State& state) {
  gossip_bytes(state, CommandKind::sadd);
}
BENCHMARK(BM_GossipBytesCounters)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GossipBytesSets)->Iterations(1)->Unit(benchmark::kMillisecond);

// Commands per second at one replica (RF 1), through the wire codec.
void throughput(benchmark::State& state, CommandKind kind) {
  Pump pump;
  pump.replicas.push_back(
      std::make_unique<Replica>(config(0, {0}, 1), std::map<std::string, Bytes>{}));
  std::uint64_t index = 0;
  for (auto _ : state) {
    const std::string key = key_name(index % 1000);
    Command command;
    switch (kind) {
      case CommandKind::set:
        command = make_command(kind, {key}, {"value"});
        break;
      case CommandKind::incr:
        command = make_command(kind, {key});
        break;
      case CommandKind::sadd:
        command = make_command(kind, {key}, {std::to_string(index % 64)});
        break;
      default:
        command = make_command(kind, {key}, {"field", "value"});
        break;
    }
    pump.execute(0, std::move(command));
    ++index;
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_ReplicaSet(benchmark::State& state) {
  throughput(state, CommandKind::set);
}
void BM_ReplicaIncr(benchmark::State& state) {
  throughput(state, CommandKind::incr);
}
void BM_ReplicaSadd(benchmark::State& state) {
  throughput(state, CommandKind::sadd);
}
void BM_ReplicaHset(benchmark::State& state) {
  throughput(state, CommandKind::hset);
}
BENCHMARK(BM_ReplicaSet);
BENCHMARK(BM_ReplicaIncr);
BENCHMARK(BM_ReplicaSadd);
BENCHMARK(BM_ReplicaHset);

}  // namespace
