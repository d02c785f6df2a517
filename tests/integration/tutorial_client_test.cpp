// The tutorial's chat page (tests/tutorial/index.html) keeps working unmodified
// (docs/protocol.md section 2): the gateway serves it, and a WebSocket client that
// does exactly what its script does — connect to /websocket with no
// subprotocol and no query, send {"username","text"}, render every frame as
// "username: text" — chats with another one.

#include <filesystem>

#include "gateway_test.h"
#include "http_client.h"

namespace chat::testing {
namespace {

class TutorialClientTest : public GatewayTest {};

const std::filesystem::path kTutorialDir = CHAT_TUTORIAL_DIR;

// What the page's onmessage does with a frame; fails when it could not.
std::string render(const std::string& frame) {
  std::optional<JsonObject> json = JsonObject::parse(frame);
  if (!json) {
    ADD_FAILURE() << "JSON.parse would throw on: " << frame;
    return {};
  }
  std::optional<std::string> username = json->string("username");
  std::optional<std::string> text = json->string("text");
  EXPECT_TRUE(username) << "no string username in " << frame;
  EXPECT_TRUE(text) << "no string text in " << frame;
  return username.value_or("undefined") + ": " + text.value_or("undefined");
}

// Connects as the page's `new WebSocket("ws://" + location.host + "/websocket")`
// would from a page served by this gateway: same-origin Origin, no protocol.
std::unique_ptr<WsClient> connectLikeTheTutorialPage(const GatewayProcess& gateway) {
  auto client = std::make_unique<WsClient>();
  WsConnectOptions options;
  options.headers = {{"Origin", "http://127.0.0.1:" + std::to_string(gateway.port())}};
  if (!client->connect(gateway.port(), "/websocket", options)) {
    throw std::runtime_error("the tutorial page could not connect: " + client->error() + " " +
                             client->handshake().body);
  }
  if (!client->subprotocol().empty()) {
    throw std::runtime_error("the gateway chose subprotocol '" + client->subprotocol() +
                             "' that the page never asked for: a browser fails the connection");
  }
  return client;
}

TEST_F(TutorialClientTest, GatewayServesThePage) {
  GatewayProcess& gateway = startGateway({{"STATIC_DIR", kTutorialDir.string()}});
  ASSERT_TRUE(gateway.waitReady());
  HttpResponse page = httpGet(gateway.port(), "/");
  ASSERT_EQ(page.status, 200) << page.error;
  EXPECT_EQ(page.header("content-type").rfind("text/html", 0), 0u) << page.header("content-type");
  EXPECT_EQ(page.body, readFile(kTutorialDir / "index.html"));
  // The script the rest of this file imitates.
  EXPECT_NE(page.body.find("new WebSocket(\"ws://\" + location.host + \"/websocket\")"),
            std::string::npos);
  EXPECT_NE(page.body.find("JSON.stringify({username: username.value, text: text.value})"),
            std::string::npos);
  EXPECT_NE(page.body.find("msg.username + \": \" + msg.text"), std::string::npos);
}

TEST_F(TutorialClientTest, TwoTutorialClientsChat) {
  GatewayProcess& gateway = startGateway({{"STATIC_DIR", kTutorialDir.string()}});
  ASSERT_TRUE(gateway.waitReady());
  auto alice = connectLikeTheTutorialPage(gateway);
  auto bob = connectLikeTheTutorialPage(gateway);

  ASSERT_TRUE(alice->sendText(R"({"username":"alice","text":"hi bob"})")) << alice->error();
  for (WsClient* client : {alice.get(), bob.get()}) {
    std::optional<std::string> frame = client->receiveText(10s);
    ASSERT_TRUE(frame) << client->error();
    EXPECT_EQ(render(*frame), "alice: hi bob");
  }
  ASSERT_TRUE(bob->sendText(R"({"username":"bob","text":"hello alice"})")) << bob->error();
  for (WsClient* client : {alice.get(), bob.get()}) {
    std::optional<std::string> frame = client->receiveText(10s);
    ASSERT_TRUE(frame) << client->error();
    EXPECT_EQ(render(*frame), "bob: hello alice");
  }
  // Enter on an empty box sends an empty text: nothing is rendered, nobody is
  // disconnected, and a page opened later renders the same conversation.
  ASSERT_TRUE(alice->sendText(R"({"username":"alice","text":""})")) << alice->error();
  auto carol = connectLikeTheTutorialPage(gateway);
  for (const char* expected : {"alice: hi bob", "bob: hello alice"}) {
    std::optional<std::string> frame = carol->receiveText(10s);
    ASSERT_TRUE(frame) << carol->error();
    EXPECT_EQ(render(*frame), expected);
  }
  ASSERT_TRUE(alice->sendText(R"({"username":"alice","text":"welcome carol"})")) << alice->error();
  for (WsClient* client : {alice.get(), bob.get(), carol.get()}) {
    std::optional<std::string> frame = client->receiveText(10s);
    ASSERT_TRUE(frame) << client->error();
    EXPECT_EQ(render(*frame), "alice: welcome carol");
  }
}

}  // namespace
}  // namespace chat::testing
