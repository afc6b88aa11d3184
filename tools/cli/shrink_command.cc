// crdtsim shrink ARTIFACT: minimizes a failing run into a small explicit
// scenario that still fails the same property.

#include <filesystem>
#include <ostream>

#include "harness/artifact.h"
#include "harness/scenario_json.h"
#include "harness/shrink.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

namespace {

std::string default_output(const std::string& artifact) {
  std::filesystem::path path(artifact);
  path.replace_extension();
  return path.string() + ".shrunk.json";
}

std::string recorded_violation(const harness::Artifact& artifact) {
  for (const harness::Verdict& verdict : artifact.verdicts) {
    if (verdict.validity == harness::Validity::invalid) {
      return verdict.property;
    }
  }
  return "";
}

}  // namespace

int shrink_command(const ShrinkArgs& args, std::ostream& out, std::ostream& err) {
  std::string error;
  const auto artifact = harness::load_artifact_file(args.artifact, error);
  if (!artifact) {
    throw InputError(error);
  }
  const std::string property =
      args.property.empty() ? recorded_violation(*artifact) : args.property;
  if (property.empty()) {
    throw InputError(args.artifact +
                     ": /verdicts: expected an invalid verdict to shrink (the "
                     "recorded run violated no property)");
  }
  if (args.max_runs < 2) {
    throw InputError("--max-runs: expected at least 2 runs, got " + std::to_string(args.max_runs));
  }
  const std::string output_path =
      args.output_path.empty() ? default_output(args.artifact) : args.output_path;
  check_writable(output_path, "-o");

  harness::ShrinkOptions options;
  options.max_runs = args.max_runs;
  options.progress = [&err](const harness::ShrinkProgress& progress) {
    if (progress.runs % 25 == 0) {
      err << "shrink: " << progress.runs << "/" << progress.max_runs << " runs, pass "
          << progress.pass << ": " << progress.operations << " ops, " << progress.faults
          << " faults, " << progress.replicas << " replicas\n";
    }
  };
  const auto result = harness::shrink(artifact->scenario, artifact->seed, property, options, error);
  if (!result) {
    // The artifact does not fail (any more) the way it says: not bad input,
    // but nothing to shrink either.
    out << args.artifact << ": cannot shrink: " << error << '\n';
    return kExitHeld;
  }
  harness::Scenario shrunk = result->scenario;
  shrunk.name = artifact->scenario.name + "-shrunk";
  shrunk.description = "Shrunk by `crdtsim shrink " + args.artifact + "` from " +
                       harness::describe(result->before) + " in " + std::to_string(result->runs) +
                       " runs; still violates " + property +
                       (result->note.empty() ? "." : " (" + result->note + ").");
  shrunk.seed_first = result->seed;
  shrunk.seed_last = result->seed;
  write_output_file(output_path, harness::json::pretty(harness::scenario_to_json(shrunk)) + "\n");

  out << "shrunk " << args.artifact << " (" << property << ")\n";
  out << "  before: " << harness::describe(result->before) << '\n';
  out << "  after:  " << harness::describe(result->after) << '\n';
  out << "  runs:   " << result->runs
      << (result->exhausted ? " (budget spent before a fixpoint)" : "") << '\n';
  out << "  form:   "
      << (result->explicit_form ? "explicit (every operation and fault spelled out)"
                                : "random knobs (the explicit form did not fail)")
      << '\n';
  if (!result->note.empty()) {
    out << "  note:   " << result->note << '\n';
  }
  out << "  verdict: " << result->verdict.property << " "
      << harness::validity_name(result->verdict.validity) << ": " << result->verdict.explanation
      << '\n';
  out << "wrote " << output_path << "\n  run it: build/crdtsim run " << output_path << '\n';
  return kExitViolated;
}

}  // namespace crdtsim::cli
