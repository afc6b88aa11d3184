// crdtsim validate SCENARIO...: reads scenario files and reports the first
// problem of each; with --print, the scenario with every field spelled out.

#include <ostream>

#include "harness/scenario_json.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

int validate_command(const ValidateArgs& args, std::ostream& out, std::ostream& err) {
  bool all_valid = true;
  for (const std::string& path : args.scenarios) {
    std::string error;
    const auto scenario = harness::load_scenario_file(path, error);
    if (!scenario) {
      err << "crdtsim: error: " << error << '\n';
      all_valid = false;
      continue;
    }
    const harness::WorkloadSpec& workload = scenario->workload;
    const std::uint64_t operations = workload.script.empty()
                                         ? std::uint64_t{workload.clients} * workload.ops_per_client
                                         : workload.script.size();
    out << path << ": ok: " << scenario->name << ": " << scenario->cluster.replicas
        << " replicas (rf " << scenario->cluster.replication_factor << "), " << workload.clients
        << " clients, " << operations << " operations, " << scenario->timeline.size()
        << " timeline faults" << (scenario->random_faults.enabled ? " + random faults" : "")
        << ", seeds " << scenario->seed_first << ".." << scenario->seed_last
        << (scenario->expected_failure.empty()
                ? ""
                : ", demonstrates a violation of " + scenario->expected_failure)
        << '\n';
    if (args.print) {
      out << harness::json::pretty(harness::scenario_to_json(*scenario)) << '\n';
    }
  }
  return all_valid ? kExitHeld : kExitBadInput;
}

}  // namespace crdtsim::cli
