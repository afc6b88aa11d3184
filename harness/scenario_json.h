#pragma once
// Scenario files: the JSON format QA writes (docs/scenarios.md, schema in
// docs/scenario.schema.json) to and from harness::Scenario.
//
// Reading is strict: unknown fields, repeated fields, wrong types,
// out-of-range numbers, unknown replica or client names and inconsistent
// combinations (a replication factor above the replica count, a minimum
// above its maximum, a fault after the workload deadline) are errors of the
// form "<file>: <JSON pointer>: expected ...". Scenarios compose: "extends"
// names base files (relative to the extending file) that are applied first,
// each later one overriding the earlier as a JSON merge patch (RFC 7386:
// objects merge field by field, everything else replaces).
//
// Writing spells out every field, so a written scenario reads back equal and
// does not depend on the defaults of the build that reads it.

#include <cstdint>
#include <optional>
#include <string>

#include "core/store/command.h"
#include "harness/json_fields.h"
#include "harness/scenario.h"

namespace crdtsim::harness {

// The bounds the reader enforces ("absurd sizes" are errors, not slow runs).
struct ScenarioLimits {
  static constexpr std::uint32_t replicas_max = 64;
  static constexpr std::uint32_t virtual_nodes_max = 4096;
  static constexpr std::uint32_t clients_max = 1024;
  static constexpr std::uint32_t ops_per_client_max = 1'000'000;
  static constexpr std::uint32_t keys_max = 1'000'000;
  static constexpr std::uint32_t script_max = 1'000'000;
  static constexpr std::uint32_t timeline_max = 100'000;
  static constexpr std::uint32_t flap_cycles_max = 100'000;
  static constexpr std::uint64_t time_us_max = 86'400'000'000;  // one simulated day
  static constexpr std::uint64_t max_events_max = 2'000'000'000;
  static constexpr std::uint32_t zipf_exponent_milli_max = 10'000;
  static constexpr std::int32_t drift_ppm_max = 100'000;
  static constexpr std::uint32_t extends_depth_max = 16;
  static constexpr std::uint64_t hot_key_threshold_max = 1'000'000'000;
  static constexpr std::uint32_t hot_key_cool_ticks_max = 1'000'000;
};

// Reads a scenario file (following "extends"). The scenario's name defaults
// to the file name without ".json". On error returns nullopt and sets
// `error`, naming the file, the JSON pointer and what was expected.
std::optional<Scenario> load_scenario_file(const std::string& path, std::string& error);

// Reads a scenario from a parsed document (an artifact's inline scenario);
// "extends" is not allowed here. `source` names the document in errors and
// `pointer` is where the document sits inside it.
std::optional<Scenario> scenario_from_json(const json::Json& document, const std::string& source,
                                           const std::string& pointer, std::string& error);

// Every field spelled out; scenario_from_json(scenario_to_json(s)) == s.
json::Json scenario_to_json(const Scenario& scenario);

// Commands are written Redis-style: ["SET", "reg:1", "v"], ["INCRBY", "ctr:1", "5"],
// ["SADD", "set:1", "a", "b"], ["MSET", "k1", "v1", "k2", "v2"].
core::Command command_from_json(const json::Json& value, const std::string& pointer);
json::Json command_to_json(const core::Command& command);

// "A..B" (inclusive, A <= B) or "N" (one seed). nullopt if it does not parse.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_seed_range(const std::string& text);

// The names used in scenario files.
std::string replica_name(core::ReplicaId id);  // "r0", "r1", ...
std::string client_name(std::uint32_t index);  // "c0", "c1", ...
const char* fault_kind_name(FaultKind kind);
const char* planted_bug_name(core::PlantedBug bug);

}  // namespace crdtsim::harness
