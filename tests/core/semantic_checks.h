#pragma once
// Semantic property checks: what each type means once every replica has
// merged every other, checked against a model of the history. Templates over
// the type, so that the deliberately broken variants in
// broken_lattices_test.cc run through the very same checks; each returns true
// only if the property held.

#include <rapidcheck.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/clock/hybrid_logical_clock.h"
#include "core/clock/lamport_clock.h"
#include "core/clock/lww_timestamp.h"
#include "core/clock/vector_clock.h"
#include "core/types.h"
#include "tests/core/lattice_generators.h"
#include "tests/core/lattice_laws.h"

namespace crdtsim::testing {

// Picks the replica of the next step and whether it is a merge (1 in 3).
struct HistoryStep {
  std::size_t target = 0;
  std::optional<std::size_t> merge_from;
};

inline HistoryStep draw_step(std::size_t replicas) {
  HistoryStep step;
  step.target = *rc::gen::inRange<std::size_t>(0, replicas);
  if (*rc::gen::inRange(0, 3) == 0) {
    step.merge_from = *rc::gen::inRange<std::size_t>(0, replicas);
  }
  return step;
}

// Joins every replica's state, in a random order (a correct lattice does
// not care; a merge-order-dependent one shows it).
template <class T>
T join_all_in_random_order(const std::vector<T>& states) {
  std::vector<std::size_t> order(states.size());
  for (std::size_t index = 0; index < order.size(); ++index) {
    order[index] = index;
  }
  // Fisher-Yates, drawing each swap from RapidCheck so that it shrinks.
  for (std::size_t index = order.size(); index > 1; --index) {
    std::swap(order[index - 1], order[*rc::gen::inRange<std::size_t>(0, index)]);
  }
  T joined = states[order.front()];
  for (std::size_t index = 1; index < order.size(); ++index) {
    joined.merge(states[order[index]]);
  }
  return joined;
}

// Every replica merges every other and its Lamport clock observes theirs, as
// after a complete round of gossip. Writes that follow tie on the Lamport time,
// which is where LWW tie-breaks get exercised.
template <class T>
void sync_all(std::vector<T>& states, std::vector<core::LamportClock>& clocks) {
  const T joined = join_all_in_random_order(states);
  std::uint64_t time_max = 0;
  for (const core::LamportClock& clock : clocks) {
    time_max = std::max(time_max, clock.value());
  }
  for (std::size_t index = 0; index < states.size(); ++index) {
    states[index] = joined;
    clocks[index] = core::LamportClock(time_max);
  }
}

inline std::size_t draw_replica_count() {
  return *rc::gen::inRange<std::size_t>(2, 5);
}

// G-counter: once all replicas merge, the value is the sum of all increments.
template <class Counter>
bool g_counter_sum_holds(const std::string& name) {
  return rc::check(name + " value is the sum of increments after all merge", [] {
    std::vector<Counter> states(draw_replica_count());
    std::uint64_t total = 0;
    const int steps = *rc::gen::inRange(0, kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      const HistoryStep step = draw_step(states.size());
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        continue;
      }
      const std::uint64_t amount = *rc::gen::inRange<std::uint64_t>(1, 6);
      static_cast<void>(states[step.target].increment(static_cast<ReplicaId>(step.target), amount));
      total += amount;
    }
    RC_ASSERT(join_all_in_random_order(states).value() == total);
  });
}

// PN-counter: once all replicas merge, the value is the sum of increments
// minus the sum of decrements.
template <class Counter>
bool pn_counter_sum_holds(const std::string& name) {
  return rc::check(name + " value is increments minus decrements after all merge", [] {
    std::vector<Counter> states(draw_replica_count());
    std::int64_t total = 0;
    const int steps = *rc::gen::inRange(0, kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      const HistoryStep step = draw_step(states.size());
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        continue;
      }
      const auto replica = static_cast<ReplicaId>(step.target);
      const std::int64_t amount = *rc::gen::inRange<std::int64_t>(1, 6);
      if (*rc::gen::arbitrary<bool>()) {
        static_cast<void>(
            states[step.target].increment(replica, static_cast<std::uint64_t>(amount)));
        total += amount;
      } else {
        static_cast<void>(
            states[step.target].decrement(replica, static_cast<std::uint64_t>(amount)));
        total -= amount;
      }
    }
    RC_ASSERT(join_all_in_random_order(states).value() == total);
  });
}

// G-set: once all replicas merge, the set holds every element any replica
// added.
template <class Set>
bool g_set_holds_every_add(const std::string& name) {
  return rc::check(name + " holds every added element after all merge", [] {
    std::vector<Set> states(draw_replica_count());
    std::set<std::string> added;
    const int steps = *rc::gen::inRange(0, kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      const HistoryStep step = draw_step(states.size());
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        continue;
      }
      std::string element = draw_element();
      added.insert(element);
      static_cast<void>(states[step.target].add(std::move(element)));
    }
    const Set joined = join_all_in_random_order(states);
    RC_ASSERT(joined.size() == added.size());
    for (const std::string& element : added) {
      RC_ASSERT(joined.contains(element));
    }
  });
}

