#pragma once
// Property checks every lattice of core/ must pass beyond the join laws of
// lattice_laws.h: the delta law, the delta-group law, and decoding that
// rejects malformed bytes. Each returns true only if its properties held, so
// the same check runs with EXPECT_TRUE on the real types and EXPECT_FALSE on
// the deliberately broken ones (broken_lattices_test.cc).

#include <rapidcheck.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/types.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"

namespace crdtsim::testing {

// Delta law: for a mutation applied in place that returns delta d,
// pre-state join d == post-state; and d <= post-state.
template <class T, class Mutate>
bool delta_law_holds(const rc::Gen<T>& states, const Mutate& mutate, const std::string& name) {
  return rc::check(name + " delta applies the mutation", [&] {
    T state = *states;
    const T before = state;
    const T delta = mutate(state, *gen_replica());
    RC_ASSERT(same_state(merged(before, delta), state));
    RC_ASSERT(same_state(merged(state, delta), state));
  });
}

// Delta-group law: a group of the deltas of several mutations, applied once,
// has the effect of applying its parts in order, both to the state the
// mutations started from and to any other state.
template <class T, class Group, class Mutate>
bool delta_group_law_holds(const rc::Gen<T>& states, const Mutate& mutate,
                           const std::string& name) {
  return rc::check(name + " delta group applies like its parts in order", [&] {
    const T start = *states;
    const T other = *states;
    T state = start;
    T other_in_order = other;
    Group group;
    const int parts = *rc::gen::inRange(0, 6);
    for (int part = 0; part < parts; ++part) {
      const T delta = mutate(state, *gen_replica());
      group.add(delta);
      other_in_order.merge(delta);
    }
    T start_grouped = start;
    group.apply_to(start_grouped);
    RC_ASSERT(same_state(start_grouped, state));
    T other_grouped = other;
    group.apply_to(other_grouped);
    RC_ASSERT(same_state(other_grouped, other_in_order));
  });
}

// Bytes that mostly hold small values (counts, flags, kinds, small ids), so
// that a decoder gets past its first checks, mixed with arbitrary bytes.
inline rc::Gen<std::vector<std::uint8_t>> gen_garbage() {
  return rc::gen::container<std::vector<std::uint8_t>>(
      rc::gen::oneOf(rc::gen::inRange<std::uint8_t>(0, 6), rc::gen::arbitrary<std::uint8_t>()));
}

// A decode of `input` either fails with a message or yields a state whose
// canonical encoding is `input` itself (a decoder accepts canonical bytes only).
template <class T>
void rejected_or_canonical(const core::Bytes& input) {
  const core::Decoded<T> decoded = core::decode<T>(input);
  if (decoded) {
    RC_ASSERT(core::encode(*decoded.value) == input);
  } else {
    RC_ASSERT(!decoded.error.empty());
  }
}

// Decoding never accepts a truncated encoding, and accepts random or
// corrupted bytes only when they are a canonical encoding. (Crashes and
// undefined behaviour would show up as such, under the sanitizers.)
template <class T>
bool decode_rejects_malformed(const rc::Gen<T>& states, const std::string& name) {
  bool ok = true;
  ok &= rc::check(name + " every truncation is rejected", [&] {
    const core::Bytes bytes = core::encode(*states);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const core::Decoded<T> decoded = core::decode<T>(core::ByteView(bytes.data(), length));
      RC_ASSERT(!decoded);
      RC_ASSERT(!decoded.error.empty());
    }
  });
  ok &= rc::check(name + " random bodies are rejected or canonical", [&] {
    core::Bytes bytes{T::kTypeTag, T::kEncodingVersion};
    const std::vector<std::uint8_t> body = *gen_garbage();
    bytes.insert(bytes.end(), body.begin(), body.end());
    rejected_or_canonical<T>(bytes);
  });
  ok &= rc::check(name + " random bytes are rejected or canonical",
                  [&] { rejected_or_canonical<T>(*gen_garbage()); });
  ok &= rc::check(name + " corrupted encodings are rejected or canonical", [&] {
    // The join of several states has more entries, so more to corrupt; the
    // two header bytes are left alone (a bad header is rejected up front).
    core::Bytes bytes = core::encode(merged(merged(*states, *states), *states));
    RC_PRE(bytes.size() > 2);
    const int corruptions = *rc::gen::inRange(1, 4);
    for (int corruption = 0; corruption < corruptions; ++corruption) {
      const std::size_t index = *rc::gen::inRange<std::size_t>(2, bytes.size());
      bytes[index] = *rc::gen::weightedOneOf<std::uint8_t>(
          {{3, rc::gen::inRange<std::uint8_t>(0, 6)}, {1, rc::gen::arbitrary<std::uint8_t>()}});
    }
    rejected_or_canonical<T>(bytes);
  });
  return ok;
}

}  // namespace crdtsim::testing
