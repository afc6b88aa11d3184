#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "sim/prng.h"

namespace crdtsim::sim {
namespace {

TEST(EventQueue, OrdersByTimeThenBySchedulingOrder) {
  EventQueue queue(16);
  queue.push(30, EventKind::deliver, 0);
  queue.push(10, EventKind::deliver, 1);
  queue.push(30, EventKind::timer, 2);
  queue.push(10, EventKind::timer, 3);
  queue.push(20, EventKind::action, 4);
  std::vector<std::uint32_t> order;
  while (!queue.empty()) {
    order.push_back(queue.pop().index);
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 3, 4, 0, 2}));
}

// Queued entries as (time, sequence, index): the smallest pops first.
using Reference = std::vector<std::tuple<TimeUs, std::uint64_t, std::uint32_t>>;

// Pops one entry, checks it is the reference's smallest, and advances `now`.
void pop_smallest(EventQueue& queue, Reference& reference, TimeUs& now) {
  const auto smallest = std::min_element(reference.begin(), reference.end());
  const QueueEntry entry = queue.pop();
  ASSERT_EQ(entry.time_us, std::get<0>(*smallest));
  ASSERT_EQ(entry.sequence, std::get<1>(*smallest));
  ASSERT_EQ(entry.index, std::get<2>(*smallest));
  now = entry.time_us;
  reference.erase(smallest);
}

TEST(EventQueue, MatchesASortedReferenceUnderRandomPushesAndPops) {
  EventQueue queue(100'000);
  std::vector<std::tuple<TimeUs, std::uint64_t, std::uint32_t>> reference;
  Prng random(1);
  TimeUs now = 0;
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    if (random.chance_ppm(600'000) || reference.empty()) {
      const TimeUs time = now + random.range(0, 100);
      const std::uint64_t sequence = queue.push(time, EventKind::deliver, i);
      reference.emplace_back(time, sequence, i);
      continue;
    }
    ASSERT_NO_FATAL_FAILURE(pop_smallest(queue, reference, now));
  }
  EXPECT_EQ(queue.size(), reference.size());
}

// The simulation may peek at the earliest entry, leave it queued (run_until
// stops before it) and then schedule something earlier: the queue must
// still pop in (time, sequence) order. Few distinct times, so that many
// entries tie.
TEST(EventQueue, KeepsOrderWhenPushedBeforeAPeekedEntry) {
  EventQueue queue(100'000);
  std::vector<std::tuple<TimeUs, std::uint64_t, std::uint32_t>> reference;
  Prng random(7);
  TimeUs now = 0;
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    if (!queue.empty() && random.chance_ppm(300'000)) {
      // Peek, then schedule between now and the peeked time.
      const TimeUs peeked = queue.top().time_us;
      const TimeUs time = now + random.range(0, peeked - now);
      reference.emplace_back(time, queue.push(time, EventKind::timer, i), i);
      continue;
    }
    if (random.chance_ppm(550'000) || reference.empty()) {
      const TimeUs time = now + random.range(0, 3) * random.range(0, 1'000);
      reference.emplace_back(time, queue.push(time, EventKind::deliver, i), i);
      continue;
    }
    ASSERT_NO_FATAL_FAILURE(pop_smallest(queue, reference, now));
  }
  EXPECT_EQ(queue.size(), reference.size());
  while (!queue.empty()) {
    const auto smallest = std::min_element(reference.begin(), reference.end());
    ASSERT_EQ(queue.pop().sequence, std::get<1>(*smallest));
    reference.erase(smallest);
  }
}

// Timers far ahead and messages a little ahead, as in a run: far entries
// fill large buckets (split before they become the run), near ones land
// before the latest run entry (inserted into the run), and many share a
// time (more than a run sorts at once).
TEST(EventQueue, MatchesASortedReferenceWithNearAndFarEntries) {
  EventQueue queue(100'000);
  Reference reference;
  Prng random(3);
  TimeUs now = 0;
  for (std::uint32_t i = 0; i < 40'000; ++i) {
    if (random.chance_ppm(550'000) || reference.empty()) {
      TimeUs delay = random.range(100, 1'000);
      if (random.chance_ppm(300'000)) {
        delay = random.range(0, 4) * 20'000;  // timers: a few distinct times
      } else if (random.chance_ppm(100'000)) {
        delay = random.range(0, 2'000'000);
      }
      reference.emplace_back(now + delay, queue.push(now + delay, EventKind::timer, i), i);
      continue;
    }
    ASSERT_NO_FATAL_FAILURE(pop_smallest(queue, reference, now));
  }
  while (!reference.empty()) {
    ASSERT_NO_FATAL_FAILURE(pop_smallest(queue, reference, now));
  }
  EXPECT_TRUE(queue.empty());
}

TEST(EventQueue, KnowsWhenItIsFull) {
  EventQueue queue(2);
  queue.push(1, EventKind::start, 0);
  EXPECT_FALSE(queue.full());
  queue.push(1, EventKind::start, 1);
  EXPECT_TRUE(queue.full());
  (void)queue.pop();
  EXPECT_FALSE(queue.full());
}

}  // namespace
}  // namespace crdtsim::sim
