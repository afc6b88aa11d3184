#pragma once
// Coverage points ("sometimes" assertions, as in Antithesis): named
// situations that processes and checkers mark when they reach them. A run
// reports hit counts per point; a sweep reports the declared points that no
// seed reached.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace crdtsim::sim {

using CoverageHits = std::map<std::string, std::uint64_t, std::less<>>;

class Coverage {
 public:
  // Makes `name` known with 0 hits (so a report can show it unreached).
  void declare(std::string_view name);
  // Counts one hit of `name` (declaring it if needed). Requires a non-empty
  // name.
  void mark(std::string_view name);

  std::uint64_t hits(std::string_view name) const;
  const CoverageHits& all() const { return hits_; }

 private:
  CoverageHits hits_;
};

}  // namespace crdtsim::sim
