// PRNG: known answers, unbiased bounded draws, Bernoulli rates, streams.

#include "sim/prng.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "sim/hash.h"

namespace crdtsim::sim {
namespace {

// Expected values were computed with a small independent Python transcription
// of the reference C code (splitmix64.c and xoshiro256starstar.c by Blackman
// and Vigna, prng.di.unimi.it), not with this implementation. The first rows
// also match the vectors published with other ports of the reference code.
TEST(Prng, SplitMix64KnownAnswers) {
  SplitMix64 generator(1234567);
  const std::array<std::uint64_t, 5> expected = {6457827717110365317ULL, 3203168211198807973ULL,
                                                 9817491932198370423ULL, 4593380528125082431ULL,
                                                 16408922859458223821ULL};
  for (const std::uint64_t value : expected) {
    EXPECT_EQ(generator.next(), value);
  }
  SplitMix64 zero(0);
  EXPECT_EQ(zero.next(), 16294208416658607535ULL);
  EXPECT_EQ(zero.next(), 7960286522194355700ULL);
  EXPECT_EQ(zero.next(), 487617019471545679ULL);
}

TEST(Prng, Xoshiro256StarStarKnownAnswersFromState1234) {
  Prng generator = Prng::from_state({1, 2, 3, 4});
  const std::array<std::uint64_t, 10> expected = {11520ULL,
                                                  0ULL,
                                                  1509978240ULL,
                                                  1215971899390074240ULL,
                                                  1216172134540287360ULL,
                                                  607988272756665600ULL,
                                                  16172922978634559625ULL,
                                                  8476171486693032832ULL,
                                                  10595114339597558777ULL,
                                                  2904607092377533576ULL};
  for (const std::uint64_t value : expected) {
    EXPECT_EQ(generator.next(), value);
  }
}

TEST(Prng, SeedingUsesFourSplitMixOutputs) {
  // Prng(42): state = splitmix64(42) x 4 =
  //   [13679457532755275413, 2949826092126892291, 5139283748462763858,
  //    6349198060258255764]; outputs from the same Python reference.
  Prng generator(42);
  const std::array<std::uint64_t, 5> expected = {1546998764402558742ULL, 6990951692964543102ULL,
                                                 12544586762248559009ULL, 17057574109182124193ULL,
                                                 18295552978065317476ULL};
  for (const std::uint64_t value : expected) {
    EXPECT_EQ(generator.next(), value);
  }
}

TEST(Prng, Fnv1a64KnownAnswers) {
  // Published FNV-1a 64 test vectors (Fowler/Noll/Vo).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

// Pearson's chi-square statistic of observed counts against equal expected
// counts (floating point is fine in tests; never in simulation decisions).
double chi_square(const std::vector<std::uint64_t>& counts, std::uint64_t draws) {
  const double expected = static_cast<double>(draws) / static_cast<double>(counts.size());
  double statistic = 0;
  for (const std::uint64_t count : counts) {
    const double diff = static_cast<double>(count) - expected;
    statistic += diff * diff / expected;
  }
  return statistic;
}

TEST(Prng, UniformSmallBoundIsUnbiased) {
  Prng generator(2024);
  constexpr std::uint64_t kDraws = 1'000'000;
  std::vector<std::uint64_t> counts(10, 0);
  for (std::uint64_t i = 0; i < kDraws; ++i) {
    ++counts[generator.uniform(10)];
  }
  // 9 degrees of freedom: P(chi2 > 27.88) = 0.001.
  EXPECT_LT(chi_square(counts, kDraws), 27.88);
}

TEST(Prng, UniformLargeBoundIsUnbiased) {
  // bound = 3 * 2^62 is where shortcuts fail: plain modulo makes the lowest
  // quarter of the range twice as likely (caught by the top-bits buckets);
  // multiply-shift without Lemire's rejection makes r % 3 == 0 twice as
  // likely (caught by the residue buckets). Expect neither.
  constexpr std::uint64_t kBound = 3ULL << 62U;
  constexpr std::uint64_t kDraws = 300'000;
  Prng generator(77);
  std::vector<std::uint64_t> top(3, 0);
  std::vector<std::uint64_t> residue(3, 0);
  for (std::uint64_t i = 0; i < kDraws; ++i) {
    const std::uint64_t value = generator.uniform(kBound);
    ASSERT_LT(value, kBound);
    ++top[value >> 62U];
    ++residue[value % 3];
  }
  // 2 degrees of freedom: P(chi2 > 13.82) = 0.001.
  EXPECT_LT(chi_square(top, kDraws), 13.82);
  EXPECT_LT(chi_square(residue, kDraws), 13.82);
}

TEST(Prng, RangeIsInclusiveAndCoversNegativeAndFullSpans) {
  Prng generator(5);
  bool saw_lo = false;
  bool saw_hi = false;
  for (int i = 0; i < 10'000; ++i) {
    const std::int64_t value = generator.range(-3, 3);
    ASSERT_GE(value, -3);
    ASSERT_LE(value, 3);
    saw_lo = saw_lo || value == -3;
    saw_hi = saw_hi || value == 3;
  }
  EXPECT_TRUE(saw_lo);
  EXPECT_TRUE(saw_hi);
  EXPECT_EQ(generator.range(9, 9), 9);
  constexpr std::int64_t kMin = INT64_MIN;
  constexpr std::int64_t kMax = INT64_MAX;
  (void)generator.range(kMin, kMax);  // the full span must not trap
}

TEST(Prng, ChancePpmMatchesItsRate) {
  // 1,000,000 draws at p = 0.25: sd = sqrt(n p (1-p)) = 433; allow 5 sd.
  Prng generator(9);
  std::uint64_t hits = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    hits += generator.chance_ppm(250'000) ? 1U : 0U;
  }
  EXPECT_NEAR(static_cast<double>(hits), 250'000.0, 5 * 433.0);
  EXPECT_FALSE(generator.chance_ppm(0));
  EXPECT_TRUE(generator.chance_ppm(kPpmOne));
}

std::vector<std::uint64_t> draw(Prng generator, int count) {
  std::vector<std::uint64_t> values;
  values.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    values.push_back(generator.next());
  }
  return values;
}

TEST(Prng, ForkDependsOnlyOnKeyAndName) {
  Prng root(1);
  const auto network_before = draw(root.fork("network"), 16);
  for (int i = 0; i < 1000; ++i) {
    (void)root.next();  // drawing from the parent ...
  }
  Prng workload = root.fork("workload");
  for (int i = 0; i < 1000; ++i) {
    (void)workload.next();  // ... or from a sibling ...
  }
  EXPECT_EQ(draw(root.fork("network"), 16), network_before);  // ... shifts nothing
  EXPECT_NE(draw(root.fork("workload"), 16), network_before);
  EXPECT_NE(draw(Prng(2).fork("network"), 16), network_before);
  EXPECT_NE(draw(root, 16), network_before);
}

TEST(Prng, ForkedStreamsAreUncorrelated) {
  // Matching bits between two streams: 64 * 10,000 bit pairs, p = 1/2,
  // sd = 400; a correlated pair of streams would be far off 320,000.
  Prng a = Prng(3).fork("process/0");
  Prng b = Prng(3).fork("process/1");
  std::uint64_t same_bits = 0;
  for (int i = 0; i < 10'000; ++i) {
    same_bits += static_cast<std::uint64_t>(__builtin_popcountll(~(a.next() ^ b.next())));
  }
  EXPECT_NEAR(static_cast<double>(same_bits), 320'000.0, 5 * 400.0);
}

}  // namespace
}  // namespace crdtsim::sim
