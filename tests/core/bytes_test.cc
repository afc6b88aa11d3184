#include "core/codec/bytes.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

namespace crdtsim::core {
namespace {

TEST(Bytes, VarintKnownEncodings) {
  Bytes out;
  Encoder encoder(out);
  encoder.varint(0);
  encoder.varint(127);
  encoder.varint(128);
  encoder.varint(300);
  EXPECT_EQ(out, (Bytes{0x00, 0x7f, 0x80, 0x01, 0xac, 0x02}));
}

TEST(Bytes, ZigzagKnownEncodings) {
  Bytes out;
  Encoder encoder(out);
  encoder.zigzag(0);
  encoder.zigzag(-1);
  encoder.zigzag(1);
  encoder.zigzag(-2);
  EXPECT_EQ(out, (Bytes{0x00, 0x01, 0x02, 0x03}));
}

TEST(Bytes, RejectsTruncatedVarint) {
  const Bytes input{0x80, 0x80};
  Decoder decoder(input);
  EXPECT_EQ(decoder.varint(), 0u);
  EXPECT_FALSE(decoder.ok());
  EXPECT_NE(decoder.error().find("unexpected end"), std::string::npos);
}

TEST(Bytes, RejectsOverlongVarint) {
  const Bytes eleven(11, 0xff);
  Decoder decoder(eleven);
  decoder.varint();
  EXPECT_FALSE(decoder.ok());
  const Bytes tenth_too_big{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
  Decoder second(tenth_too_big);
  second.varint();
  EXPECT_FALSE(second.ok());
}

TEST(Bytes, RejectsNonCanonicalVarint) {
  const Bytes padded{0x81, 0x00};  // 1 written in two bytes
  Decoder decoder(padded);
  decoder.varint();
  EXPECT_FALSE(decoder.ok());
}

TEST(Bytes, CountBoundedByRemainingInput) {
  Bytes out;
  Encoder encoder(out);
  encoder.varint(1'000'000'000);
  Decoder decoder(out);
  EXPECT_EQ(decoder.count(1), 0u);
  EXPECT_FALSE(decoder.ok());
}

TEST(Bytes, FirstFailureIsSticky) {
  const Bytes input{};
  Decoder decoder(input);
  decoder.u8();
  const std::string first = decoder.error();
  decoder.fail("second");
  EXPECT_EQ(decoder.error(), first);
}

RC_GTEST_PROP(Bytes, IntegersAndStringsRoundTrip,
              (std::uint64_t unsigned_value, std::int64_t signed_value, std::string text)) {
  Bytes out;
  Encoder encoder(out);
  encoder.varint(unsigned_value);
  encoder.zigzag(signed_value);
  encoder.string(text);
  encoder.fixed64(unsigned_value);
  Decoder decoder(out);
  RC_ASSERT(decoder.varint() == unsigned_value);
  RC_ASSERT(decoder.zigzag() == signed_value);
  RC_ASSERT(decoder.string() == text);
  RC_ASSERT(decoder.fixed64() == unsigned_value);
  RC_ASSERT(decoder.ok());
  RC_ASSERT(decoder.at_end());
}

RC_GTEST_PROP(Bytes, RandomInputNeverCrashes, (std::vector<std::uint8_t> input)) {
  Decoder decoder(input);
  while (decoder.ok() && !decoder.at_end()) {
    decoder.string();
    decoder.zigzag();
    decoder.varint32();
  }
  RC_SUCCEED();
}

}  // namespace
}  // namespace crdtsim::core
