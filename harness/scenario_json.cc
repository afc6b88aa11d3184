#include "harness/scenario_json.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

namespace crdtsim::harness {

namespace {

using json::child;
using json::expect_array;
using json::fail;
using json::Fields;
using json::Json;
using json::read_bool;
using json::read_choice;
using json::read_ppm;
using json::read_string;
using json::read_unsigned;

constexpr std::uint64_t kTimeMax = ScenarioLimits::time_us_max;

// ---------------------------------------------------------------------------
// Names.

const std::vector<std::string_view> kConsistencyNames = {"eventual", "causal"};
const std::vector<std::string_view> kDistributionNames = {"uniform", "zipfian", "hotspot"};
const std::vector<std::string_view> kReplicaChoiceNames = {"sticky", "roaming"};
const std::vector<std::string_view> kTimestampNames = {"lamport", "hlc", "physical"};
const std::vector<std::string_view> kFaultKindNames = {
    "partition", "one_way", "isolate",    "bridge",      "flap",     "heal", "crash", "restart",
    "pause",     "resume",  "clock_jump", "clock_drift", "set_loss", "join", "leave"};
const std::vector<std::string_view> kPlantedBugNames = {"none",
                                                        "ae_skip_last_subtree",
                                                        "gossip_forget_unacked",
                                                        "ack_before_write",
                                                        "counter_double_apply",
                                                        "or_set_remove_unobserved",
                                                        "session_ignore_token",
                                                        "causal_forget_dependencies",
                                                        "causal_apply_out_of_order",
                                                        "hot_key_demotion_drops_state",
                                                        "gc_before_stable",
                                                        "mv_register_drop_siblings",
                                                        "membership_drop_without_handoff",
                                                        "mget_no_snapshot",
                                                        "gc_ignore_dot_floor",
                                                        "gc_membership_unfenced",
                                                        "multi_del_drop_removed_dots"};
const std::vector<std::string_view> kPropertyNames = {
    "convergence",         "no_lost_writes",    "liveness",        "linearizability",
    "determinism",         "read_your_writes",  "monotonic_reads", "monotonic_writes",
    "writes_follow_reads", "causal_consistency"};

// How a command's tokens after the verb split into keys, arguments and amount.
enum class Layout : std::uint8_t { keys, key_amount, key_args, pairs };

Layout layout_of(core::CommandKind kind) {
  switch (kind) {
    case core::CommandKind::incrby:
    case core::CommandKind::decrby:
    case core::CommandKind::gincrby:
      return Layout::key_amount;
    case core::CommandKind::set:
    case core::CommandKind::sadd:
    case core::CommandKind::srem:
    case core::CommandKind::sismember:
    case core::CommandKind::gsadd:
    case core::CommandKind::hset:
    case core::CommandKind::hget:
    case core::CommandKind::hdel:
      return Layout::key_args;
    case core::CommandKind::mset:
      return Layout::pairs;
    default:
      return Layout::keys;
  }
}

std::optional<core::CommandKind> kind_from_name(const std::string& name) {
  for (unsigned code = 0; code <= std::numeric_limits<std::uint8_t>::max(); ++code) {
    const auto kind = static_cast<core::CommandKind>(code);
    if (core::command_name(kind) != "UNKNOWN" && core::command_name(kind) == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string upper_case(std::string text) {
  for (char& character : text) {
    if (character >= 'a' && character <= 'z') {
      character = static_cast<char>(character - 'a' + 'A');
    }
  }
  return text;
}

std::int64_t read_amount(const Json& value, const std::string& pointer) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    std::int64_t amount = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), amount);
    if (status != std::errc() || end != text.data() + text.size() || text.empty()) {
      fail(pointer, "expected an amount (a signed 64-bit integer), got \"" + text + "\"");
    }
    return amount;
  }
  return json::read_i64(value, pointer);
}

// A replica ("r3") or client ("c1") name below `count`.
std::uint32_t read_name(const Json& value, const std::string& pointer, char prefix,
                        std::uint32_t count, std::string_view what) {
  const std::string expected = "expected a " + std::string(what) + " name " + prefix + "0 .. " +
                               prefix + std::to_string(count == 0 ? 0 : count - 1);
  if (!value.is_string()) {
    fail(pointer, expected + ", got " + value.dump());
  }
  const std::string& text = value.get_ref<const std::string&>();
  std::uint32_t index = 0;
  const char* digits = text.data() + 1;
  const char* end = text.data() + text.size();
  const bool parsed =
      text.size() >= 2 && text[0] == prefix && (text.size() == 2 || text[1] != '0') &&
      std::from_chars(digits, end, index) == std::from_chars_result{end, std::errc()};
  if (!parsed || index >= count) {
    fail(pointer, expected + ", got \"" + text + "\"");
  }
  return index;
}

// ---------------------------------------------------------------------------
// Reading the sections. Field-level checks happen here; checks across
// sections happen in check_consistency once everything is read.

// Reads every field a minimum/maximum pair has and checks min <= max.
void read_range(Fields& fields, std::string_view min_name, std::string_view max_name,
                std::uint64_t& min, std::uint64_t& max, std::uint64_t limit) {
  const auto reader = [limit](const Json& value, const std::string& pointer) {
    return read_unsigned(value, pointer, 0, limit);
  };
  fields.read(min_name, min, reader);
  fields.read(max_name, max, reader);
  if (min > max) {
    fail(fields.at(max_name), "expected " + std::string(max_name) + " (" + std::to_string(max) +
                                  ") not below " + std::string(min_name) + " (" +
                                  std::to_string(min) + ")");
  }
}

auto unsigned_in(std::uint64_t min, std::uint64_t max) {
  return [min, max](const Json& value, const std::string& pointer) {
    return read_unsigned(value, pointer, min, max);
  };
}

auto u32_in(std::uint32_t min, std::uint32_t max) {
  return [min, max](const Json& value, const std::string& pointer) {
    return static_cast<std::uint32_t>(read_unsigned(value, pointer, min, max));
  };
}

template <typename Enum>
auto choice_of(const std::vector<std::string_view>& names) {
  return [&names](const Json& value, const std::string& pointer) {
    return static_cast<Enum>(read_choice(value, pointer, names));
  };
}

void read_hot_keys(const Json& value, const std::string& pointer, core::HotKeysConfig& hot) {
  Fields fields(value, pointer);
  fields.read("enabled", hot.enabled, read_bool);
  fields.read("window_us", hot.window_us, unsigned_in(1, kTimeMax));
  fields.read("sub_windows", hot.sub_windows,
              u32_in(1, static_cast<std::uint32_t>(core::SlidingHeavyHitters::kSubWindowsMax)));
  fields.read("capacity", hot.capacity,
              u32_in(1, static_cast<std::uint32_t>(core::SlidingHeavyHitters::kCapacityMax)));
  read_range(fields, "demote_threshold", "promote_threshold", hot.demote_threshold,
             hot.promote_threshold, ScenarioLimits::hot_key_threshold_max);
  if (hot.promote_threshold == 0) {
    fail(fields.at("promote_threshold"), "expected a promote threshold of at least 1 access");
  }
  fields.read("cool_ticks", hot.cool_ticks, u32_in(1, ScenarioLimits::hot_key_cool_ticks_max));
  fields.read("extra_replicas", hot.extra_replicas, u32_in(1, core::HotKeyEntry::kExtraMax));
  fields.read("table_max", hot.table_max,
              u32_in(1, static_cast<std::uint32_t>(core::HotKeyTable::kEntriesMax)));
  if (hot.window_us < hot.sub_windows) {
    fail(fields.at("window_us"),
         "expected a window of at least sub_windows (" + std::to_string(hot.sub_windows) + ") us");
  }
  fields.finish();
}

void read_tombstone_gc(const Json& value, const std::string& pointer, TombstoneGcSpec& gc) {
  Fields fields(value, pointer);
  fields.read("enabled", gc.enabled, read_bool);
  fields.read("interval_us", gc.interval_us, unsigned_in(1, kTimeMax));
  fields.finish();
}

// Script operations name replicas and clients; their bounds are checked
// against the final cluster and workload in check_script.
struct PendingName {
  std::string pointer;
  Json value;
};

struct Pending {
  std::vector<PendingName> script_clients;
  std::vector<PendingName> script_replicas;
  std::vector<PendingName> fault_replicas;   // one per replica name in the timeline
  std::vector<std::string> fault_pointers;   // one per timeline event
  std::vector<PendingName> initial_members;  // cluster.initial_members
};

void read_initial_members(const Json& value, const std::string& pointer, Pending& pending) {
  expect_array(value, pointer, "replica names");
  if (value.empty() || value.size() > ScenarioLimits::replicas_max) {
    fail(pointer, "expected 1 .. " + std::to_string(ScenarioLimits::replicas_max) +
                      " replica names (the members at the start)");
  }
  pending.initial_members.clear();
  for (std::size_t index = 0; index < value.size(); ++index) {
    pending.initial_members.push_back({child(pointer, index), value[index]});
  }
}

void read_cluster(const Json& value, const std::string& pointer, ClusterSpec& cluster,
                  Pending& pending) {
  Fields fields(value, pointer);
  fields.read("replicas", cluster.replicas, u32_in(1, ScenarioLimits::replicas_max));
  fields.read("replication_factor", cluster.replication_factor,
              u32_in(1, ScenarioLimits::replicas_max));
  fields.read("virtual_nodes", cluster.virtual_nodes, u32_in(1, ScenarioLimits::virtual_nodes_max));
  fields.read("consistency", cluster.consistency, choice_of<Consistency>(kConsistencyNames));
  fields.read("durable", cluster.durable, read_bool);
  fields.read("timestamps", cluster.timestamps, choice_of<core::TimestampSource>(kTimestampNames));
  fields.read("gossip_interval_us", cluster.gossip_interval_us, unsigned_in(1, kTimeMax));
  fields.read("anti_entropy_interval_us", cluster.anti_entropy_interval_us,
              unsigned_in(1, kTimeMax));
  fields.read("forward_timeout_us", cluster.forward_timeout_us, unsigned_in(1, kTimeMax));
  fields.read("planted_bug", cluster.planted_bug, choice_of<core::PlantedBug>(kPlantedBugNames));
  if (const Json* hot = fields.optional("hot_keys")) {
    read_hot_keys(*hot, fields.at("hot_keys"), cluster.hot_keys);
  }
  if (const Json* gc = fields.optional("tombstone_gc")) {
    read_tombstone_gc(*gc, fields.at("tombstone_gc"), cluster.tombstone_gc);
  }
  if (const Json* members = fields.optional("initial_members")) {
    read_initial_members(*members, fields.at("initial_members"), pending);
    cluster.initial_members.assign(pending.initial_members.size(), 0);  // resolved later
  }
  fields.finish();
}

void read_mix(const Json& value, const std::string& pointer, OperationMix& mix) {
  Fields fields(value, pointer);
  const auto weight = u32_in(0, 1'000'000);
  fields.read("registers", mix.registers, weight);
  fields.read("multi", mix.multi, weight);
  fields.read("counters", mix.counters, weight);
  fields.read("g_counters", mix.g_counters, weight);
  fields.read("sets", mix.sets, weight);
  fields.read("g_sets", mix.g_sets, weight);
  fields.read("maps", mix.maps, weight);
  fields.read("churn", mix.churn, weight);
  fields.read("multi_del", mix.multi_del, weight);
  fields.read("reads_ppm", mix.reads_ppm, read_ppm);
  fields.finish();
}

void read_script(const Json& value, const std::string& pointer, WorkloadSpec& workload,
                 Pending& pending) {
  expect_array(value, pointer, "scripted operations");
  if (value.size() > ScenarioLimits::script_max) {
    fail(pointer, "expected at most " + std::to_string(ScenarioLimits::script_max) + " operations");
  }
  workload.script.clear();
  for (std::size_t index = 0; index < value.size(); ++index) {
    const std::string at = child(pointer, index);
    Fields fields(value[index], at);
    ScriptedOperation operation;
    pending.script_clients.push_back({fields.at("client"), fields.required("client")});
    fields.read("at_us", operation.at_us, unsigned_in(0, kTimeMax));
    pending.script_replicas.push_back({fields.at("replica"), fields.required("replica")});
    operation.command = command_from_json(fields.required("command"), fields.at("command"));
    fields.finish();
    workload.script.push_back(std::move(operation));
  }
}

void read_workload(const Json& value, const std::string& pointer, WorkloadSpec& workload,
                   Pending& pending) {
  Fields fields(value, pointer);
  fields.read("clients", workload.clients, u32_in(0, ScenarioLimits::clients_max));
  fields.read("ops_per_client", workload.ops_per_client,
              u32_in(0, ScenarioLimits::ops_per_client_max));
  fields.read("keys", workload.keys, u32_in(1, ScenarioLimits::keys_max));
  fields.read("distribution", workload.distribution,
              choice_of<KeyDistribution>(kDistributionNames));
  fields.read("zipf_exponent_milli", workload.zipf_exponent_milli,
              u32_in(1, ScenarioLimits::zipf_exponent_milli_max));
  fields.read("hotspot_keys", workload.hotspot_keys, u32_in(1, ScenarioLimits::keys_max));
  fields.read("hotspot_ppm", workload.hotspot_ppm, read_ppm);
  fields.read("rotate_every_ops", workload.rotate_every_ops,
              u32_in(0, ScenarioLimits::ops_per_client_max));
  if (const Json* mix = fields.optional("mix")) {
    read_mix(*mix, fields.at("mix"), workload.mix);
  }
  read_range(fields, "think_us_min", "think_us_max", workload.think_us_min, workload.think_us_max,
             kTimeMax);
  fields.read("replica_choice", workload.replica_choice,
              choice_of<ReplicaChoice>(kReplicaChoiceNames));
  fields.read("request_timeout_us", workload.request_timeout_us, unsigned_in(1, kTimeMax));
  fields.read("sessions", workload.sessions, read_bool);
  if (const Json* script = fields.optional("script")) {
    read_script(*script, fields.at("script"), workload, pending);
  }
  fields.finish();
}

void read_network(const Json& value, const std::string& pointer, NetworkSpec& network) {
  Fields fields(value, pointer);
  read_range(fields, "latency_us_min", "latency_us_max", network.latency_us_min,
             network.latency_us_max, kTimeMax);
  fields.read("tail_ppm", network.tail_ppm, read_ppm);
  read_range(fields, "tail_us_min", "tail_us_max", network.tail_us_min, network.tail_us_max,
             kTimeMax);
  fields.read("drop_ppm", network.drop_ppm, read_ppm);
  fields.read("duplicate_ppm", network.duplicate_ppm, read_ppm);
  fields.read("reorder_ppm", network.reorder_ppm, read_ppm);
  fields.read("drop_in_flight_on_partition", network.drop_in_flight_on_partition, read_bool);
  fields.finish();
}

// Which fields each fault kind takes (every other field is an error).
struct FaultShape {
  bool groups = false;
  std::size_t replicas_min = 0;  // 0: no "replicas" field
  std::size_t replicas_max = 0;
  bool clients_too = false;
  bool delta = false;
  bool drift = false;
  bool loss = false;
  bool flap = false;
};

FaultShape shape_of(FaultKind kind) {
  const std::size_t many = ScenarioLimits::replicas_max;
  switch (kind) {
    case FaultKind::partition:
      return {.groups = true, .clients_too = true};
    case FaultKind::one_way:
      return {.replicas_min = 2, .replicas_max = 2};
    case FaultKind::isolate:
      return {.replicas_min = 1, .replicas_max = 1, .clients_too = true};
    case FaultKind::bridge:
      return {.replicas_min = 3, .replicas_max = 3};
    case FaultKind::flap:
      return {.groups = true, .clients_too = true, .flap = true};
    case FaultKind::heal:
      return {};
    case FaultKind::crash:
    case FaultKind::restart:
    case FaultKind::pause:
    case FaultKind::resume:
      return {.replicas_min = 1, .replicas_max = many};
    case FaultKind::clock_jump:
      return {.replicas_min = 1, .replicas_max = many, .delta = true};
    case FaultKind::clock_drift:
      return {.replicas_min = 1, .replicas_max = many, .drift = true};
    case FaultKind::set_loss:
      return {.clients_too = true, .loss = true};
    case FaultKind::join:
    case FaultKind::leave:
      return {.replicas_min = 1, .replicas_max = 1};
  }
  return {};
}

void read_fault_names(const Json& value, const std::string& pointer, std::size_t min,
                      std::size_t max, Pending& pending, std::vector<core::ReplicaId>& target) {
  expect_array(value, pointer, "replica names");
  if (value.size() < min || value.size() > max) {
    fail(pointer, min == max ? "expected exactly " + std::to_string(min) + " replica names"
                             : "expected " + std::to_string(min) + " .. " + std::to_string(max) +
                                   " replica names");
  }
  for (std::size_t index = 0; index < value.size(); ++index) {
    pending.fault_replicas.push_back({child(pointer, index), value[index]});
    target.push_back(0);  // resolved in resolve_names
  }
}

void read_groups(const Json& value, const std::string& pointer, Pending& pending,
                 FaultEvent& event) {
  expect_array(value, pointer, "groups (arrays of replica names)");
  if (value.size() < 2) {
    fail(pointer, "expected at least 2 groups of replica names");
  }
  for (std::size_t index = 0; index < value.size(); ++index) {
    event.groups.emplace_back();
    read_fault_names(value[index], child(pointer, index), 1, ScenarioLimits::replicas_max, pending,
                     event.groups.back());
  }
}

FaultEvent read_fault(const Json& value, const std::string& pointer, Pending& pending) {
  Fields fields(value, pointer);
  FaultEvent event;
  event.kind = static_cast<FaultKind>(
      read_choice(fields.required("kind"), fields.at("kind"), kFaultKindNames));
  const FaultShape shape = shape_of(event.kind);
  const std::string why =
      std::string("(a \"") + fault_kind_name(event.kind) + "\" fault takes none)";
  event.at_us = read_unsigned(fields.required("at_us"), fields.at("at_us"), 0, kTimeMax);
  if (shape.groups) {
    read_groups(fields.required("groups"), fields.at("groups"), pending, event);
  } else {
    fields.forbid("groups", why);
  }
  if (shape.replicas_min > 0) {
    read_fault_names(fields.required("replicas"), fields.at("replicas"), shape.replicas_min,
                     shape.replicas_max, pending, event.replicas);
  } else {
    fields.forbid("replicas", why);
  }
  if (shape.clients_too) {
    fields.read("clients_too", event.clients_too, read_bool);
  } else {
    fields.forbid("clients_too", why);
  }
  if (shape.delta) {
    event.delta_us = json::read_signed(fields.required("delta_us"), fields.at("delta_us"),
                                       -static_cast<std::int64_t>(kTimeMax),
                                       static_cast<std::int64_t>(kTimeMax));
  } else {
    fields.forbid("delta_us", why);
  }
  if (shape.drift) {
    event.drift_ppm = static_cast<std::int32_t>(
        json::read_signed(fields.required("drift_ppm"), fields.at("drift_ppm"),
                          -ScenarioLimits::drift_ppm_max, ScenarioLimits::drift_ppm_max));
  } else {
    fields.forbid("drift_ppm", why);
  }
  if (shape.loss) {
    event.drop_ppm = read_ppm(fields.required("drop_ppm"), fields.at("drop_ppm"));
    event.duplicate_ppm = read_ppm(fields.required("duplicate_ppm"), fields.at("duplicate_ppm"));
  } else {
    fields.forbid("drop_ppm", why);
    fields.forbid("duplicate_ppm", why);
  }
  if (shape.flap) {
    event.cut_us = read_unsigned(fields.required("cut_us"), fields.at("cut_us"), 1, kTimeMax);
    event.healed_us =
        read_unsigned(fields.required("healed_us"), fields.at("healed_us"), 1, kTimeMax);
    event.cycles = static_cast<std::uint32_t>(read_unsigned(
        fields.required("cycles"), fields.at("cycles"), 1, ScenarioLimits::flap_cycles_max));
  } else {
    fields.forbid("cut_us", why);
    fields.forbid("healed_us", why);
    fields.forbid("cycles", why);
  }
  fields.finish();
  return event;
}

void read_random_faults(const Json& value, const std::string& pointer, RandomFaults& random) {
  Fields fields(value, pointer);
  fields.read("enabled", random.enabled, read_bool);
  read_range(fields, "interval_us_min", "interval_us_max", random.interval_us_min,
             random.interval_us_max, kTimeMax);
  if (random.interval_us_min == 0) {
    fail(fields.at("interval_us_min"), "expected an interval of at least 1 us");
  }
  fields.read("partitions", random.partitions, read_bool);
  fields.read("crashes", random.crashes, read_bool);
  fields.read("pauses", random.pauses, read_bool);
  fields.read("clock_faults", random.clock_faults, read_bool);
  fields.read("loss", random.loss, read_bool);
  fields.read("membership", random.membership, read_bool);
  fields.read("max_drop_ppm", random.max_drop_ppm, read_ppm);
  fields.read("max_duplicate_ppm", random.max_duplicate_ppm, read_ppm);
  fields.read("max_down", random.max_down, u32_in(0, ScenarioLimits::replicas_max));
  fields.read("swarm", random.swarm, read_bool);
  fields.finish();
}

void read_faults(const Json& value, const std::string& pointer, Scenario& scenario,
                 Pending& pending) {
  Fields fields(value, pointer);
  if (const Json* timeline = fields.optional("timeline")) {
    const std::string at = fields.at("timeline");
    expect_array(*timeline, at, "fault events");
    if (timeline->size() > ScenarioLimits::timeline_max) {
      fail(at, "expected at most " + std::to_string(ScenarioLimits::timeline_max) + " events");
    }
    scenario.timeline.clear();
    pending.fault_pointers.clear();
    pending.fault_replicas.clear();
    for (std::size_t index = 0; index < timeline->size(); ++index) {
      pending.fault_pointers.push_back(child(at, index));
      scenario.timeline.push_back(read_fault((*timeline)[index], child(at, index), pending));
    }
  }
  if (const Json* random = fields.optional("random")) {
    read_random_faults(*random, fields.at("random"), scenario.random_faults);
  }
  fields.finish();
}

void read_properties(const Json& value, const std::string& pointer, Properties& properties) {
  Fields fields(value, pointer);
  fields.read("convergence", properties.convergence, read_bool);
  fields.read("no_lost_writes", properties.no_lost_writes, read_bool);
  fields.read("liveness", properties.liveness, read_bool);
  fields.read("linearizability", properties.linearizability, read_bool);
  fields.read("determinism", properties.determinism, read_bool);
  fields.read("session_guarantees", properties.session_guarantees, read_bool);
  fields.read("causal_consistency", properties.causal_consistency, read_bool);
  fields.finish();
}

void read_seeds(const Json& value, const std::string& pointer, Scenario& scenario) {
  const std::string text = read_string(value, pointer);
  const auto range = parse_seed_range(text);
  if (!range) {
    fail(pointer,
         "expected a seed range \"A..B\" (unsigned integers, A <= B) or one seed \"N\", "
         "got \"" +
             text + "\"");
  }
  scenario.seed_first = range->first;
  scenario.seed_last = range->second;
}

// ---------------------------------------------------------------------------
// Checks across sections.

void resolve_names(const Scenario& scenario, const Pending& pending, Scenario& target) {
  const std::uint32_t replicas = scenario.cluster.replicas;
  for (std::size_t index = 0; index < pending.initial_members.size(); ++index) {
    const PendingName& name = pending.initial_members[index];
    target.cluster.initial_members[index] =
        read_name(name.value, name.pointer, 'r', replicas, "replica");
  }
  std::size_t next = 0;
  for (FaultEvent& event : target.timeline) {
    for (auto& group : event.groups) {
      for (core::ReplicaId& id : group) {
        const PendingName& name = pending.fault_replicas[next++];
        id = read_name(name.value, name.pointer, 'r', replicas, "replica");
      }
    }
    for (core::ReplicaId& id : event.replicas) {
      const PendingName& name = pending.fault_replicas[next++];
      id = read_name(name.value, name.pointer, 'r', replicas, "replica");
    }
  }
  for (std::size_t index = 0; index < target.workload.script.size(); ++index) {
    ScriptedOperation& operation = target.workload.script[index];
    const PendingName& client = pending.script_clients[index];
    operation.client =
        read_name(client.value, client.pointer, 'c', scenario.workload.clients,
                  "client (workload.clients is " + std::to_string(scenario.workload.clients) + ")");
    const PendingName& replica = pending.script_replicas[index];
    operation.replica = read_name(replica.value, replica.pointer, 'r', replicas, "replica");
  }
}

void check_distinct(const FaultEvent& event, const std::string& pointer) {
  std::set<core::ReplicaId> seen;
  for (const auto& group : event.groups) {
    for (const core::ReplicaId id : group) {
      if (!seen.insert(id).second) {
        fail(child(pointer, "groups"),
             "expected each replica in at most one group, got " + replica_name(id) + " twice");
      }
    }
  }
  for (const core::ReplicaId id : event.replicas) {
    if (!seen.insert(id).second) {
      fail(child(pointer, "replicas"),
           "expected distinct replicas, got " + replica_name(id) + " twice");
    }
  }
}

void check_membership(const Scenario& scenario, const Pending& pending, const std::string& root) {
  const ClusterSpec& cluster = scenario.cluster;
  const std::string at = root + "/cluster/initial_members";
  std::set<core::ReplicaId> seen;
  for (std::size_t index = 0; index < cluster.initial_members.size(); ++index) {
    if (!seen.insert(cluster.initial_members[index]).second) {
      fail(pending.initial_members[index].pointer,
           "expected distinct replicas, got " + replica_name(cluster.initial_members[index]) +
               " twice");
    }
  }
  if (!cluster.initial_members.empty() &&
      cluster.initial_members.size() < cluster.replication_factor) {
    fail(at, "expected at least replication_factor (" + std::to_string(cluster.replication_factor) +
                 ") initial members, got " + std::to_string(cluster.initial_members.size()));
  }
}

void check_consistency(const Scenario& scenario, const Pending& pending, const std::string& root) {
  const ClusterSpec& cluster = scenario.cluster;
  if (cluster.replication_factor > cluster.replicas) {
    fail(root + "/cluster/replication_factor",
         "expected a replication factor at most cluster.replicas (" +
             std::to_string(cluster.replicas) + "), got " +
             std::to_string(cluster.replication_factor));
  }
  if (cluster.hot_keys.enabled &&
      cluster.replication_factor + cluster.hot_keys.extra_replicas > cluster.replicas) {
    fail(root + "/cluster/hot_keys/extra_replicas",
         "expected replication_factor + extra_replicas at most cluster.replicas (" +
             std::to_string(cluster.replicas) + "), got " +
             std::to_string(cluster.replication_factor) + " + " +
             std::to_string(cluster.hot_keys.extra_replicas));
  }
  check_membership(scenario, pending, root);
  if (scenario.workload.hotspot_keys > scenario.workload.keys) {
    fail(
        root + "/workload/hotspot_keys",
        "expected at most workload.keys (" + std::to_string(scenario.workload.keys) + ") hot keys");
  }
  for (std::size_t index = 0; index < scenario.timeline.size(); ++index) {
    const FaultEvent& event = scenario.timeline[index];
    const std::string& pointer = pending.fault_pointers[index];
    check_distinct(event, pointer);
    if (event.at_us >= scenario.workload_deadline_us) {
      fail(child(pointer, "at_us"), "expected a time before workload_deadline_us (" +
                                        std::to_string(scenario.workload_deadline_us) +
                                        "): faults stop when the settle phase begins");
    }
  }
  const bool causal = scenario.cluster.consistency == Consistency::causal;
  if (scenario.properties.session_guarantees && !scenario.workload.sessions && !causal) {
    fail(root + "/properties/session_guarantees",
         "expected workload.sessions to be true (or the causal level): only sessions carry the "
         "guarantees checked");
  }
  if (scenario.cluster.tombstone_gc.enabled && (scenario.workload.sessions || causal)) {
    fail(root + "/cluster/tombstone_gc/enabled",
         "expected tombstone_gc off with sessions or the causal level: collection does not "
         "keep the version dots sessions rely on yet");
  }
  if (scenario.properties.causal_consistency && !causal) {
    fail(root + "/properties/causal_consistency",
         "expected cluster.consistency \"causal\": the eventual level does not promise it");
  }
  const bool has_work = !scenario.workload.script.empty() ||
                        (scenario.workload.clients > 0 && scenario.workload.ops_per_client > 0);
  const OperationMix& mix = scenario.workload.mix;
  const std::uint64_t weights = std::uint64_t{mix.registers} + mix.multi + mix.counters +
                                mix.g_counters + mix.sets + mix.g_sets + mix.maps + mix.churn +
                                mix.multi_del;
  if (has_work && scenario.workload.script.empty() && weights == 0) {
    fail(root + "/workload/mix", "expected at least one command family with a weight above 0");
  }
}

void read_top(const Json& document, const std::string& pointer, Scenario& scenario,
              Pending& pending) {
  Fields fields(document, pointer);
  fields.optional("extends");  // handled by the loader
  if (const Json* schema = fields.optional("$schema")) {
    read_string(*schema, fields.at("$schema"));  // an editor's hint
  }
  if (const Json* name = fields.optional("name")) {
    scenario.name = read_string(*name, fields.at("name"));
    if (scenario.name.empty()) {
      fail(fields.at("name"), "expected a non-empty name");
    }
  }
  fields.read("description", scenario.description, read_string);
  if (const Json* value = fields.optional("cluster")) {
    read_cluster(*value, fields.at("cluster"), scenario.cluster, pending);
  }
  if (const Json* value = fields.optional("workload")) {
    read_workload(*value, fields.at("workload"), scenario.workload, pending);
  }
  if (const Json* value = fields.optional("network")) {
    read_network(*value, fields.at("network"), scenario.network);
  }
  if (const Json* value = fields.optional("faults")) {
    read_faults(*value, fields.at("faults"), scenario, pending);
  }
  if (const Json* value = fields.optional("properties")) {
    read_properties(*value, fields.at("properties"), scenario.properties);
  }
  fields.read("workload_deadline_us", scenario.workload_deadline_us, unsigned_in(1, kTimeMax));
  fields.read("settle_us", scenario.settle_us, unsigned_in(1, kTimeMax));
  fields.read("max_events", scenario.max_events, unsigned_in(1, ScenarioLimits::max_events_max));
  if (const Json* value = fields.optional("seeds")) {
    read_seeds(*value, fields.at("seeds"), scenario);
  }
  if (const Json* value = fields.optional("expected_failure")) {
    const std::size_t index = read_choice(*value, fields.at("expected_failure"), kPropertyNames);
    scenario.expected_failure = std::string(kPropertyNames[index]);
  }
  if (const Json* value = fields.optional("also_violated")) {
    const std::string at = fields.at("also_violated");
    if (scenario.expected_failure.empty()) {
      fail(at, "expected also_violated only together with expected_failure");
    }
    if (!value->is_array()) {
      fail(at, "expected an array of property names");
    }
    for (std::size_t item = 0; item < value->size(); ++item) {
      const std::size_t index = read_choice((*value)[item], child(at, item), kPropertyNames);
      scenario.also_violated.emplace_back(kPropertyNames[index]);
    }
  }
  fields.finish();
}

// Reads `document` over the defaults. `full` also resolves replica and
// client names and checks across sections; without it only each field's own
// type and range are checked (a base file alone may be incomplete).
Scenario read_document(const Json& document, const std::string& pointer, bool full) {
  Scenario scenario;
  Pending pending;
  read_top(document, pointer, scenario, pending);
  if (!full) {
    return scenario;
  }
  Scenario resolved = scenario;
  resolve_names(scenario, pending, resolved);
  check_consistency(resolved, pending, pointer);
  return resolved;
}

// ---------------------------------------------------------------------------
// Files and "extends".

struct LoadError {
  std::string message;
};

Json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw LoadError{path.string() + ": cannot open (no such file or not readable)"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw LoadError{path.string() + ": read error"};
  }
  try {
    return json::parse_strict(text.str(), "one JSON object (a scenario)");
  } catch (const json::JsonInputError& error) {
    throw LoadError{json::format_error(path.string(), 0, error.pointer, error.expected)};
  }
}

