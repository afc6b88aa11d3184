// The crdtsim CLI driven as a user drives it: exit codes, what it prints,
// which files it writes and which it never leaves behind.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
};

Result crdtsim(const std::string& arguments, const std::string& environment = "") {
  const std::string command =
      environment + " " + std::string(CRDTSIM_BINARY) + " " + arguments + " 2>&1";
  Result result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), read);
  }
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string source(const std::string& relative) {
  return std::string(CRDTSIM_SOURCE_DIR) + "/" + relative;
}

const std::string kTiny = source("tests/tools/scenarios/run/tiny.json");
const std::string kNotLinearizable = source("tests/tools/scenarios/run/tiny-not-linearizable.json");
const std::string kPlantedBug = source("tests/tools/scenarios/run/tiny-planted-bug.json");

std::string trace_hash_of(const std::string& output) {
  std::smatch match;
  const std::regex pattern("trace_hash: ([0-9a-f]{16})\n");
  return std::regex_search(output, match, pattern) ? match[1].str() : "";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("crdtsim_cli_" +
                  std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  // Files in the directory, to assert nothing partial was left behind.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(directory_)) {
      names.push_back(fs::relative(entry.path(), directory_).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path directory_;
};

TEST_F(CliTest, RunPrintsVerdictsStatisticsAndTraceHash) {
  const Result result = crdtsim("run " + kTiny + " --seed 3");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("convergence      valid"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("no_lost_writes   valid"), std::string::npos);
  EXPECT_NE(result.output.find("operations       40"), std::string::npos) << result.output;
  EXPECT_EQ(trace_hash_of(result.output).size(), 16U) << result.output;
}

TEST_F(CliTest, SameSeedSameTraceHashAndEnvironmentSeedIsUsed) {
  const std::string by_option = trace_hash_of(crdtsim("run " + kTiny + " --seed 5").output);
  const std::string by_environment =
      trace_hash_of(crdtsim("run " + kTiny, "CRDTSIM_SEED=5").output);
  const std::string other = trace_hash_of(crdtsim("run " + kTiny + " --seed 6").output);
  ASSERT_FALSE(by_option.empty());
  EXPECT_EQ(by_option, by_environment);
  EXPECT_NE(by_option, other);
  // --seed wins over the environment.
  EXPECT_EQ(trace_hash_of(crdtsim("run " + kTiny + " --seed 5", "CRDTSIM_SEED=6").output),
            by_option);
  const Result bad = crdtsim("run " + kTiny, "CRDTSIM_SEED=five");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("CRDTSIM_SEED: expected one unsigned integer seed"), std::string::npos);
}

TEST_F(CliTest, RunJsonAndDeterminismCheck) {
  const Result result = crdtsim("run " + kTiny + " --seed 2 --json --check-determinism");
  ASSERT_EQ(result.status, 0) << result.output;
  const auto parsed = nlohmann::json::parse(result.output);
  EXPECT_EQ(parsed.at("validity"), "valid");
  EXPECT_EQ(parsed.at("statistics").at("operations"), 40);
  bool determinism_checked = false;
  for (const auto& verdict : parsed.at("verdicts")) {
    determinism_checked |=
        verdict.at("property") == "determinism" && verdict.at("validity") == "valid";
  }
  EXPECT_TRUE(determinism_checked) << result.output;
}

TEST_F(CliTest, ViolationExitsOneAndWritesAnArtifactThatReplays) {
  const Result result =
      crdtsim("run " + kNotLinearizable + " --seed 1 --failures " + path("failures"));
  EXPECT_EQ(result.status, 1) << result.output;
  const std::string artifact = path("failures/tiny-not-linearizable-seed1.json");
  ASSERT_TRUE(fs::exists(artifact)) << result.output;
  EXPECT_NE(result.output.find("replay: build/crdtsim replay " + artifact), std::string::npos);

  const Result replayed = crdtsim("replay " + artifact);
  EXPECT_EQ(replayed.status, 1) << replayed.output;
  EXPECT_NE(replayed.output.find("reproduced the failure"), std::string::npos) << replayed.output;
  EXPECT_EQ(trace_hash_of(result.output).empty(), false);
}

TEST_F(CliTest, ReplayDetectsAChangedTraceHash) {
  ASSERT_EQ(crdtsim("run " + kNotLinearizable + " --seed 2 --failures " + path("f")).status, 1);
  const std::string artifact = path("f/tiny-not-linearizable-seed2.json");
  auto document = nlohmann::ordered_json::parse(read_file(artifact));
  document["trace_hash"] = "0123456789abcdef";
  std::ofstream(artifact) << document.dump(2);
  const Result replayed = crdtsim("replay " + artifact);
  EXPECT_EQ(replayed.status, 1);
  EXPECT_NE(replayed.output.find("TRACE HASH DIFFERS"), std::string::npos) << replayed.output;
}

// A corpus entry passes only when verdicts and trace hash both match.
TEST_F(CliTest, CorpusEntryReplaysAndCatchesAChangedVerdict) {
  ASSERT_EQ(crdtsim("run " + kNotLinearizable + " --seed 3 --failures " + path("f")).status, 1);
  auto document =
      nlohmann::ordered_json::parse(read_file(path("f/tiny-not-linearizable-seed3.json")));
  document["crdtsim"] = "seed-corpus-entry";
  document["why"] = "test: the eventual level is not linearizable";
  std::ofstream(path("entry.json")) << document.dump(2);
  const Result matches = crdtsim("replay " + path("entry.json"));
  EXPECT_EQ(matches.status, 0) << matches.output;
  EXPECT_NE(matches.output.find("matches the recording"), std::string::npos);

  for (auto& verdict : document["verdicts"]) {
    if (verdict["property"] == "linearizability") {
      verdict["validity"] = "valid";  // pretend it used to pass
    }
  }
  document["validity"] = "valid";
  std::ofstream(path("entry.json")) << document.dump(2);
  const Result differs = crdtsim("replay " + path("entry.json"));
  EXPECT_EQ(differs.status, 1);
  EXPECT_NE(differs.output.find("linearizability: recorded valid, now invalid"), std::string::npos)
      << differs.output;
}

TEST_F(CliTest, CorpusEntryWithoutWhyIsBadInput) {
  ASSERT_EQ(crdtsim("run " + kNotLinearizable + " --seed 3 --failures " + path("f")).status, 1);
  auto document =
      nlohmann::ordered_json::parse(read_file(path("f/tiny-not-linearizable-seed3.json")));
  document["crdtsim"] = "seed-corpus-entry";
  std::ofstream(path("entry.json")) << document.dump(2);
  const Result result = crdtsim("replay " + path("entry.json"));
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.output.find(path("entry.json") + ": /why: expected a non-empty \"why\""),
            std::string::npos)
      << result.output;
}

