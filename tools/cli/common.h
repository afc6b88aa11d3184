#pragma once
// What every crdtsim command shares: exit codes, the input-error exception,
// scenario loading, and printing verdicts and run statistics.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/json_fields.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/verdict.h"

namespace crdtsim::cli {

// docs: architecture.md, "Exit codes of the CLI".
inline constexpr int kExitHeld = 0;      // every property held
inline constexpr int kExitViolated = 1;  // a property was violated / determinism failed
inline constexpr int kExitBadInput = 2;  // bad input or usage; nothing written

// Bad input: main prints "crdtsim: error: <message>" and exits 2. The message
// names the file, the JSON pointer or line, and what was expected.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LoadedScenario {
  harness::Scenario scenario;
  std::string path;
};

// Throws InputError on any problem.
LoadedScenario load_scenario(const std::string& path);
std::vector<LoadedScenario> load_scenarios(const std::vector<std::string>& paths);

// "A..B" or "N" from the command line (option name for the error).
std::pair<std::uint64_t, std::uint64_t> parse_seeds_option(const std::string& text,
                                                           const std::string& option);

// Creates `directory` (and parents) or throws InputError.
void ensure_directory(const std::string& directory, const std::string& option);

// Throws InputError unless `path` can be created (its directory exists and is
// writable), so a bad path is reported before any work, not after it.
void check_writable(const std::string& path, const std::string& option);

// Writes `text` to `path` atomically or throws InputError.
void write_output_file(const std::string& path, const std::string& text);

// Human-readable blocks.
void print_verdicts(std::ostream& out, const std::vector<harness::Verdict>& verdicts);
void print_statistics(std::ostream& out, const harness::RunOutput& output);
std::string format_duration_us(std::uint64_t us);  // "1.234 s", "12 ms"

// The run as one JSON object (verdicts, statistics, trace hash).
harness::json::Json run_to_json(const harness::RunOutput& output, const std::string& scenario_file);

// The exit status for a set of verdicts.
int exit_status(const std::vector<harness::Verdict>& verdicts);

// How a user re-runs `artifact_path` (used in every failure report).
std::string replay_command(const std::string& artifact_path);

}  // namespace crdtsim::cli
