#pragma once
// Generic lattice-law checks shared by every CRDT's property tests and by the
// broken-lattice tests that prove the checks can fail.
//
// Each `*_law` function is a RapidCheck property body: it uses RC_ASSERT and so
// must run inside rc::check (or RC_GTEST_PROP). Equality is by canonical
// encoding: two states are the same when their bytes are the same.

#include <rapidcheck.h>

#include <string>

#include "core/codec/bytes.h"

namespace crdtsim::testing {

template <class T>
bool same_state(const T& left, const T& right) {
  return core::encode(left) == core::encode(right);
}

template <class T>
T merged(T left, const T& right) {
  left.merge(right);
  return left;
}

template <class T>
void commutative_law(const T& a, const T& b) {
  RC_ASSERT(same_state(merged(a, b), merged(b, a)));
}

template <class T>
void associative_law(const T& a, const T& b, const T& c) {
  RC_ASSERT(same_state(merged(merged(a, b), c), merged(a, merged(b, c))));
}

template <class T>
void idempotent_law(const T& a) {
  RC_ASSERT(same_state(merged(a, a), a));
}

// a <= a join b, and b <= a join b, where x <= y means x join y == y.
template <class T>
void inflationary_law(const T& a, const T& b) {
  const T joined = merged(a, b);
  RC_ASSERT(same_state(merged(joined, a), joined));
  RC_ASSERT(same_state(merged(joined, b), joined));
}

// decode(encode(a)) == a, and re-encoding yields the same bytes.
template <class T>
void round_trip_law(const T& a) {
  const core::Bytes bytes = core::encode(a);
  const core::Decoded<T> decoded = core::decode<T>(bytes);
  RC_ASSERT(decoded.value.has_value());
  RC_ASSERT(*decoded.value == a);
  RC_ASSERT(core::encode(*decoded.value) == bytes);
}

// Runs the four join laws and the round trip over states drawn from
// `states`; returns true only if every law held. Used with EXPECT_TRUE for the
// real lattices and EXPECT_FALSE for the deliberately broken ones.
template <class T>
bool join_laws_hold(const rc::Gen<T>& states, const std::string& name) {
  bool ok = true;
  ok &= rc::check(name + " merge is commutative", [&] {
    const T a = *states;
    const T b = *states;
    commutative_law(a, b);
  });
  ok &= rc::check(name + " merge is associative", [&] {
    const T a = *states;
    const T b = *states;
    const T c = *states;
    associative_law(a, b, c);
  });
  ok &= rc::check(name + " merge is idempotent", [&] { idempotent_law(*states); });
  ok &= rc::check(name + " merge is inflationary", [&] {
    const T a = *states;
    const T b = *states;
    inflationary_law(a, b);
  });
  ok &= rc::check(name + " encoding round-trips", [&] { round_trip_law(*states); });
  return ok;
}

}  // namespace crdtsim::testing
