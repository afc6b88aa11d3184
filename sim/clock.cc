#include "sim/clock.h"

#include "sim/check.h"

namespace crdtsim::sim {

namespace {

void check_drift(std::int32_t drift_ppm) {
  CRDTSIM_CHECK(drift_ppm <= LocalClock::kDriftPpmMax);
  CRDTSIM_CHECK(drift_ppm >= -LocalClock::kDriftPpmMax);
}

}  // namespace

LocalClock::LocalClock(const ClockConfig& config, TimeUs true_now_us)
    : offset_us_(config.offset_us), drift_base_us_(true_now_us), drift_ppm_(config.drift_ppm) {
  check_drift(config.drift_ppm);
  CRDTSIM_CHECK(true_now_us >= 0);
}

void LocalClock::jump(TimeUs delta_us) {
  CRDTSIM_CHECK(delta_us < kTrueTimeMaxUs);
  CRDTSIM_CHECK(delta_us > -kTrueTimeMaxUs);
  offset_us_ += delta_us;
}

void LocalClock::set_drift(TimeUs true_now_us, std::int32_t drift_ppm) {
  check_drift(drift_ppm);
  drift_accumulated_us_ += drift_since_base(true_now_us);
  drift_base_us_ = true_now_us;
  drift_ppm_ = drift_ppm;
}

}  // namespace crdtsim::sim