TEST_F(CliTest, SweepSummaryArtifactsJunitAndExitStatus) {
  const Result result = crdtsim("sweep " + kTiny + " " + kPlantedBug + " --seeds 1..3 --jobs 2" +
                                " --failures " + path("failures") + " --junit " +
                                path("junit.xml") + " --out " + path("results.jsonl"));
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("runs             6"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("tiny-planted-bug: 3 runs, 3 failing"), std::string::npos);
  EXPECT_NE(result.output.find("coverage never reached:"), std::string::npos);
  EXPECT_NE(result.output.find("slowest convergence"), std::string::npos);
  EXPECT_TRUE(fs::exists(path("failures/tiny-planted-bug-seed1.json")));
  EXPECT_FALSE(fs::exists(path("failures/tiny-seed1.json")));
  const std::string junit = read_file(path("junit.xml"));
  EXPECT_NE(junit.find("<testsuites name=\"crdtsim sweep\" tests=\"6\" failures=\"3\">"),
            std::string::npos)
      << junit;
  EXPECT_NE(junit.find("<failure message=\"no_lost_writes: "), std::string::npos);
  std::ifstream lines(path("results.jsonl"));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
  }
  EXPECT_EQ(count, 6);
}

TEST_F(CliTest, DemonstrationSweepPassesWhenTheExpectedViolationShows) {
  const Result result =
      crdtsim("sweep " + kNotLinearizable + " --seeds 1..2 --failures " + path("failures"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("violate linearizability as expected"), std::string::npos);
}

TEST_F(CliTest, ResumedSweepGivesTheSameFile) {
  ASSERT_EQ(crdtsim("sweep " + kTiny + " --seeds 1..6 --out " + path("full.jsonl")).status, 0);
  const std::string full = read_file(path("full.jsonl"));
  // Keep two complete lines and a torn third one, as a killed sweep leaves.
  std::size_t cut = 0;
  for (int line = 0; line < 2; ++line) {
    cut = full.find('\n', cut) + 1;
  }
  std::ofstream(path("partial.jsonl")) << full.substr(0, cut + 10);
  const Result resumed =
      crdtsim("sweep " + kTiny + " --seeds 1..6 --resume --out " + path("partial.jsonl"));
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("(2 resumed)"), std::string::npos) << resumed.output;
  EXPECT_EQ(read_file(path("partial.jsonl")), full);
}

