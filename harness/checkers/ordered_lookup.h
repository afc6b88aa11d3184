#pragma once
// Looking keys up in a map sorted by key (a std::map, a Keyspace) when the
// keys are asked for in increasing order, as the checkers visit them: a
// cursor walks the map once, where a search per key would descend the tree
// (and compare similar keys) each time.

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace crdtsim::harness {

template <class SortedMap>
class OrderedLookup {
 public:
  using Iterator = decltype(std::declval<const SortedMap&>().begin());
  using Mapped = std::remove_cvref_t<decltype(std::declval<Iterator>()->second)>;

  // Borrows `map`, which must not change while this is in use.
  explicit OrderedLookup(const SortedMap& map) : at_(map.begin()), end_(map.end()) {}

  // The value mapped to `key`, or nullptr. Requires: `key` is not less than
  // any key asked for before.
  const Mapped* find(std::string_view key) {
#ifndef NDEBUG
    assert(key.compare(previous_) >= 0);
    previous_ = key;
#endif
    while (at_ != end_ && std::string_view(at_->first) < key) {
      ++at_;
    }
    return at_ != end_ && at_->first == key ? &at_->second : nullptr;
  }

 private:
  Iterator at_;
  Iterator end_;
#ifndef NDEBUG
  std::string previous_;  // the last key asked for (the order assertion)
#endif
};

}  // namespace crdtsim::harness