// LWW register: replicas stamp writes with Lamport clocks (observing the
// clock of every state they merge, as message receipt would); once all merge,
// the register holds the write with the greatest (clock, replica).
template <class Register>
bool lww_greatest_write_wins(const std::string& name) {
  return rc::check(name + " keeps the greatest (clock, replica) write", [] {
    const std::size_t replicas = draw_replica_count();
    std::vector<Register> states(replicas);
    std::vector<core::LamportClock> clocks(replicas);
    std::optional<std::pair<core::LwwTimestamp, std::string>> greatest;
    const auto holds_greatest = [&greatest](const Register& joined) {
      if (greatest.has_value()) {
        RC_ASSERT(joined.value() == std::optional<std::string_view>(greatest->second));
      } else {
        RC_ASSERT(!joined.value().has_value());
      }
    };
    const int steps = *rc::gen::inRange(0, 2 * kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      if (*rc::gen::inRange(0, 6) == 0) {
        sync_all(states, clocks);
        holds_greatest(states.front());
        continue;
      }
      const HistoryStep step = draw_step(replicas);
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        clocks[step.target].observe(clocks[*step.merge_from].value());
        continue;
      }
      const auto timestamp = core::LwwTimestamp::from_lamport(clocks[step.target].tick(),
                                                              static_cast<ReplicaId>(step.target));
      std::string value = std::to_string(index);  // unique: a wrong winner shows
      static_cast<void>(states[step.target].write(value, timestamp));
      if (!greatest.has_value() || greatest->first < timestamp) {
        greatest.emplace(timestamp, std::move(value));
      }
    }
    holds_greatest(join_all_in_random_order(states));
  });
}

// MV-register: every write writes a unique value and we record which writes
// its replica had seen; once all merge, the values are exactly the writes no
// other write had seen (the maxima of happened-before).
template <class Register>
bool mv_register_keeps_concurrent_maxima(const std::string& name) {
  return rc::check(name + " keeps exactly the concurrent maxima", [] {
    const std::size_t replicas = draw_replica_count();
    std::vector<Register> states(replicas);
    std::vector<std::set<int>> seen(replicas);  // writes in each replica's past
    std::set<int> superseded;                   // writes some later write had seen
    int writes = 0;
    const int steps = *rc::gen::inRange(0, kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      const HistoryStep step = draw_step(replicas);
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        seen[step.target].insert(seen[*step.merge_from].begin(), seen[*step.merge_from].end());
        continue;
      }
      const int write = writes++;
      superseded.insert(seen[step.target].begin(), seen[step.target].end());
      seen[step.target].insert(write);
      static_cast<void>(
          states[step.target].write(static_cast<ReplicaId>(step.target), std::to_string(write)));
    }
    std::vector<std::string> maxima;
    for (int write = 0; write < writes; ++write) {
      if (!superseded.contains(write)) {
        maxima.push_back(std::to_string(write));
      }
    }
    std::sort(maxima.begin(), maxima.end());
    RC_ASSERT(join_all_in_random_order(states).values() == maxima);
  });
}

// LWW map: once all merge, each field holds its greatest write; a removal
// (tombstone) hides every older or concurrent-and-smaller set.
template <class Map>
bool lww_map_greatest_write_per_field(const std::string& name) {
  return rc::check(name + " holds each field's greatest write", [] {
    const std::size_t replicas = draw_replica_count();
    std::vector<Map> states(replicas);
    std::vector<core::LamportClock> clocks(replicas);
    std::map<std::string, std::pair<core::LwwTimestamp, std::optional<std::string>>> greatest;
    const auto holds_greatest_per_field = [&greatest](const Map& joined) {
      for (const std::string field : {"f", "g"}) {
        const auto found = greatest.find(field);
        const std::optional<std::string> expected =
            found == greatest.end() ? std::nullopt : found->second.second;
        const auto actual = joined.get(field);
        RC_ASSERT(actual.has_value() == expected.has_value());
        if (expected.has_value()) {
          RC_ASSERT(*actual == *expected);
        }
      }
    };
    const int steps = *rc::gen::inRange(0, 2 * kHistoryStepsMax + 1);
    for (int index = 0; index < steps; ++index) {
      if (*rc::gen::inRange(0, 6) == 0) {
        sync_all(states, clocks);
        holds_greatest_per_field(states.front());
        continue;
      }
      const HistoryStep step = draw_step(replicas);
      if (step.merge_from.has_value()) {
        states[step.target].merge(states[*step.merge_from]);
        clocks[step.target].observe(clocks[*step.merge_from].value());
        continue;
      }
      const auto timestamp = core::LwwTimestamp::from_lamport(clocks[step.target].tick(),
                                                              static_cast<ReplicaId>(step.target));
      const std::string field = *rc::gen::element<std::string>("f", "g");
      std::optional<std::string> value;
      if (*rc::gen::inRange(0, 3) == 0) {
        static_cast<void>(states[step.target].remove_field(field, timestamp));
      } else {
        value = std::to_string(index);
        static_cast<void>(states[step.target].set_field(field, *value, timestamp));
      }
      const auto found = greatest.find(field);
      if (found == greatest.end() || found->second.first < timestamp) {
        greatest[field] = {timestamp, value};
      }
    }
    holds_greatest_per_field(join_all_in_random_order(states));
  });
}

