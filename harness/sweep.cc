#include "harness/sweep.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/replication/peer_messages.h"

namespace crdtsim::harness {

namespace {

using nlohmann::json;

// One run of the sweep: which scenario, which seed (in emission order).
struct Planned {
  const Scenario* scenario = nullptr;
  std::uint64_t seed = 0;
};

std::optional<Validity> validity_from(const std::string& name) {
  for (const Validity validity : {Validity::valid, Validity::invalid, Validity::unknown}) {
    if (name == validity_name(validity)) {
      return validity;
    }
  }
  return std::nullopt;
}

// Reads the complete, well-formed lines of an existing result file that form
// a prefix of `plan`; returns how many bytes of the file they span.
std::optional<std::uint64_t> resumable_prefix(const std::string& path,
                                              const std::vector<Planned>& plan,
                                              std::vector<RunRecord>& records, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::uint64_t{0};  // nothing to resume: start from the beginning
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t kept = 0;
  std::size_t start = 0;
  std::size_t line_number = 0;
  while (start < content.size()) {
    const std::size_t end = content.find('\n', start);
    if (end == std::string::npos) {
      break;  // a torn last line: discarded
    }
    ++line_number;
    const std::string where = path + ":" + std::to_string(line_number);
    const auto record = record_from_json_line(content.substr(start, end - start));
    if (!record) {
      error = where + ": (root): expected a sweep result line";
      return std::nullopt;
    }
    if (records.size() >= plan.size()) {
      error = where + ": (root): expected no more lines (the sweep is complete), found seed " +
              std::to_string(record->seed);
      return std::nullopt;
    }
    const Planned& expected = plan[records.size()];
    if (record->scenario != expected.scenario->name) {
      error = where + ": /scenario: expected \"" + expected.scenario->name + "\", found \"" +
              record->scenario + "\" (a different sweep's file)";
      return std::nullopt;
    }
    if (record->seed != expected.seed) {
      error = where + ": /seed: expected seed " + std::to_string(expected.seed) + ", found " +
              std::to_string(record->seed) + " (different seed range or shard)";
      return std::nullopt;
    }
    records.push_back(*record);
    start = end + 1;
    kept = start;
  }
  return kept;
}

void add_to_summary(SweepSummary& summary, const RunRecord& record) {
  summary.runs += 1;
  ScenarioTally& tally = summary.by_scenario[record.scenario];
  tally.runs += 1;
  if (record.validity == Validity::invalid) {
    summary.failures += 1;
    summary.failing_seeds.push_back(record.seed);
    tally.failures += 1;
  } else if (record.validity == Validity::unknown) {
    summary.unknown += 1;
    tally.unknown += 1;
  }
  for (const Verdict& verdict : record.verdicts) {
    if (verdict.validity == Validity::invalid) {
      summary.failures_by_property[verdict.property] += 1;
      tally.failures_by_property[verdict.property] += 1;
    }
  }
  for (const auto& [point, hits] : record.coverage) {
    summary.coverage[point] += hits;
  }
  if (record.convergence_us && (!summary.slowest_convergence_us ||
                                *summary.slowest_convergence_us < *record.convergence_us)) {
    summary.slowest_convergence_us = record.convergence_us;
    summary.slowest_convergence_seed = record.seed;
    summary.slowest_convergence_scenario = record.scenario;
  }
}

}  // namespace

RunRecord make_record(const RunOutput& output) {
  RunRecord record;
  record.scenario = output.scenario;
  record.seed = output.seed;
  record.verdicts = output.verdicts;
  record.validity = combine(output.verdicts);
  record.trace_hash = output.sim.trace_hash;
  record.operations = output.history.operations.size();
  record.indeterminate = static_cast<std::uint64_t>(
      std::count_if(output.history.operations.begin(), output.history.operations.end(),
                    [](const Operation& op) { return op.outcome == OpOutcome::indeterminate; }));
  record.events = output.sim.stats.events;
  record.messages = output.sim.stats.messages.messages_sent;
  record.message_bytes = output.sim.stats.messages.bytes_sent;
  record.end_time_us = static_cast<std::uint64_t>(output.sim.end_time_us);
  if (output.converged_us) {
    record.convergence_us = *output.converged_us - output.settle_started_us;
  }
  for (const auto& [point, hits] : output.sim.coverage) {
    record.coverage[point] = hits;
  }
  return record;
}

std::string record_to_json_line(const RunRecord& record) {
  json verdicts = json::array();
  for (const Verdict& verdict : record.verdicts) {
    verdicts.push_back({{"property", verdict.property},
                        {"validity", validity_name(verdict.validity)},
                        {"explanation", verdict.explanation}});
  }
  json line = {{"scenario", record.scenario},
               {"seed", record.seed},
               {"validity", validity_name(record.validity)},
               {"verdicts", verdicts},
               {"trace_hash", sim::hash_hex(record.trace_hash)},
               {"operations", record.operations},
               {"indeterminate", record.indeterminate},
               {"events", record.events},
               {"messages", record.messages},
               {"message_bytes", record.message_bytes},
               {"end_time_us", record.end_time_us},
               {"convergence_us", record.convergence_us ? json(*record.convergence_us) : json()},
               {"coverage", record.coverage}};
  return line.dump();
}

std::optional<RunRecord> record_from_json_line(const std::string& line) {
  const json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return std::nullopt;
  }
  try {
    RunRecord record;
    record.scenario = parsed.at("scenario").get<std::string>();
    record.seed = parsed.at("seed").get<std::uint64_t>();
    const auto validity = validity_from(parsed.at("validity").get<std::string>());
    if (!validity) {
      return std::nullopt;
    }
    record.validity = *validity;
    for (const json& item : parsed.at("verdicts")) {
      const auto item_validity = validity_from(item.at("validity").get<std::string>());
      if (!item_validity) {
        return std::nullopt;
      }
      record.verdicts.push_back(Verdict{item.at("property").get<std::string>(), *item_validity,
                                        item.at("explanation").get<std::string>()});
    }
    record.trace_hash = std::stoull(parsed.at("trace_hash").get<std::string>(), nullptr, 16);
    record.operations = parsed.at("operations").get<std::uint64_t>();
    record.indeterminate = parsed.at("indeterminate").get<std::uint64_t>();
    record.events = parsed.at("events").get<std::uint64_t>();
    record.messages = parsed.at("messages").get<std::uint64_t>();
    record.message_bytes = parsed.at("message_bytes").get<std::uint64_t>();
    record.end_time_us = parsed.at("end_time_us").get<std::uint64_t>();
    if (!parsed.at("convergence_us").is_null()) {
      record.convergence_us = parsed.at("convergence_us").get<std::uint64_t>();
    }
    record.coverage = parsed.at("coverage").get<std::map<std::string, std::uint64_t>>();
    return record;
  } catch (const std::exception&) {
    return std::nullopt;  // a wrong type or a missing field
  }
}

