// crdtsim replay ARTIFACT...: re-runs failure artifacts and seed-corpus
// entries and compares them with what was recorded.

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "harness/artifact.h"
#include "sim/trace.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

namespace {

// Files as given; a directory stands for its *.json files, sorted by name.
std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") {
        found.push_back(entry.path().string());
      }
    }
    if (found.empty()) {
      throw InputError(path + ": expected a directory holding artifact files (*.json), found none");
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

struct Replayed {
  std::string path;
  harness::Artifact artifact;
  harness::RunOutput output;
  harness::ReplayComparison comparison;
  int status = kExitHeld;
  std::string outcome;
};

void judge(Replayed& replayed) {
  const bool corpus = replayed.artifact.kind == harness::ArtifactKind::corpus;
  const harness::ReplayComparison& comparison = replayed.comparison;
  if (corpus) {
    const bool same = comparison.same_trace_hash && comparison.verdict_differences.empty();
    replayed.status = same ? kExitHeld : kExitViolated;
    replayed.outcome =
        same ? "matches the recording"
        : !comparison.verdict_differences.empty()
            ? "VERDICT DIFFERS from the recording"
            : "TRACE HASH DIFFERS (non-determinism, or the code changed since it was "
              "recorded: check, then `replay --rerecord`)";
    return;
  }
  if (!comparison.same_trace_hash) {
    replayed.status = kExitViolated;
    replayed.outcome =
        "TRACE HASH DIFFERS from the recorded one (non-determinism, or the code changed)";
    return;
  }
  replayed.status = exit_status(replayed.output.verdicts);
  replayed.outcome = replayed.status == kExitHeld ? "no longer fails (every property held)"
                                                  : "reproduced the failure";
}

void print_replayed(std::ostream& out, const Replayed& replayed) {
  const harness::Artifact& artifact = replayed.artifact;
  out << replayed.path << ": "
      << (artifact.kind == harness::ArtifactKind::corpus ? "corpus entry" : "failure artifact")
      << ", scenario " << artifact.scenario.name << ", seed " << artifact.seed << '\n';
  if (!artifact.why.empty()) {
    out << "  why: " << artifact.why << '\n';
  }
  out << "  verdicts:\n";
  print_verdicts(out, replayed.output.verdicts);
  for (const std::string& difference : replayed.comparison.verdict_differences) {
    out << "  differs: " << difference << '\n';
  }
  out << "  trace_hash: " << sim::hash_hex(replayed.output.sim.trace_hash) << " (recorded "
      << sim::hash_hex(artifact.trace_hash) << ")\n";
  out << "  result: " << replayed.outcome << '\n';
}

harness::json::Json replayed_json(const Replayed& replayed) {
  harness::json::Json result = run_to_json(replayed.output, replayed.artifact.scenario_file);
  result["artifact"] = replayed.path;
  result["recorded_trace_hash"] = sim::hash_hex(replayed.artifact.trace_hash);
  result["verdict_differences"] = replayed.comparison.verdict_differences;
  result["outcome"] = replayed.outcome;
  result["status"] = replayed.status;
  return result;
}

}  // namespace

int replay_command(const ReplayArgs& args, std::ostream& out, std::ostream& /*err*/) {
  const std::vector<std::string> files = expand(args.artifacts);
  std::vector<harness::Artifact> artifacts;
  for (const std::string& file : files) {  // every input is checked before any run
    std::string error;
    auto artifact = harness::load_artifact_file(file, error);
    if (!artifact) {
      throw InputError(error);
    }
    artifacts.push_back(std::move(*artifact));
  }
  if (!args.to_corpus_dir.empty()) {
    for (std::size_t index = 0; index < files.size(); ++index) {
      if (artifacts[index].kind == harness::ArtifactKind::failure && args.why.empty()) {
        throw InputError("--to-corpus: expected --why \"...\" for " + files[index] +
                         " (a failure artifact has no reason recorded)");
      }
    }
    ensure_directory(args.to_corpus_dir, "--to-corpus");
  }
  int status = kExitHeld;
  harness::json::Json results = harness::json::Json::array();
  for (std::size_t index = 0; index < files.size(); ++index) {
    Replayed replayed{files[index], std::move(artifacts[index]), {}, {}, kExitHeld, {}};
    replayed.output = harness::run(replayed.artifact.scenario, replayed.artifact.seed);
    harness::check(replayed.artifact.scenario, replayed.output);
    replayed.comparison = harness::compare_with_recording(replayed.artifact, replayed.output);
    judge(replayed);
    const bool rerecord =
        args.rerecord && replayed.artifact.kind == harness::ArtifactKind::corpus &&
        replayed.comparison.verdict_differences.empty() && !replayed.comparison.same_trace_hash;
    if (rerecord) {
      replayed.artifact.trace_hash = replayed.output.sim.trace_hash;
      replayed.artifact.verdicts = replayed.output.verdicts;
      replayed.artifact.validity = harness::combine(replayed.output.verdicts);
      write_output_file(replayed.path,
                        harness::json::pretty(harness::artifact_to_json(replayed.artifact)) + "\n");
      replayed.status = kExitHeld;
      replayed.outcome = "re-recorded the trace hash (the verdicts match)";
    }
    if (!args.to_corpus_dir.empty()) {
      harness::Artifact entry = replayed.artifact;
      entry.kind = harness::ArtifactKind::corpus;
      entry.why = args.why.empty() ? entry.why : args.why;
      entry.trace_hash = replayed.output.sim.trace_hash;
      entry.verdicts = replayed.output.verdicts;
      entry.validity = harness::combine(entry.verdicts);
      const std::string path = (std::filesystem::path(args.to_corpus_dir) /
                                std::filesystem::path(files[index]).filename())
                                   .string();
      write_output_file(path, harness::json::pretty(harness::artifact_to_json(entry)) + "\n");
      replayed.status = kExitHeld;
      replayed.outcome = "recorded as a corpus entry in " + path;
    }
    status = std::max(status, replayed.status);
    if (args.json) {
      results.push_back(replayed_json(replayed));
    } else {
      print_replayed(out, replayed);
    }
  }
  if (args.json) {
    out << results.dump(2) << '\n';
  } else if (files.size() > 1) {
    out << "replayed " << files.size()
        << " artifacts: " << (status == kExitHeld ? "all as recorded" : "SOME DIFFER (see above)")
        << '\n';
  }
  return status;
}

}  // namespace crdtsim::cli
