#include "sim/coverage.h"

#include "sim/check.h"

namespace crdtsim::sim {

void Coverage::declare(std::string_view name) {
  CRDTSIM_CHECK(!name.empty());
  if (hits_.find(name) == hits_.end()) {
    hits_.emplace(std::string(name), 0);
  }
}

void Coverage::mark(std::string_view name) {
  CRDTSIM_CHECK(!name.empty());
  auto found = hits_.find(name);
  if (found == hits_.end()) {
    found = hits_.emplace(std::string(name), 0).first;
  }
  ++found->second;
}

std::uint64_t Coverage::hits(std::string_view name) const {
  const auto found = hits_.find(name);
  return found == hits_.end() ? 0 : found->second;
}

}  // namespace crdtsim::sim