// Vector clocks: compare() is the partial order whose join is merge():
// equal iff same, before iff a join b == b (a != b), after symmetrically,
// mirrored when swapped, and a <= a join b.
template <class Clock>
bool vector_clock_order_matches_merge(const rc::Gen<Clock>& clocks, const std::string& name) {
  return rc::check(name + " compare is the partial order of merge", [&] {
    const Clock a = *clocks;
    Clock b = *clocks;
    // Make ordered pairs common: b extends a half of the time.
    if (*rc::gen::arbitrary<bool>()) {
      b.merge(a);
    }
    const Clock joined = merged(a, b);
    const core::ClockOrder order = a.compare(b);
    RC_ASSERT((order == core::ClockOrder::equal) == (a == b));
    RC_ASSERT((order == core::ClockOrder::before) == (a != b && joined == b));
    RC_ASSERT((order == core::ClockOrder::after) == (a != b && joined == a));
    const core::ClockOrder mirrored = b.compare(a);
    RC_ASSERT((order == core::ClockOrder::before) == (mirrored == core::ClockOrder::after));
    RC_ASSERT((order == core::ClockOrder::concurrent) ==
              (mirrored == core::ClockOrder::concurrent));
    const core::ClockOrder to_joined = a.compare(joined);
    RC_ASSERT(to_joined == core::ClockOrder::before || to_joined == core::ClockOrder::equal);
  });
}

// Lamport clocks: tick exceeds every earlier value, observe exceeds both the
// earlier values and the remote one.
template <class Clock>
bool lamport_clock_monotonic(const std::string& name) {
  return rc::check(name + " ticks and observes are strictly increasing", [] {
    Clock clock;
    std::uint64_t last = clock.value();
    const int events = *rc::gen::inRange(1, 20);
    for (int index = 0; index < events; ++index) {
      if (*rc::gen::arbitrary<bool>()) {
        const std::uint64_t remote = *rc::gen::inRange<std::uint64_t>(0, 30);
        const std::uint64_t next = clock.observe(remote);
        RC_ASSERT(next > remote);
        RC_ASSERT(next > last);
        last = next;
      } else {
        const std::uint64_t next = clock.tick();
        RC_ASSERT(next > last);
        last = next;
      }
      RC_ASSERT(clock.value() == last);
    }
  });
}

// Hybrid logical clocks: under physical readings that mostly advance but
// sometimes jump back, and remote timestamps up to twice the maximum offset
// ahead, every timestamp returned is greater than the one before, at least
// the physical reading, and at most the largest reading plus the maximum
// offset; a rejected remote leaves the clock unchanged; an accepted one is
// exceeded.
template <class Clock>
bool hlc_monotonic_and_bounded(core::HlcOffsetPolicy policy, const std::string& name) {
  return rc::check(name + " is monotonic and within the maximum offset", [policy] {
    core::HlcOptions options;
    options.max_offset_us = *rc::gen::element<std::uint64_t>(0, 10, 1000);
    options.offset_policy = policy;
    Clock clock(options);
    std::uint64_t reading_us = *rc::gen::inRange<std::uint64_t>(0, 5000);
    std::uint64_t reading_us_max = reading_us;
    core::HlcTimestamp last = clock.current();
    const int events = *rc::gen::inRange(1, 30);
    for (int index = 0; index < events; ++index) {
      const std::uint64_t step_us = *rc::gen::inRange<std::uint64_t>(0, 50);
      reading_us = *rc::gen::inRange(0, 5) == 0 && reading_us >= step_us ? reading_us - step_us
                                                                         : reading_us + step_us;
      reading_us_max = std::max(reading_us_max, reading_us);
      core::HlcTimestamp next;
      if (*rc::gen::arbitrary<bool>()) {
        next = clock.now(reading_us);
      } else {
        const core::HlcTimestamp remote{
            reading_us + *rc::gen::inRange<std::uint64_t>(0, 2 * options.max_offset_us + 20),
            *rc::gen::inRange<std::uint32_t>(0, 3)};
        const core::HlcObservation observation = clock.observe(remote, reading_us);
        if (observation.status == core::HlcObserveStatus::rejected) {
          RC_ASSERT(policy == core::HlcOffsetPolicy::reject);
          RC_ASSERT(observation.timestamp == last);
          RC_ASSERT(clock.current() == last);
          continue;
        }
        if (observation.status == core::HlcObserveStatus::accepted) {
          RC_ASSERT(observation.timestamp > remote);
        }
        next = observation.timestamp;
      }
      RC_ASSERT(next > last);
      RC_ASSERT(next.physical_us >= reading_us);
      RC_ASSERT(next.physical_us <= reading_us_max + options.max_offset_us);
      RC_ASSERT(clock.current() == next);
      last = next;
    }
  });
}

}  // namespace crdtsim::testing
