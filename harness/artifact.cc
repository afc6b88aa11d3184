#include "harness/artifact.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "harness/scenario_json.h"
#include "sim/trace.h"

namespace crdtsim::harness {

namespace {

using json::child;
using json::fail;
using json::Fields;
using json::Json;
using json::read_string;

constexpr std::uint64_t kFormatVersion = 1;
const std::vector<std::string_view> kKindNames = {"failure-artifact", "seed-corpus-entry"};
const std::vector<std::string_view> kValidityNames = {"valid", "invalid", "unknown"};

std::uint64_t read_hash(const Json& value, const std::string& pointer) {
  const std::string text = read_string(value, pointer);
  const bool hex =
      text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex) {
    fail(pointer, "expected a trace hash of 16 lower-case hex digits, got \"" + text + "\"");
  }
  return std::stoull(text, nullptr, 16);
}

std::vector<Verdict> read_verdicts(const Json& value, const std::string& pointer) {
  std::vector<Verdict> verdicts;
  json::expect_array(value, pointer, "verdicts");
  for (std::size_t index = 0; index < value.size(); ++index) {
    const std::string at = child(pointer, index);
    Fields fields(value[index], at);
    Verdict verdict;
    verdict.property = read_string(fields.required("property"), fields.at("property"));
    verdict.validity = static_cast<Validity>(
        json::read_choice(fields.required("validity"), fields.at("validity"), kValidityNames));
    verdict.explanation = read_string(fields.required("explanation"), fields.at("explanation"));
    fields.finish();
    verdicts.push_back(std::move(verdict));
  }
  return verdicts;
}

Artifact read_artifact(const Json& document, const std::string& path) {
  Fields fields(document, "");
  Artifact artifact;
  artifact.kind = static_cast<ArtifactKind>(
      json::read_choice(fields.required("crdtsim"), fields.at("crdtsim"), kKindNames));
  json::read_unsigned(fields.required("format_version"), fields.at("format_version"),
                      kFormatVersion, kFormatVersion);
  if (const Json* why = fields.optional("why")) {
    artifact.why = read_string(*why, fields.at("why"));
  }
  if (artifact.kind == ArtifactKind::corpus && artifact.why.empty()) {
    fail(fields.at("why"),
         "expected a non-empty \"why\": the bug this seed found or the "
         "situation it covers");
  }
  artifact.seed = json::read_u64(fields.required("seed"), fields.at("seed"));
  artifact.trace_hash = read_hash(fields.required("trace_hash"), fields.at("trace_hash"));
  artifact.validity = static_cast<Validity>(
      json::read_choice(fields.required("validity"), fields.at("validity"), kValidityNames));
  artifact.verdicts = read_verdicts(fields.required("verdicts"), fields.at("verdicts"));
  if (combine(artifact.verdicts) != artifact.validity) {
    fail(fields.at("validity"), "expected the combination of the verdicts (" +
                                    std::string(validity_name(combine(artifact.verdicts))) + ")");
  }
  fields.optional("violated");  // written for people; derived from the verdicts
  fields.optional("replay");
  if (const Json* file = fields.optional("scenario_file")) {
    artifact.scenario_file = read_string(*file, fields.at("scenario_file"));
  }
  std::string error;
  auto scenario = scenario_from_json(fields.required("scenario"), path, "/scenario", error);
  if (!scenario) {
    throw std::runtime_error(error);  // already names the file and pointer
  }
  artifact.scenario = std::move(*scenario);
  fields.finish();
  return artifact;
}

}  // namespace

Artifact make_artifact(ArtifactKind kind, const Scenario& scenario,
                       const std::string& scenario_file, const RunOutput& output) {
  Artifact artifact;
  artifact.kind = kind;
  artifact.scenario = scenario;
  artifact.scenario_file = scenario_file;
  artifact.seed = output.seed;
  artifact.trace_hash = output.sim.trace_hash;
  artifact.verdicts = output.verdicts;
  artifact.validity = combine(output.verdicts);
  return artifact;
}

Json artifact_to_json(const Artifact& artifact) {
  Json result = Json::object();
  result["crdtsim"] = kKindNames[static_cast<std::size_t>(artifact.kind)];
  result["format_version"] = kFormatVersion;
  if (!artifact.why.empty() || artifact.kind == ArtifactKind::corpus) {
    result["why"] = artifact.why;
  }
  result["seed"] = artifact.seed;
  result["trace_hash"] = sim::hash_hex(artifact.trace_hash);
  result["validity"] = validity_name(artifact.validity);
  for (const Verdict& verdict : artifact.verdicts) {
    if (verdict.validity == Validity::invalid) {
      result["violated"] = verdict.property;
      break;
    }
  }
  Json verdicts = Json::array();
  for (const Verdict& verdict : artifact.verdicts) {
    verdicts.push_back(Json{{"property", verdict.property},
                            {"validity", validity_name(verdict.validity)},
                            {"explanation", verdict.explanation}});
  }
  result["verdicts"] = std::move(verdicts);
  if (!artifact.scenario_file.empty()) {
    result["scenario_file"] = artifact.scenario_file;
  }
  result["scenario"] = scenario_to_json(artifact.scenario);
  return result;
}

std::optional<Artifact> load_artifact_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open (no such file or not readable)";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return read_artifact(json::parse_strict(text.str(), "one JSON object (an artifact)"), path);
  } catch (const json::JsonInputError& input_error) {
    error = json::format_error(path, 0, input_error.pointer, input_error.expected);
  } catch (const std::exception& exception) {
    error = exception.what();
  }
  return std::nullopt;
}

bool write_file_atomically(const std::string& path, const std::string& text, std::string& error) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = path + ": cannot open " + temporary + " for writing";
      return false;
    }
    out << text;
    out.close();
    if (!out) {
      error = path + ": cannot write " + temporary;
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": cannot rename " + temporary + " into place";
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

ReplayComparison compare_with_recording(const Artifact& artifact, const RunOutput& output) {
  ReplayComparison comparison;
  comparison.same_trace_hash = artifact.trace_hash == output.sim.trace_hash;
  std::map<std::string, Validity> now;
  for (const Verdict& verdict : output.verdicts) {
    now[verdict.property] = verdict.validity;
  }
  std::map<std::string, Validity> recorded;
  for (const Verdict& verdict : artifact.verdicts) {
    recorded[verdict.property] = verdict.validity;
  }
  for (const auto& [property, validity] : recorded) {
    const auto found = now.find(property);
    const std::string current = found == now.end() ? "not checked" : validity_name(found->second);
    if (found == now.end() || found->second != validity) {
      comparison.verdict_differences.push_back(property + ": recorded " + validity_name(validity) +
                                               ", now " + current);
    }
  }
  for (const auto& [property, validity] : now) {
    if (!recorded.contains(property)) {
      comparison.verdict_differences.push_back(property + ": not recorded, now " +
                                               validity_name(validity));
    }
  }
  return comparison;
}

std::string artifact_file_name(const std::string& scenario, std::uint64_t seed) {
  std::string safe;
  for (const char character : scenario) {
    const bool plain = (character >= 'a' && character <= 'z') ||
                       (character >= 'A' && character <= 'Z') ||
                       (character >= '0' && character <= '9') || character == '-' ||
                       character == '_' || character == '.';
    safe += plain ? character : '_';
  }
  return safe + "-seed" + std::to_string(seed) + ".json";
}

}  // namespace crdtsim::harness
