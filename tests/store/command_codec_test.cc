// Commands and replies: validation, and their canonical encodings (round
// trips; garbage and truncation are rejected, never a crash).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replication/peer_messages.h"
#include "core/store/command.h"
#include "core/wire/frame.h"

namespace crdtsim::core {
namespace {

Bytes encode_command(const Command& command) {
  Bytes bytes;
  Encoder encoder(bytes);
  command.encode_body(encoder);
  return bytes;
}

Bytes encode_reply(const Reply& reply) {
  Bytes bytes;
  Encoder encoder(bytes);
  reply.encode_body(encoder);
  return bytes;
}

// Decodes a whole buffer; nullopt if the decoder failed or left bytes over.
std::optional<Command> decode_command(ByteView bytes) {
  Decoder decoder(bytes);
  Command command = Command::decode_body(decoder);
  if (!decoder.ok() || !decoder.at_end()) {
    return std::nullopt;
  }
  return command;
}

std::optional<Reply> decode_reply(ByteView bytes) {
  Decoder decoder(bytes);
  Reply reply = Reply::decode_body(decoder);
  if (!decoder.ok() || !decoder.at_end()) {
    return std::nullopt;
  }
  return reply;
}

Command make(CommandKind kind, std::vector<std::string> keys, std::vector<std::string> args = {},
             std::int64_t amount = 0) {
  return Command{kind, std::move(keys), std::move(args), amount, {}};
}

TEST(CommandValidate, AcceptsWellFormedCommands) {
  EXPECT_EQ(validate(make(CommandKind::set, {"k"}, {"v"})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::get, {"k"})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::mset, {"a", "b"}, {"1", "2"})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::del, {"a", "b", "c"})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::hset, {"h"}, {"f", "v", "g", "w"})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::sadd, {"s"}, {"x"})), std::nullopt);
  EXPECT_EQ(
      validate(make(CommandKind::incrby, {"c"}, {}, std::numeric_limits<std::int64_t>::min())),
      std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::decrby, {"c"}, {}, -5)), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::gincrby, {"g"}, {}, 0)), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::set, {""}, {""})), std::nullopt);
}

TEST(CommandValidate, RejectsBadArity) {
  EXPECT_NE(validate(make(CommandKind::set, {"k"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::set, {"k", "l"}, {"v"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::get, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::get, {"k"}, {"extra"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::mset, {"a", "b"}, {"1"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::mset, {}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::del, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::mget, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::exists, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::hset, {"h"}, {"f"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::hset, {"h"}, {"f", "v", "g"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::hset, {"h"}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::sadd, {"s"}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::srem, {"s"}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::gsadd, {"s"}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::sismember, {"s"}, {})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::hdel, {"h"}, {})), std::nullopt);
}

TEST(CommandValidate, RejectsBadAmounts) {
  EXPECT_NE(
      validate(make(CommandKind::decrby, {"c"}, {}, std::numeric_limits<std::int64_t>::min())),
      std::nullopt);
  EXPECT_NE(validate(make(CommandKind::gincrby, {"g"}, {}, -1)), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::incr, {"c"}, {}, 3)), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::set, {"k"}, {"v"}, 1)), std::nullopt);
}

TEST(CommandValidate, RejectsOversizedCommands) {
  std::vector<std::string> keys(1025, "k");
  EXPECT_NE(validate(make(CommandKind::del, keys)), std::nullopt);
  keys.resize(1024);
  EXPECT_EQ(validate(make(CommandKind::del, keys)), std::nullopt);
  std::vector<std::string> members(4097, "m");
  EXPECT_NE(validate(make(CommandKind::sadd, {"s"}, members)), std::nullopt);
  const std::string big((std::size_t{1} << 20) + 1, 'x');
  EXPECT_NE(validate(make(CommandKind::set, {big}, {"v"})), std::nullopt);
  EXPECT_NE(validate(make(CommandKind::set, {"k"}, {big})), std::nullopt);
  EXPECT_EQ(validate(make(CommandKind::set, {"k"}, {std::string(std::size_t{1} << 20, 'x')})),
            std::nullopt);
}

TEST(CommandValidate, ErrorNamesTheCommand) {
  const std::optional<std::string> error = validate(make(CommandKind::hset, {"h"}, {"f"}));
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("HSET"), std::string::npos) << *error;
}

