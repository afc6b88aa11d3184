// crdtsim sweep SCENARIO...: many runs, a live progress line, failure
// artifacts, a summary, JUnit XML.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "harness/artifact.h"
#include "harness/sweep.h"
#include "sim/trace.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"
#include "tools/cli/junit.h"

namespace crdtsim::cli {

namespace {

using Clock = std::chrono::steady_clock;

harness::Shard parse_shard(const std::string& text) {
  harness::Shard shard;
  if (text.empty()) {
    return shard;
  }
  const std::size_t slash = text.find('/');
  const auto parse = [](const std::string& digits) -> std::optional<std::uint32_t> {
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(std::stoul(digits));
  };
  const auto index = slash == std::string::npos ? std::nullopt : parse(text.substr(0, slash));
  const auto count = slash == std::string::npos ? std::nullopt : parse(text.substr(slash + 1));
  if (!index || !count || *count == 0 || *index == 0 || *index > *count) {
    throw InputError("--shard: expected K/N with 1 <= K <= N (e.g. 2/4), got \"" + text + "\"");
  }
  shard.index = *index;
  shard.count = *count;
  return shard;
}

// The live progress line (a terminal) or periodic plain lines (a log).
class Progress {
 public:
  Progress(std::ostream& err, std::uint64_t total)
      : err_(err), total_(total), terminal_(isatty(STDERR_FILENO) != 0), start_(Clock::now()) {}

  void update(std::uint64_t done, std::uint64_t failures) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done - resumed_) / seconds : 0.0;
    const bool step = total_ >= 10 ? done % (total_ / 10) == 0 : true;
    if (!terminal_ && !step && done != total_) {
      return;
    }
    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(1);
    line << "runs " << done << "/" << total_ << ", " << rate << " runs/s, " << failures
         << " failures";
    if (rate > 0 && done < total_) {
      line << ", " << static_cast<std::uint64_t>(static_cast<double>(total_ - done) / rate)
           << " s left";
    }
    if (terminal_) {
      err_ << "\r\033[K" << line.str() << std::flush;
    } else {
      err_ << "progress: " << line.str() << '\n';
    }
  }

  void note_resumed(std::uint64_t count) { resumed_ = count; }

  // Prints `text` on its own line (clearing the progress line first).
  void print(const std::string& text) {
    if (terminal_) {
      err_ << "\r\033[K";
    }
    err_ << text << '\n';
  }

  void finish() {
    if (terminal_) {
      err_ << '\n';
    }
  }

 private:
  std::ostream& err_;
  std::uint64_t total_;
  bool terminal_;
  Clock::time_point start_;
  std::uint64_t resumed_ = 0;
};

struct Demonstration {
  std::uint64_t expected_failures = 0;  // runs that violated the expected property
  std::uint64_t other_failures = 0;     // runs that violated any other property
};

// Whether a run of a scenario is acceptable: a must-pass scenario's run must
// not be invalid; a demonstration's run may violate only its expected property.
bool violates_other(const harness::RunRecord& record, const harness::Scenario& scenario) {
  for (const harness::Verdict& verdict : record.verdicts) {
    if (verdict.validity == harness::Validity::invalid &&
        !scenario.violation_expected(verdict.property)) {
      return true;
    }
  }
  return false;
}

bool violates(const harness::RunRecord& record, const std::string& property) {
  for (const harness::Verdict& verdict : record.verdicts) {
    if (verdict.validity == harness::Validity::invalid && verdict.property == property) {
      return true;
    }
  }
  return false;
}

std::string first_violation(const harness::RunRecord& record) {
  for (const harness::Verdict& verdict : record.verdicts) {
    if (verdict.validity == harness::Validity::invalid) {
      constexpr std::size_t kShown = 240;  // the artifact holds the whole explanation
      const std::string& text = verdict.explanation;
      return verdict.property + ": " +
             (text.size() <= kShown ? text : text.substr(0, kShown) + " [...]");
    }
  }
  return "";
}

struct SweepPlan {
  std::vector<LoadedScenario> scenarios;
  std::vector<harness::SweepTarget> targets;
  harness::SweepOptions options;
  std::uint64_t total = 0;
};

