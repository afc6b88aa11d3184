// crdtsim check HISTORY --model register|counter|set: the standalone
// history checkers, on this project's JSON Lines histories or Jepsen's EDN.

#include <fstream>
#include <ostream>
#include <sstream>

#include "harness/checkers/linearizability.h"
#include "harness/checkers/set_history.h"
#include "harness/history.h"
#include "tools/cli/commands.h"
#include "tools/cli/common.h"

namespace crdtsim::cli {

namespace {

// JSON Lines lines start with '{"'; Jepsen's EDN maps with '{:'.
std::string detect_format(const std::string& text, const std::string& path) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    throw InputError(path +
                     ":1: (root): expected a history (one operation per line), found an "
                     "empty file");
  }
  const std::size_t second = text.find_first_not_of(" \t\r\n", first + 1);
  if (text[first] == '{' && second != std::string::npos && text[second] == ':') {
    return "jepsen";
  }
  return "jsonl";
}

harness::Verdict check_jsonl(std::istream& in, const CheckArgs& args) {
  std::string error;
  const auto history = harness::read_jsonl(in, args.history_path, error);
  if (!history) {
    throw InputError(error);
  }
  if (args.model == "set") {
    return harness::check_set_history(*history);
  }
  const harness::LinModel model =
      args.model == "counter" ? harness::LinModel::counter : harness::LinModel::cas_register;
  return args.max_states == 0 ? harness::check_linearizable(*history, model)
                              : harness::check_linearizable(*history, model, args.max_states);
}

harness::Verdict check_jepsen(std::istream& in, const CheckArgs& args) {
  std::string error;
  if (args.model == "set") {
    const auto verdict = harness::check_set_jepsen(in, args.history_path, error);
    if (!verdict) {
      throw InputError(error);
    }
    return *verdict;
  }
  const harness::LinModel model =
      args.model == "counter" ? harness::LinModel::counter : harness::LinModel::cas_register;
  const std::uint64_t max_states =
      args.max_states == 0 ? harness::kLinearizabilityStatesDefault : args.max_states;
  harness::Verdict verdict =
      harness::check_linearizable_jepsen(in, args.history_path, model, max_states, error);
  if (!error.empty()) {
    throw InputError(error);
  }
  return verdict;
}

}  // namespace

int check_command(const CheckArgs& args, std::ostream& out, std::ostream& /*err*/) {
  if (args.model != "register" && args.model != "counter" && args.model != "set") {
    throw InputError("--model: expected register, counter or set, got \"" + args.model + "\"");
  }
  if (args.format != "auto" && args.format != "jsonl" && args.format != "jepsen") {
    throw InputError("--format: expected auto, jsonl or jepsen, got \"" + args.format + "\"");
  }
  std::ifstream file(args.history_path, std::ios::binary);
  if (!file) {
    throw InputError(args.history_path + ": cannot open (no such file or not readable)");
  }
  std::ostringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  const std::string format =
      args.format == "auto" ? detect_format(text, args.history_path) : args.format;
  std::istringstream in(text);
  const harness::Verdict verdict =
      format == "jepsen" ? check_jepsen(in, args) : check_jsonl(in, args);
  if (args.json) {
    out << harness::json::Json{{"history", args.history_path},
                               {"format", format},
                               {"model", args.model},
                               {"property", verdict.property},
                               {"validity", harness::validity_name(verdict.validity)},
                               {"explanation", verdict.explanation}}
               .dump(2)
        << '\n';
  } else {
    out << "history: " << args.history_path << " (" << format << ", model " << args.model << ")\n";
    print_verdicts(out, {verdict});
    out << "result: " << harness::validity_name(verdict.validity) << '\n';
  }
  return exit_status({verdict});
}

}  // namespace crdtsim::cli