TEST(CommandNames, EveryKindHasANameAndWritesAreMarked) {
  EXPECT_EQ(command_name(CommandKind::hgetall), "HGETALL");
  EXPECT_EQ(value_type_name(ValueType::or_set), "or_set");
  EXPECT_EQ(value_type_name(ValueType::none), "none");
  EXPECT_EQ(reply_status_name(ReplyStatus::wrong_type), "WRONGTYPE");
  EXPECT_TRUE(is_write(CommandKind::mset));
  EXPECT_TRUE(is_write(CommandKind::del));
  EXPECT_FALSE(is_write(CommandKind::mget));
  EXPECT_FALSE(is_write(CommandKind::exists));
}

TEST(CommandCodec, RoundTrips) {
  const Command command = make(CommandKind::incrby, {"counter"}, {}, -42);
  const Bytes bytes = encode_command(command);
  const std::optional<Command> decoded = decode_command(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, command);
  EXPECT_EQ(encode_command(*decoded), bytes);
}

TEST(CommandCodec, RejectsUnknownKindAndTruncation) {
  Bytes bytes = encode_command(make(CommandKind::mset, {"a", "b"}, {"1", "2"}));
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(decode_command(ByteView(bytes.data(), length)).has_value()) << length;
  }
  bytes[0] = 99;
  EXPECT_FALSE(decode_command(bytes).has_value());
  bytes[0] = 0;
  EXPECT_FALSE(decode_command(bytes).has_value());
}

TEST(CommandCodec, RejectsAbsurdCounts) {
  Bytes bytes;
  Encoder encoder(bytes);
  encoder.u8(static_cast<std::uint8_t>(CommandKind::del));
  encoder.varint(std::uint64_t{1} << 40);  // keys
  EXPECT_FALSE(decode_command(bytes).has_value());
}

TEST(ReplyCodec, RoundTripsEveryValueKindWithMetadata) {
  std::vector<Reply> replies;
  replies.push_back(Reply{});
  Reply integer;
  integer.value = ReplyValue::of_integer(std::numeric_limits<std::int64_t>::min());
  replies.push_back(integer);
  Reply text;
  text.value = ReplyValue::of_text("hello");
  text.metadata.read_timestamps = {{"k", LwwTimestamp{7, 1, 3}}};
  text.metadata.executed_by = 3;
  text.metadata.lamport = 9;
  replies.push_back(text);
  Reply list;
  list.value = ReplyValue::of_list({"a", "b"});
  list.metadata.written = {1, 2};
  list.metadata.dots = {{"s", Dot{1, 5}}, {"s", Dot{2, 1}}};
  list.metadata.timestamps = {{"h", LwwTimestamp{4, 0, 1}}};
  replies.push_back(list);
  Reply maybe;
  maybe.value = ReplyValue::of_maybe_list({std::string("x"), std::nullopt, std::string("")});
  replies.push_back(maybe);
  replies.push_back(Reply::failure(ReplyStatus::wrong_type, "WRONGTYPE"));
  for (const Reply& reply : replies) {
    const Bytes bytes = encode_reply(reply);
    const std::optional<Reply> decoded = decode_reply(bytes);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, reply);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      EXPECT_FALSE(decode_reply(ByteView(bytes.data(), length)).has_value());
    }
  }
}

TEST(ReplyCodec, RejectsUnknownStatusAndKind) {
  Bytes bytes = encode_reply(Reply{});
  bytes[0] = 7;
  EXPECT_FALSE(decode_reply(bytes).has_value());
  bytes[0] = 0x87;  // versions flag on an unknown status
  EXPECT_FALSE(decode_reply(bytes).has_value());
  bytes = encode_reply(Reply{});
  bytes[2] = 5;  // value kind, after status and the empty error string
  EXPECT_FALSE(decode_reply(bytes).has_value());
}

