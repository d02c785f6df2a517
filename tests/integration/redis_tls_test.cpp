// rediss://: the gateway reaches a redis-server that speaks TLS only on its TLS
// port, through the in-process TLS tunnel. Certificates are made by openssl in
// the test's temp dir; the server's plain port stays on loopback for the test
// to inspect what was stored.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "gateway_test.h"
#include "http_client.h"
#include "ports.h"
#include "process.h"
#include "redis_client.h"
#include "temp_dir.h"
#include "wait.h"

namespace chat::testing {
namespace {

class RedisTlsTest : public GatewayTest {
 protected:
  void SetUp() override {
    const auto dir = certs_.path();
    run({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", dir / "ca.key", "-out", dir / "ca.crt", "-days", "2", "-subj",
         "/CN=chat-test-ca"});
    run({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         dir / "server.key", "-out", dir / "server.csr", "-subj", "/CN=localhost"});
    {
      std::FILE* ext = std::fopen((dir / "san.cnf").c_str(), "w");
      std::fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\n", ext);
      std::fclose(ext);
    }
    run({"x509", "-req", "-in", dir / "server.csr", "-CA", dir / "ca.crt", "-CAkey", dir / "ca.key",
         "-CAcreateserial", "-out", dir / "server.crt", "-days", "2", "-extfile", dir / "san.cnf"});

    plainPort_ = findFreePort();
    tlsPort_ = findFreePort();
    ProcessOptions options;
    options.executable = "redis-server";
    options.args = {"--port",
                    std::to_string(plainPort_),
                    "--bind",
                    "127.0.0.1",
                    "--tls-port",
                    std::to_string(tlsPort_),
                    "--tls-cert-file",
                    dir / "server.crt",
                    "--tls-key-file",
                    dir / "server.key",
                    "--tls-ca-cert-file",
                    dir / "ca.crt",
                    "--tls-auth-clients",
                    "no",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir.string()};
    options.workingDir = dir;
    options.logDir = dir;
    options.name = "redis-tls";
    redis_ = std::make_unique<Process>(options);
    ASSERT_TRUE(waitFor(
        [&] {
          try {
            return RedisClient(plainPort_).command({"PING"}).str == "PONG";
          } catch (const std::exception&) {
            return false;
          }
        },
        10s))
        << redis_->readStdout();
  }

  void run(std::vector<std::string> args) {
    ProcessOptions options;
    options.executable = "openssl";
    options.args = std::move(args);
    options.workingDir = certs_.path();
    options.logDir = certs_.path();
    options.name = "openssl";
    Process openssl(options);
    ASSERT_TRUE(waitFor([&] { return !openssl.isRunning(); }, 30s)) << "openssl hangs";
    ASSERT_TRUE(openssl.exitStatus() && openssl.exitStatus()->success()) << openssl.readStderr();
  }

  std::string tlsUrl() const { return "rediss://127.0.0.1:" + std::to_string(tlsPort_); }
  std::string caFile() const { return (certs_.path() / "ca.crt").string(); }

  TempDir certs_{"chat-tls"};
  std::uint16_t plainPort_ = 0;
  std::uint16_t tlsPort_ = 0;
  std::unique_ptr<Process> redis_;
};

TEST_F(RedisTlsTest, MessagesFlowOverTlsWithTheGivenCa) {
  GatewayProcess& gateway = startGatewayOn(tlsUrl(), {{"REDIS_TLS_CA", caFile()}});
  ASSERT_TRUE(gateway.waitReady()) << gateway.readStderr();
  const std::string room = uniqueRoom();
  auto alice = connectPlain(gateway, room);
  sendPlain(*alice, "alice", "over tls");
  const ChatMessage message = receiveMessage(*alice);
  EXPECT_EQ(message.text, "over tls");
  EXPECT_EQ(message.id, 1u);
  const auto stored = RedisClient(plainPort_).command({"LLEN", historyKey(room)});
  EXPECT_EQ(stored.integer, 1) << "stored through the TLS port";
}

TEST_F(RedisTlsTest, AnUntrustedCertificateKeepsTheGatewayUnready) {
  GatewayProcess& gateway = startGatewayOn(tlsUrl());
  ASSERT_TRUE(waitFor(
      [&] { return gateway.readStderr().find("event=redis_tls_failed") != std::string::npos; },
      10s))
      << gateway.readStderr();
  EXPECT_NE(gateway.readStderr().find("self-signed certificate"), std::string::npos);
  EXPECT_EQ(httpGet(gateway.port(), "/readyz").status, 503);
}

TEST_F(RedisTlsTest, VerificationCanBeTurnedOffForHerokuRedis) {
  GatewayProcess& gateway = startGatewayOn(tlsUrl(), {{"REDIS_TLS_VERIFY", "none"}});
  ASSERT_TRUE(gateway.waitReady()) << gateway.readStderr();
  auto bob = connectPlain(gateway, uniqueRoom());
  sendPlain(*bob, "bob", "unverified but encrypted");
  EXPECT_EQ(receiveMessage(*bob).text, "unverified but encrypted");
}

}  // namespace
}  // namespace chat::testing
