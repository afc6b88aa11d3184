#pragma once
// A process's local clock: the only time a process ever sees.
//
//   local(t) = t + offset_us + drift_accumulated_us
//              + (t - drift_base_us) * drift_ppm / 1'000'000   (truncated)
//
// where t is the true simulated time. offset_us changes by jump() (forward or
// backward, like an NTP step); drift_ppm makes the clock run fast (> 0) or
// slow (< 0); set_drift() re-bases so earlier readings never change. Integer
// arithmetic only, bounded so it cannot overflow. A pause needs no special
// handling: the local clock follows true time, so a process that was paused
// for d microseconds sees its clock jump by about d when it runs again.

#include <cstdint>

#include "sim/check.h"
#include "sim/types.h"

namespace crdtsim::sim {

struct ClockConfig {
  TimeUs offset_us = 0;
  std::int32_t drift_ppm = 0;
};

class LocalClock {
 public:
  // |drift_ppm| may not exceed this (10%: far beyond any real quartz).
  static constexpr std::int32_t kDriftPpmMax = 100'000;
  // Readings are defined for true times below 2^46 us (about 2.2 years):
  // with the drift bound, the product fits comfortably in 63 bits.
  static constexpr TimeUs kTrueTimeMaxUs = TimeUs{1} << 46;

  explicit LocalClock(const ClockConfig& config = {}, TimeUs true_now_us = 0);

  // Requires 0 <= true_now_us < kTrueTimeMaxUs, and true_now_us not earlier
  // than the last set_drift(). Inline: every callback reads the clock.
  TimeUs read(TimeUs true_now_us) const {
    const TimeUs undrifted = true_now_us + offset_us_ + drift_accumulated_us_;
    // Without drift the term is 0 (no multiply and divide: most clocks).
    return drift_ppm_ == 0 ? undrifted : undrifted + drift_since_base(true_now_us);
  }

  // Steps the clock by delta_us (negative: backwards) from now on.
  void jump(TimeUs delta_us);

  // Changes the drift from true_now_us on; readings before it are unchanged.
  void set_drift(TimeUs true_now_us, std::int32_t drift_ppm);

  std::int32_t drift_ppm() const { return drift_ppm_; }
  TimeUs offset_us() const { return offset_us_; }

 private:
  TimeUs drift_since_base(TimeUs true_now_us) const {
    CRDTSIM_CHECK(true_now_us >= drift_base_us_);
    CRDTSIM_CHECK(true_now_us < kTrueTimeMaxUs);
    return (true_now_us - drift_base_us_) * drift_ppm_ / TimeUs{kPpmOne};
  }

  TimeUs offset_us_;
  TimeUs drift_accumulated_us_ = 0;
  TimeUs drift_base_us_;
  std::int32_t drift_ppm_;
};

}  // namespace crdtsim::sim
