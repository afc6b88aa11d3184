// crdtsim fuzz: RapidCheck generates whole scenarios and runs them; a
// failure is shrunk and written as a scenario file plus the reproduce string.

#include <filesystem>
#include <ostream>

#include "harness/fuzz.h"
#include "harness/scenario_json.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

namespace {

core::PlantedBug parse_planted_bug(const std::string& name) {
  for (std::uint8_t code = 0; code <= 5; ++code) {
    const auto bug = static_cast<core::PlantedBug>(code);
    if (name == harness::planted_bug_name(bug)) {
      return bug;
    }
  }
  throw InputError(
      "--planted-bug: expected none, ae_skip_last_subtree, gossip_forget_unacked, "
      "ack_before_write, counter_double_apply or or_set_remove_unobserved, got \"" +
      name + "\"");
}

}  // namespace

int fuzz_command(const FuzzArgs& args, std::ostream& out, std::ostream& err) {
  if (args.iterations == 0) {
    throw InputError("--iterations: expected at least 1");
  }
  if (args.max_size == 0 || args.max_size > 100) {
    throw InputError("--max-size: expected 1 .. 100, got " + std::to_string(args.max_size));
  }
  harness::FuzzOptions options;
  options.iterations = args.iterations;
  options.seed = args.seed;
  options.max_size = args.max_size;
  options.max_shrink_runs = args.max_shrink_runs;
  options.planted_bug = parse_planted_bug(args.planted_bug);
  options.reproduce = args.reproduce;
  options.progress = [&err](const harness::FuzzProgress& progress) {
    if (progress.shrinking ? progress.shrink_runs % 25 == 0 : progress.cases % 10 == 0) {
      err << "fuzz: " << progress.cases << "/" << progress.iterations << " cases";
      if (progress.shrinking) {
        err << ", shrinking: " << progress.shrink_runs << " runs, " << progress.shrinks
            << " smaller failing cases";
      }
      err << '\n';
    }
  };
  std::string error;
  const auto result = harness::fuzz(options, error);
  if (!result) {
    throw InputError("fuzz: " + error);
  }
  if (!result->failure) {
    out << "fuzz: " << result->cases << " generated scenarios, every property held (seed "
        << args.seed << ")\n";
    return kExitHeld;
  }
  const harness::FuzzFailure& failure = *result->failure;
  ensure_directory(args.out_dir, "--out-dir");
  harness::Scenario scenario = failure.scenario;
  scenario.name = "fuzz-seed" + std::to_string(args.seed);
  scenario.description = "Found by `crdtsim fuzz --seed " + std::to_string(args.seed) +
                         "` and shrunk by RapidCheck (" + failure.reproduce + "); violates " +
                         failure.property + ".";
  scenario.seed_first = failure.seed;
  scenario.seed_last = failure.seed;
  const std::string path =
      (std::filesystem::path(args.out_dir) / (scenario.name + ".json")).string();
  write_output_file(path, harness::json::pretty(harness::scenario_to_json(scenario)) + "\n");
  out << "fuzz: case " << result->cases << " of " << args.iterations
      << " FAILED: " << failure.property << ": " << failure.explanation << '\n';
  out << "  shrunk in " << failure.shrink_runs << " runs (" << failure.shrinks
      << " smaller failing cases)\n";
  out << "  wrote " << path << "\n  run it: build/crdtsim run " << path << '\n';
  out << "  reproduce: build/crdtsim fuzz --seed " << args.seed << " --max-size " << args.max_size
      << (args.planted_bug == "none" ? "" : " --planted-bug " + args.planted_bug)
      << " --reproduce '" << failure.reproduce << "'\n";
  return kExitViolated;
}

}  // namespace crdtsim::cli
