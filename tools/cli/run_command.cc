// crdtsim run SCENARIO: one run, its verdicts, statistics and trace hash.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "harness/artifact.h"
#include "harness/history.h"
#include "harness/scenario_json.h"
#include "sim/trace.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

namespace {

std::uint64_t choose_seed(const RunArgs& args, const harness::Scenario& scenario) {
  if (args.seed) {
    return *args.seed;
  }
  if (const char* from_env = std::getenv("CRDTSIM_SEED"); from_env != nullptr) {
    const auto range = harness::parse_seed_range(from_env);
    if (!range || range->first != range->second) {
      throw InputError(std::string("CRDTSIM_SEED: expected one unsigned integer seed, got \"") +
                       from_env + "\"");
    }
    return range->first;
  }
  return scenario.seed_first;
}

// Runs with the trace going to `trace_path` through a temporary file that is
// renamed into place only when the run is complete.
harness::RunOutput run_with_trace(const harness::Scenario& scenario, std::uint64_t seed,
                                  const std::string& trace_path) {
  if (trace_path.empty()) {
    return harness::run(scenario, seed);
  }
  const std::string temporary = trace_path + ".tmp";
  std::ofstream trace_out(temporary, std::ios::binary | std::ios::trunc);
  if (!trace_out) {
    throw InputError("--trace " + trace_path + ": cannot open " + temporary + " for writing");
  }
  sim::JsonLinesSink sink(trace_out);
  harness::RunOptions options;
  options.trace = &sink;
  harness::RunOutput output = harness::run(scenario, seed, options);
  trace_out.close();
  if (!trace_out || std::rename(temporary.c_str(), trace_path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw InputError("--trace " + trace_path + ": cannot write the trace");
  }
  return output;
}

}  // namespace

int run_command(const RunArgs& args, std::ostream& out, std::ostream& /*err*/) {
  const LoadedScenario loaded = load_scenario(args.scenario);
  const harness::Scenario& scenario = loaded.scenario;
  const std::uint64_t seed = choose_seed(args, scenario);
  if (!args.history_path.empty()) {
    check_writable(args.history_path, "--history");
  }
  if (!args.trace_path.empty()) {
    check_writable(args.trace_path, "--trace");
  }
  if (!args.failures_dir.empty()) {
    ensure_directory(args.failures_dir, "--failures");
  }
  if (!args.corpus_path.empty()) {
    if (args.why.empty()) {
      throw InputError(
          "--corpus: expected --why \"...\" (the bug this seed found or the "
          "situation it covers)");
    }
    check_writable(args.corpus_path, "--corpus");
  }

  harness::RunOutput output = run_with_trace(scenario, seed, args.trace_path);
  harness::check(scenario, output);
  if (args.check_determinism && !scenario.properties.determinism) {
    const harness::RunOutput again = harness::run(scenario, seed);
    const bool same = again.sim.trace_hash == output.sim.trace_hash;
    const std::string hashes =
        sim::hash_hex(output.sim.trace_hash) +
        (same ? " both times" : " then " + sim::hash_hex(again.sim.trace_hash));
    output.verdicts.push_back(
        same ? harness::Verdict::valid("determinism", "trace hash " + hashes)
             : harness::Verdict::invalid("determinism", "trace hash " + hashes));
  }
  if (!args.history_path.empty()) {
    std::string error;
    if (!harness::write_jsonl_file(output.history, args.history_path, error)) {
      throw InputError("--history " + error);
    }
  }
  std::string artifact_path;
  if (!args.failures_dir.empty() &&
      harness::combine(output.verdicts) == harness::Validity::invalid) {
    artifact_path = (std::filesystem::path(args.failures_dir) /
                     harness::artifact_file_name(scenario.name, seed))
                        .string();
    const harness::Artifact artifact =
        harness::make_artifact(harness::ArtifactKind::failure, scenario, loaded.path, output);
    write_output_file(artifact_path,
                      harness::json::pretty(harness::artifact_to_json(artifact)) + "\n");
  }

  if (!args.corpus_path.empty()) {
    harness::Artifact entry =
        harness::make_artifact(harness::ArtifactKind::corpus, scenario, loaded.path, output);
    entry.why = args.why;
    write_output_file(args.corpus_path,
                      harness::json::pretty(harness::artifact_to_json(entry)) + "\n");
  }
  if (args.json) {
    harness::json::Json result = run_to_json(output, loaded.path);
    if (!artifact_path.empty()) {
      result["artifact"] = artifact_path;
    }
    out << result.dump(2) << '\n';
  } else {
    out << "scenario: " << scenario.name << " (" << loaded.path << ")\n";
    out << "seed: " << seed << '\n';
    out << "verdicts:\n";
    print_verdicts(out, output.verdicts);
    print_statistics(out, output);
    out << "result: " << harness::validity_name(harness::combine(output.verdicts)) << '\n';
    if (!artifact_path.empty()) {
      out << "artifact: " << artifact_path << "\n  replay: " << replay_command(artifact_path)
          << '\n';
    }
    out << "trace_hash: " << sim::hash_hex(output.sim.trace_hash) << '\n';
  }
  return exit_status(output.verdicts);
}

}  // namespace crdtsim::cli
