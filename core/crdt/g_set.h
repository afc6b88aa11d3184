#pragma once
// Grow-only set of strings (Shapiro et al. 2011, G-Set): add only, merge is
// the union. Elements live in an absl::btree_set: ordered (so iteration and
// encoding are deterministic) and node-packed, so adding to or merging into a
// 100,000-element set is O(log n) per element, where a flat sorted vector
// would move the whole tail on every insert.

#include <absl/container/btree_set.h>
#include <absl/strings/string_view.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec/bytes.h"

namespace crdtsim::core {

class GSet {
 public:
  static constexpr std::uint8_t kTypeTag = type_tag::kGSet;
  static constexpr std::uint8_t kEncodingVersion = 1;

  using Elements = absl::btree_set<std::string>;

  // Adds `element`. Returns the delta: the set {element}, or the empty set
  // when it was already present.
  GSet add(std::string element);

  // Join: the union.
  void merge(const GSet& other);

  bool contains(std::string_view element) const {
    // Debian's Abseil has its own string_view type; the btree's transparent
    // comparator takes that one.
    return elements_.contains(absl::string_view(element.data(), element.size()));
  }
  std::size_t size() const { return elements_.size(); }
  bool empty() const { return elements_.empty(); }
  // Sorted bytewise.
  const Elements& elements() const { return elements_; }

  // Body: the count, then the elements in increasing order.
  void encode_body(Encoder& encoder) const;
  // Rejects elements that are not strictly increasing.
  static GSet decode_body(Decoder& decoder);
  // The same into `out`, which must be empty (default-constructed): a
  // caller decoding into a container's element saves moving the result.
  static void decode_body(Decoder& decoder, GSet& out);

  friend bool operator==(const GSet&, const GSet&) = default;

 private:
  Elements elements_;
};

}  // namespace crdtsim::core
