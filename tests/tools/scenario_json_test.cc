// Scenario files and artifacts: what is read is what was written, commands
// map to the store's, and defaults are the documented ones.

#include "harness/scenario_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/artifact.h"
#include "harness/runner.h"

namespace crdtsim::harness {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> paths;
  for (const auto& entry :
       fs::recursive_directory_iterator(std::string(CRDTSIM_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() == ".json") {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(ScenarioJson, EveryShippedScenarioReadsBackEqualAfterWriting) {
  const std::vector<std::string> paths = shipped_scenarios();
  ASSERT_GE(paths.size(), 12U);
  for (const std::string& path : paths) {
    std::string error;
    const auto scenario = load_scenario_file(path, error);
    ASSERT_TRUE(scenario) << error;
    const json::Json written = scenario_to_json(*scenario);
    const auto again = scenario_from_json(written, path, "", error);
    ASSERT_TRUE(again) << error;
    EXPECT_EQ(*again, *scenario) << path;
  }
}

TEST(ScenarioJson, EmptyDocumentGivesTheDocumentedDefaults) {
  std::string error;
  const auto scenario = scenario_from_json(json::Json::object(), "empty", "", error);
  ASSERT_TRUE(scenario) << error;
  Scenario defaults;
  EXPECT_EQ(*scenario, defaults);
  EXPECT_EQ(scenario->cluster.replicas, 3U);
  EXPECT_EQ(scenario->network.drop_ppm, 0U);
  EXPECT_EQ(scenario->seed_first, 1U);
  EXPECT_EQ(scenario->seed_last, 100U);
}

TEST(ScenarioJson, HotKeysAreOffByDefaultAndReadBackEqual) {
  std::string error;
  const auto defaults = scenario_from_json(json::Json::object(), "empty", "", error);
  ASSERT_TRUE(defaults) << error;
  EXPECT_FALSE(defaults->cluster.hot_keys.enabled);
  EXPECT_EQ(defaults->workload.rotate_every_ops, 0U);
  const json::Json document = json::Json::parse(R"({
    "cluster": {"replicas": 5, "hot_keys": {"enabled": true, "window_us": 400000,
      "sub_windows": 4, "capacity": 16, "promote_threshold": 6, "demote_threshold": 2,
      "cool_ticks": 3, "extra_replicas": 2, "table_max": 32}},
    "workload": {"rotate_every_ops": 20}})");
  const auto scenario = scenario_from_json(document, "hot", "", error);
  ASSERT_TRUE(scenario) << error;
  const core::HotKeysConfig& hot = scenario->cluster.hot_keys;
  EXPECT_TRUE(hot.enabled);
  EXPECT_EQ(hot.window_us, 400'000U);
  EXPECT_EQ(hot.tick_us(), 100'000U);
  EXPECT_EQ(hot.capacity, 16U);
  EXPECT_EQ(hot.promote_threshold, 6U);
  EXPECT_EQ(hot.demote_threshold, 2U);
  EXPECT_EQ(hot.cool_ticks, 3U);
  EXPECT_EQ(hot.extra_replicas, 2U);
  EXPECT_EQ(hot.table_max, 32U);
  EXPECT_EQ(scenario->workload.rotate_every_ops, 20U);
  const auto again = scenario_from_json(scenario_to_json(*scenario), "again", "", error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(*again, *scenario);
}

TEST(ScenarioJson, HotKeysErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"cluster": {"hot_keys": {"capacity": 0}}})",
       "/cluster/hot_keys/capacity: expected an integer in 1 .. 4096, got 0"},
      {R"({"cluster": {"hot_keys": {"promote_threshold": 0, "demote_threshold": 0}}})",
       "/cluster/hot_keys/promote_threshold: expected a promote threshold of at least 1 access"},
      {R"({"cluster": {"hot_keys": {"enabled": "yes"}}})", "/cluster/hot_keys/enabled: expected"},
      {R"({"cluster": {"replicas": 4, "hot_keys": {"enabled": true, "extra_replicas": 2}}})",
       "/cluster/hot_keys/extra_replicas: expected replication_factor + extra_replicas at most "
       "cluster.replicas (4), got 3 + 2"},
  };
  for (const auto& [text, expected] : cases) {
    std::string error;
    EXPECT_FALSE(scenario_from_json(json::Json::parse(text), "case", "", error)) << text;
    EXPECT_NE(error.find(expected), std::string::npos) << error;
  }
}

TEST(ScenarioJson, ExtendsMergesBasesUnderTheFileAndNamesDefaultToTheFile) {
  std::string error;
  const auto scenario =
      load_scenario_file(std::string(CRDTSIM_SOURCE_DIR) + "/scenarios/partition-heal.json", error);
  ASSERT_TRUE(scenario) << error;
  EXPECT_EQ(scenario->name, "partition-heal");
  EXPECT_EQ(scenario->cluster.replicas, 5U);  // from include/cluster-5.json
  EXPECT_EQ(scenario->workload.clients, 8U);  // from include/workload-mixed.json
  ASSERT_EQ(scenario->timeline.size(), 2U);   // its own
  EXPECT_EQ(scenario->timeline[0].groups.size(), 2U);
  EXPECT_EQ(scenario->timeline[0].groups[1], (std::vector<core::ReplicaId>{2, 3, 4}));
}

TEST(ScenarioJson, ExtendsCycleIsAnError) {
  const fs::path directory = fs::temp_directory_path() / "crdtsim_extends_cycle";
  fs::create_directories(directory);
  std::ofstream(directory / "a.json") << R"({"extends": "b.json"})";
  std::ofstream(directory / "b.json") << R"({"extends": "a.json"})";
  std::string error;
  EXPECT_FALSE(load_scenario_file((directory / "a.json").string(), error));
  EXPECT_NE(error.find("/extends: expected no cycle"), std::string::npos) << error;
  fs::remove_all(directory);
}

TEST(ScenarioJson, TombstoneGcIsOffByDefaultAndReadsStrictly) {
  std::string error;
  const auto defaults = scenario_from_json(json::parse_strict("{}"), "test", "", error);
  ASSERT_TRUE(defaults) << error;
  EXPECT_FALSE(defaults->cluster.tombstone_gc.enabled);
  EXPECT_EQ(defaults->cluster.tombstone_gc.interval_us, 100'000U);
  EXPECT_EQ(defaults->workload.mix.churn, 0U);

  const auto on = scenario_from_json(
      json::parse_strict(R"({"cluster": {"tombstone_gc": {"enabled": true, "interval_us": 7000}},
                      "workload": {"mix": {"churn": 2}}})"),
      "test", "", error);
  ASSERT_TRUE(on) << error;
  EXPECT_TRUE(on->cluster.tombstone_gc.enabled);
  EXPECT_EQ(on->cluster.tombstone_gc.interval_us, 7000U);
  EXPECT_EQ(on->workload.mix.churn, 2U);
  const auto again = scenario_from_json(scenario_to_json(*on), "test", "", error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(*again, *on);

  EXPECT_FALSE(scenario_from_json(json::parse_strict(R"({"cluster": {"tombstone_gc": true}})"),
                                  "test", "", error));
  EXPECT_NE(error.find("/cluster/tombstone_gc"), std::string::npos) << error;
  EXPECT_FALSE(
      scenario_from_json(json::parse_strict(R"({"cluster": {"tombstone_gc": {"enabled": "yes"}}})"),
                         "test", "", error));
  EXPECT_NE(error.find("/cluster/tombstone_gc/enabled"), std::string::npos) << error;
}

// GC with sessions (collection drops version dots the tokens rely on) is
// refused with the field named, never run; GC with hot keys and GC with
// membership changes are accepted (docs/tombstone-gc.md, "Combinations").
TEST(ScenarioJson, TombstoneGcRefusesSessionsButTakesHotKeysAndMembership) {
  std::string error;
  EXPECT_FALSE(scenario_from_json(json::parse_strict(R"({"cluster": {"tombstone_gc":
                      {"enabled": true}}, "workload": {"sessions": true}})"),
                                  "test", "", error));
  EXPECT_NE(error.find("/cluster/tombstone_gc/enabled"), std::string::npos) << error;
  EXPECT_NE(error.find("sessions"), std::string::npos) << error;
  error.clear();
  EXPECT_TRUE(scenario_from_json(json::parse_strict(R"({"cluster": {"tombstone_gc":
                      {"enabled": true}, "hot_keys": {"enabled": true}, "replicas": 5}})"),
                                 "test", "", error))
      << error;
  EXPECT_TRUE(scenario_from_json(json::parse_strict(R"({"cluster": {"replicas": 4,
                      "initial_members": ["r0", "r1", "r2"], "tombstone_gc": {"enabled": true}},
                      "faults": {"timeline": [{"at_us": 100, "kind": "join", "replicas": ["r3"]},
                                              {"at_us": 200, "kind": "leave", "replicas": ["r0"]}],
                                 "random": {"enabled": true, "membership": true}}})"),
                                 "test", "", error))
      << error;
  // Sessions stay refused with membership on too.
  EXPECT_FALSE(scenario_from_json(json::parse_strict(R"({"cluster": {"replicas": 4,
                      "initial_members": ["r0", "r1", "r2"], "tombstone_gc": {"enabled": true}},
                      "workload": {"sessions": true}})"),
                                  "test", "", error));
  EXPECT_NE(error.find("/cluster/tombstone_gc/enabled"), std::string::npos) << error;
}

