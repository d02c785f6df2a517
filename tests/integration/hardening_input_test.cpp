// Hardening: malformed and hostile input from WebSocket clients (docs/protocol.md
// sections 2, 3 and 5). Every bad frame gets its documented answer (a close
// code with a reason for plain clients; an error frame, connection open, for
// v1 clients), nothing of it is stored (LLEN of chat:{room}:history), and the
// gateway goes on serving /healthz and delivering every message to the other
// clients of the room. Rate-limit floods are here too: frames past the limit
// are dropped (plain) or refused with rate_limited (v1), and twice the burst
// refused in a row closes either kind with 1008.

#include "http_client.h"
#include "v1_helpers.h"

namespace chat::testing {
namespace {

class HardeningInputTest : public GatewayTest {
 protected:
  std::int64_t storedCount(const std::string& room) {
    return redisClient().integer({"LLEN", historyKey(room)});
  }
};

constexpr std::size_t kOneMegabyte = 1 << 20;

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i)
    out += piece;
  return out;
}

// {"username":..,"text":..} with `text` already JSON (escapes and all).
std::string rawPlainFrame(std::string_view username, std::string_view rawText) {
  return "{\"username\":" + jsonString(username) + ",\"text\":\"" + std::string(rawText) + "\"}";
}

// Valid JSON, valid fields, padded with an unknown field to exactly `bytes`.
std::string paddedPlainFrame(std::size_t bytes) {
  std::string frame = "{\"username\":\"pad\",\"text\":\"hi\",\"pad\":\"";
  frame += std::string(bytes - frame.size() - 2, 'x');
  return frame + "\"}";
}

std::string paddedV1Frame(std::size_t bytes, std::string_view ref) {
  std::string frame =
      "{\"type\":\"message\",\"text\":\"hi\",\"ref\":" + jsonString(ref) + ",\"pad\":\"";
  frame += std::string(bytes - frame.size() - 2, 'x');
  return frame + "\"}";
}

// The reader of the room that must see exactly the accepted messages, in
// order, whatever the malformed clients did.
void expectMessages(WsClient& observer, const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ChatMessage message = receiveMessage(observer);
    EXPECT_EQ(message.text, texts[i]) << "message " << i + 1;
    EXPECT_EQ(message.id, static_cast<std::int64_t>(i + 1)) << "refused frames take no id";
  }
}

