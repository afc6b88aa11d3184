#pragma once
// SlidingHeavyHitters: approximate per-key access counts over a sliding
// window, in bounded memory, with integer arithmetic only.
//
// The window is a ring of `sub_windows` sub-windows; the caller closes the
// current one with rotate() (the replica does so every window_us /
// sub_windows), which drops the oldest. Each sub-window keeps a Space-Saving
// summary (Metwally, Agrawal and El Abbadi, "Efficient Computation of
// Frequent and Top-k Elements in Data Streams", ICDT 2005) of at most
// `capacity` keys: a monitored key's count over-estimates its true count in
// that sub-window by at most its recorded error; a key that is not monitored
// was seen at most `minimum` times there (the smallest count of a full
// summary, 0 while the summary has room). Hence, over the window:
//
//   true(key) <= estimate(key) <= true(key) + error_bound()
//   error_bound() = sum of the full sub-windows' minimum counts
//                <= total() / capacity
//
// and every key whose true window count is at least a threshold T and above
// error_bound() is reported by above(T) (it is monitored in some sub-window).
//
// Deterministic: summaries are ordered maps; an eviction removes the entry
// with the smallest (count, key), so ties never depend on insertion order or
// addresses. Memory: at most sub_windows * capacity entries, each holding a
// key of at most kKeyBytesMax bytes (asserted).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crdtsim::core {

class SlidingHeavyHitters {
 public:
  static constexpr std::size_t kSubWindowsMax = 64;
  static constexpr std::size_t kCapacityMax = 4096;
  static constexpr std::size_t kKeyBytesMax = 64 * 1024;

  struct Reported {
    std::string key;
    std::uint64_t estimate = 0;
    friend bool operator==(const Reported&, const Reported&) = default;
  };

  // Requires 1 <= sub_windows <= kSubWindowsMax, 1 <= capacity <= kCapacityMax.
  SlidingHeavyHitters(std::size_t sub_windows, std::size_t capacity);

  // Counts one access of `key` in the current sub-window.
  // Requires key.size() <= kKeyBytesMax.
  void record(std::string_view key);
  // Closes the current sub-window: the oldest one is forgotten and an empty
  // one becomes current.
  void rotate();

  // An upper bound on the key's accesses in the window (see the header).
  std::uint64_t estimate(std::string_view key) const;
  std::uint64_t error_bound() const;
  // Accesses recorded in the window.
  std::uint64_t total() const;
  // Every monitored key whose estimate is at least `threshold`, in key order.
  std::vector<Reported> above(std::uint64_t threshold) const;

  // Entries held over all sub-windows: at most sub_windows * capacity.
  std::size_t monitored() const;
  std::size_t entries_max() const { return ring_.size() * capacity_; }

 private:
  struct Counter {
    std::uint64_t count = 0;
    std::uint64_t error = 0;  // over-estimate bound (the minimum when inserted)
  };
  struct Summary {
    std::map<std::string, Counter, std::less<>> counters;
    std::uint64_t total = 0;
    // The count a key that is not monitored may at most have had.
    std::uint64_t unmonitored_max(std::size_t capacity) const;
  };

  void add(Summary& summary, std::string_view key) const;

  std::size_t capacity_;
  std::vector<Summary> ring_;
  std::size_t current_ = 0;
};

}  // namespace crdtsim::core
