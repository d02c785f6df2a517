// Hardening: a gateway going away (docs/protocol.md section 8). On SIGTERM every
// client of it gets 1001 ("going away"), even one that never answers, and it
// exits 0 within SHUTDOWN_TIMEOUT while the other gateway of the room carries
// on. On SIGKILL its clients just lose the connection; the other gateway does
// not notice anything but the missing users, whose presence ends within
// PRESENCE_TTL plus a refresh.

#include <signal.h>

#include <iostream>
#include <set>

#include "http_client.h"
#include "socket_swarm.h"
#include "v1_helpers.h"
#include "ws_handshake.h"

namespace chat::testing {
namespace {

class HardeningShutdownTest : public GatewayTest {};

// A plain client that completes its handshake and then neither reads nor
// answers anything: the drain may not wait for it beyond SHUTDOWN_TIMEOUT.
void connectSilent(SocketSwarm& swarm, const GatewayProcess& gateway, const std::string& room) {
  ASSERT_EQ(swarm.open(gateway.port(), 1, Deadline(5s)), 1u);
  HandshakeRequest request;
  request.host = "127.0.0.1:" + std::to_string(gateway.port());
  request.target = plainTarget(room);
  request.key = makeWebSocketKey();
  ASSERT_TRUE(swarm.sendTo(0, buildHandshakeRequest(request), Deadline(5s)));
  ASSERT_EQ(swarm.readUntilAll("\r\n\r\n", Deadline(5s)), 1u);
  ASSERT_EQ(swarm.input(0).rfind("HTTP/1.1 101", 0), 0u) << swarm.input(0);
  swarm.mutableInput(0).erase(0, swarm.input(0).find("\r\n\r\n") + 4);
}

TEST_F(HardeningShutdownTest, SigtermClosesClientsWith1001AndExitsWithinShutdownTimeout) {
  constexpr auto kShutdownTimeout = 3s;
  constexpr auto kExitGrace = 1500ms;  // process exit after the drain's deadline
  EnvVars env = v1Env({{"SHUTDOWN_TIMEOUT", "3"}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();

  auto plainOnA = connectPlain(a, room);
  V1Session v1OnA = joinV1(a, room, "anna");
  SocketSwarm silentOnA;
  connectSilent(silentOnA, a, room);
  auto plainOnB = connectPlain(b, room);
  V1Session v1OnB = joinV1(b, room, "bert");
  sendAndAck(*v1OnA.client, "before", "x1");
  ASSERT_EQ(receiveMessage(*plainOnB).text, "before");

  const auto signalled = Clock::now();
  ASSERT_EQ(::kill(a.pid(), SIGTERM), 0);

  CloseInfo plainClose = expectClose(*plainOnA);
  EXPECT_EQ(plainClose.code, 1001) << plainClose.reason;
  EXPECT_FALSE(plainClose.reason.empty());
  CloseInfo v1Close = expectClose(v1OnA.client->ws());
  EXPECT_EQ(v1Close.code, 1001) << v1Close.reason;

  const bool exited =
      waitFor([&] { return !a.isRunning(); }, kShutdownTimeout + kExitGrace + 5s, 10ms);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - signalled);
  ASSERT_TRUE(exited) << "gw-a still runs " << took.count() << " ms after SIGTERM";
  std::cout << "gw-a exited " << took.count() << " ms after SIGTERM\n";
  ASSERT_TRUE(a.exitStatus());
  EXPECT_TRUE(a.exitStatus()->success()) << a.exitStatus()->describe();
  EXPECT_LE(took, kShutdownTimeout + kExitGrace)
      << "SHUTDOWN_TIMEOUT is 3 s, with a client that never answers the close";

  // The silent client finds 1001 in what it was sent.
  silentOnA.readUntilAll(std::string(1, '\x88'), Deadline(2s));
  const std::string& rest = silentOnA.input(0);
  std::optional<CloseInfo> silentClose;
  for (std::string_view input = rest; !input.empty();) {
    FrameDecodeResult decoded = decodeFrame(input, 1 << 20);
    if (decoded.status != FrameDecodeStatus::kComplete) break;
    input.remove_prefix(decoded.consumed);
    if (decoded.frame.opcode == WsOpcode::kClose)
      silentClose = parseClosePayload(decoded.frame.payload);
  }
  ASSERT_TRUE(silentClose) << "no close frame for the client that never read";
  EXPECT_EQ(silentClose->code, 1001);

  // The other gateway carries on.
  EXPECT_EQ(httpGet(b.port(), "/readyz").status, 200);
  V1Ack ack = sendAndAck(*v1OnB.client, "after", "y1");
  EXPECT_EQ(ack.id, 2);
  EXPECT_EQ(receiveMessage(*plainOnB).text, "after");
  auto newcomer = connectPlain(b, room);
  EXPECT_EQ(receiveMessage(*newcomer).text, "before");
  EXPECT_EQ(receiveMessage(*newcomer).text, "after");
}

// A drain under steady traffic: from the signal on new sends are refused
// (unavailable) or, once the close is decided, dropped unanswered; those in
// flight are acked; the leave reaches the other gateway at once (not after
// PRESENCE_TTL); the client gets 1001. Nothing acked is missing from history
// and nothing refused is in it.
TEST_F(HardeningShutdownTest, DrainUnderSteadyTrafficRefusesNewSendsAndClosesCleanly) {
  EnvVars env = v1Env({{"SHUTDOWN_TIMEOUT", "8"}, {"PRESENCE_TTL", "30"}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();
  V1Session sender = joinV1(a, room, "steady");
  V1Session watcher = joinV1(b, room, "watcher");

  std::set<std::string> acked;
  std::set<std::string> refused;
  const auto take = [&](const V1Frame& frame) {
    if (frame.type() == "ack") acked.insert(frame.string("ref").value_or(""));
    if (frame.type() == "error" && frame.string("code") == "unavailable")
      refused.insert(frame.string("ref").value_or(""));
  };
  // A send every few milliseconds, the signal after the 30th, until the
  // gateway closes the connection.
  Deadline deadline(15s);
  for (int sent = 1; sent <= 2000 && !sender.client->closeInfo() && !deadline.expired(); ++sent) {
    if (sent == 30) {
      ASSERT_EQ(::kill(a.pid(), SIGTERM), 0);
    }
    if (!sender.client->sendMessage("tick " + std::to_string(sent), "s" + std::to_string(sent)))
      break;
    // Stores stay in flight all along: the drain must not wait for a pause.
    if (sent % 4 != 0) continue;
    const Deadline slice(2ms);
    while (std::optional<V1Frame> frame = sender.client->next(slice))
      take(*frame);
  }
  while (std::optional<V1Frame> frame = sender.client->next(Deadline(10s)))
    take(*frame);
  ASSERT_TRUE(sender.client->closeInfo()) << "no close within 10 s of the last send";
  const CloseInfo* close = &*sender.client->closeInfo();
  EXPECT_EQ(close->code, 1001) << close->reason;
  EXPECT_GE(acked.size(), 1u) << "the sends before the signal were stored";
  const ExitStatus stopped = a.stop();
  EXPECT_TRUE(stopped.success()) << stopped.describe();

  V1Frame leave = expectMatching(
      *watcher.client,
      [](const V1Frame& f) {
        return f.type() == "presence" && f.string("event") == "leave" &&
               f.string("username") == "steady";
      },
      "steady's presence leave, sent before its gateway exited", 5s);

  // Everything acked is stored, and nothing refused is.
  const auto stored = parseMessageArray(
      httpGet(b.port(), "/api/rooms/" + room + "/messages?since=0&limit=1000").body);
  std::set<std::string> texts;
  for (const auto& m : stored)
    texts.insert(m.text);
  for (const auto& ref : acked)
    EXPECT_EQ(texts.count("tick " + ref.substr(1)), 1u) << ref;
  for (const auto& ref : refused)
    EXPECT_EQ(texts.count("tick " + ref.substr(1)), 0u) << ref;
}

TEST_F(HardeningShutdownTest, SigkillLeavesTheOtherGatewayUnaffected) {
  EnvVars env = v1Env({{"PRESENCE_TTL", "2"}});
  GatewayProcess& a = startGateway(env, "gw-a");
  GatewayProcess& b = startGateway(env, "gw-b");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  const std::string room = uniqueRoom();

  auto plainOnA = connectPlain(a, room);
  V1Session v1OnA = joinV1(a, room, "anna");
  V1Session v1OnB = joinV1(b, room, "bert");
  auto plainOnB = connectPlain(b, room);
  sendAndAck(*v1OnA.client, "before", "x1");
  ASSERT_EQ(receiveMessage(*plainOnB).text, "before");

  a.kill();
  const auto killed = Clock::now();
  EXPECT_EQ(expectClose(*plainOnA).code, 1006) << "no close frame from a killed process";
  EXPECT_EQ(expectClose(v1OnA.client->ws()).code, 1006);

  EXPECT_EQ(httpGet(b.port(), "/readyz").status, 200);
  for (int i = 1; i <= 20; ++i) {
    V1Ack ack = sendAndAck(*v1OnB.client, "after " + std::to_string(i), "y" + std::to_string(i));
    EXPECT_EQ(ack.id, i + 1);
    EXPECT_EQ(receiveMessage(*plainOnB).text, "after " + std::to_string(i));
  }
  auto newcomer = connectPlain(b, room);
  EXPECT_EQ(receiveMessage(*newcomer).text, "before");

  // anna's presence ends though her gateway could not say so: within
  // PRESENCE_TTL (2 s) plus a refresh interval (at most the TTL), with margin.
  V1Frame leave = expectMatching(
      *v1OnB.client,
      [](const V1Frame& f) {
        return f.type() == "presence" && f.string("event") == "leave" &&
               f.string("username") == "anna";
      },
      "anna's presence leave", 10s);
  const auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
  EXPECT_LE(after, 6000ms) << "PRESENCE_TTL 2 s: " << leave.raw();
}

}  // namespace
}  // namespace chat::testing