void expectHealthy(GatewayProcess& gateway) {
  EXPECT_TRUE(gateway.isRunning());
  HttpResponse health = httpGet(gateway.port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
}

TEST_F(HardeningInputTest, PlainClientsBadFramesGetTheirCloseCodesAndAreNotStored) {
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto observer = connectPlain(gateway, room);

  struct Case {
    std::string what;
    std::string payload;
    WsOpcode opcode;
    std::uint16_t code;
  };
  const std::vector<Case> cases = {
      {"invalid JSON", "{\"username\":\"a\",\"text\":", WsOpcode::kText, 1007},
      {"not JSON at all", "hello", WsOpcode::kText, 1007},
      {"a JSON array", "[\"a\",\"hi\"]", WsOpcode::kText, 1007},
      {"a JSON string", "\"hi\"", WsOpcode::kText, 1007},
      {"text of the wrong type", "{\"username\":\"a\",\"text\":1}", WsOpcode::kText, 1007},
      {"text null", "{\"username\":\"a\",\"text\":null}", WsOpcode::kText, 1007},
      {"username of the wrong type", "{\"username\":{},\"text\":\"hi\"}", WsOpcode::kText, 1007},
      {"missing text", "{\"username\":\"a\"}", WsOpcode::kText, 1007},
      {"missing username", "{\"text\":\"hi\"}", WsOpcode::kText, 1007},
      {"empty object", "{}", WsOpcode::kText, 1007},
      {"username of 33 characters", plainMessageJson(std::string(33, 'u'), "hi"), WsOpcode::kText,
       1007},
      {"username with a control character", rawPlainFrame("bell\x07", "hi"), WsOpcode::kText, 1007},
      {"username with an escaped newline", "{\"username\":\"a\\nb\",\"text\":\"hi\"}",
       WsOpcode::kText, 1007},
      {"text of 2001 characters", plainMessageJson("a", repeat("\xc3\xa9", 2001)), WsOpcode::kText,
       1007},
      {"escaped NUL in text", rawPlainFrame("a", "x\\u0000y"), WsOpcode::kText, 1007},
      {"raw NUL byte after the JSON", plainMessageJson("a", "hi") + std::string(1, '\0'),
       WsOpcode::kText, 1007},
      {"raw NUL byte inside a string",
       "{\"username\":\"a\",\"text\":\"x" + std::string(1, '\0') + "y\"}", WsOpcode::kText, 1007},
      {"lone surrogate escape", rawPlainFrame("a", "\\ud800"), WsOpcode::kText, 1007},
      {"lone low surrogate escape", rawPlainFrame("a", "x\\udc00"), WsOpcode::kText, 1007},
      {"invalid UTF-8 in text", rawPlainFrame("a", "\xff\xfe"), WsOpcode::kText, 1007},
      {"overlong UTF-8 encoding", rawPlainFrame("a", "\xc0\xaf"), WsOpcode::kText, 1007},
      {"UTF-8 surrogate bytes", rawPlainFrame("a", "\xed\xa0\x80"), WsOpcode::kText, 1007},
      {"frame of MAX_FRAME_BYTES + 1", paddedPlainFrame(8193), WsOpcode::kText, 1009},
      {"frame of 1 MiB", paddedPlainFrame(kOneMegabyte), WsOpcode::kText, 1009},
      {"binary frame", plainMessageJson("a", "hi"), WsOpcode::kBinary, 1003},
      {"empty binary frame", "", WsOpcode::kBinary, 1003},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto client = connectPlain(gateway, room);
    // The gateway may close before a 1 MiB frame is all sent: a failed send
    // is fine as long as the close comes.
    client->sendFrame(WsFrame{true, 0, c.opcode, true, c.payload});
    std::optional<CloseInfo> closed = client->receiveClose(10s);
    ASSERT_TRUE(closed) << c.what << ": the connection stayed open";
    const CloseInfo& close = *closed;
    EXPECT_EQ(close.code, c.code) << "reason '" << close.reason << "'";
    EXPECT_FALSE(close.reason.empty()) << "every close carries a short reason";
    EXPECT_LE(close.reason.size(), 123u);
    EXPECT_TRUE(client->textsBeforeClose().empty()) << "a plain client gets only messages";
  }
  EXPECT_EQ(storedCount(room), 0) << "no refused frame is stored";

  // The edges that are allowed: 32-character names, 2000-character texts,
  // control characters other than NUL in the text (stored escaped), and a
  // frame of exactly MAX_FRAME_BYTES.
  auto sender = connectPlain(gateway, room);
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {std::string(32, 'u'), "longest name"},
      {"alice", repeat("\xc3\xa9", 2000)},
      {"bob", "tab\tnewline\nbell\x07 end"},
  };
  std::vector<std::string> texts;
  for (const auto& [username, text] : accepted) {
    sendPlain(*sender, username, text);
    texts.push_back(text);
  }
  ASSERT_TRUE(sender->sendText(paddedPlainFrame(8192)));
  texts.push_back("hi");
  expectMessages(*observer, texts);
  EXPECT_EQ(storedCount(room), 4);
  std::vector<std::string> stored = redisClient().strings({"LRANGE", historyKey(room), "0", "-1"});
  for (const std::string& frame : stored)
    EXPECT_EQ(frame.find('\n'), std::string::npos) << "a stored frame is one line: " << frame;

  expectHealthy(gateway);
  auto late = connectPlain(gateway, room);
  expectMessages(*late, texts);  // the history holds the accepted ones only
}