TEST_F(CliTest, ShardsSplitTheSeedsExactly) {
  std::string seen;
  for (int shard = 1; shard <= 3; ++shard) {
    const std::string out = path("shard" + std::to_string(shard) + ".jsonl");
    ASSERT_EQ(crdtsim("sweep " + kTiny + " --seeds 1..6 --shard " + std::to_string(shard) +
                      "/3 --out " + out)
                  .status,
              0);
    std::ifstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      seen += std::to_string(nlohmann::json::parse(line).at("seed").get<int>()) + ",";
    }
  }
  EXPECT_EQ(seen, "1,4,2,5,3,6,");
}

TEST_F(CliTest, BadInputExitsTwoWithAClearMessageAndWritesNothing) {
  const std::string bad = source("tests/tools/scenarios/bad/probability-out-of-range.json");
  const struct {
    std::string arguments;
    std::string message;
  } cases[] = {
      {"run " + bad + " --history " + path("h.jsonl") + " --trace " + path("t.jsonl"),
       bad + ": /network/drop_ppm: expected an integer in 0 .. 1000000, got 1500000"},
      {"run " + path("missing.json"), path("missing.json") + ": cannot open"},
      {"run " + kTiny + " --history " + path("no/such/dir/h.jsonl"),
       "--history " + path("no/such/dir/h.jsonl") + ": the directory"},
      {"sweep " + kTiny + " --seeds 9..1", "--seeds: expected a seed range A..B"},
      {"sweep " + kTiny + " --seeds x", "--seeds: expected a seed range A..B"},
      {"sweep " + kTiny + " --shard 4/3", "--shard: expected K/N with 1 <= K <= N"},
      {"sweep " + kTiny + " --jobs 0", "--jobs"},
      {"sweep " + kTiny + " --resume", "--resume: expected --out FILE.jsonl"},
      {"sweep " + kTiny + " " + kTiny, "expected a scenario name not used by another scenario"},
      {"replay " + kTiny, kTiny + ": /crdtsim: expected a field \"crdtsim\""},
      {"check " + kTiny + " --model graph", "--model: expected register, counter or set"},
      {"fuzz --planted-bug typo", "--planted-bug: expected none"},
      {"frobnicate", "unknown command \"frobnicate\""},
      {"run", "scenario is required"},
  };
  for (const auto& bad_case : cases) {
    const Result result = crdtsim(bad_case.arguments);
    EXPECT_EQ(result.status, 2) << bad_case.arguments << "\n" << result.output;
    EXPECT_NE(result.output.find(bad_case.message), std::string::npos) << bad_case.arguments << "\n"
                                                                       << result.output;
  }
  EXPECT_TRUE(files().empty()) << "left behind: " << files().front();
}

TEST_F(CliTest, HistoryAndTraceFilesAreWrittenWhole) {
  const Result result = crdtsim("run " + kTiny + " --seed 1 --history " + path("h.jsonl") +
                                " --trace " + path("t.jsonl"));
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(files(), (std::vector<std::string>{"h.jsonl", "t.jsonl"}));
  const Result checked = crdtsim("check " + path("h.jsonl") + " --model counter");
  EXPECT_NE(checked.output.find("history: " + path("h.jsonl") + " (jsonl, model counter)"),
            std::string::npos)
      << checked.output;
}

