#include "harness/verdict.h"

#include <utility>

namespace crdtsim::harness {

const char* validity_name(Validity validity) {
  switch (validity) {
    case Validity::valid:
      return "valid";
    case Validity::invalid:
      return "invalid";
    case Validity::unknown:
      return "unknown";
  }
  return "unknown";
}

Verdict Verdict::valid(std::string property, std::string explanation) {
  return Verdict{std::move(property), Validity::valid, std::move(explanation)};
}

Verdict Verdict::invalid(std::string property, std::string explanation) {
  return Verdict{std::move(property), Validity::invalid, std::move(explanation)};
}

Verdict Verdict::unknown(std::string property, std::string explanation) {
  return Verdict{std::move(property), Validity::unknown, std::move(explanation)};
}

Validity combine(const std::vector<Verdict>& verdicts) {
  Validity result = Validity::valid;
  for (const Verdict& verdict : verdicts) {
    if (verdict.validity == Validity::invalid) {
      return Validity::invalid;
    }
    if (verdict.validity == Validity::unknown) {
      result = Validity::unknown;
    }
  }
  return result;
}

}  // namespace crdtsim::harness
