// The harness itself, with real processes and sockets: children are stopped by
// PID with escalation, sanitizer reports are noticed, Redis restarts on its
// port. No gateway needed.

#include <filesystem>
#include <fstream>

#include "gateway_test.h"
#include "ports.h"
#include "process.h"
#include "temp_dir.h"
#include "wait.h"

namespace chat::testing {
namespace {

ProcessOptions shell(const std::string& script, const TempDir& dir) {
  ProcessOptions options;
  options.executable = "/bin/sh";
  options.args = {"-c", script};
  options.workingDir = dir.path();
  options.logDir = dir.path();
  options.name = "sh";
  return options;
}

TEST(HarnessTest, StopEscalatesToSigkillWhenSigtermIsIgnored) {
  TempDir dir;
  // SIG_IGN survives exec, so sleep itself ignores SIGTERM.
  Process child(shell("trap '' TERM; echo ready; exec sleep 600", dir));
  ASSERT_TRUE(waitFor([&] { return child.readStdout() == "ready\n"; }, 10s));
  EXPECT_TRUE(child.isRunning());
  ExitStatus status = child.stop(SIGTERM, 300ms);
  EXPECT_FALSE(status.exited);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_TRUE(status.killedAfterTimeout);
  EXPECT_FALSE(child.isRunning());
}

TEST(HarnessTest, ReportsExitCodesEnvironmentAndOutput) {
  TempDir dir;
  ProcessOptions options = shell("echo \"out $CHAT_TEST_VALUE $(pwd)\"; echo err >&2; exit 3", dir);
  options.env = {{"CHAT_TEST_VALUE", "42"}};
  Process child(options);
  ASSERT_TRUE(waitFor([&] { return !child.isRunning(); }, 10s));
  EXPECT_TRUE(child.exitStatus()->exited);
  EXPECT_EQ(child.exitStatus()->code, 3);
  EXPECT_EQ(child.readStdout(), "out 42 " + dir.path().string() + "\n");
  EXPECT_EQ(child.readStderr(), "err\n");
  EXPECT_FALSE(child.hasSanitizerReport());
}

TEST(HarnessTest, NoticesASanitizerReportOnStderr) {
  TempDir dir;
  Process child(shell("echo '==7==ERROR: AddressSanitizer: heap-use-after-free' >&2", dir));
  ASSERT_TRUE(waitFor([&] { return !child.isRunning(); }, 10s));
  EXPECT_TRUE(child.hasSanitizerReport());
}

TEST(HarnessTest, MissingExecutableThrows) {
  TempDir dir;
  ProcessOptions options = shell("", dir);
  options.executable = dir.path().string() + "/no-such-binary";
  EXPECT_THROW(Process child(options), std::runtime_error);
}

TEST(HarnessTest, TempDirIsRemovedWithItsContent) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    std::filesystem::create_directories(path / "a" / "b");
    { std::ofstream(path / "a" / "b" / "f") << "x"; }
    EXPECT_TRUE(std::filesystem::exists(path / "a" / "b" / "f"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(HarnessTest, RedisServerAnswersRestartsOnItsPortAndStops) {
  RedisServer redis;
  RedisClient client = redis.client();
  EXPECT_EQ(client.integer({"RPUSH", "list", "a", "b"}), 2);
  EXPECT_EQ(client.strings({"LRANGE", "list", "0", "-1"}), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(client.command({"NOSUCHCOMMAND"}).isError());
  const std::uint16_t port = redis.port();
  EXPECT_EQ(redis.url(), "redis://127.0.0.1:" + std::to_string(port));

  redis.kill();
  EXPECT_FALSE(redis.isRunning());
  redis.restart();
  EXPECT_EQ(redis.port(), port);
  EXPECT_EQ(redis.client().integer({"LLEN", "list"}), 0) << "no persistence";
  EXPECT_TRUE(redis.stop().success());
}

TEST(HarnessTest, RedisServerOnATakenPortFails) {
  RedisServer first;
  EXPECT_THROW(RedisServer second(first.port()), std::runtime_error);
}

}  // namespace
}  // namespace chat::testing
