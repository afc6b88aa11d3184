#pragma once
// ReplicaList: a short list of replica ids (a preference list), held inline
// up to kInline ids so that placement lookups allocate nothing for ordinary
// replication factors; longer lists spill to the heap. (A hand-rolled type:
// GCC 12 reports false overreads in boost::container::small_vector's moves.)

#include <algorithm>
#include <array>
#include <cassert>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "core/types.h"

namespace crdtsim::core {

class ReplicaList {
 public:
  static constexpr std::size_t kInline = 8;

  ReplicaList() = default;
  template <class Iterator>
  ReplicaList(Iterator first, Iterator last) {
    assign(first, last);
  }

  const ReplicaId* data() const { return spilled() ? heap_.data() : inline_.data(); }
  const ReplicaId* begin() const { return data(); }
  const ReplicaId* end() const { return data() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ReplicaId operator[](std::size_t index) const {
    assert(index < size_);
    return data()[index];
  }

  void clear() {
    size_ = 0;
    heap_.clear();
  }
  void push_back(ReplicaId replica) {
    if (!spilled() && size_ < kInline) {
      inline_[size_++] = replica;
      return;
    }
    if (!spilled()) {
      heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(size_));
    }
    heap_.push_back(replica);
    ++size_;
  }
  template <class Iterator>
  void assign(Iterator first, Iterator last) {
    clear();
    if constexpr (std::random_access_iterator<Iterator>) {
      // The common case (a preference list out of the placement table): one
      // copy instead of a push_back per id.
      const auto count = static_cast<std::size_t>(last - first);
      if (count <= kInline) {
        std::copy(first, last, inline_.begin());
        size_ = count;
        return;
      }
    }
    for (; first != last; ++first) {
      push_back(*first);
    }
  }

  friend bool operator==(const ReplicaList& left, const ReplicaList& right) {
    return std::equal(left.begin(), left.end(), right.begin(), right.end());
  }
  friend std::strong_ordering operator<=>(const ReplicaList& left, const ReplicaList& right) {
    return std::lexicographical_compare_three_way(left.begin(), left.end(), right.begin(),
                                                  right.end());
  }

 private:
  // Spilled lists keep every id on the heap; short ones keep none there.
  bool spilled() const { return !heap_.empty(); }

  std::size_t size_ = 0;
  std::array<ReplicaId, kInline> inline_{};
  std::vector<ReplicaId> heap_;
};

}  // namespace crdtsim::core
