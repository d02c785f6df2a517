// What a plain client sends that the gateway cannot accept (docs/protocol.md
// sections 2, 3 and 5): ignored, rewritten, or closed with a code and a reason;
// never stored, never a crash.

#include "gateway_test.h"

namespace chat::testing {
namespace {

class PlainValidationTest : public GatewayTest {
 protected:
  void SetUp() override {
    gateway_ = &startGateway();
    ASSERT_TRUE(gateway_->waitReady());
    room_ = uniqueRoom();
  }

  std::int64_t storedCount() { return redisClient().integer({"LLEN", historyKey(room_)}); }

  // Sends `frame` on a fresh plain client and returns the close it gets.
  CloseInfo closeAfterSending(const std::string& frame) {
    auto client = connectPlain(*gateway_, room_);
    if (!client->sendText(frame)) return CloseInfo{0, "send failed: " + client->error()};
    CloseInfo close = expectClose(*client);
    EXPECT_TRUE(client->textsBeforeClose().empty()) << client->textsBeforeClose().front();
    return close;
  }

  GatewayProcess* gateway_ = nullptr;
  std::string room_;
};

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out += piece;
  return out;
}

TEST_F(PlainValidationTest, InvalidJsonClosesWith1007AndAReason) {
  const std::vector<std::string> frames = {
      "not json",
      "{\"username\":\"alice\",\"text\":\"hi\"",          // truncated
      "[\"alice\",\"hi\"]",                               // not an object
      "{\"username\":\"alice\"}",                         // no text
      "{\"username\":\"alice\",\"text\":5}",              // text of the wrong type
      "{\"username\":7,\"text\":\"hi\"}",                 // username of the wrong type
      "{\"username\":\"alice\",\"text\":\"a\\u0000b\"}",  // NUL in text
  };
  for (const std::string& frame : frames) {
    SCOPED_TRACE(frame);
    CloseInfo close = closeAfterSending(frame);
    EXPECT_EQ(close.code, 1007);
    EXPECT_FALSE(close.reason.empty()) << "every close carries a short reason";
    EXPECT_LE(close.reason.size(), 123u);
  }
  EXPECT_EQ(storedCount(), 0);
  EXPECT_TRUE(gateway_->isRunning());
}

TEST_F(PlainValidationTest, InvalidUtf8ClosesWith1007) {
  CloseInfo close = closeAfterSending("{\"username\":\"alice\",\"text\":\"\xc3\x28\"}");
  EXPECT_EQ(close.code, 1007);
  EXPECT_FALSE(close.reason.empty());
  EXPECT_EQ(storedCount(), 0);
}

TEST_F(PlainValidationTest, WhitespaceOnlyTextIsIgnoredAndTheConnectionStaysOpen) {
  auto client = connectPlain(*gateway_, room_);
  sendPlain(*client, "alice", "");
  sendPlain(*client, "alice", "   \t  ");
  sendPlain(*client, "alice", "after the blanks");
  ChatMessage message = receiveMessage(*client);
  EXPECT_EQ(message.text, "after the blanks") << "blank messages are not delivered";
  EXPECT_EQ(message.id, 1) << "blank messages take no id";
  EXPECT_FALSE(client->isClosed());
  EXPECT_EQ(storedCount(), 1);
}

TEST_F(PlainValidationTest, EmptyUsernameIsStoredAsAnonymous) {
  auto client = connectPlain(*gateway_, room_);
  sendPlain(*client, "", "who am I");
  ChatMessage message = receiveMessage(*client);
  EXPECT_EQ(message.username, "anonymous");
  EXPECT_EQ(message.text, "who am I");
  std::vector<std::string> stored = redisClient().strings({"LRANGE", historyKey(room_), "0", "-1"});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0], message.raw);
}

TEST_F(PlainValidationTest, TextIsLimitedTo2000CodePoints) {
  // Two bytes per code point: 4000 bytes fit in MAX_FRAME_BYTES (8192), so
  // only the code point count decides.
  auto client = connectPlain(*gateway_, room_);
  const std::string longest = repeat("\xc3\xa9", 2000);
  sendPlain(*client, "alice", longest);
  ChatMessage message = receiveMessage(*client);
  EXPECT_EQ(message.text, longest) << "2000 code points are allowed";

  sendPlain(*client, "alice", longest + "\xc3\xa9");
  CloseInfo close = expectClose(*client);
  EXPECT_EQ(close.code, 1007);
  EXPECT_FALSE(close.reason.empty());
  EXPECT_EQ(storedCount(), 1);
}

