// crdtsim: the command-line front end (CLI11). Each subcommand's work is in
// tools/cli/*_command.cc; this file only declares the options.
//
// Exit status: 0 every property held; 1 a property was violated or a
// determinism check failed; 2 bad input or usage (nothing written).

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace {

using namespace crdtsim::cli;

// CLI11 validators that keep numbers in range (absurd values are usage errors).
const CLI::Range kJobs(1, 256);

void add_run(CLI::App& app, RunArgs& args) {
  CLI::App* run = app.add_subcommand("run", "Run one scenario with one seed");
  run->add_option("scenario", args.scenario, "Scenario file (JSON)")->required();
  run->add_option("--seed", args.seed,
                  "Seed (default: $CRDTSIM_SEED, else the scenario's first seed)");
  run->add_option("--history", args.history_path, "Write the history as JSON Lines to FILE");
  run->add_option("--trace", args.trace_path, "Write the trace as JSON Lines to FILE");
  run->add_option("--failures", args.failures_dir,
                  "If the run fails, write its failure artifact into DIR");
  run->add_option("--corpus", args.corpus_path,
                  "Write the run as a seed-corpus entry to FILE (with --why)");
  run->add_option("--why", args.why, "Why the corpus entry exists (the bug or situation)");
  run->add_flag("--check-determinism", args.check_determinism,
                "Run the seed twice and compare trace hashes");
  run->add_flag("--json", args.json, "Print the result as JSON");
}

void add_sweep(CLI::App& app, SweepArgs& args) {
  CLI::App* sweep = app.add_subcommand("sweep", "Run scenarios over seed ranges");
  sweep->add_option("scenarios", args.scenarios, "Scenario files (JSON)")->required();
  sweep->add_option("--seeds", args.seeds, "Seed range A..B (default: each scenario's own)");
  sweep->add_option("--jobs,-j", args.jobs, "Parallel workers")->check(kJobs);
  sweep->add_option("--shard", args.shard, "Run shard K of N of the seeds (K/N, 1-based)");
  sweep->add_option("--out", args.out_path, "Append one JSON line per run to FILE.jsonl");
  sweep->add_flag("--resume", args.resume, "Continue the sweep recorded in --out");
  sweep->add_option("--failures", args.failures_dir,
                    "Directory for failure artifacts (default: failures)");
  sweep->add_option("--junit", args.junit_path, "Write JUnit XML to FILE.xml");
  sweep->add_option("--determinism-every", args.determinism_every,
                    "Run every Nth seed twice and compare trace hashes (0: never)");
  sweep->add_option("--artifacts-max", args.artifacts_max,
                    "At most this many failure artifacts per scenario");
  sweep->add_flag("--json", args.json, "Print the summary as JSON");
}

void add_replay(CLI::App& app, ReplayArgs& args) {
  CLI::App* replay =
      app.add_subcommand("replay", "Re-run failure artifacts or seeds/ corpus entries");
  replay->add_option("artifacts", args.artifacts, "Artifact files or directories of them")
      ->required();
  replay->add_flag("--rerecord", args.rerecord,
                   "Corpus entries whose verdicts match: rewrite the recorded trace hash");
  replay->add_option("--to-corpus", args.to_corpus_dir,
                     "Write each replay, with today's verdicts, as a corpus entry into DIR");
  replay->add_option("--why", args.why, "The reason recorded in --to-corpus entries");
  replay->add_flag("--json", args.json, "Print the results as JSON");
}

void add_shrink(CLI::App& app, ShrinkArgs& args) {
  CLI::App* shrink = app.add_subcommand("shrink", "Minimize a failing run into a small scenario");
  shrink->add_option("artifact", args.artifact, "Failure artifact (JSON)")->required();
  shrink->add_option("-o,--output", args.output_path, "Write the shrunk scenario to FILE");
  shrink->add_option("--property", args.property,
                     "Keep failing this property (default: the recorded violation)");
  shrink->add_option("--max-runs", args.max_runs, "Budget of runs (default 2000)");
}

void add_fuzz(CLI::App& app, FuzzArgs& args) {
  CLI::App* fuzz = app.add_subcommand("fuzz", "Generate whole scenarios with RapidCheck");
  fuzz->add_option("--iterations", args.iterations, "Generated scenarios (default 100)");
  fuzz->add_option("--seed", args.seed, "RapidCheck seed (default 1)");
  fuzz->add_option("--max-size", args.max_size, "RapidCheck max size 1..100 (default 100)");
  fuzz->add_option("--max-shrink-runs", args.max_shrink_runs, "Budget of shrink runs");
  fuzz->add_option("--out-dir", args.out_dir, "Where a failing scenario is written");
  fuzz->add_option("--planted-bug", args.planted_bug,
                   "Fuzz a deliberately broken store variant (to see a failure found)");
  fuzz->add_option("--reproduce", args.reproduce, "Replay one case from its reproduce string");
}

void add_validate(CLI::App& app, ValidateArgs& args) {
  CLI::App* validate = app.add_subcommand("validate", "Check scenario files");
  validate->add_option("scenarios", args.scenarios, "Scenario files (JSON)")->required();
  validate->add_flag("--print", args.print, "Print each scenario with every field spelled out");
}

void add_check(CLI::App& app, CheckArgs& args) {
  CLI::App* check = app.add_subcommand("check", "Check a history file (JSON Lines or Jepsen EDN)");
  check->add_option("history", args.history_path, "History file")->required();
  check->add_option("--model", args.model, "register, counter or set")->required();
  check->add_option("--format", args.format, "auto, jsonl or jepsen (default auto)");
  check->add_option("--max-states", args.max_states, "Search budget of the linearizability check");
  check->add_flag("--json", args.json, "Print the verdict as JSON");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crdtsim: deterministic simulation testing of a replicated CRDT store"};
  app.require_subcommand(1);
  RunArgs run;
  SweepArgs sweep;
  ReplayArgs replay;
  ShrinkArgs shrink;
  FuzzArgs fuzz;
  ValidateArgs validate;
  CheckArgs check;
  add_run(app, run);
  add_sweep(app, sweep);
  add_replay(app, replay);
  add_shrink(app, shrink);
  add_fuzz(app, fuzz);
  add_validate(app, validate);
  add_check(app, check);
  const auto known = [&app](const std::string& name) {
    for (const CLI::App* subcommand : app.get_subcommands({})) {
      if (subcommand->get_name() == name) {
        return true;
      }
    }
    return false;
  };
  if (argc >= 2 && argv[1][0] != '-' && !known(argv[1])) {
    std::cerr << "crdtsim: error: unknown command \"" << argv[1]
              << "\" (expected run, sweep, replay, shrink, fuzz, validate or check; see --help)\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);  // prints the help or the usage error
    return code == 0 ? kExitHeld : kExitBadInput;
  }
  try {
    const std::string name = app.get_subcommands().front()->get_name();
    if (name == "run")
      return run_command(run, std::cout, std::cerr);
    if (name == "sweep")
      return sweep_command(sweep, std::cout, std::cerr);
    if (name == "replay")
      return replay_command(replay, std::cout, std::cerr);
    if (name == "shrink")
      return shrink_command(shrink, std::cout, std::cerr);
    if (name == "fuzz")
      return fuzz_command(fuzz, std::cout, std::cerr);
    if (name == "validate")
      return validate_command(validate, std::cout, std::cerr);
    if (name == "check")
      return check_command(check, std::cout, std::cerr);
  } catch (const InputError& error) {
    std::cerr << "crdtsim: error: " << error.what() << '\n';
    return kExitBadInput;
  } catch (const std::exception& error) {
    std::cerr << "crdtsim: internal error: " << error.what() << '\n';
    return kExitBadInput;
  }
  return kExitBadInput;
}
