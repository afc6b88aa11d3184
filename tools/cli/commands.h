#pragma once
// The crdtsim commands. Each takes its parsed arguments, prints to `out`
// (results) and `err` (progress, errors) and returns the exit status; bad
// input throws InputError (exit 2) before anything is written.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace crdtsim::cli {

struct RunArgs {
  std::string scenario;
  std::optional<std::uint64_t> seed;  // else CRDTSIM_SEED, else the scenario's first seed
  std::string history_path;
  std::string trace_path;
  std::string failures_dir;  // when set, a failing run writes its artifact there
  std::string corpus_path;   // when set, write the run as a seeds/ corpus entry
  std::string why;           // the corpus entry's reason (required with corpus_path)
  bool check_determinism = false;
  bool json = false;
};
int run_command(const RunArgs& args, std::ostream& out, std::ostream& err);

struct SweepArgs {
  std::vector<std::string> scenarios;
  std::string seeds;  // "A..B"; empty: each scenario's own range
  std::uint32_t jobs = 1;
  std::string shard;  // "K/N"; empty: 1/1
  std::string out_path;
  bool resume = false;
  std::string failures_dir = "failures";
  std::string junit_path;
  bool json = false;
  std::uint32_t determinism_every = 0;
  std::uint32_t artifacts_max = 20;  // per scenario
};
int sweep_command(const SweepArgs& args, std::ostream& out, std::ostream& err);

struct ReplayArgs {
  std::vector<std::string> artifacts;  // files, or directories of *.json
  bool rerecord = false;               // corpus: rewrite the trace hash when only it differs
  std::string to_corpus_dir;           // write each replay as a corpus entry there
  std::string why;                     // its reason (required for failure artifacts)
  bool json = false;
};
int replay_command(const ReplayArgs& args, std::ostream& out, std::ostream& err);

struct ShrinkArgs {
  std::string artifact;
  std::string output_path;  // default: "<artifact without .json>.shrunk.json"
  std::string property;     // default: the property the artifact recorded as violated
  std::uint32_t max_runs = 2'000;
};
int shrink_command(const ShrinkArgs& args, std::ostream& out, std::ostream& err);

struct FuzzArgs {
  std::uint32_t iterations = 100;
  std::uint64_t seed = 1;
  std::uint32_t max_size = 100;
  std::uint32_t max_shrink_runs = 1'000;
  std::string out_dir = "failures";
  std::string planted_bug = "none";  // to see the fuzzer find and shrink a known bug
  std::string reproduce;             // replay one shrunk case from its reproduce string
};
int fuzz_command(const FuzzArgs& args, std::ostream& out, std::ostream& err);

struct ValidateArgs {
  std::vector<std::string> scenarios;
  bool print = false;  // print each scenario with every field spelled out
};
int validate_command(const ValidateArgs& args, std::ostream& out, std::ostream& err);

struct CheckArgs {
  std::string history_path;
  std::string model;             // register | counter | set
  std::string format = "auto";   // auto | jsonl | jepsen
  std::uint64_t max_states = 0;  // 0: the checker's default
  bool json = false;
};
int check_command(const CheckArgs& args, std::ostream& out, std::ostream& err);

}  // namespace crdtsim::cli
