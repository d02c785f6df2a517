// The HTTP side of the gateway (docs/protocol.md section 1): static files, health,
// and requests to /websocket that are not WebSocket handshakes.

#include <signal.h>

#include <filesystem>

#include "gateway_test.h"
#include "http_client.h"
#include "socket_swarm.h"
#include "tcp_socket.h"
#include "wait.h"

namespace chat::testing {
namespace {

class HttpEndpointsTest : public GatewayTest {};

const std::filesystem::path kFrontendDir = CHAT_FRONTEND_DIR;

// A plain client can still join, send and receive on `gateway`.
void expectChatStillWorks(GatewayProcess& gateway, const std::string& room) {
  auto client = connectPlain(gateway, room);
  sendPlain(*client, "alice", "still here");
  ChatMessage echo = receiveMessage(*client);
  EXPECT_EQ(echo.text, "still here");
}

TEST_F(HttpEndpointsTest, PlainGetOnWebsocketGets400AndTheGatewayCarriesOn) {
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());

  HttpResponse response = httpGet(gateway.port(), "/websocket");
  ASSERT_EQ(response.error, "");
  // docs/protocol.md allows 426 Upgrade Required as well.
  EXPECT_TRUE(response.status == 400 || response.status == 426)
      << "GET /websocket without Upgrade got " << response.status << " " << response.reason;

  HttpResponse health = httpGet(gateway.port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  expectChatStillWorks(gateway, uniqueRoom());
}

TEST_F(HttpEndpointsTest, BrokenHandshakesAreRefusedAndTheGatewayCarriesOn) {
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());
  const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  const std::vector<std::string> requests = {
      // No Sec-WebSocket-Key.
      "GET /websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" + upgrade +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      // A version nobody supports.
      "GET /websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n" + upgrade +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request);
    TcpSocket socket;
    Deadline deadline(5s);
    ASSERT_TRUE(socket.connect(gateway.port(), deadline)) << socket.lastError();
    ASSERT_EQ(socket.sendAll(request, deadline), IoResult::kOk);
    HttpResponse response = readResponse(socket, deadline, false);
    EXPECT_GE(response.status, 400)
        << "a broken handshake must not be accepted: " << response.status << " " << response.error;
  }
  HttpResponse health = httpGet(gateway.port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  expectChatStillWorks(gateway, uniqueRoom());
}

TEST_F(HttpEndpointsTest, ServesTheFrontendAndHealth) {
  // No STATIC_DIR: the gateway's default is the frontend it was built with.
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());

  HttpResponse index = httpGet(gateway.port(), "/");
  ASSERT_EQ(index.status, 200) << index.error;
  EXPECT_EQ(index.header("content-type").rfind("text/html", 0), 0u)
      << "content-type: " << index.header("content-type");
  EXPECT_EQ(index.body, readFile(kFrontendDir / "index.html"));

  HttpResponse script = httpGet(gateway.port(), "/app.js");
  ASSERT_EQ(script.status, 200) << script.error;
  EXPECT_EQ(script.header("content-type").rfind("text/javascript", 0), 0u)
      << "content-type: " << script.header("content-type");
  EXPECT_EQ(script.body, readFile(kFrontendDir / "app.js"));

  HttpResponse missing = httpGet(gateway.port(), "/no-such-file.html");
  EXPECT_EQ(missing.status, 404) << missing.error;

  HttpResponse health = httpGet(gateway.port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  std::string body = health.body;
  if (!body.empty() && body.back() == '\n') body.pop_back();
  EXPECT_EQ(body, "ok");
}

TEST_F(HttpEndpointsTest, StaticFilesStayInsideTheStaticDir) {
  GatewayProcess& gateway = startGateway();
  ASSERT_TRUE(gateway.waitReady());
  for (const std::string target :
       {"/../CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e/CMakeLists.txt",
        "/../../../../../../etc/passwd", "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"}) {
    HttpResponse response = httpGet(gateway.port(), target);
    EXPECT_NE(response.status, 200) << target << " was served:\n" << response.body.substr(0, 200);
    EXPECT_EQ(response.body.find("root:"), std::string::npos) << target;
    EXPECT_EQ(response.body.find("cmake_minimum_required"), std::string::npos) << target;
  }
  HttpResponse health = httpGet(gateway.port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
}

}  // namespace
}  // namespace chat::testing

namespace chat::testing {
namespace {

// API requests waiting for Redis are bounded per process: with Redis stopped
// (every GET waits), the 65th gets 429 at once instead of piling up.
TEST_F(HttpEndpointsTest, ApiRequestsInFlightAreCappedWith429) {
  GatewayProcess& gateway = startGateway({{"WORKERS", "1"}, {"REDIS_TIMEOUT", "20"}});
  ASSERT_TRUE(gateway.waitReady());
  const std::string target = "/api/rooms/" + uniqueRoom() + "/messages";
  ASSERT_EQ(::kill(redis().pid(), SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{redis().pid()};

  // 65 at once: whichever comes last finds 64 waiting and gets 429.
  constexpr std::size_t kInFlight = 64;
  SocketSwarm clients;
  ASSERT_EQ(clients.open(gateway.port(), kInFlight + 1, Deadline(5s)), kInFlight + 1);
  ASSERT_EQ(clients.sendToAll("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n", Deadline(5s)),
            kInFlight + 1);
  // The 64 others stay unanswered while Redis is stopped: this waits out its deadline.
  EXPECT_EQ(clients.readUntilAll("HTTP/1.1 429", Deadline(3s)), 1u);

  ASSERT_EQ(::kill(redis().pid(), SIGCONT), 0);
  // The waiting ones are answered, and the cap frees up.
  EXPECT_EQ(clients.readUntilAll("HTTP/1.1 200", Deadline(10s)), kInFlight);
  EXPECT_EQ(httpGet(gateway.port(), target).status, 200);
}

}  // namespace
}  // namespace chat::testing