TEST_F(CliTest, CheckFindsANonLinearizableHistoryAndReadsJepsenFormat) {
  ASSERT_EQ(crdtsim("run " + kNotLinearizable + " --seed 1 --history " + path("h.jsonl")).status,
            1);
  const Result history = crdtsim("check " + path("h.jsonl") + " --model register");
  EXPECT_EQ(history.status, 1) << history.output;
  EXPECT_NE(history.output.find("linearizability  invalid"), std::string::npos) << history.output;

  std::ofstream(path("jepsen.edn")) << "{:process 0, :type :invoke, :f :write, :value 1}\n"
                                       "{:process 0, :type :ok, :f :write, :value 1}\n"
                                       "{:process 1, :type :invoke, :f :read, :value nil}\n"
                                       "{:process 1, :type :ok, :f :read, :value 2}\n";
  const Result jepsen = crdtsim("check " + path("jepsen.edn") + " --model register");
  EXPECT_EQ(jepsen.status, 1) << jepsen.output;
  EXPECT_NE(jepsen.output.find("(jepsen, model register)"), std::string::npos) << jepsen.output;
}

TEST_F(CliTest, ValidateReportsEachFile) {
  const std::string bad = source("tests/tools/scenarios/bad/unknown-field.json");
  const Result result = crdtsim("validate " + kTiny + " " + bad);
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.output.find(kTiny + ": ok: tiny: 3 replicas (rf 2)"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find(bad + ": /netwrk: expected no unknown field"), std::string::npos);
  const Result printed =
      crdtsim("validate --print " + source("tests/tools/scenarios/good/extends-chain.json"));
  EXPECT_EQ(printed.status, 0) << printed.output;
  EXPECT_NE(printed.output.find("\"replication_factor\": 3"), std::string::npos);
  EXPECT_NE(printed.output.find("\"clients\": 2"), std::string::npos);  // from the base
}

TEST_F(CliTest, ShrinkWritesASmallerScenarioThatStillFails) {
  ASSERT_EQ(crdtsim("run " + kPlantedBug + " --seed 1 --failures " + path("f")).status, 1);
  const std::string artifact = path("f/tiny-planted-bug-seed1.json");
  const Result shrunk =
      crdtsim("shrink " + artifact + " -o " + path("small.json") + " --max-runs 150");
  EXPECT_EQ(shrunk.status, 1) << shrunk.output;
  EXPECT_NE(shrunk.output.find("before: "), std::string::npos) << shrunk.output;
  EXPECT_NE(shrunk.output.find("after:  "), std::string::npos);
  const Result rerun = crdtsim("run " + path("small.json"));
  EXPECT_EQ(rerun.status, 1) << rerun.output;
  EXPECT_NE(rerun.output.find("no_lost_writes   invalid"), std::string::npos) << rerun.output;
}

TEST_F(CliTest, FuzzPassesOnTheRealStore) {
  const Result result = crdtsim("fuzz --iterations 3 --max-size 10 --out-dir " + path("fz"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("every property held"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(path("fz")));
}

// The fuzzer's output is a scenario file like any other: it validates and,
// run, fails the same way.
TEST_F(CliTest, FuzzFindsAPlantedBugAndWritesAScenarioThatFails) {
  const Result found = crdtsim("fuzz --iterations 200 --seed 1 --planted-bug counter_double_apply" +
                               std::string(" --out-dir ") + path("fz"));
  EXPECT_EQ(found.status, 1) << found.output;
  EXPECT_NE(found.output.find("FAILED: no_lost_writes"), std::string::npos) << found.output;
  EXPECT_NE(found.output.find("--reproduce 'reproduce="), std::string::npos);
  const std::string scenario = path("fz/fuzz-seed1.json");
  EXPECT_EQ(crdtsim("validate " + scenario).status, 0);
  const Result rerun = crdtsim("run " + scenario);
  EXPECT_EQ(rerun.status, 1) << rerun.output;
  EXPECT_NE(rerun.output.find("no_lost_writes   invalid"), std::string::npos) << rerun.output;
}

}  // namespace