SweepPlan plan_sweep(const SweepArgs& args) {
  SweepPlan plan;
  plan.scenarios = load_scenarios(args.scenarios);
  std::optional<std::pair<std::uint64_t, std::uint64_t>> seeds;
  if (!args.seeds.empty()) {
    seeds = parse_seeds_option(args.seeds, "--seeds");
  }
  if (args.jobs == 0 || args.jobs > 256) {
    throw InputError("--jobs: expected 1 .. 256 workers, got " + std::to_string(args.jobs));
  }
  plan.options.jobs = args.jobs;
  plan.options.shard = parse_shard(args.shard);
  plan.options.out_path = args.out_path;
  plan.options.resume = args.resume;
  plan.options.determinism_every = args.determinism_every;
  if (args.resume && args.out_path.empty()) {
    throw InputError("--resume: expected --out FILE.jsonl (the file to resume from)");
  }
  for (const LoadedScenario& loaded : plan.scenarios) {
    harness::SweepTarget target;
    target.scenario = &loaded.scenario;
    target.seed_first = seeds ? seeds->first : loaded.scenario.seed_first;
    target.seed_last = seeds ? seeds->second : loaded.scenario.seed_last;
    plan.total +=
        harness::shard_seeds(target.seed_first, target.seed_last, plan.options.shard).size();
    plan.targets.push_back(target);
  }
  if (!args.out_path.empty()) {
    check_writable(args.out_path, "--out");
  }
  if (!args.junit_path.empty()) {
    check_writable(args.junit_path, "--junit");
  }
  return plan;
}

void print_summary(std::ostream& out, const harness::SweepSummary& summary,
                   const std::vector<LoadedScenario>& scenarios,
                   const std::map<std::string, Demonstration>& demos, double seconds) {
  out << "summary:\n";
  out << "  runs             " << summary.runs << " (" << summary.resumed << " resumed) in "
      << std::fixed << std::setprecision(1) << seconds << std::defaultfloat << " s\n";
  out << "  failures         " << summary.failures << ", unknown " << summary.unknown << '\n';
  for (const auto& [property, count] : summary.failures_by_property) {
    out << "    " << property << ": " << count << '\n';
  }
  out << "  scenarios:\n";
  for (const LoadedScenario& loaded : scenarios) {
    const std::string& name = loaded.scenario.name;
    const auto found = summary.by_scenario.find(name);
    const harness::ScenarioTally tally =
        found == summary.by_scenario.end() ? harness::ScenarioTally{} : found->second;
    out << "    " << name << ": " << tally.runs << " runs, " << tally.failures << " failing";
    if (!loaded.scenario.expected_failure.empty()) {
      const Demonstration& demo = demos.at(name);
      const bool shown = demo.expected_failures > 0 && demo.other_failures == 0;
      out << " (demonstration: " << demo.expected_failures << " runs violate "
          << loaded.scenario.expected_failure << " as expected"
          << (shown                     ? ""
              : demo.other_failures > 0 ? "; UNEXPECTED other violations"
                                        : "; NOT SHOWN by any seed")
          << ")";
    }
    out << '\n';
  }
  out << "  coverage never reached:";
  if (summary.coverage_never_reached.empty()) {
    out << " none";
  }
  for (const std::string& point : summary.coverage_never_reached) {
    out << "\n    " << point;
  }
  out << '\n';
  if (summary.slowest_convergence_us) {
    out << "  slowest convergence " << format_duration_us(*summary.slowest_convergence_us) << " ("
        << summary.slowest_convergence_scenario << " seed " << summary.slowest_convergence_seed
        << ")\n";
  }
}

