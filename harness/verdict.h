#pragma once
// What a checker returns: valid, invalid or unknown, with a short
// explanation that names the evidence (keys, replicas, operations, times).

#include <cstdint>
#include <string>
#include <vector>

namespace crdtsim::harness {

enum class Validity : std::uint8_t { valid = 0, invalid = 1, unknown = 2 };
const char* validity_name(Validity validity);

struct Verdict {
  std::string property;  // e.g. "convergence", "no_lost_writes", "linearizability"
  Validity validity = Validity::unknown;
  std::string explanation;

  static Verdict valid(std::string property, std::string explanation);
  static Verdict invalid(std::string property, std::string explanation);
  static Verdict unknown(std::string property, std::string explanation);

  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// The run's overall result: invalid if any is invalid, else unknown if any is
// unknown, else valid.
Validity combine(const std::vector<Verdict>& verdicts);

}  // namespace crdtsim::harness
