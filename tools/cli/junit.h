#pragma once
// JUnit XML for sweeps, so CI systems show each run as a test case: one
// <testsuite> per scenario, one <testcase> per seed; a violated property is
// a <failure> (for a demonstration scenario, only a violation of another
// property than the one it demonstrates).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/scenario.h"
#include "harness/sweep.h"

namespace crdtsim::cli {

class JunitReport {
 public:
  // Violations the scenario expects (a demonstration's) do not fail a case.
  void add(const harness::RunRecord& record, const harness::Scenario& scenario);
  std::string to_xml() const;

 private:
  struct Case {
    std::uint64_t seed = 0;
    std::uint64_t simulated_us = 0;
    std::string failure;  // empty: passed
    std::string details;
  };
  std::vector<std::string> order_;  // scenarios in first-seen order
  std::map<std::string, std::vector<Case>> cases_;
};

// Escapes &, <, >, " and ' and drops characters XML 1.0 cannot hold.
std::string xml_escape(const std::string& text);

}  // namespace crdtsim::cli