TEST_F(PlainValidationTest, FrameOverMaxFrameBytesClosesWith1009) {
  // Valid JSON with a short text, padded past 8192 bytes by an unknown field.
  std::string frame =
      "{\"username\":\"alice\",\"text\":\"hi\",\"pad\":\"" + repeat("x", 9000) + "\"}";
  CloseInfo close = closeAfterSending(frame);
  EXPECT_EQ(close.code, 1009);
  EXPECT_FALSE(close.reason.empty());
  EXPECT_EQ(storedCount(), 0);
  EXPECT_TRUE(gateway_->isRunning());
}

TEST_F(PlainValidationTest, FragmentedMessageIsReassembled) {
  auto client = connectPlain(*gateway_, room_);
  const std::string frame = plainMessageJson("alice", "in three pieces");
  ASSERT_TRUE(client->sendFrame(WsFrame{false, 0, WsOpcode::kText, true, frame.substr(0, 5)}));
  ASSERT_TRUE(
      client->sendFrame(WsFrame{false, 0, WsOpcode::kContinuation, true, frame.substr(5, 10)}));
  ASSERT_TRUE(client->sendFrame(WsFrame{true, 0, WsOpcode::kContinuation, true, frame.substr(15)}));
  ChatMessage message = receiveMessage(*client);
  EXPECT_EQ(message.text, "in three pieces");
  EXPECT_EQ(storedCount(), 1);
}

TEST_F(PlainValidationTest, FragmentsAddingUpToMoreThanMaxFrameBytesCloseWith1009) {
  // Each fragment is small; the message is not.
  auto client = connectPlain(*gateway_, room_);
  std::string frame =
      "{\"username\":\"alice\",\"text\":\"hi\",\"pad\":\"" + repeat("x", 12000) + "\"}";
  ASSERT_TRUE(client->sendFrame(WsFrame{false, 0, WsOpcode::kText, true, frame.substr(0, 4000)}));
  ASSERT_TRUE(client->sendFrame(
      WsFrame{false, 0, WsOpcode::kContinuation, true, frame.substr(4000, 4000)}));
  // The gateway may close before the last fragment; a failed send is fine.
  client->sendFrame(WsFrame{true, 0, WsOpcode::kContinuation, true, frame.substr(8000)});
  CloseInfo close = expectClose(*client);
  EXPECT_EQ(close.code, 1009);
  EXPECT_FALSE(close.reason.empty());
  EXPECT_EQ(storedCount(), 0);
  EXPECT_TRUE(gateway_->isRunning());
}

TEST_F(PlainValidationTest, BinaryFrameClosesWith1003) {
  auto client = connectPlain(*gateway_, room_);
  ASSERT_TRUE(client->sendBinary(plainMessageJson("alice", "hi"))) << client->error();
  CloseInfo close = expectClose(*client);
  EXPECT_EQ(close.code, 1003);
  EXPECT_FALSE(close.reason.empty());
  EXPECT_EQ(storedCount(), 0);
}

TEST_F(PlainValidationTest, BadRoomInTheUrlGets400OnTheHandshake) {
  for (const std::string& room :
       std::vector<std::string>{"bad%20room!", "bad/room", std::string(65, 'r')}) {
    SCOPED_TRACE(room);
    WsClient client;
    EXPECT_FALSE(client.connect(gateway_->port(), "/websocket?room=" + room));
    EXPECT_EQ(client.handshake().status, 400) << client.error();
  }
  // The longest valid name is fine.
  auto client = connectPlain(*gateway_, std::string(64, 'r'));
  sendPlain(*client, "alice", "in a long room");
  EXPECT_EQ(receiveMessage(*client).room, std::string(64, 'r'));
}

TEST_F(PlainValidationTest, NoRoomMeansLobby) {
  WsClient client;
  ASSERT_TRUE(client.connect(gateway_->port(), "/websocket")) << client.error();
  sendPlain(client, "alice", "hello lobby");
  EXPECT_EQ(receiveMessage(client).room, "lobby");
}

}  // namespace
}  // namespace chat::testing
