#include "tools/cli/common.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <utility>

#include "core/replication/peer_messages.h"
#include "core/replication/tombstone_gc.h"
#include "harness/artifact.h"
#include "harness/scenario_json.h"
#include "sim/trace.h"

namespace crdtsim::cli {

namespace {

using harness::json::Json;

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

std::string format_bytes(std::uint64_t bytes) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  if (bytes >= 1'000'000) {
    out << static_cast<double>(bytes) / 1e6 << " MB";
  } else if (bytes >= 1'000) {
    out << static_cast<double>(bytes) / 1e3 << " kB";
  } else {
    out << bytes << " B";
  }
  return out.str();
}

std::uint64_t count_indeterminate(const harness::History& history) {
  return static_cast<std::uint64_t>(std::count_if(
      history.operations.begin(), history.operations.end(), [](const harness::Operation& op) {
        return op.outcome == harness::OpOutcome::indeterminate;
      }));
}

}  // namespace

LoadedScenario load_scenario(const std::string& path) {
  std::string error;
  auto scenario = harness::load_scenario_file(path, error);
  if (!scenario) {
    throw InputError(error);
  }
  return LoadedScenario{std::move(*scenario), path};
}

std::vector<LoadedScenario> load_scenarios(const std::vector<std::string>& paths) {
  std::vector<LoadedScenario> loaded;
  std::map<std::string, std::string> names;  // name -> file
  for (const std::string& path : paths) {
    loaded.push_back(load_scenario(path));
    const std::string& name = loaded.back().scenario.name;
    const auto [found, inserted] = names.emplace(name, path);
    if (!inserted) {
      throw InputError(path +
                       ": /name: expected a scenario name not used by another scenario of "
                       "this sweep, but \"" +
                       name + "\" is also " + found->second + "'s");
    }
  }
  return loaded;
}

std::pair<std::uint64_t, std::uint64_t> parse_seeds_option(const std::string& text,
                                                           const std::string& option) {
  const auto range = harness::parse_seed_range(text);
  if (!range) {
    throw InputError(option +
                     ": expected a seed range A..B (unsigned integers, A <= B) or one "
                     "seed N, got \"" +
                     text + "\"");
  }
  return *range;
}

void ensure_directory(const std::string& directory, const std::string& option) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || !std::filesystem::is_directory(directory)) {
    throw InputError(option + " " + directory + ": cannot create the directory (" +
                     error.message() + ")");
  }
}

void check_writable(const std::string& path, const std::string& option) {
  const std::filesystem::path target(path);
  const std::filesystem::path parent =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(parent, error)) {
    throw InputError(option + " " + path + ": the directory " + parent.string() +
                     " does not exist");
  }
  if (std::filesystem::is_directory(target, error)) {
    throw InputError(option + " " + path + ": expected a file name, found a directory");
  }
  const std::string probe = path + ".probe.tmp";
  {
    std::ofstream out(probe, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw InputError(option + " " + path + ": cannot create files in " + parent.string());
    }
  }
  std::remove(probe.c_str());
}

void write_output_file(const std::string& path, const std::string& text) {
  std::string error;
  if (!harness::write_file_atomically(path, text, error)) {
    throw InputError(error);
  }
}

std::string format_duration_us(std::uint64_t us) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  if (us >= 1'000'000) {
    out.precision(3);
    out << static_cast<double>(us) / 1e6 << " s";
  } else if (us >= 1'000) {
    out.precision(1);
    out << static_cast<double>(us) / 1e3 << " ms";
  } else {
    out << us << " us";
  }
  return out.str();
}

void print_verdicts(std::ostream& out, const std::vector<harness::Verdict>& verdicts) {
  for (const harness::Verdict& verdict : verdicts) {
    out << "  " << pad(verdict.property + " ", 17)
        << pad(harness::validity_name(verdict.validity), 9) << verdict.explanation << '\n';
  }
}