CausalContext context_of(std::initializer_list<Dot> dots) {
  CausalContext context;
  for (const Dot& dot : dots) {
    context.add(dot);
  }
  return context;
}

TEST(SessionCodec, CommandWithoutTokenKeepsItsBytes) {
  Command command = make(CommandKind::set, {"k"}, {"v"});
  const Bytes plain = encode_command(command);
  EXPECT_EQ(plain[0], static_cast<std::uint8_t>(CommandKind::set));
  command.session = {{"k", context_of({{1, 1}, {1, 2}, {2, 5}})}};
  const Bytes with_token = encode_command(command);
  EXPECT_EQ(with_token[0], static_cast<std::uint8_t>(CommandKind::set) | 0x80);
  EXPECT_EQ(decode_command(with_token), command);
  EXPECT_EQ(decode_command(plain)->session.size(), 0u);
}

// A reused command (the replica's request scratch) decodes to exactly what
// a fresh one would: every field replaced, whatever it held before.
TEST(CommandCodec, DecodingIntoAUsedCommandReplacesAllOfIt) {
  Command bigger = make(CommandKind::mset, {"a-rather-long-key-name", "b", "c"}, {"1", "2", "3"});
  bigger.session = {{"a-rather-long-key-name", context_of({{1, 1}})}};
  const std::vector<Command> commands = {
      make(CommandKind::get, {"k"}),
      make(CommandKind::incrby, {"counter"}, {}, -7),
      bigger,
      make(CommandKind::sadd, {"s"}, {"x", "y"}),
  };
  Command reused = bigger;
  for (const Command& command : commands) {
    const Bytes bytes = encode_command(command);
    Decoder decoder(bytes);
    Command::decode_body(decoder, reused);
    ASSERT_TRUE(decoder.ok() && decoder.at_end());
    EXPECT_EQ(reused, command);
  }
  // A failed decode leaves a default command, as the by-value decode returns.
  const Bytes truncated = {static_cast<std::uint8_t>(CommandKind::set), 1};
  Decoder decoder(truncated);
  Command::decode_body(decoder, reused);
  EXPECT_FALSE(decoder.ok());
  EXPECT_EQ(reused, Command{});
}

TEST(SessionCodec, ReplyVersionsRoundTripAndMustBeSorted) {
  Reply reply;
  reply.value = ReplyValue::of_text("v");
  reply.metadata.tracking.mut().versions = {{"a", context_of({{0, 1}})},
                                            {"b", context_of({{3, 1}, {3, 2}})}};
  EXPECT_EQ(decode_reply(encode_reply(reply)), reply);
  std::swap(reply.metadata.tracking.mut().versions[0], reply.metadata.tracking.mut().versions[1]);
  EXPECT_FALSE(decode_reply(encode_reply(reply)).has_value()) << "unsorted keys must be rejected";
}

TEST(SessionCodec, MergeKeyVersionsKeepsKeysSortedAndJoins) {
  KeyVersions versions;
  merge_key_versions(versions, "b", context_of({{1, 1}}));
  merge_key_versions(versions, "a", context_of({{2, 1}}));
  merge_key_versions(versions, "b", context_of({{1, 2}}));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].first, "a");
  EXPECT_EQ(versions[1].second, context_of({{1, 1}, {1, 2}}));
  EXPECT_NE(find_key_versions(versions, "b"), nullptr);
  EXPECT_EQ(find_key_versions(versions, "c"), nullptr);
}

rc::Gen<std::string> gen_short_string() {
  return rc::gen::exec([] {
    const auto length = *rc::gen::inRange<std::size_t>(0, 4);
    return *rc::gen::container<std::string>(length, rc::gen::inRange<char>('a', 'e'));
  });
}

