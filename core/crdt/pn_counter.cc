#include "core/crdt/pn_counter.h"

#include <cassert>
#include <limits>
#include <utility>

namespace crdtsim::core {

namespace {

// P - N as a 128-bit two's complement number: high * 2^64 + low, with `high`
// read as signed. Sums of entries have carries far below 2^63, so `high`
// cannot overflow.
struct WideDifference {
  std::int64_t high = 0;
  std::uint64_t low = 0;
};

WideDifference subtract(const ExactSum& plus, const ExactSum& minus) {
  WideDifference difference;
  difference.low = plus.low - minus.low;  // modulo 2^64, by design
  const std::uint64_t borrow = plus.low < minus.low ? 1 : 0;
  difference.high = static_cast<std::int64_t>(plus.carries) -
                    static_cast<std::int64_t>(minus.carries) - static_cast<std::int64_t>(borrow);
  return difference;
}

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

bool fits_int64(const WideDifference& difference) {
  return (difference.high == 0 && difference.low < kSignBit) ||
         (difference.high == -1 && difference.low >= kSignBit);
}

}  // namespace

std::optional<PNCounter> PNCounter::increment(ReplicaId replica, std::uint64_t amount) {
  std::optional<GCounter> half = increments_.increment(replica, amount);
  if (!half.has_value()) {
    return std::nullopt;
  }
  PNCounter delta;
  delta.increments_ = std::move(*half);
  return delta;
}

std::optional<PNCounter> PNCounter::decrement(ReplicaId replica, std::uint64_t amount) {
  std::optional<GCounter> half = decrements_.increment(replica, amount);
  if (!half.has_value()) {
    return std::nullopt;
  }
  PNCounter delta;
  delta.decrements_ = std::move(*half);
  return delta;
}

void PNCounter::merge(const PNCounter& other) {
  increments_.merge(other.increments_);
  decrements_.merge(other.decrements_);
}

std::int64_t PNCounter::value() const {
  const WideDifference difference = subtract(increments_.exact_sum(), decrements_.exact_sum());
  if (fits_int64(difference)) {
    // Two's complement reinterpretation of the low word (defined in C++20).
    return static_cast<std::int64_t>(difference.low);
  }
  return difference.high < 0 ? std::numeric_limits<std::int64_t>::min()
                             : std::numeric_limits<std::int64_t>::max();
}

bool PNCounter::value_fits() const {
  return fits_int64(subtract(increments_.exact_sum(), decrements_.exact_sum()));
}

void PNCounter::encode_body(Encoder& encoder) const {
  increments_.encode_body(encoder);
  decrements_.encode_body(encoder);
}

PNCounter PNCounter::decode_body(Decoder& decoder) {
  PNCounter counter;
  counter.increments_ = GCounter::decode_body(decoder);
  counter.decrements_ = GCounter::decode_body(decoder);
  return counter;
}

}  // namespace crdtsim::core
