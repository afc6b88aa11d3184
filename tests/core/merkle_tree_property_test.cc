#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/codec/hash.h"
#include "core/replication/hash_ring.h"
#include "core/replication/merkle_tree.h"

namespace crdtsim::core {
namespace {

struct Op {
  bool erase = false;
  int key = 0;
  std::uint64_t digest = 0;
};

std::string key_name(int index) {
  std::string name = "k";  // not "k" + ...: g++ 12 -O3 raises a false -Wrestrict
  name += std::to_string(index);
  return name;
}

// Brute-force reference: the summary of a prefix straight from a model map.
MerkleTree::Summary model_summary(const std::map<std::string, std::uint64_t>& model,
                                  const TokenPrefix& prefix) {
  MerkleTree::Summary result;
  for (const auto& [key, digest] : model) {
    if (prefix.contains(HashRing::key_token(key))) {
      result.hash += digest;
      result.count += 1;
    }
  }
  return result;
}

rc::Gen<std::vector<Op>> ops_gen() {
  return rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::erase, rc::gen::weightedElement<bool>({{1, true}, {3, false}})),
      rc::gen::set(&Op::key, rc::gen::inRange(0, 200)),
      rc::gen::set(&Op::digest, rc::gen::arbitrary<std::uint64_t>())));
}

RC_GTEST_PROP(MerkleTree, SummariesMatchBruteForceModel, ()) {
  const auto ops = *ops_gen();
  MerkleTree tree;
  std::map<std::string, std::uint64_t> model;
  for (const Op& op : ops) {
    if (op.erase) {
      tree.erase(key_name(op.key));
      model.erase(key_name(op.key));
    } else {
      tree.upsert(key_name(op.key), op.digest);
      model[key_name(op.key)] = op.digest;
    }
  }
  RC_ASSERT(tree.size() == model.size());
  // Every prefix down to depth 6 agrees with the model.
  std::vector<TokenPrefix> frontier{TokenPrefix{}};
  for (int depth = 0; depth <= 6; ++depth) {
    std::vector<TokenPrefix> next;
    for (const TokenPrefix& prefix : frontier) {
      RC_ASSERT(tree.summary(prefix) == model_summary(model, prefix));
      std::vector<MerkleTree::Entry> listed;
      tree.list(prefix, listed);
      RC_ASSERT(listed.size() == model_summary(model, prefix).count);
      next.push_back(prefix.child(0));
      next.push_back(prefix.child(1));
    }
    frontier = std::move(next);
  }
  for (const auto& [key, digest] : model) {
    RC_ASSERT(tree.contains(key));
  }
}

RC_GTEST_PROP(MerkleTree, SameContentsSameHashesWhateverTheHistory, ()) {
  const auto ops = *ops_gen();
  MerkleTree tree;
  std::map<std::string, std::uint64_t> model;
  for (const Op& op : ops) {
    if (op.erase) {
      tree.erase(key_name(op.key));
      model.erase(key_name(op.key));
    } else {
      tree.upsert(key_name(op.key), op.digest);
      model[key_name(op.key)] = op.digest;
    }
  }
  MerkleTree rebuilt;
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    rebuilt.upsert(it->first, it->second);
  }
  RC_ASSERT(tree.root() == rebuilt.root());
  for (unsigned bit = 0; bit < 2; ++bit) {
    const TokenPrefix child = TokenPrefix{}.child(bit);
    RC_ASSERT(tree.summary(child) == rebuilt.summary(child));
  }
}

TEST(MerkleTree, DepthGrowsWithKeysAndMemoryTracksLiveKeys) {
  MerkleTree tree;
  constexpr int kKeys = 10'000;
  for (int index = 0; index < kKeys; ++index) {
    tree.upsert(key_name(index), hash64(key_name(index)));
  }
  EXPECT_EQ(tree.size(), static_cast<std::uint64_t>(kKeys));
  // Leaves hold at most kLeafKeysMax keys: at least N / kLeafKeysMax leaves.
  EXPECT_GT(tree.node_count(), static_cast<std::size_t>(kKeys / MerkleTree::kLeafKeysMax));
  EXPECT_LT(tree.node_count(), static_cast<std::size_t>(kKeys));
  for (int index = 0; index < kKeys; ++index) {
    tree.erase(key_name(index));
  }
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.root().hash, 0u);
  EXPECT_EQ(tree.node_count(), 1u);
}

TEST(MerkleTree, UpdatesGivenTheKeysTokenMatchTheOnesThatHashIt) {
  MerkleTree hashed;
  MerkleTree given;
  for (int index = 0; index < 500; ++index) {
    const std::string key = key_name(index % 300);
    const auto digest = static_cast<std::uint64_t>(index) * 7919u;
    if (index % 5 == 4) {
      hashed.erase(key);
      given.erase(key, HashRing::key_token(key));
    } else {
      hashed.upsert(key, digest);
      given.upsert(key, HashRing::key_token(key), digest);
    }
  }
  EXPECT_EQ(hashed.root(), given.root());
  std::vector<MerkleTree::Entry> hashed_entries;
  std::vector<MerkleTree::Entry> given_entries;
  hashed.list(TokenPrefix{}, hashed_entries);
  given.list(TokenPrefix{}, given_entries);
  ASSERT_EQ(hashed_entries.size(), given_entries.size());
  for (std::size_t index = 0; index < hashed_entries.size(); ++index) {
    EXPECT_EQ(hashed_entries[index].key, given_entries[index].key);
    EXPECT_EQ(hashed_entries[index].token, given_entries[index].token);
    EXPECT_EQ(hashed_entries[index].digest, given_entries[index].digest);
  }
  // A token that is not the key's would file the key under the wrong leaf.
  EXPECT_DEBUG_DEATH(given.upsert("a", HashRing::key_token("b"), 1), "key_token");
  EXPECT_DEBUG_DEATH(given.erase("a", HashRing::key_token("b")), "key_token");
}

TEST(MerkleTree, OneChangedDigestChangesExactlyOnePathOfSummaries) {
  MerkleTree left;
  MerkleTree right;
  for (int index = 0; index < 1000; ++index) {
    left.upsert(key_name(index), static_cast<std::uint64_t>(index) * 7919u);
    right.upsert(key_name(index), static_cast<std::uint64_t>(index) * 7919u);
  }
  EXPECT_EQ(left.root(), right.root());
  right.upsert(key_name(500), 1);
  EXPECT_NE(left.root(), right.root());
  const std::uint64_t token = HashRing::key_token(key_name(500));
  TokenPrefix prefix;
  for (int depth = 0; depth < 10; ++depth) {
    const unsigned bit = static_cast<unsigned>((token >> (63 - depth)) & 1u);
    EXPECT_EQ(left.summary(prefix.child(1 - bit)), right.summary(prefix.child(1 - bit)));
    EXPECT_NE(left.summary(prefix.child(bit)), right.summary(prefix.child(bit)));
    prefix = prefix.child(bit);
  }
}

}  // namespace
}  // namespace crdtsim::core