rc::Gen<Command> gen_command() {
  return rc::gen::exec([] {
    Command command;
    command.kind = *rc::gen::element(CommandKind::get, CommandKind::set, CommandKind::mset,
                                     CommandKind::incrby, CommandKind::sadd, CommandKind::hset,
                                     CommandKind::hgetall);
    command.keys = *rc::gen::container<std::vector<std::string>>(gen_short_string());
    command.args = *rc::gen::container<std::vector<std::string>>(gen_short_string());
    command.amount = *rc::gen::arbitrary<std::int64_t>();
    return command;
  });
}

RC_GTEST_PROP(CommandCodecProperty, RoundTripsAndRejectsTruncations, ()) {
  const Command command = *gen_command();
  const Bytes bytes = encode_command(command);
  const std::optional<Command> decoded = decode_command(bytes);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(*decoded == command);
  const std::size_t length = *rc::gen::inRange<std::size_t>(0, bytes.size());
  RC_ASSERT(!decode_command(ByteView(bytes.data(), length)).has_value());
}

// Garbage never crashes; whatever decodes re-encodes to the same bytes.
RC_GTEST_PROP(CommandCodecProperty, GarbageDecodesSafely, (const std::vector<std::uint8_t>& raw)) {
  if (const std::optional<Command> command = decode_command(raw)) {
    RC_ASSERT(encode_command(*command) == raw);
  }
  if (const std::optional<Reply> reply = decode_reply(raw)) {
    RC_ASSERT(encode_reply(*reply) == raw);
  }
}

// Frames built in place (begin_frame / end_frame, as every encode_frame
// now does) must be byte-identical to a payload framed afterwards.
TEST(FrameCodec, InPlaceFramesEqualFramedPayloads) {
  for (const std::size_t size : {0u, 1u, 127u, 128u, 300u, 5000u}) {
    Bytes payload(size);
    for (std::size_t index = 0; index < size; ++index) {
      payload[index] = static_cast<std::uint8_t>(index * 7 + 3);
    }
    Bytes in_place = {0xaa};  // a frame may follow other bytes
    const std::size_t start = begin_frame(in_place, 9);
    in_place.insert(in_place.end(), payload.begin(), payload.end());
    end_frame(in_place, start);
    Bytes appended = {0xaa};
    append_frame(appended, 9, payload);
    EXPECT_EQ(in_place, appended) << size << " payload bytes";
    FrameView frame;
    std::string error;
    ASSERT_TRUE(parse_frame(ByteView(in_place).subspan(1), frame, error)) << error;
    EXPECT_EQ(frame.kind, 9);
    EXPECT_TRUE(
        std::equal(frame.payload.begin(), frame.payload.end(), payload.begin(), payload.end()));
  }
}

TEST(FrameCodec, ForwardRequestFrameWithoutACopyIsTheSame) {
  const Command command = make(CommandKind::mset, {"a", "b"}, {"1", "2"});
  EXPECT_EQ(encode_forward_request_frame(77, command), encode_frame(ForwardRequest{77, command}));
}

TEST(FrameCodec, ForwardReplyFrameByReferenceDecodesToTheReply) {
  Reply reply;
  reply.value = ReplyValue::of_text("v");
  reply.metadata.written = {3};
  reply.metadata.executed_by = 3;
  reply.metadata.lamport = 12;
  const Bytes bytes = encode_forward_reply_frame(41, reply);
  FrameView frame;
  std::string error;
  ASSERT_TRUE(parse_frame(bytes, frame, error)) << error;
  EXPECT_EQ(frame.kind, static_cast<std::uint8_t>(PeerMessageKind::forward_reply));
  ForwardReply decoded;
  ASSERT_TRUE(decode_payload(frame.payload, decoded, error)) << error;
  EXPECT_EQ(decoded.forward_id, 41u);
  EXPECT_EQ(decoded.reply, reply);
}

}  // namespace
}  // namespace crdtsim::core
