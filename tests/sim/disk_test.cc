#include "sim/disk.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace crdtsim::sim {
namespace {

Bytes bytes_of(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

TEST(Disk, ReadsSeeUnsyncedWrites) {
  Disk disk;
  EXPECT_TRUE(disk.write("k", bytes_of("v")));
  ASSERT_NE(disk.read("k"), nullptr);
  EXPECT_EQ(*disk.read("k"), bytes_of("v"));
  EXPECT_EQ(disk.unsynced_keys(), 1U);
}

TEST(Disk, CountsEachUnsyncedKeyOnceHoweverOftenWritten) {
  Disk disk;
  for (int round = 0; round < 100; ++round) {
    for (int key = 0; key < 30; ++key) {
      disk.write("key-" + std::to_string(key), bytes_of(std::to_string(round)));
    }
    disk.remove("key-29");
  }
  EXPECT_EQ(disk.unsynced_keys(), 30U);
  EXPECT_EQ(disk.sync(), 30U);
  EXPECT_EQ(disk.unsynced_keys(), 0U);
  disk.write("key-0", bytes_of("x"));
  disk.write("key-0", bytes_of("y"));
  EXPECT_EQ(disk.crash(), 1U);
  EXPECT_EQ(*disk.read("key-0"), bytes_of("99"));
}

// A write with the key's digest (as the simulation passes it) and one
// without name the same record, across the table's growth.
TEST(Disk, HashedAndPlainKeysNameTheSameRecord) {
  Disk disk;
  for (int key = 0; key < 200; ++key) {
    const std::string name = "key-" + std::to_string(key);
    if (key % 2 == 0) {
      EXPECT_TRUE(disk.write(HashedKey{name, fnv1a64(name)}, bytes_of("hashed")));
    } else {
      EXPECT_TRUE(disk.write(name, bytes_of("plain")));
    }
  }
  for (int key = 0; key < 200; ++key) {
    const std::string name = "key-" + std::to_string(key);
    ASSERT_NE(disk.read(name), nullptr) << name;
    EXPECT_EQ(*disk.read(name), bytes_of(key % 2 == 0 ? "hashed" : "plain"));
    EXPECT_TRUE(disk.write_owned(HashedKey{name, fnv1a64(name)}, bytes_of("again")));
  }
  EXPECT_EQ(disk.contents().size(), 200U);
  EXPECT_TRUE(disk.remove(HashedKey{"key-3", fnv1a64("key-3")}));
  EXPECT_EQ(disk.read("key-3"), nullptr);
  EXPECT_EQ(*disk.read("key-4"), bytes_of("again"));
}

TEST(Disk, CrashKeepsSyncedAndLosesUnsynced) {
  Disk disk;
  disk.write("synced", bytes_of("1"));
  disk.write("overwritten", bytes_of("old"));
  EXPECT_EQ(disk.sync(), 2U);
  disk.write("unsynced", bytes_of("2"));
  disk.write("overwritten", bytes_of("new"));
  disk.remove("synced");
  EXPECT_EQ(disk.crash(), 3U);
  ASSERT_NE(disk.read("synced"), nullptr);
  EXPECT_EQ(*disk.read("synced"), bytes_of("1"));
  EXPECT_EQ(*disk.read("overwritten"), bytes_of("old"));
  EXPECT_EQ(disk.read("unsynced"), nullptr);
  EXPECT_EQ(disk.unsynced_keys(), 0U);
}

TEST(Disk, SyncedRemoveSurvivesCrash) {
  Disk disk;
  disk.write("k", bytes_of("v"));
  disk.sync();
  disk.remove("k");
  disk.sync();
  disk.crash();
  EXPECT_EQ(disk.read("k"), nullptr);
}

TEST(Disk, CrashUndoesEveryChangeSinceTheSync) {
  Disk disk;
  disk.write("a", bytes_of("a1"));
  disk.write("b", bytes_of("b1"));
  disk.sync();
  // Write, remove, re-create and create-then-remove, each key more than once.
  disk.write("a", bytes_of("a2"));
  disk.remove("a");
  disk.write("a", bytes_of("a3"));
  disk.remove("b");
  disk.write("c", bytes_of("c1"));
  disk.remove("c");
  disk.write("d", bytes_of("d1"));
  EXPECT_EQ(disk.unsynced_keys(), 4U);
  EXPECT_EQ(disk.contents().size(), 2U);  // a, d
  EXPECT_EQ(disk.crash(), 4U);
  const Disk::Contents expected{{"a", bytes_of("a1")}, {"b", bytes_of("b1")}};
  EXPECT_EQ(disk.contents(), expected);
  // A removed key's record is gone after the sync: the limit counts keys.
  Disk small(DiskLimits{1, 4});
  EXPECT_TRUE(small.write("x", bytes_of("1")));
  EXPECT_TRUE(small.remove("x"));
  EXPECT_EQ(small.sync(), 1U);
  EXPECT_TRUE(small.write("y", bytes_of("1")));
  EXPECT_FALSE(small.write("z", bytes_of("1")));
}

TEST(Disk, WriteOwnedStoresTheSameAsWrite) {
  Disk disk;
  disk.write("k", bytes_of("old"));
  disk.sync();
  Bytes value = bytes_of("new");
  EXPECT_TRUE(disk.write_owned("k", std::move(value)));
  EXPECT_EQ(*disk.read("k"), bytes_of("new"));
  EXPECT_FALSE(Disk(DiskLimits{1, 2}).write_owned("k", bytes_of("big")));
  EXPECT_EQ(disk.crash(), 1U);
  EXPECT_EQ(*disk.read("k"), bytes_of("old"));
}

TEST(Disk, EnforcesItsLimits) {
  Disk disk(DiskLimits{2, 4});
  EXPECT_FALSE(disk.write("big", bytes_of("12345")));
  EXPECT_TRUE(disk.write("a", bytes_of("1")));
  EXPECT_TRUE(disk.write("b", bytes_of("1")));
  EXPECT_FALSE(disk.write("c", bytes_of("1")));
  EXPECT_TRUE(disk.write("a", bytes_of("2")));  // overwriting needs no new key
}

TEST(Disk, IteratesInKeyOrder) {
  Disk disk;
  disk.write("b", {});
  disk.write("a", {});
  disk.write("c", {});
  std::string keys;
  for (const auto& [key, value] : disk.contents()) {
    keys += key;
  }
  EXPECT_EQ(keys, "abc");
}

}  // namespace
}  // namespace crdtsim::sim
