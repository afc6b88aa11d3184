// The JSON Lines history format: exact round trips, precise errors for every
// kind of bad line, and file writes that never leave a partial file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/history.h"

namespace crdtsim::testing {
namespace {

using harness::History;
using harness::Operation;
using harness::OpOutcome;
using Json = nlohmann::ordered_json;

Operation make_op(std::uint64_t id, core::CommandKind kind, std::vector<std::string> keys,
                  std::vector<std::string> args, OpOutcome outcome) {
  Operation op;
  op.id = id;
  op.client = static_cast<std::uint32_t>(id % 4);
  op.session = 100 + id;
  op.replica = static_cast<core::ReplicaId>(id % 3);
  op.invoke_us = 1000 * id;
  op.complete_us = 1000 * id + 250;
  op.command.kind = kind;
  op.command.keys = std::move(keys);
  op.command.args = std::move(args);
  op.outcome = outcome;
  return op;
}

core::Reply reply_with(core::ReplyValue value) {
  core::Reply reply;
  reply.value = std::move(value);
  reply.metadata.executed_by = 2;
  reply.metadata.lamport = 17;
  return reply;
}

// Every reply shape, every outcome, extremes of every integer field.
History full_history() {
  using core::CommandKind;
  using core::ReplyValue;
  History history;
  auto& ops = history.operations;

  Operation set = make_op(0, CommandKind::set, {"r:0"}, {"va\"lue\n\\ \xC3\xA9"}, OpOutcome::ok);
  set.reply = reply_with(ReplyValue::of_text("OK"));
  set.reply->metadata.written = {2, 4};
  set.reply->metadata.timestamps = {{"r:0", core::LwwTimestamp{18, 3, 2}}};
  ops.push_back(set);

  Operation get = make_op(1, CommandKind::get, {"r:0"}, {}, OpOutcome::ok);
  get.reply = reply_with(ReplyValue::nil());
  get.reply->metadata.read_timestamps = {{"r:0", core::LwwTimestamp{0, 0, 0}}};
  ops.push_back(get);

  Operation incrby = make_op(2, CommandKind::incrby, {"c:0"}, {}, OpOutcome::ok);
  incrby.command.amount = std::numeric_limits<std::int64_t>::min() + 1;
  incrby.reply = reply_with(ReplyValue::of_integer(std::numeric_limits<std::int64_t>::min()));
  incrby.reply->metadata.dots = {{"c:0", core::Dot{7, std::numeric_limits<std::uint64_t>::max()}}};
  ops.push_back(incrby);

  Operation smembers = make_op(3, CommandKind::smembers, {"s:0"}, {}, OpOutcome::ok);
  smembers.reply = reply_with(ReplyValue::of_list({"a", "b", ""}));
  ops.push_back(smembers);

  Operation empty_list = make_op(4, CommandKind::hgetall, {"m:0"}, {}, OpOutcome::ok);
  empty_list.reply = reply_with(ReplyValue::of_list({}));
  ops.push_back(empty_list);

  Operation mget = make_op(5, CommandKind::mget, {"r:0", "r:1", "r:2"}, {}, OpOutcome::ok);
  mget.reply = reply_with(ReplyValue::of_maybe_list({"x", std::nullopt, "7"}));
  ops.push_back(mget);

  Operation mget_empty = make_op(6, CommandKind::mget, {"r:3"}, {}, OpOutcome::ok);
  mget_empty.reply = reply_with(ReplyValue::of_maybe_list({}));
  ops.push_back(mget_empty);

  Operation timeout = make_op(7, CommandKind::decrby, {"c:1"}, {}, OpOutcome::indeterminate);
  timeout.command.amount = 0;
  ops.push_back(timeout);

  Operation unavailable =
      make_op(8, CommandKind::del, {"r:0", "r:1"}, {}, OpOutcome::indeterminate);
  unavailable.reply = core::Reply::failure(core::ReplyStatus::unavailable, "no quorum");
  ops.push_back(unavailable);

  Operation wrong = make_op(9, CommandKind::sadd, {"r:0"}, {"m1", "m2"}, OpOutcome::fail);
  wrong.reply = core::Reply::failure(core::ReplyStatus::wrong_type, "WRONGTYPE");
  ops.push_back(wrong);

  Operation odd = make_op(10, CommandKind::get, {"r:0"}, {}, OpOutcome::fail);
  odd.command.amount = 5;  // not a valid command, but the history keeps what was sent
  odd.client = std::numeric_limits<std::uint32_t>::max();
  odd.session = std::numeric_limits<std::uint64_t>::max();
  odd.complete_us = std::numeric_limits<std::uint64_t>::max();
  ops.push_back(odd);

  Operation overflow = make_op(12, CommandKind::gincrby, {"g:0"}, {}, OpOutcome::fail);
  overflow.command.amount = std::numeric_limits<std::int64_t>::max();
  overflow.reply = core::Reply::failure(core::ReplyStatus::overflow, "overflow");
  overflow.reply->value = ReplyValue::of_text("status text");
  ops.push_back(overflow);

  // The causal level's multi-value registers: siblings and their dots.
  core::CausalContext both;
  both.add(core::Dot{0, 1});
  both.add(core::Dot{1, 1});
  Operation siblings = make_op(13, CommandKind::get, {"r:4"}, {}, OpOutcome::ok);
  siblings.reply = reply_with(ReplyValue::of_list({"a", "b"}));
  siblings.reply->metadata.tracking.mut().versions = {{"r:4", both}};
  siblings.reply->metadata.tracking.mut().siblings = {{"r:4", both}};
  ops.push_back(siblings);

  Operation mget_siblings =
      make_op(14, CommandKind::mget, {"r:4", "r:5", "r:6"}, {}, OpOutcome::ok);
  mget_siblings.reply = reply_with(ReplyValue::of_mget({{"a", "b"}, {"x"}, {}}));
  EXPECT_EQ(mget_siblings.reply->value.kind, ReplyValue::Kind::sibling_lists);
  mget_siblings.reply->metadata.tracking.mut().versions = {{"r:4", both}};
  mget_siblings.reply->metadata.tracking.mut().siblings = {{"r:4", both}};
  ops.push_back(mget_siblings);
  return history;
}

std::string to_jsonl(const History& history) {
  std::ostringstream out;
  harness::write_jsonl(history, out);
  return out.str();
}

std::optional<History> from_jsonl(const std::string& text, std::string& error) {
  std::istringstream in(text);
  return harness::read_jsonl(in, "h.jsonl", error);
}

TEST(HistoryIo, RoundTripIsExact) {
  const History history = full_history();
  const std::string text = to_jsonl(history);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 14);
  std::string error;
  const std::optional<History> back = from_jsonl(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, history);
  EXPECT_EQ(to_jsonl(*back), text);
}

TEST(HistoryIo, EmptyHistoryIsAnEmptyFile) {
  EXPECT_EQ(to_jsonl(History{}), "");
  std::string error;
  const std::optional<History> back = from_jsonl("", error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(back->operations.empty());
}

TEST(HistoryIo, LineLayoutIsDocumented) {
  History history;
  Operation op = make_op(3, core::CommandKind::incrby, {"c:0"}, {}, OpOutcome::ok);
  op.command.amount = -2;
  op.reply = reply_with(core::ReplyValue::of_integer(5));
  op.reply->metadata.written = {1};
  op.reply->metadata.dots = {{"c:0", core::Dot{1, 9}}};
  history.operations.push_back(op);
  EXPECT_EQ(to_jsonl(history),
            "{\"id\":3,\"client\":3,\"session\":103,\"replica\":0,\"invoke_us\":3000,"
            "\"complete_us\":3250,\"f\":\"incrby\",\"keys\":[\"c:0\"],\"args\":[],\"amount\":-2,"
            "\"outcome\":\"ok\",\"status\":\"ok\",\"error\":\"\",\"value\":5,\"metadata\":{"
            "\"written\":[1],\"executed_by\":2,\"timestamps\":[],\"dots\":[[\"c:0\",1,9]],"
            "\"removed_dots\":[],"
            "\"read_timestamps\":[],\"lamport\":17}}\n");
}

// A valid line to mutate: a SET with a reply.
Json valid_line() {
  History history;
  Operation op = make_op(1, core::CommandKind::set, {"r:0"}, {"v"}, OpOutcome::ok);
  op.reply = reply_with(core::ReplyValue::of_text("OK"));
  op.reply->metadata.timestamps = {{"r:0", core::LwwTimestamp{5, 0, 1}}};
  op.reply->metadata.dots = {{"r:0", core::Dot{1, 1}}};
  history.operations.push_back(op);
  return Json::parse(to_jsonl(history));
}

std::string first_line() {
  History history;
  history.operations.push_back(make_op(0, core::CommandKind::get, {"r:0"}, {}, OpOutcome::fail));
  return to_jsonl(history);
}

struct BadLine {
  std::string name;
  std::string line;      // the second line of the file
  std::string expected;  // the whole error
};

std::string mutated(const std::function<void(Json&)>& mutate) {
  Json line = valid_line();
  mutate(line);
  return line.dump();
}

std::vector<BadLine> bad_lines() {
  const std::string at = "h.jsonl:2: ";
  return {
      {"not json", "{\"id\":", at + "(root): expected one JSON object"},
      {"blank", "", at + "(root): expected one JSON object"},
      {"array", "[1,2]", at + "(root): expected a JSON object"},
      {"missing id", mutated([](Json& j) { j.erase("id"); }), at + "/id: expected a field \"id\""},
      {"unknown field", mutated([](Json& j) { j["colour"] = 1; }),
       at + "/colour: expected no unknown field \"colour\""},
      {"pointer escaping", mutated([](Json& j) { j["a/b~c"] = 1; }),
       at + "/a~1b~0c: expected no unknown field \"a/b~c\""},
      {"string for integer", mutated([](Json& j) { j["client"] = "3"; }),
       at + "/client: expected an integer in 0 .. 4294967295"},
      {"u32 range", mutated([](Json& j) { j["replica"] = 4294967296ULL; }),
       at + "/replica: expected an integer in 0 .. 4294967295, got 4294967296"},
      {"negative", mutated([](Json& j) { j["session"] = -1; }),
       at + "/session: expected an integer in 0 .. 18446744073709551615"},
      {"float", mutated([](Json& j) { j["invoke_us"] = 1.5; }),
       at + "/invoke_us: expected an integer in 0 .. 18446744073709551615"},
      {"time order", mutated([](Json& j) { j["complete_us"] = 0; }),
       at + "/complete_us: expected a time not before invoke_us"},
      {"id order", mutated([](Json& j) { j["id"] = 0; }),
       at + "/id: expected an id greater than the previous line's (0)"},
      {"unknown command", mutated([](Json& j) { j["f"] = "SET"; }),
       at + "/f: expected a command name (get, set, del, mset, incrby, ...), got \"SET\""},
      {"key type", mutated([](Json& j) {
         j["keys"] = Json::array({"a", 2});
       }),
       at + "/keys/1: expected a string"},
      {"args type", mutated([](Json& j) { j["args"] = "v"; }),
       at + "/args: expected an array of strings"},
      {"amount missing", mutated([](Json& j) { j["f"] = "incrby"; }),
       at + "/amount: expected a field \"amount\" (this command takes one)"},
      {"amount range", mutated([](Json& j) { j["amount"] = 9223372036854775808ULL; }),
       at + "/amount: expected an integer in -9223372036854775808 .. 9223372036854775807"},
      {"outcome", mutated([](Json& j) { j["outcome"] = "timeout"; }),
       at + "/outcome: expected \"ok\", \"fail\" or \"indeterminate\", got \"timeout\""},
      {"status", mutated([](Json& j) { j["status"] = "OK"; }),
       at + "/status: expected a reply status (ok, wrongtype, not_supported, bad_request, "
            "unavailable, overflow), got \"OK\""},
      {"reply without status", mutated([](Json& j) { j.erase("status"); }),
       at + "/error: expected no field \"error\" (they come with \"status\", when a reply "
            "arrived)"},
      {"status without metadata", mutated([](Json& j) { j.erase("metadata"); }),
       at + "/metadata: expected a field \"metadata\""},
      {"value shape", mutated([](Json& j) { j["value"] = Json::object(); }),
       at + "/value: expected null, an integer, a string or an array"},
      {"list item", mutated([](Json& j) {
         j["value"] = Json::array({"a", nullptr});
       }),
       at + "/value/1: expected a string"},
      {"metadata type", mutated([](Json& j) { j["metadata"] = 3; }),
       at + "/metadata: expected a JSON object"},
      {"metadata unknown", mutated([](Json& j) { j["metadata"]["clock"] = 1; }),
       at + "/metadata/clock: expected no unknown field \"clock\""},
      {"written item", mutated([](Json& j) { j["metadata"]["written"] = Json::array({-1}); }),
       at + "/metadata/written/0: expected an integer in 0 .. 4294967295"},
      {"timestamp shape", mutated([](Json& j) {
         j["metadata"]["timestamps"][0] = Json::array({"r:0", 1, 2});
       }),
       at + "/metadata/timestamps/0: expected [key, time, logical, replica]"},
      {"timestamp item",
       mutated([](Json& j) { j["metadata"]["timestamps"][0][2] = 4294967296ULL; }),
       at + "/metadata/timestamps/0/2: expected an integer in 0 .. 4294967295, got 4294967296"},
      {"timestamp key", mutated([](Json& j) {
         j["metadata"]["read_timestamps"] = Json::array({Json::array({1, 1, 1, 1})});
       }),
       at + "/metadata/read_timestamps/0/0: expected a string"},
      {"dot counter", mutated([](Json& j) { j["metadata"]["dots"][0][2] = 0; }),
       at + "/metadata/dots/0/2: expected a dot counter of at least 1"},
      {"lamport", mutated([](Json& j) { j["metadata"]["lamport"] = nullptr; }),
       at + "/metadata/lamport: expected an integer in 0 .. 18446744073709551615"},
      {"repeated field", "{\"id\":1,\"id\":2}", at + "(root): expected no repeated field \"id\""},
      {"trailing garbage", valid_line().dump() + " x", at + "(root): expected one JSON object"},
  };
}

TEST(HistoryIo, EveryBadLineNamesLinePointerAndExpectation) {
  for (const BadLine& bad : bad_lines()) {
    std::string error;
    const std::optional<History> history = from_jsonl(first_line() + bad.line + "\n", error);
    EXPECT_FALSE(history) << bad.name;
    // Parse errors carry nlohmann's detail after the expectation.
    EXPECT_EQ(error.substr(0, bad.expected.size()), bad.expected) << bad.name;
  }
}

TEST(HistoryIo, ValidLineFromTheMutatorIsAccepted) {
  std::string error;
  EXPECT_TRUE(from_jsonl(first_line() + valid_line().dump() + "\n", error)) << error;
  EXPECT_TRUE(from_jsonl(first_line() + valid_line().dump() + "\r\n", error)) << error;
}

TEST(HistoryIo, TruncatedAndCorruptedInputNeverThrows) {
  const std::string text = to_jsonl(full_history());
  for (std::size_t cut = 0; cut < text.size(); cut += 7) {
    std::string error;
    EXPECT_NO_THROW(from_jsonl(text.substr(0, cut), error));
    std::string corrupted = text;
    corrupted[cut] = static_cast<char>(corrupted[cut] ^ 0x5A);
    EXPECT_NO_THROW(from_jsonl(corrupted, error));
  }
}

class HistoryFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("crdtsim_history_io_" +
                  std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_;
};

TEST_F(HistoryFileTest, WritesAFileThatReadsBack) {
  const std::string path = (directory_ / "history.jsonl").string();
  std::string error;
  ASSERT_TRUE(harness::write_jsonl_file(full_history(), path, error)) << error;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ifstream in(path);
  const std::optional<History> back = harness::read_jsonl(in, path, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, full_history());
}

TEST_F(HistoryFileTest, FailedWriteLeavesNoPartialFileAndKeepsTheOldOne) {
  const std::string path = (directory_ / "history.jsonl").string();
  {
    std::ofstream old(path);
    old << "previous\n";
  }
  History history = full_history();
  history.operations[5].command.keys[1] = "bad \xFF utf-8";  // JSON cannot hold it
  std::string error;
  EXPECT_FALSE(harness::write_jsonl_file(history, path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "previous\n");
}

TEST_F(HistoryFileTest, UnwritableDirectoryIsAnError) {
  const std::string path = (directory_ / "missing" / "history.jsonl").string();
  std::string error;
  EXPECT_FALSE(harness::write_jsonl_file(full_history(), path, error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace crdtsim::testing