std::vector<std::uint64_t> shard_seeds(std::uint64_t first, std::uint64_t last,
                                       const Shard& shard) {
  std::vector<std::uint64_t> seeds;
  if (shard.count == 0 || shard.index == 0 || shard.index > shard.count || first > last) {
    return seeds;
  }
  for (std::uint64_t seed = first + (shard.index - 1); seed <= last && seed >= first;
       seed += shard.count) {
    seeds.push_back(seed);
    if (last - seed < shard.count) {
      break;  // the next step would pass `last` (or wrap around)
    }
  }
  return seeds;
}

std::optional<SweepSummary> sweep(const Scenario& scenario, const SweepOptions& options,
                                  const RunCallback& on_run, std::string& error) {
  const SweepTarget target{&scenario, options.seed_first, options.seed_last};
  return sweep(std::vector<SweepTarget>{target}, options, on_run, error);
}

std::optional<SweepSummary> sweep(const std::vector<SweepTarget>& targets,
                                  const SweepOptions& options, const RunCallback& on_run,
                                  std::string& error) {
  std::vector<Planned> plan;
  for (const SweepTarget& target : targets) {
    for (const std::uint64_t seed :
         shard_seeds(target.seed_first, target.seed_last, options.shard)) {
      plan.push_back(Planned{target.scenario, seed});
    }
  }
  SweepSummary summary;
  std::vector<RunRecord> resumed;
  std::ofstream out;
  if (!options.out_path.empty()) {
    std::uint64_t keep_bytes = 0;
    if (options.resume) {
      const auto prefix = resumable_prefix(options.out_path, plan, resumed, error);
      if (!prefix) {
        return std::nullopt;
      }
      keep_bytes = *prefix;
      std::error_code ignored;
      if (std::filesystem::exists(options.out_path, ignored)) {
        std::filesystem::resize_file(options.out_path, keep_bytes, ignored);
      }
    }
    out.open(options.out_path, options.resume ? std::ios::app | std::ios::binary
                                              : std::ios::trunc | std::ios::binary);
    if (!out) {
      error = options.out_path + ": cannot open for writing";
      return std::nullopt;
    }
  }
  for (const RunRecord& record : resumed) {
    add_to_summary(summary, record);
    summary.resumed += 1;
    if (on_run) {
      on_run(record, nullptr);
    }
  }

  // Workers take positions from `next`; finished outputs wait in `done` until
  // every earlier position has been emitted.
  // Bounded: a worker waits while it is more than `ahead_max` positions
  // ahead of the emitted prefix, so a slow run cannot make outputs pile up.
  const std::uint32_t jobs = std::max<std::uint32_t>(1, options.jobs);
  const std::size_t ahead_max = std::size_t{8} * jobs;
  std::mutex mutex;
  std::condition_variable finished;
  std::condition_variable emitted_more;
  std::map<std::size_t, RunOutput> done;
  std::size_t emitted = resumed.size();
  std::atomic<std::size_t> next{resumed.size()};
  const std::size_t total = plan.size();
  auto worker = [&] {
    for (std::size_t position = next++; position < total; position = next++) {
      {
        std::unique_lock lock(mutex);
        emitted_more.wait(lock, [&] { return position < emitted + ahead_max; });
      }
      const Scenario& scenario = *plan[position].scenario;
      const std::uint64_t seed = plan[position].seed;
      RunOutput output = run(scenario, seed);
      check(scenario, output);
      if (options.determinism_every > 0 && position % options.determinism_every == 0 &&
          !scenario.properties.determinism) {
        const RunOutput again = run(scenario, seed);
        if (again.sim.trace_hash != output.sim.trace_hash) {
          output.verdicts.push_back(
              Verdict::invalid("determinism", "trace hash " + sim::hash_hex(output.sim.trace_hash) +
                                                  " then " + sim::hash_hex(again.sim.trace_hash)));
        }
      }
      const std::lock_guard lock(mutex);
      done.emplace(position, std::move(output));
      finished.notify_one();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(jobs);
  for (std::uint32_t index = 0; index < jobs; ++index) {
    threads.emplace_back(worker);
  }
  for (std::size_t position = resumed.size(); position < total; ++position) {
    RunOutput output;
    {
      std::unique_lock lock(mutex);
      finished.wait(lock, [&] { return done.contains(position); });
      output = std::move(done.at(position));
      done.erase(position);
      emitted = position + 1;
    }
    emitted_more.notify_all();
    const RunRecord record = make_record(output);
    add_to_summary(summary, record);
    if (out.is_open()) {
      out << record_to_json_line(record) << '\n';
      out.flush();
    }
    if (on_run) {
      on_run(record, &output);
    }
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const auto& [point, hits] : summary.coverage) {
    if (hits == 0) {
      summary.coverage_never_reached.push_back(point);
    }
  }
  if (out.is_open() && !out) {
    error = options.out_path + ": write failed";
    return std::nullopt;
  }
  return summary;
}

}  // namespace crdtsim::harness
