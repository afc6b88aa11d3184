// KeyIndex against an ordered map: random inserts and erases (through the
// table's growth), every key found or not as the map says.
#include "core/store/key_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crdtsim::core {
namespace {

// Stable keys and values: the index views and points into them.
struct Owned {
  std::map<std::string, std::unique_ptr<int>> entries;
  KeyIndex<int> index;

  void insert(const std::string& key, int value) {
    auto [at, inserted] = entries.emplace(key, std::make_unique<int>(value));
    ASSERT_TRUE(inserted);
    index.insert(at->first, at->second.get());
  }
  void erase(const std::string& key) {
    const auto at = entries.find(key);
    ASSERT_NE(at, entries.end());
    EXPECT_TRUE(index.erase(at->first));
    entries.erase(at);
  }
  // Every key the map holds, and none of `absent`, found in the index.
  void expect_consistent(const std::vector<std::string>& absent) const {
    EXPECT_EQ(index.size(), entries.size());
    for (const auto& [key, value] : entries) {
      EXPECT_EQ(index.find(key), value.get()) << key;
    }
    for (const std::string& key : absent) {
      EXPECT_EQ(index.find(key), nullptr) << key;
    }
  }
};

// Keys like the workload's, plus lengths around the hash's 8 and 16 byte
// cases.
std::string key_of(std::uint64_t number) {
  static const char* const kPrefixes[] = {"register:",  "set:", "",
                                          "g_counter:", "a",    "long_prefix_of_many_bytes:"};
  return kPrefixes[number % 6] + std::to_string(number / 6);
}

TEST(KeyIndex, EmptyFindsNothing) {
  const KeyIndex<int> index;
  EXPECT_EQ(index.find("k"), nullptr);
  EXPECT_EQ(index.find(""), nullptr);
  EXPECT_EQ(index.size(), 0U);
}

TEST(KeyIndex, EqualityComparesEveryByte) {
  // Every length the word loads cover, differing at each position.
  for (std::size_t size = 0; size <= 24; ++size) {
    const std::string key(size, 'a');
    EXPECT_TRUE(key_index_equal(key, std::string(size, 'a')));
    EXPECT_FALSE(key_index_equal(key, std::string(size + 1, 'a')));
    for (std::size_t at = 0; at < size; ++at) {
      std::string other = key;
      other[at] = 'b';
      EXPECT_FALSE(key_index_equal(key, other)) << size << " " << at;
    }
  }
}

// Where two keys' order words differ, they order the keys as bytewise
// comparison does; where they agree, the keys agree on those bytes.
TEST(KeyOrderWord, OrdersKeysAsBytewiseComparison) {
  std::vector<std::string> keys = {"",
                                   "a",
                                   std::string(1, '\0'),
                                   std::string("a\0", 2),
                                   "register:1",
                                   "register:10",
                                   "register:9",
                                   "set:1",
                                   "g_set:12345678901",
                                   "\xff\x80",
                                   "long_prefix_of_many_bytes:1",
                                   "long_prefix_of_many_bytes:2",
                                   "abcdefgh",
                                   "abcdefghi"};
  for (std::uint64_t number = 0; number < 300; ++number) {
    keys.push_back(key_of(number * 7919));
  }
  for (const std::string& left : keys) {
    for (const std::string& right : keys) {
      const int bytewise = std::string_view(left).compare(right);
      for (const std::size_t from : {std::size_t{0}, std::size_t{8}, std::size_t{16}}) {
        const std::uint64_t a = key_order_word(left, from);
        const std::uint64_t b = key_order_word(right, from);
        if (a != b) {
          EXPECT_EQ(a < b, bytewise < 0) << left << " / " << right << " at " << from;
          break;
        }
        // Equal words: equal bytes there (zero past a key's end).
        for (std::size_t at = from; at < from + 8; ++at) {
          const char x = at < left.size() ? left[at] : '\0';
          const char y = at < right.size() ? right[at] : '\0';
          ASSERT_EQ(x, y) << left << " / " << right << " at " << at;
        }
      }
    }
  }
}

// KeyRank compares every pair of keys exactly as bytewise comparison does
// (long keys, shared prefixes, trailing zero bytes).
TEST(KeyRank, ComparesAsBytewiseComparison) {
  std::vector<std::string> keys = {"",
                                   std::string(1, '\0'),
                                   std::string("a\0", 2),
                                   "a",
                                   "abcdefghijklmnop",
                                   std::string("abcdefghijklmnop\0", 17),
                                   "abcdefghijklmnopq",
                                   "abcdefghijklmnopr",
                                   "long_prefix_of_many_bytes:1",
                                   "long_prefix_of_many_bytes:10",
                                   "\xff"};
  for (std::uint64_t number = 0; number < 200; ++number) {
    keys.push_back(key_of(number * 104729));
  }
  const auto sign = [](int value) { return (value > 0) - (value < 0); };
  for (const std::string& left : keys) {
    for (const std::string& right : keys) {
      EXPECT_EQ(sign(compare(KeyRank::of(left), KeyRank::of(right))),
                sign(std::string_view(left).compare(right)))
          << left << " / " << right;
    }
  }
}

TEST(KeyIndex, InsertFindErase) {
  Owned owned;
  owned.insert("register:1", 1);
  owned.insert("", 2);  // the empty key is a key
  owned.insert("register:10", 3);
  owned.expect_consistent({"register:2", "register:", "x"});
  owned.erase("");
  owned.expect_consistent({"", "register:2"});
  KeyIndex<int> empty;
  EXPECT_FALSE(empty.erase("register:1"));
  EXPECT_FALSE(owned.index.erase("register:2"));
}

TEST(KeyIndex, MatchesAnOrderedMapThroughRandomInsertsAndErases) {
  for (const std::uint64_t universe : {8U, 24U, 200U, 3000U}) {
    Owned owned;
    std::uint64_t state = 0x243F6A8885A308D3ULL + universe;
    const auto draw = [&state](std::uint64_t bound) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return (state >> 33) % bound;
    };
    for (int step = 0; step < 20000; ++step) {
      const std::string key = key_of(draw(universe));
      if (owned.entries.contains(key)) {
        owned.erase(key);
      } else {
        owned.insert(key, step);
      }
      if (step % 997 == 0) {
        owned.expect_consistent({key_of(universe), key_of(universe + 1)});
      }
    }
    owned.expect_consistent({});
    // Emptied in key order, the runs closing behind every erase.
    while (!owned.entries.empty()) {
      owned.erase(owned.entries.begin()->first);
      if (owned.entries.size() % 7 == 0) {
        owned.expect_consistent({});
      }
    }
    EXPECT_EQ(owned.index.size(), 0U);
  }
}

TEST(KeyIndex, AMoveLeavesTheSourceEmpty) {
  Owned owned;
  owned.insert("register:1", 1);
  owned.insert("register:2", 2);
  KeyIndex<int> moved = std::move(owned.index);
  EXPECT_EQ(moved.size(), 2U);
  EXPECT_EQ(moved.find("register:2"), owned.entries.at("register:2").get());
  EXPECT_EQ(owned.index.size(), 0U);  // NOLINT(bugprone-use-after-move): specified empty
  EXPECT_EQ(owned.index.find("register:2"), nullptr);
  owned.index = std::move(moved);
  owned.expect_consistent({"register:3"});
}

TEST(KeyIndex, ClearAndReserve) {
  Owned owned;
  owned.index.reserve(100);
  for (int number = 0; number < 100; ++number) {
    owned.insert(key_of(static_cast<std::uint64_t>(number)), number);
  }
  owned.expect_consistent({key_of(100)});
  owned.index.clear();
  EXPECT_EQ(owned.index.size(), 0U);
  EXPECT_EQ(owned.index.find(key_of(5)), nullptr);
  owned.entries.clear();
  owned.insert("k", 1);
  owned.expect_consistent({key_of(5)});
}

}  // namespace
}  // namespace crdtsim::core