TEST(ScenarioJson, CommandsReadRedisStyle) {
  const auto command = [](const char* text) {
    return command_from_json(json::Json::parse(text), "/command");
  };
  const core::Command incrby = command(R"(["INCRBY", "counter:0", 5])");
  EXPECT_EQ(incrby.kind, core::CommandKind::incrby);
  EXPECT_EQ(incrby.keys, (std::vector<std::string>{"counter:0"}));
  EXPECT_EQ(incrby.amount, 5);
  EXPECT_EQ(command(R"(["decrby", "counter:0", "-7"])").amount, -7);
  const core::Command mset = command(R"(["MSET", "a", "1", "b", "2"])");
  EXPECT_EQ(mset.keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(mset.args, (std::vector<std::string>{"1", "2"}));
  const core::Command sadd = command(R"(["SADD", "set:0", "x", "y"])");
  EXPECT_EQ(sadd.keys, (std::vector<std::string>{"set:0"}));
  EXPECT_EQ(sadd.args, (std::vector<std::string>{"x", "y"}));
  for (const char* text : {R"(["INCRBY", "counter:0", 5])", R"(["MSET", "a", "1", "b", "2"])",
                           R"(["SADD", "set:0", "x", "y"])", R"(["HSET", "m", "f", "v"])",
                           R"(["DEL", "a", "b"])", R"(["MGET", "a", "b"])"}) {
    EXPECT_EQ(command_from_json(command_to_json(command(text)), ""), command(text)) << text;
  }
  EXPECT_THROW(command(R"(["SET", "k"])"), json::JsonInputError);           // arity
  EXPECT_THROW(command(R"(["INCRBY", "k", "5x"])"), json::JsonInputError);  // amount
  EXPECT_THROW(command(R"(["Set", "k", "v"])"), json::JsonInputError);      // mixed case
  EXPECT_THROW(command(R"([])"), json::JsonInputError);
}

TEST(ScenarioJson, SeedRanges) {
  EXPECT_EQ(parse_seed_range("1..100"), (std::pair<std::uint64_t, std::uint64_t>{1, 100}));
  EXPECT_EQ(parse_seed_range("7"), (std::pair<std::uint64_t, std::uint64_t>{7, 7}));
  EXPECT_EQ(parse_seed_range("18446744073709551615"),
            (std::pair<std::uint64_t, std::uint64_t>{UINT64_MAX, UINT64_MAX}));
  for (const char* bad :
       {"", "..", "1..", "..5", "5..1", "-1..3", "+1", "1...3", "1..2x", "18446744073709551616"}) {
    EXPECT_FALSE(parse_seed_range(bad)) << bad;
  }
}

TEST(Artifact, WrittenArtifactReadsBackEqual) {
  std::string error;
  auto scenario = load_scenario_file(
      std::string(CRDTSIM_SOURCE_DIR) + "/tests/tools/scenarios/run/tiny-planted-bug.json", error);
  ASSERT_TRUE(scenario) << error;
  RunOutput output = run(*scenario, 1);
  check(*scenario, output);
  ASSERT_EQ(combine(output.verdicts), Validity::invalid);
  const Artifact artifact = make_artifact(ArtifactKind::failure, *scenario, "tiny.json", output);
  const fs::path path = fs::temp_directory_path() / "crdtsim_artifact_round_trip.json";
  ASSERT_TRUE(write_file_atomically(path.string(), artifact_to_json(artifact).dump(2), error));
  const auto loaded = load_artifact_file(path.string(), error);
  ASSERT_TRUE(loaded) << error;
  EXPECT_EQ(loaded->scenario, artifact.scenario);
  EXPECT_EQ(loaded->seed, 1U);
  EXPECT_EQ(loaded->trace_hash, output.sim.trace_hash);
  EXPECT_EQ(loaded->verdicts, output.verdicts);
  const ReplayComparison same = compare_with_recording(*loaded, run(loaded->scenario, 1));
  EXPECT_TRUE(same.same_trace_hash);
  fs::remove(path);
}

TEST(Artifact, WriteFailureLeavesNothingBehind) {
  std::string error;
  EXPECT_FALSE(write_file_atomically("/nonexistent-dir/x.json", "{}", error));
  EXPECT_NE(error.find("/nonexistent-dir/x.json"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists("/nonexistent-dir/x.json.tmp"));
}

}  // namespace
}  // namespace crdtsim::harness