namespace {

// What the replicas hold at the end: the largest replica's footprint, and
// the total over replicas of tombstones and dead keys.
struct MemoryFigures {
  core::KeyspaceFootprint largest;  // by bytes
  core::KeyspaceFootprint total;
  core::TombstoneGc::Stats gc;  // summed over replicas
};

MemoryFigures memory_of(const harness::RunOutput& output) {
  MemoryFigures figures;
  for (const harness::ReplicaSnapshot& snapshot : output.replicas) {
    if (!snapshot.up) {
      continue;
    }
    const core::KeyspaceFootprint footprint = core::measure(snapshot.keyspace);
    figures.total += footprint;
    const core::TombstoneGc::Stats& gc = snapshot.stats.tombstone_gc;
    figures.gc.keys_collected += gc.keys_collected;
    figures.gc.fields_collected += gc.fields_collected;
    figures.gc.messages_fenced += gc.messages_fenced;
    figures.gc.messages_stale += gc.messages_stale;
    if (footprint.bytes > figures.largest.bytes) {
      figures.largest = footprint;
    }
  }
  return figures;
}

Json footprint_json(const core::KeyspaceFootprint& footprint) {
  return Json{{"keys", footprint.keys},
              {"dead_keys", footprint.dead_keys},
              {"register_tombstones", footprint.register_tombstones},
              {"map_field_tombstones", footprint.map_field_tombstones},
              {"context_entries", footprint.context_entries},
              {"bytes", footprint.bytes},
              {"live_bytes", footprint.live_bytes}};
}

// Membership in use: the changes taken (from the recorded fault actions).
std::pair<std::uint64_t, std::uint64_t> joins_and_leaves(const harness::RunOutput& output) {
  std::uint64_t joins = 0;
  std::uint64_t leaves = 0;
  for (const harness::FaultEvent& action : output.fault_actions) {
    joins += action.kind == harness::FaultKind::join ? 1U : 0U;
    leaves += action.kind == harness::FaultKind::leave ? 1U : 0U;
  }
  return {joins, leaves};
}

std::string member_names(const std::vector<core::ReplicaId>& members) {
  std::string names;
  for (const core::ReplicaId member : members) {
    names += (names.empty() ? "" : ", ") + harness::replica_name(member);
  }
  return names;
}

}  // namespace

void print_statistics(std::ostream& out, const harness::RunOutput& output) {
  const sim::RunStats& stats = output.sim.stats;
  out << "statistics:\n";
  out << "  operations       " << output.history.operations.size() << " ("
      << count_indeterminate(output.history) << " indeterminate)\n";
  out << "  events           " << stats.events << ", simulated "
      << format_duration_us(static_cast<std::uint64_t>(output.sim.end_time_us)) << '\n';
  out << "  messages         " << stats.messages.messages_sent << " sent ("
      << format_bytes(stats.messages.bytes_sent) << "), " << stats.messages.messages_dropped
      << " dropped, " << stats.messages.messages_duplicated << " duplicated\n";
  for (const auto& [kind, kind_stats] : stats.per_kind) {
    out << "    " << pad(std::string(core::message_kind_name(static_cast<std::uint8_t>(kind))), 18)
        << kind_stats.messages_sent << " (" << format_bytes(kind_stats.bytes_sent) << ")\n";
  }
  const MemoryFigures memory = memory_of(output);
  out << "  memory           largest replica " << memory.largest.bytes << " bytes ("
      << memory.largest.live_bytes << " live) in " << memory.largest.keys << " keys; all replicas "
      << memory.total.dead_keys << " dead keys, "
      << memory.total.register_tombstones + memory.total.map_field_tombstones << " tombstones\n";
  if (memory.gc.keys_collected + memory.gc.fields_collected + memory.gc.messages_fenced +
          memory.gc.messages_stale >
      0) {
    out << "  tombstone gc     " << memory.gc.keys_collected << " keys and "
        << memory.gc.fields_collected << " map fields collected, "
        << memory.gc.messages_fenced + memory.gc.messages_stale
        << " old content messages refused (since each replica's last start)\n";
  }
  out << "  faults           " << stats.crashes << " crashes, " << stats.restarts << " restarts, "
      << stats.pauses << " pauses\n";
  if (output.membership) {
    const auto [joins, leaves] = joins_and_leaves(output);
    out << "  membership       " << joins << " joins, " << leaves << " leaves; final members "
        << member_names(output.final_members) << "\n";
  }
  if (output.converged_us) {
    out << "  convergence      "
        << format_duration_us(*output.converged_us - output.settle_started_us)
        << " after settling began\n";
  } else {
    out << "  convergence      not reached\n";
  }
  std::size_t hit = 0;
  for (const auto& [point, hits] : output.sim.coverage) {
    hit += hits > 0 ? 1 : 0;
  }
  out << "  coverage         " << hit << " of " << output.sim.coverage.size() << " points hit\n";
  const harness::HotKeyStatistics& hot = output.hot_keys;
  if (hot.enabled) {
    out << "  hot keys         " << hot.promotions << " promotions, " << hot.demotions
        << " demotions, " << hot.became_ready << " extra replicas ready, " << hot.reads_by_extra
        << " reads served by extra replicas, " << hot.strays_handed_off << " hand-offs\n";
    out << "  hottest key      '" << hot.hottest_key << "': " << hot.hottest_reads
        << " reads, by replica:";
    for (const std::uint64_t reads : hot.hottest_reads_by_replica) {
      out << ' ' << reads;
    }
    out << '\n';
  }
}