// The document with every base it extends merged underneath it.
Json resolve_extends(const std::filesystem::path& path, std::vector<std::string>& chain) {
  const std::string key = std::filesystem::weakly_canonical(path).string();
  if (std::find(chain.begin(), chain.end(), key) != chain.end()) {
    throw LoadError{path.string() +
                    ": /extends: expected no cycle, but the file extends itself "
                    "through " +
                    chain.back()};
  }
  if (chain.size() >= ScenarioLimits::extends_depth_max) {
    throw LoadError{path.string() + ": /extends: expected at most " +
                    std::to_string(ScenarioLimits::extends_depth_max) + " levels of extends"};
  }
  Json document = read_json_file(path);
  try {
    read_document(document, "", false);  // each file's own fields, named by its own pointers
  } catch (const json::JsonInputError& error) {
    throw LoadError{json::format_error(path.string(), 0, error.pointer, error.expected)};
  }
  chain.push_back(key);
  Json merged = Json::object();
  if (const auto found = document.find("extends"); found != document.end()) {
    std::vector<std::string> bases;
    if (found->is_string()) {
      bases.push_back(found->get<std::string>());
    } else if (found->is_array() && std::all_of(found->begin(), found->end(), [](const Json& item) {
                 return item.is_string();
               })) {
      bases = found->get<std::vector<std::string>>();
    } else {
      throw LoadError{path.string() +
                      ": /extends: expected a file name or an array of file names, got " +
                      found->dump()};
    }
    for (std::size_t index = 0; index < bases.size(); ++index) {
      const std::filesystem::path base = path.parent_path() / bases[index];
      std::error_code ignored;
      if (!std::filesystem::is_regular_file(base, ignored)) {
        throw LoadError{path.string() + ": /extends" +
                        (found->is_array() ? "/" + std::to_string(index) : std::string()) +
                        ": expected a readable base scenario file, cannot open " + base.string()};
      }
      merged.merge_patch(resolve_extends(base, chain));
    }
    document.erase("extends");
  }
  chain.pop_back();
  merged.merge_patch(document);
  return merged;
}

}  // namespace

