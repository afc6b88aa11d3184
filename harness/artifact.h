#pragma once
// Failure artifacts and seed-corpus entries: one JSON file holding all it
// takes to replay a run (the scenario inline, the seed, the trace hash and
// the verdicts recorded when it was written). docs/scenarios.md describes
// the format.
//
// A failure artifact is written by `sweep` / `run` for a failing run;
// `replay` reproduces it. A corpus entry (seeds/) also says why it is there;
// `replay` passes only when both the trace hash and every verdict match
// what was recorded, so a fixed bug stays fixed and a checker keeps
// catching what it caught.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/json_fields.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/verdict.h"

namespace crdtsim::harness {

enum class ArtifactKind : std::uint8_t { failure = 0, corpus = 1 };

struct Artifact {
  ArtifactKind kind = ArtifactKind::failure;
  std::string why;            // corpus entries: the bug it found or the situation it covers
  std::string scenario_file;  // where the scenario came from (informational)
  Scenario scenario;
  std::uint64_t seed = 0;
  std::uint64_t trace_hash = 0;
  Validity validity = Validity::valid;  // combined, as recorded
  std::vector<Verdict> verdicts;        // as recorded
};

// The artifact of a checked run.
Artifact make_artifact(ArtifactKind kind, const Scenario& scenario,
                       const std::string& scenario_file, const RunOutput& output);

json::Json artifact_to_json(const Artifact& artifact);

// Reads an artifact file. On error returns nullopt and sets `error` to
// "<file>: <JSON pointer>: <what was expected>".
std::optional<Artifact> load_artifact_file(const std::string& path, std::string& error);

// Writes `text` to `path` through "<path>.tmp" and a rename, so a failure
// never leaves a partial file and never touches an existing `path`.
bool write_file_atomically(const std::string& path, const std::string& text, std::string& error);

// How a replay compares with the recording.
struct ReplayComparison {
  bool same_trace_hash = true;
  std::vector<std::string> verdict_differences;  // "convergence: recorded valid, now invalid"
};
ReplayComparison compare_with_recording(const Artifact& artifact, const RunOutput& output);

// "<scenario>-seed<seed>.json": the file name an artifact gets in a directory.
std::string artifact_file_name(const std::string& scenario, std::uint64_t seed);

}  // namespace crdtsim::harness
