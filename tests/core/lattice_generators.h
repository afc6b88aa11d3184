#pragma once
// RapidCheck generators for the clocks and lattices of core/: each state is
// the state of one replica after a random history in which 2 to 4 replicas
// (small ids) apply random mutators and merge each other's states.
//
// Every `mutate_*` function applies one random mutation to `state` as
// `replica` and returns the delta; they draw with operator* and so must run
// inside a generator or a property.

#include <rapidcheck.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/clock/vector_clock.h"
#include "core/crdt/dot.h"
#include "core/crdt/g_counter.h"
#include "core/crdt/g_set.h"
#include "core/crdt/lww_map.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/mv_register.h"
#include "core/crdt/pn_counter.h"
#include "core/types.h"

namespace crdtsim::testing {

using core::ReplicaId;

// Histories stay short so that the property suite stays fast; 16 steps over
// at most 4 replicas already reach every merge situation.
inline constexpr int kHistoryStepsMax = 16;

// Replica ids used by mutations outside a history: small, plus one past the
// one-byte varint boundary.
inline rc::Gen<ReplicaId> gen_replica() {
  return rc::gen::element<ReplicaId>(0, 1, 2, 3, 130);
}

// Runs a random history and returns every replica's final state. `mutate` is
// called as mutate(state, replica_id).
template <class T, class Mutate>
std::vector<T> run_history(const Mutate& mutate) {
  const std::size_t replicas = *rc::gen::inRange<std::size_t>(2, 5);
  // Ids start at 0, 1 or 126, so some histories cross the varint boundary.
  const ReplicaId base = *rc::gen::element<ReplicaId>(0, 1, 126);
  std::vector<T> states(replicas);
  const int steps = *rc::gen::inRange(0, kHistoryStepsMax + 1);
  for (int step = 0; step < steps; ++step) {
    const std::size_t target = *rc::gen::inRange<std::size_t>(0, replicas);
    if (*rc::gen::inRange(0, 3) == 0) {
      const std::size_t source = *rc::gen::inRange<std::size_t>(0, replicas);
      states[target].merge(states[source]);
    } else {
      mutate(states[target], base + static_cast<ReplicaId>(target));
    }
  }
  return states;
}

// One replica's state after a random history.
template <class T, class Mutate>
rc::Gen<T> gen_state(Mutate mutate) {
  return rc::gen::exec([mutate] {
    std::vector<T> states = run_history<T>(mutate);
    return states[*rc::gen::inRange<std::size_t>(0, states.size())];
  });
}

// Timestamps from a narrow range, so that equal times and full ties between
// independently generated states are common.
inline core::LwwTimestamp draw_lww_timestamp(ReplicaId replica) {
  return core::LwwTimestamp{*rc::gen::inRange<std::uint64_t>(0, 5),
                            *rc::gen::inRange<std::uint32_t>(0, 2), replica};
}

inline std::string draw_value() {
  return *rc::gen::element<std::string>("", "a", "b", "zz");
}

inline core::GCounter mutate_g_counter(core::GCounter& state, ReplicaId replica) {
  const std::uint64_t amount = *rc::gen::inRange<std::uint64_t>(1, 6);
  return state.increment(replica, amount).value_or(core::GCounter{});
}

inline core::PNCounter mutate_pn_counter(core::PNCounter& state, ReplicaId replica) {
  const std::uint64_t amount = *rc::gen::inRange<std::uint64_t>(1, 6);
  if (*rc::gen::arbitrary<bool>()) {
    return state.increment(replica, amount).value_or(core::PNCounter{});
  }
  return state.decrement(replica, amount).value_or(core::PNCounter{});
}

inline core::LwwRegister mutate_lww_register(core::LwwRegister& state, ReplicaId replica) {
  const core::LwwTimestamp timestamp = draw_lww_timestamp(replica);
  if (*rc::gen::inRange(0, 4) == 0) {
    return state.clear(timestamp);
  }
  return state.write(draw_value(), timestamp);
}

// The value written with `dot`. Independently generated states may hold the
// same dot; a dot names one write, so its value must be the same everywhere.
inline std::string dot_value(const core::Dot& dot) {
  constexpr std::array<std::string_view, 3> kValues = {"x", "y", ""};
  return std::string(kValues[(dot.replica + dot.counter) % kValues.size()]);
}

inline core::MvRegister mutate_mv_register(core::MvRegister& state, ReplicaId replica) {
  if (*rc::gen::inRange(0, 5) == 0) {
    return state.clear();
  }
  const core::Dot next{replica, state.context().max_counter(replica) + 1};
  return state.write(replica, dot_value(next));
}

inline std::string draw_element() {
  return *rc::gen::element<std::string>("", "a", "b", "c", "apple", std::string(130, 'l'));
}

inline core::GSet mutate_g_set(core::GSet& state, ReplicaId /*replica*/) {
  return state.add(draw_element());
}

inline core::LwwMap mutate_lww_map(core::LwwMap& state, ReplicaId replica) {
  std::string field = *rc::gen::element<std::string>("", "f", "g", "h");
  const core::LwwTimestamp timestamp = draw_lww_timestamp(replica);
  if (*rc::gen::inRange(0, 4) == 0) {
    return state.remove_field(std::move(field), timestamp);
  }
  return state.set_field(std::move(field), draw_value(), timestamp);
}

inline void mutate_vector_clock(core::VectorClock& state, ReplicaId replica) {
  state.increment(replica);
}

inline rc::Gen<core::GCounter> gen_g_counter() {
  return gen_state<core::GCounter>(mutate_g_counter);
}
inline rc::Gen<core::PNCounter> gen_pn_counter() {
  return gen_state<core::PNCounter>(mutate_pn_counter);
}
inline rc::Gen<core::LwwRegister> gen_lww_register() {
  return gen_state<core::LwwRegister>(mutate_lww_register);
}
inline rc::Gen<core::MvRegister> gen_mv_register() {
  return gen_state<core::MvRegister>(mutate_mv_register);
}
inline rc::Gen<core::GSet> gen_g_set() {
  return gen_state<core::GSet>(mutate_g_set);
}
inline rc::Gen<core::LwwMap> gen_lww_map() {
  return gen_state<core::LwwMap>(mutate_lww_map);
}
inline rc::Gen<core::VectorClock> gen_vector_clock() {
  return gen_state<core::VectorClock>(mutate_vector_clock);
}

}  // namespace crdtsim::testing