std::optional<Scenario> load_scenario_file(const std::string& path, std::string& error) {
  try {
    std::vector<std::string> chain;
    const Json document = resolve_extends(path, chain);
    Scenario scenario = read_document(document, "", true);
    if (document.find("name") == document.end()) {
      scenario.name = std::filesystem::path(path).stem().string();
    }
    return scenario;
  } catch (const LoadError& load_error) {
    error = load_error.message;
  } catch (const json::JsonInputError& input_error) {
    error = json::format_error(path, 0, input_error.pointer, input_error.expected);
  } catch (const std::exception& exception) {
    error = path + ": " + exception.what();
  }
  return std::nullopt;
}

std::optional<Scenario> scenario_from_json(const Json& document, const std::string& source,
                                           const std::string& pointer, std::string& error) {
  try {
    if (document.is_object() && document.contains("extends")) {
      fail(child(pointer, "extends"), "expected no \"extends\" in an inline scenario");
    }
    return read_document(document, pointer, true);
  } catch (const json::JsonInputError& input_error) {
    error = json::format_error(source, 0, input_error.pointer, input_error.expected);
  } catch (const std::exception& exception) {
    error = source + ": " + exception.what();
  }
  return std::nullopt;
}

core::Command command_from_json(const Json& value, const std::string& pointer) {
  if (!value.is_array() || value.empty()) {
    fail(pointer, "expected a command as an array [\"VERB\", key, ...], got " + value.dump());
  }
  const std::string written = read_string(value[0], child(pointer, 0));
  const std::string verb = upper_case(written);
  const auto kind = kind_from_name(verb);
  if (!kind || (written != verb && written != json::lower_case(verb))) {
    fail(child(pointer, 0),
         "expected a command verb (GET, SET, DEL, MSET, MGET, INCRBY, SADD, "
         "HSET, ...; upper- or lower-case), got \"" +
             written + "\"");
  }
  core::Command command;
  command.kind = *kind;
  const Layout layout = layout_of(*kind);
  for (std::size_t index = 1; index < value.size(); ++index) {
    const std::string at = child(pointer, index);
    if (layout == Layout::key_amount && index == 2) {
      command.amount = read_amount(value[index], at);
      continue;
    }
    std::string token = read_string(value[index], at);
    const bool is_key =
        layout == Layout::keys || index == 1 || (layout == Layout::pairs && index % 2 == 1);
    (is_key ? command.keys : command.args).push_back(std::move(token));
  }
  if (layout == Layout::key_amount && value.size() != 3) {
    fail(pointer, "expected [\"" + verb + "\", key, amount]");
  }
  if (const auto problem = core::validate(command)) {
    fail(pointer, "expected a valid command (" + *problem + ")");
  }
  return command;
}

