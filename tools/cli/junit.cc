#include "tools/cli/junit.h"

#include <iomanip>
#include <sstream>

namespace crdtsim::cli {

std::string xml_escape(const std::string& text) {
  std::string result;
  result.reserve(text.size());
  for (const char character : text) {
    const auto byte = static_cast<unsigned char>(character);
    switch (character) {
      case '&':
        result += "&amp;";
        break;
      case '<':
        result += "&lt;";
        break;
      case '>':
        result += "&gt;";
        break;
      case '"':
        result += "&quot;";
        break;
      case '\'':
        result += "&apos;";
        break;
      default:
        if (byte >= 0x20 || character == '\n' || character == '\t' || character == '\r') {
          result += character;
        }
    }
  }
  return result;
}

void JunitReport::add(const harness::RunRecord& record, const harness::Scenario& scenario) {
  if (!cases_.contains(record.scenario)) {
    order_.push_back(record.scenario);
  }
  Case entry;
  entry.seed = record.seed;
  entry.simulated_us = record.end_time_us;
  for (const harness::Verdict& verdict : record.verdicts) {
    entry.details += verdict.property + " " + harness::validity_name(verdict.validity) + ": " +
                     verdict.explanation + "\n";
    if (verdict.validity == harness::Validity::invalid &&
        !scenario.violation_expected(verdict.property) && entry.failure.empty()) {
      entry.failure = verdict.property + ": " + verdict.explanation;
    }
  }
  cases_[record.scenario].push_back(std::move(entry));
}

std::string JunitReport::to_xml() const {
  std::ostringstream xml;
  std::uint64_t tests = 0;
  std::uint64_t failures = 0;
  for (const auto& [scenario, cases] : cases_) {
    tests += cases.size();
    for (const Case& entry : cases) {
      failures += entry.failure.empty() ? 0U : 1U;
    }
  }
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml << "<testsuites name=\"crdtsim sweep\" tests=\"" << tests << "\" failures=\"" << failures
      << "\">\n";
  for (const std::string& scenario : order_) {
    const std::vector<Case>& cases = cases_.at(scenario);
    std::uint64_t suite_failures = 0;
    for (const Case& entry : cases) {
      suite_failures += entry.failure.empty() ? 0U : 1U;
    }
    xml << "  <testsuite name=\"" << xml_escape(scenario) << "\" tests=\"" << cases.size()
        << "\" failures=\"" << suite_failures << "\">\n";
    for (const Case& entry : cases) {
      // time: simulated seconds (deterministic), not wall time.
      xml << "    <testcase classname=\"crdtsim." << xml_escape(scenario) << "\" name=\"seed "
          << entry.seed << "\" time=\"" << entry.simulated_us / 1'000'000 << "."
          << std::setfill('0') << std::setw(3) << (entry.simulated_us % 1'000'000) / 1'000
          << "\">\n";
      if (!entry.failure.empty()) {
        xml << "      <failure message=\"" << xml_escape(entry.failure) << "\">"
            << xml_escape(entry.details) << "</failure>\n";
      }
      xml << "      <system-out>" << xml_escape(entry.details) << "</system-out>\n";
      xml << "    </testcase>\n";
    }
    xml << "  </testsuite>\n";
  }
  xml << "</testsuites>\n";
  return xml.str();
}

}  // namespace crdtsim::cli