harness::json::Json summary_to_json(const harness::SweepSummary& summary,
                                    const std::map<std::string, Demonstration>& demos,
                                    bool passed) {
  using harness::json::Json;
  Json by_scenario = Json::object();
  for (const auto& [name, tally] : summary.by_scenario) {
    Json entry{{"runs", tally.runs},
               {"failures", tally.failures},
               {"unknown", tally.unknown},
               {"failures_by_property", tally.failures_by_property}};
    if (const auto demo = demos.find(name); demo != demos.end()) {
      entry["expected_failures"] = demo->second.expected_failures;
      entry["other_failures"] = demo->second.other_failures;
    }
    by_scenario[name] = std::move(entry);
  }
  return Json{
      {"passed", passed},
      {"runs", summary.runs},
      {"resumed", summary.resumed},
      {"failures", summary.failures},
      {"unknown", summary.unknown},
      {"failures_by_property", summary.failures_by_property},
      {"scenarios", std::move(by_scenario)},
      {"coverage_never_reached", summary.coverage_never_reached},
      {"slowest_convergence_us",
       summary.slowest_convergence_us ? Json(*summary.slowest_convergence_us) : Json(nullptr)},
      {"slowest_convergence_scenario", summary.slowest_convergence_scenario},
      {"slowest_convergence_seed", summary.slowest_convergence_seed}};
}

}  // namespace

int sweep_command(const SweepArgs& args, std::ostream& out, std::ostream& err) {
  SweepPlan plan = plan_sweep(args);
  std::map<std::string, const LoadedScenario*> by_name;
  std::map<std::string, Demonstration> demos;
  for (const LoadedScenario& loaded : plan.scenarios) {
    by_name[loaded.scenario.name] = &loaded;
    if (!loaded.scenario.expected_failure.empty()) {
      demos[loaded.scenario.name] = Demonstration{};
    }
  }
  Progress progress(err, plan.total);
  JunitReport junit;
  std::map<std::string, std::uint32_t> artifacts_written;
  std::uint64_t done = 0;
  std::uint64_t unexpected = 0;
  bool failures_dir_ready = false;
  const auto on_run = [&](const harness::RunRecord& record, const harness::RunOutput* output) {
    ++done;
    if (output == nullptr) {
      progress.note_resumed(done);
    }
    const LoadedScenario& loaded = *by_name.at(record.scenario);
    const std::string& expected = loaded.scenario.expected_failure;
    const bool invalid = record.validity == harness::Validity::invalid;
    const bool acceptable = expected.empty() ? !invalid : !violates_other(record, loaded.scenario);
    if (!expected.empty()) {
      demos[record.scenario].expected_failures += violates(record, expected) ? 1U : 0U;
      demos[record.scenario].other_failures += violates_other(record, loaded.scenario) ? 1U : 0U;
    }
    unexpected += acceptable ? 0 : 1;
    junit.add(record, loaded.scenario);
    if (invalid && output != nullptr && artifacts_written[record.scenario] < args.artifacts_max) {
      if (!failures_dir_ready) {
        ensure_directory(args.failures_dir, "--failures");
        failures_dir_ready = true;
      }
      const std::string path = (std::filesystem::path(args.failures_dir) /
                                harness::artifact_file_name(record.scenario, record.seed))
                                   .string();
      write_output_file(
          path, harness::json::pretty(harness::artifact_to_json(harness::make_artifact(
                    harness::ArtifactKind::failure, loaded.scenario, loaded.path, *output))) +
                    "\n");
      artifacts_written[record.scenario] += 1;
      progress.print(std::string(acceptable ? "expected failure: " : "FAILURE: ") +
                     record.scenario + " seed " + std::to_string(record.seed) + ": " +
                     first_violation(record) + "\n  replay: " + replay_command(path));
    }
    progress.update(done, unexpected);
  };
  const auto start = Clock::now();
  std::string error;
  const auto summary = harness::sweep(plan.targets, plan.options, on_run, error);
  progress.finish();
  if (!summary) {
    throw InputError(error);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  bool passed = unexpected == 0;
  for (const auto& [name, demo] : demos) {
    passed = passed && demo.expected_failures > 0;
  }
  if (!args.junit_path.empty()) {
    write_output_file(args.junit_path, junit.to_xml());
  }
  if (args.json) {
    out << summary_to_json(*summary, demos, passed).dump(2) << '\n';
  } else {
    print_summary(out, *summary, plan.scenarios, demos, seconds);
    out << "result: " << (passed ? "passed" : "FAILED") << '\n';
  }
  return passed ? kExitHeld : kExitViolated;
}

}  // namespace crdtsim::cli