Json command_to_json(const core::Command& command) {
  Json result = Json::array();
  result.push_back(std::string(core::command_name(command.kind)));
  const Layout layout = layout_of(command.kind);
  if (layout == Layout::pairs) {
    for (std::size_t index = 0; index < command.keys.size(); ++index) {
      result.push_back(command.keys[index]);
      result.push_back(index < command.args.size() ? command.args[index] : std::string());
    }
    return result;
  }
  for (const std::string& key : command.keys) {
    result.push_back(key);
  }
  if (layout == Layout::key_amount) {
    result.push_back(command.amount);
  }
  for (const std::string& argument : command.args) {
    result.push_back(argument);
  }
  return result;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_seed_range(const std::string& text) {
  const auto parse = [](std::string_view digits) -> std::optional<std::uint64_t> {
    std::uint64_t value = 0;
    const char* end = digits.data() + digits.size();
    if (digits.empty() || digits.front() == '+' || digits.front() == '-') {
      return std::nullopt;
    }
    const auto [stop, status] = std::from_chars(digits.data(), end, value);
    if (status != std::errc() || stop != end) {
      return std::nullopt;  // not digits, or beyond 64 bits
    }
    return value;
  };
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) {
    const auto seed = parse(text);
    if (!seed) {
      return std::nullopt;
    }
    return std::pair{*seed, *seed};
  }
  const auto first = parse(std::string_view(text).substr(0, dots));
  const auto last = parse(std::string_view(text).substr(dots + 2));
  if (!first || !last || *first > *last) {
    return std::nullopt;
  }
  return std::pair{*first, *last};
}