TEST_F(HardeningInputTest, V1ClientsBadFramesGetErrorFramesAndStayOpen) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto observer = connectPlain(gateway, room);
  V1Session vera = joinV1(gateway, room, "vera");

  struct Case {
    std::string what;
    std::string frame;
    std::string code;
    std::string ref;  // echoed in the error, "" for none (a bad but valid UTF-8 ref is echoed)
  };
  const std::vector<Case> cases = {
      {"invalid JSON", "{\"type\":\"message\",", "invalid", ""},
      {"a JSON number", "42", "invalid", ""},
      {"no type", R"({"text":"hi","ref":"r1"})", "invalid", "r1"},
      {"type of the wrong type", R"({"type":1,"text":"hi","ref":"r2"})", "invalid", "r2"},
      {"unknown type", R"({"type":"typing","ref":"r3"})", "invalid", "r3"},
      {"missing text", R"({"type":"message","ref":"r4"})", "invalid", "r4"},
      {"text of the wrong type", R"({"type":"message","text":["hi"],"ref":"r5"})", "invalid", "r5"},
      {"empty text", R"({"type":"message","text":"","ref":"r6"})", "invalid", "r6"},
      {"white space text", R"({"type":"message","text":" \t\u3000 ","ref":"r7"})", "invalid", "r7"},
      {"text of 2001 characters",
       R"({"type":"message","text":")" + repeat("\xe2\x82\xac", 2001) + R"(","ref":"r8"})",
       "invalid", "r8"},
      {"escaped NUL in text", R"({"type":"message","text":"a\u0000","ref":"r9"})", "invalid", "r9"},
      {"raw NUL byte", R"({"type":"message","text":"a","ref":"r10"})" + std::string(1, '\0'),
       "invalid", ""},
      {"ref with a control character", R"({"type":"message","text":"a","ref":"\u0001"})", "invalid",
       "\x01"},
      {"ref over 64 bytes",
       R"({"type":"message","text":"a","ref":")" + std::string(65, 'r') + R"("})", "invalid",
       std::string(65, 'r')},
      {"room of the wrong type", R"({"type":"message","text":"a","room":7,"ref":"r12"})", "invalid",
       "r12"},
      {"bad room name", R"({"type":"join","room":"no spaces please","ref":"r13"})", "invalid",
       "r13"},
      {"room name of 65 characters",
       R"({"type":"join","room":")" + std::string(65, 'r') + R"(","ref":"r14"})", "invalid", "r14"},
      {"since not an integer", R"({"type":"join","room":"x","since":"17","ref":"r15"})", "invalid",
       "r15"},
      {"since past 2^53", R"({"type":"join","room":"x","since":9007199254740993,"ref":"r16"})",
       "invalid", "r16"},
      {"frame of MAX_FRAME_BYTES + 1", paddedV1Frame(8193, "big1"), "too_large", "big1"},
      {"frame of 1 MiB", paddedV1Frame(kOneMegabyte, "big2"), "too_large", "big2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_TRUE(vera.client->send(c.frame)) << vera.client->error();
    std::optional<V1Frame> answer = vera.client->nextOfType("error", 10s);
    ASSERT_TRUE(answer) << c.what << ": " << vera.client->error();
    const V1Frame& error = *answer;
    EXPECT_EQ(error.string("code"), c.code) << error.raw();
    EXPECT_FALSE(error.string("message").value_or("").empty()) << error.raw();
    if (c.ref.empty()) {
      EXPECT_FALSE(error.has("ref")) << error.raw();
    } else {
      EXPECT_EQ(error.string("ref"), c.ref) << error.raw();
    }
  }
  EXPECT_FALSE(vera.client->isClosed()) << "error frames leave the connection open";
  EXPECT_EQ(storedCount(room), 0) << "no refused frame is stored";

  // A bad username in the URL is refused at the handshake.
  for (const std::string& username : {std::string(33, 'u'), std::string("bell%07")}) {
    V1Client refused;
    EXPECT_FALSE(refused.connect(gateway.port(), v1Target(room, username)));
    EXPECT_EQ(refused.ws().handshake().status, 400) << username;
  }

  // Binary frames close with 1003 and invalid UTF-8 with 1007 (RFC 6455).
  V1Session binary = joinV1(gateway, room, "bin");
  binary.client->ws().sendBinary(std::string(100, '\x01'));
  CloseInfo close = expectClose(binary.client->ws());
  EXPECT_EQ(close.code, 1003);
  EXPECT_FALSE(close.reason.empty());
  V1Session utf8 = joinV1(gateway, room, "utf");
  utf8.client->send("{\"type\":\"message\",\"text\":\"\xf8\x88\x80\x80\x80\",\"ref\":\"u\"}");
  close = expectClose(utf8.client->ws());
  EXPECT_EQ(close.code, 1007);
  EXPECT_FALSE(close.reason.empty());

  // Vera's connection still works, and the observer sees just her message.
  V1Ack ack = sendAndAck(*vera.client, "still here", "ok");
  EXPECT_EQ(ack.id, 1);
  expectMessages(*observer, {"still here"});
  EXPECT_EQ(storedCount(room), 1);
  expectHealthy(gateway);
}

// A JSON escape of a lone surrogate (\udc00) in a frame of valid UTF-8: the
// frame passes RFC 6455's UTF-8 check, and the text breaks the rules of
// section 3, so a v1 client gets error `invalid` and stays open (1007 is for
// invalid UTF-8 in the frame itself). A plain client is closed with 1007
// either way.
TEST_F(HardeningInputTest, V1TextWithALoneSurrogateEscapeGetsInvalidAndStaysOpen) {
  GatewayProcess& gateway = startGateway(v1Env());
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  V1Session vera = joinV1(gateway, room, "vera");
  for (const std::string escape : {"\\udc00", "\\udfff", "a\\udc00b"}) {
    SCOPED_TRACE(escape);
    ASSERT_TRUE(vera.client->send(R"({"type":"message","text":")" + escape + R"(","ref":"s1"})"));
    std::optional<V1Frame> error = vera.client->nextOfType("error", 10s);
    ASSERT_TRUE(error) << "the gateway answered " << vera.client->error();
    EXPECT_EQ(error->string("code"), "invalid") << error->raw();
    EXPECT_EQ(error->string("ref"), "s1") << error->raw();
  }
  EXPECT_EQ(sendAndAck(*vera.client, "still open", "ok").id, 1);
  EXPECT_EQ(storedCount(room), 1);
}