Json run_to_json(const harness::RunOutput& output, const std::string& scenario_file) {
  const sim::RunStats& stats = output.sim.stats;
  const MemoryFigures memory = memory_of(output);
  Json verdicts = Json::array();
  for (const harness::Verdict& verdict : output.verdicts) {
    verdicts.push_back(Json{{"property", verdict.property},
                            {"validity", harness::validity_name(verdict.validity)},
                            {"explanation", verdict.explanation}});
  }
  Json messages_by_kind = Json::object();
  for (const auto& [kind, kind_stats] : stats.per_kind) {
    messages_by_kind[std::string(core::message_kind_name(static_cast<std::uint8_t>(kind)))] =
        Json{{"messages", kind_stats.messages_sent}, {"bytes", kind_stats.bytes_sent}};
  }
  Json coverage = Json::object();
  for (const auto& [point, hits] : output.sim.coverage) {
    coverage[point] = hits;
  }
  Json result{{"scenario", output.scenario},
              {"scenario_file", scenario_file},
              {"seed", output.seed},
              {"validity", harness::validity_name(harness::combine(output.verdicts))},
              {"verdicts", std::move(verdicts)},
              {"trace_hash", sim::hash_hex(output.sim.trace_hash)},
              {"statistics",
               Json{{"operations", output.history.operations.size()},
                    {"indeterminate", count_indeterminate(output.history)},
                    {"events", stats.events},
                    {"simulated_us", output.sim.end_time_us},
                    {"messages", stats.messages.messages_sent},
                    {"message_bytes", stats.messages.bytes_sent},
                    {"messages_dropped", stats.messages.messages_dropped},
                    {"messages_duplicated", stats.messages.messages_duplicated},
                    {"messages_by_kind", std::move(messages_by_kind)},
                    {"crashes", stats.crashes},
                    {"restarts", stats.restarts},
                    {"pauses", stats.pauses},
                    {"memory", Json{{"largest_replica", footprint_json(memory.largest)},
                                    {"all_replicas", footprint_json(memory.total)}}},
                    {"tombstone_gc", Json{{"keys_collected", memory.gc.keys_collected},
                                          {"fields_collected", memory.gc.fields_collected},
                                          {"messages_fenced", memory.gc.messages_fenced},
                                          {"messages_stale", memory.gc.messages_stale}}},
                    {"convergence_us", output.converged_us
                                           ? Json(*output.converged_us - output.settle_started_us)
                                           : Json(nullptr)}}},
              {"coverage", std::move(coverage)}};
  const harness::HotKeyStatistics& hot = output.hot_keys;
  if (hot.enabled) {
    result["statistics"]["hot_keys"] =
        Json{{"promotions", hot.promotions},
             {"demotions", hot.demotions},
             {"extra_replicas_ready", hot.became_ready},
             {"reads_by_extra_replicas", hot.reads_by_extra},
             {"strays_handed_off", hot.strays_handed_off},
             {"hottest_key", hot.hottest_key},
             {"hottest_reads", hot.hottest_reads},
             {"hottest_reads_by_replica", hot.hottest_reads_by_replica}};
  }
  if (output.membership) {  // only then, so other runs' JSON stays as it was
    const auto [joins, leaves] = joins_and_leaves(output);
    Json members = Json::array();
    for (const core::ReplicaId member : output.final_members) {
      members.push_back(harness::replica_name(member));
    }
    result["statistics"]["membership"] =
        Json{{"final_members", std::move(members)}, {"joins", joins}, {"leaves", leaves}};
  }
  return result;
}

int exit_status(const std::vector<harness::Verdict>& verdicts) {
  return harness::combine(verdicts) == harness::Validity::invalid ? kExitViolated : kExitHeld;
}

std::string replay_command(const std::string& artifact_path) {
  return "build/crdtsim replay " + artifact_path;
}

}  // namespace crdtsim::cli