std::string replica_name(core::ReplicaId id) {
  return "r" + std::to_string(id);
}
std::string client_name(std::uint32_t index) {
  return "c" + std::to_string(index);
}

const char* fault_kind_name(FaultKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  return index < kFaultKindNames.size() ? kFaultKindNames[index].data() : "unknown";
}

const char* planted_bug_name(core::PlantedBug bug) {
  const auto index = static_cast<std::size_t>(bug);
  return index < kPlantedBugNames.size() ? kPlantedBugNames[index].data() : "unknown";
}

// ---------------------------------------------------------------------------
// Writing.

namespace {

Json names_json(const std::vector<core::ReplicaId>& ids) {
  Json result = Json::array();
  for (const core::ReplicaId id : ids) {
    result.push_back(replica_name(id));
  }
  return result;
}

Json fault_json(const FaultEvent& event) {
  const FaultShape shape = shape_of(event.kind);
  Json result = Json::object();
  result["at_us"] = event.at_us;
  result["kind"] = fault_kind_name(event.kind);
  if (shape.groups) {
    Json groups = Json::array();
    for (const auto& group : event.groups) {
      groups.push_back(names_json(group));
    }
    result["groups"] = std::move(groups);
  }
  if (shape.replicas_min > 0) {
    result["replicas"] = names_json(event.replicas);
  }
  if (shape.delta) {
    result["delta_us"] = event.delta_us;
  }
  if (shape.drift) {
    result["drift_ppm"] = event.drift_ppm;
  }
  if (shape.loss) {
    result["drop_ppm"] = event.drop_ppm;
    result["duplicate_ppm"] = event.duplicate_ppm;
  }
  if (shape.flap) {
    result["cut_us"] = event.cut_us;
    result["healed_us"] = event.healed_us;
    result["cycles"] = event.cycles;
  }
  if (shape.clients_too) {
    result["clients_too"] = event.clients_too;
  }
  return result;
}

Json cluster_json(const ClusterSpec& cluster) {
  Json result =
      Json{{"replicas", cluster.replicas},
           {"replication_factor", cluster.replication_factor},
           {"virtual_nodes", cluster.virtual_nodes},
           {"consistency", kConsistencyNames[static_cast<std::size_t>(cluster.consistency)]},
           {"durable", cluster.durable},
           {"timestamps", kTimestampNames[static_cast<std::size_t>(cluster.timestamps)]},
           {"gossip_interval_us", cluster.gossip_interval_us},
           {"anti_entropy_interval_us", cluster.anti_entropy_interval_us},
           {"forward_timeout_us", cluster.forward_timeout_us},
           {"planted_bug", planted_bug_name(cluster.planted_bug)},
           {"hot_keys", Json{{"enabled", cluster.hot_keys.enabled},
                             {"window_us", cluster.hot_keys.window_us},
                             {"sub_windows", cluster.hot_keys.sub_windows},
                             {"capacity", cluster.hot_keys.capacity},
                             {"promote_threshold", cluster.hot_keys.promote_threshold},
                             {"demote_threshold", cluster.hot_keys.demote_threshold},
                             {"cool_ticks", cluster.hot_keys.cool_ticks},
                             {"extra_replicas", cluster.hot_keys.extra_replicas},
                             {"table_max", cluster.hot_keys.table_max}}},
           {"tombstone_gc", Json{{"enabled", cluster.tombstone_gc.enabled},
                                 {"interval_us", cluster.tombstone_gc.interval_us}}}};
  // Written only when given, so scenarios without membership read as before.
  if (!cluster.initial_members.empty()) {
    result["initial_members"] = names_json(cluster.initial_members);
  }
  return result;
}

Json workload_json(const WorkloadSpec& workload) {
  const OperationMix& mix = workload.mix;
  Json script = Json::array();
  for (const ScriptedOperation& operation : workload.script) {
    script.push_back(Json{{"client", client_name(operation.client)},
                          {"at_us", operation.at_us},
                          {"replica", replica_name(operation.replica)},
                          {"command", command_to_json(operation.command)}});
  }
  return Json{
      {"clients", workload.clients},
      {"ops_per_client", workload.ops_per_client},
      {"keys", workload.keys},
      {"distribution", kDistributionNames[static_cast<std::size_t>(workload.distribution)]},
      {"zipf_exponent_milli", workload.zipf_exponent_milli},
      {"hotspot_keys", workload.hotspot_keys},
      {"hotspot_ppm", workload.hotspot_ppm},
      {"rotate_every_ops", workload.rotate_every_ops},
      {"mix", Json{{"registers", mix.registers},
                   {"multi", mix.multi},
                   {"counters", mix.counters},
                   {"g_counters", mix.g_counters},
                   {"sets", mix.sets},
                   {"g_sets", mix.g_sets},
                   {"maps", mix.maps},
                   {"churn", mix.churn},
                   {"multi_del", mix.multi_del},
                   {"reads_ppm", mix.reads_ppm}}},
      {"think_us_min", workload.think_us_min},
      {"think_us_max", workload.think_us_max},
      {"replica_choice", kReplicaChoiceNames[static_cast<std::size_t>(workload.replica_choice)]},
      {"request_timeout_us", workload.request_timeout_us},
      {"sessions", workload.sessions},
      {"script", std::move(script)}};
}

Json network_json(const NetworkSpec& network) {
  return Json{{"latency_us_min", network.latency_us_min},
              {"latency_us_max", network.latency_us_max},
              {"tail_ppm", network.tail_ppm},
              {"tail_us_min", network.tail_us_min},
              {"tail_us_max", network.tail_us_max},
              {"drop_ppm", network.drop_ppm},
              {"duplicate_ppm", network.duplicate_ppm},
              {"reorder_ppm", network.reorder_ppm},
              {"drop_in_flight_on_partition", network.drop_in_flight_on_partition}};
}

Json faults_json(const Scenario& scenario) {
  const RandomFaults& random = scenario.random_faults;
  Json timeline = Json::array();
  for (const FaultEvent& event : scenario.timeline) {
    timeline.push_back(fault_json(event));
  }
  Json result = Json{{"timeline", std::move(timeline)},
                     {"random", Json{{"enabled", random.enabled},
                                     {"interval_us_min", random.interval_us_min},
                                     {"interval_us_max", random.interval_us_max},
                                     {"partitions", random.partitions},
                                     {"crashes", random.crashes},
                                     {"pauses", random.pauses},
                                     {"clock_faults", random.clock_faults},
                                     {"loss", random.loss},
                                     {"max_drop_ppm", random.max_drop_ppm},
                                     {"max_duplicate_ppm", random.max_duplicate_ppm},
                                     {"max_down", random.max_down},
                                     {"swarm", random.swarm}}}};
  if (random.membership) {  // written only when on, like initial_members
    result["random"]["membership"] = true;
  }
  return result;
}

}  // namespace

