#pragma once
// OutOfLine<T>: a value of T kept on the heap, allocated on first write.
//
// For a member that is usually default (empty) in a struct that is moved and
// destroyed often: unallocated, it costs one null pointer to move and to
// destroy, where T inline may cost many (a Reply's version metadata is four
// vectors that are empty unless sessions or the causal level are on).
//
// It behaves like a plain T member: reads of an unallocated one see a default
// T; copies copy the value; comparison compares values (so an unallocated one
// equals an allocated default one). A moved-from one reads as a default T.

#include <memory>
#include <utility>

namespace crdtsim::core {

template <class T>
class OutOfLine {
 public:
  OutOfLine() = default;
  OutOfLine(const OutOfLine& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  OutOfLine(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(const OutOfLine& other) {
    if (this != &other) {
      value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    }
    return *this;
  }
  OutOfLine& operator=(OutOfLine&&) noexcept = default;
  ~OutOfLine() = default;

  // The value: a default T when nothing was written.
  const T& get() const { return value_ ? *value_ : default_value(); }
  const T& operator*() const { return get(); }
  const T* operator->() const { return &get(); }

  // The value for writing; allocates it (default) on first use.
  T& mut() {
    if (!value_) {
      value_ = std::make_unique<T>();
    }
    return *value_;
  }

  // Whether a value was allocated (written, or copied from one that was).
  bool allocated() const { return value_ != nullptr; }

  friend bool operator==(const OutOfLine& left, const OutOfLine& right) {
    return left.get() == right.get();
  }

 private:
  static const T& default_value() {
    static const T value{};
    return value;
  }

  std::unique_ptr<T> value_;  // null: a default T
};

}  // namespace crdtsim::core
