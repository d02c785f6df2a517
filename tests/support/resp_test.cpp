#include "resp.h"

#include <gtest/gtest.h>

namespace chat::testing {
namespace {

Reply decodeAll(std::string_view input) {
  Reply reply;
  std::size_t consumed = 0;
  EXPECT_EQ(decodeReply(input, reply, consumed), DecodeStatus::kComplete) << input;
  EXPECT_EQ(consumed, input.size());
  return reply;
}

TEST(RespTest, EncodesCommandsBinarySafe) {
  EXPECT_EQ(encodeCommand({"LLEN", "chat:{lobby}:history"}),
            "*2\r\n$4\r\nLLEN\r\n$20\r\nchat:{lobby}:history\r\n");
  EXPECT_EQ(encodeCommand({"SET", std::string("a\r\nb", 4), ""}),
            std::string("*3\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n$0\r\n\r\n"));
}

TEST(RespTest, DecodesEveryReplyType) {
  EXPECT_EQ(decodeAll("+PONG\r\n").str, "PONG");
  EXPECT_TRUE(decodeAll("-ERR wrong\r\n").isError());
  EXPECT_EQ(decodeAll(":-42\r\n").integer, -42);
  EXPECT_EQ(decodeAll("$5\r\na\r\nbc\r\n").str, "a\r\nbc");
  EXPECT_TRUE(decodeAll("$-1\r\n").isNil());
  EXPECT_TRUE(decodeAll("*-1\r\n").isNil());
  Reply array = decodeAll("*3\r\n$1\r\na\r\n:7\r\n*1\r\n+OK\r\n");
  ASSERT_EQ(array.type, Reply::Type::kArray);
  ASSERT_EQ(array.elements.size(), 3u);
  EXPECT_EQ(array.elements[0].str, "a");
  EXPECT_EQ(array.elements[1].integer, 7);
  EXPECT_EQ(array.elements[2].elements.at(0).str, "OK");
  EXPECT_EQ(array.describe(), "[\"a\", (integer) 7, [OK]]");
}

TEST(RespTest, NeedsMoreForEveryTruncation) {
  std::string input = "*2\r\n$3\r\nfoo\r\n:12\r\n";
  for (std::size_t cut = 0; cut < input.size(); ++cut) {
    Reply reply;
    std::size_t consumed = 0;
    EXPECT_EQ(decodeReply(input.substr(0, cut), reply, consumed), DecodeStatus::kNeedMore) << cut;
  }
}

TEST(RespTest, RejectsGarbage) {
  Reply reply;
  std::size_t consumed = 0;
  EXPECT_EQ(decodeReply("?\r\n", reply, consumed), DecodeStatus::kMalformed);
  EXPECT_EQ(decodeReply(":x\r\n", reply, consumed), DecodeStatus::kMalformed);
  EXPECT_EQ(decodeReply("$2\r\nabcd\r\n", reply, consumed), DecodeStatus::kMalformed);
}

}  // namespace
}  // namespace chat::testing