Json scenario_to_json(const Scenario& scenario) {
  const Properties& properties = scenario.properties;
  Json result = Json::object();
  result["name"] = scenario.name;
  result["description"] = scenario.description;
  result["cluster"] = cluster_json(scenario.cluster);
  result["workload"] = workload_json(scenario.workload);
  result["network"] = network_json(scenario.network);
  result["faults"] = faults_json(scenario);
  result["properties"] = Json{{"convergence", properties.convergence},
                              {"no_lost_writes", properties.no_lost_writes},
                              {"liveness", properties.liveness},
                              {"linearizability", properties.linearizability},
                              {"determinism", properties.determinism},
                              {"session_guarantees", properties.session_guarantees},
                              {"causal_consistency", properties.causal_consistency}};
  result["workload_deadline_us"] = scenario.workload_deadline_us;
  result["settle_us"] = scenario.settle_us;
  result["max_events"] = scenario.max_events;
  result["seeds"] = std::to_string(scenario.seed_first) + ".." + std::to_string(scenario.seed_last);
  if (!scenario.expected_failure.empty()) {
    result["expected_failure"] = scenario.expected_failure;
  }
  if (!scenario.also_violated.empty()) {
    result["also_violated"] = scenario.also_violated;
  }
  return result;
}

}  // namespace crdtsim::harness
