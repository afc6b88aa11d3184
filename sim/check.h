#pragma once
// Always-on assertions for the simulator.
//
// A simulator assertion turns silent corruption into a failing seed that
// replays, so these stay on in Release builds (unlike <cassert>). Each check
// names one condition: split compound conditions so a failure says which part
// broke.

#include <cstdio>
#include <cstdlib>

namespace crdtsim::sim::detail {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: simulator check failed: %s\n", file, line, condition);
  std::abort();
}

}  // namespace crdtsim::sim::detail

#define CRDTSIM_CHECK(condition)                                            \
  do {                                                                      \
    if (!(condition)) [[unlikely]] {                                        \
      ::crdtsim::sim::detail::check_failed(#condition, __FILE__, __LINE__); \
    }                                                                       \
  } while (false)
