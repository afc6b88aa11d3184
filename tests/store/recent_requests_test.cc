// RecentRequests: a request runs at most once while remembered, a duplicate
// gets the reply sent, and the oldest entries are evicted first.
#include "core/replica/recent_requests.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/codec/bytes.h"

namespace crdtsim::core {
namespace {

using Seen = RecentRequests::Seen;

TEST(RecentRequests, NewThenInProgressThenAnswered) {
  RecentRequests recent;
  const Bytes* reply = nullptr;
  EXPECT_EQ(recent.admit(1, 7, &reply), Seen::new_request);
  EXPECT_EQ(recent.admit(1, 7, &reply), Seen::in_progress) << "admitting again is a duplicate";
  EXPECT_EQ(reply, nullptr);
  recent.answer(1, 7, Bytes{4, 5, 6});
  ASSERT_EQ(recent.admit(1, 7, &reply), Seen::answered);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(*reply, (Bytes{4, 5, 6}));
  EXPECT_EQ(recent.size(), 1u);
}

TEST(RecentRequests, SourcesAreKeptApart) {
  RecentRequests recent;
  const Bytes* reply = nullptr;
  EXPECT_EQ(recent.admit(1, 7, &reply), Seen::new_request);
  EXPECT_EQ(recent.admit(2, 7, &reply), Seen::new_request) << "same id, another source";
  recent.answer(2, 7, Bytes{9});
  EXPECT_EQ(recent.admit(1, 7, &reply), Seen::in_progress);
  EXPECT_EQ(recent.admit(2, 7, &reply), Seen::answered);
}

TEST(RecentRequests, AnswerOfAnUnknownRequestIsIgnored) {
  RecentRequests recent;
  recent.answer(3, 1, Bytes{1});
  EXPECT_EQ(recent.size(), 0u);
  const Bytes* reply = nullptr;
  EXPECT_EQ(recent.admit(3, 1, &reply), Seen::new_request);
}

TEST(RecentRequests, EvictsTheOldestBeyondTheBound) {
  RecentRequests recent;
  const Bytes* reply = nullptr;
  for (std::uint64_t id = 0; id < RecentRequests::kEntriesMax; ++id) {
    ASSERT_EQ(recent.admit(1, id, &reply), Seen::new_request);
  }
  recent.answer(1, 0, Bytes{1});
  EXPECT_EQ(recent.size(), RecentRequests::kEntriesMax);
  // One more evicts the oldest (id 0), however it was answered.
  EXPECT_EQ(recent.admit(2, 0, &reply), Seen::new_request);
  EXPECT_EQ(recent.size(), RecentRequests::kEntriesMax);
  EXPECT_EQ(recent.admit(1, 1, &reply), Seen::in_progress) << "the next oldest stays";
  EXPECT_EQ(recent.admit(1, 0, &reply), Seen::new_request) << "forgotten: runs again";
  EXPECT_EQ(recent.size(), RecentRequests::kEntriesMax);
}

}  // namespace
}  // namespace crdtsim::core