// RATE_LIMIT 0.1/s (the smallest) and RATE_BURST 5: a fresh connection may
// send 5 frames; within the few seconds of this test it earns no more.
const EnvVars kTightRateLimit = {{"RATE_LIMIT", "0.1"}, {"RATE_BURST", "5"}};
constexpr int kBurst = 5;

TEST_F(HardeningInputTest, PlainFloodIsDroppedPastTheBurstAndClosedWith1008) {
  GatewayProcess& gateway = startGateway(kTightRateLimit);
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto observer = connectPlain(gateway, room);
  auto flooder = connectPlain(gateway, room);

  // The burst is stored; the next 2 * burst - 1 are dropped without a word.
  for (int i = 1; i < 3 * kBurst; ++i)
    sendPlain(*flooder, "flood", "f" + std::to_string(i));
  std::vector<std::string> burst;
  for (int i = 1; i <= kBurst; ++i)
    burst.push_back("f" + std::to_string(i));
  for (const std::string& text : burst)
    EXPECT_EQ(receiveMessage(*flooder).text, text) << "the flooder's own echoes";
  EXPECT_FALSE(flooder->receive(300ms)) << "a dropped frame gets no answer; still open";

  // The 2 * burst-th refusal in a row closes it.
  sendPlain(*flooder, "flood", "the last straw");
  CloseInfo close = expectClose(*flooder);
  EXPECT_EQ(close.code, 1008);
  EXPECT_FALSE(close.reason.empty());

  auto other = connectPlain(gateway, room);
  for (const std::string& text : burst)
    EXPECT_EQ(receiveMessage(*other).text, text) << "history";
  sendPlain(*other, "calm", "after the flood");
  burst.push_back("after the flood");
  expectMessages(*observer, burst);
  EXPECT_EQ(storedCount(room), kBurst + 1) << "dropped frames are not stored";
  expectHealthy(gateway);
}

TEST_F(HardeningInputTest, V1FloodGetsRateLimitedThenClosedWith1008) {
  GatewayProcess& gateway = startGateway(kTightRateLimit);
  ASSERT_TRUE(gateway.waitReady());
  const std::string room = uniqueRoom();
  auto observer = connectPlain(gateway, room);
  V1Session flooder = joinV1(gateway, room, "flooder");

  for (int i = 1; i < 3 * kBurst; ++i)
    ASSERT_TRUE(flooder.client->sendMessage("f" + std::to_string(i), "f" + std::to_string(i)));
  std::vector<std::string> burst;
  for (int i = 1; i < 3 * kBurst; ++i) {
    const std::string ref = "f" + std::to_string(i);
    if (i <= kBurst) {
      EXPECT_EQ(expectAck(*flooder.client, ref).id, i);
      burst.push_back(ref);
      continue;
    }
    V1Frame error = expectMatching(
        *flooder.client,
        [&ref](const V1Frame& f) { return f.type() == "error" && f.string("ref") == ref; },
        "the refusal of " + ref);
    EXPECT_EQ(error.string("code"), "rate_limited") << error.raw();
  }
  // Every frame so far was answered, so 2 * burst - 1 refusals leave it open.
  EXPECT_FALSE(flooder.client->isClosed());

  ASSERT_TRUE(flooder.client->sendMessage("the last straw", "last"));
  CloseInfo close = expectClose(flooder.client->ws());
  EXPECT_EQ(close.code, 1008);
  EXPECT_FALSE(close.reason.empty());

  V1Session calm = joinV1(gateway, room, "calm");
  EXPECT_EQ(calm.join.history.size(), burst.size()) << "the burst, and nothing after it";
  sendAndAck(*calm.client, "after the flood", "calm1");
  burst.push_back("after the flood");
  expectMessages(*observer, burst);
  EXPECT_EQ(storedCount(room), kBurst + 1) << "refused frames are not stored";
  expectHealthy(gateway);
}

}  // namespace
}  // namespace chat::testing
