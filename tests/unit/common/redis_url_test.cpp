// REDIS_URL parsing (common/config/redis_url.h, docs/protocol.md section 7).

#include "config/redis_url.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

namespace chat::common {
namespace {

RedisEndpoint parseOk(std::string_view url) {
  auto r = parseRedisUrl(url);
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << url << " refused: " << *err;
    return {};
  }
  return std::get<RedisEndpoint>(r);
}

std::string parseError(std::string_view url) {
  auto r = parseRedisUrl(url);
  if (std::holds_alternative<RedisEndpoint>(r)) {
    ADD_FAILURE() << url << " accepted";
    return {};
  }
  return std::get<std::string>(r);
}

// --------------------------------------------------------------- good URLs

TEST(RedisUrlTest, HostAndPort) {
  const auto ep = parseOk("redis://127.0.0.1:6379");
  EXPECT_FALSE(ep.unixSocket);
  EXPECT_FALSE(ep.tls);
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(ep.username, "");
  EXPECT_EQ(ep.password, "");
  EXPECT_EQ(ep.db, 0);
  EXPECT_EQ(ep.path, "");
}

TEST(RedisUrlTest, HostNameAndOtherPort) {
  const auto ep = parseOk("redis://redis.internal.example.com:16379");
  EXPECT_EQ(ep.host, "redis.internal.example.com");
  EXPECT_EQ(ep.port, 16379);
}

TEST(RedisUrlTest, PortDefaultsTo6379) {
  const auto ep = parseOk("redis://localhost");
  EXPECT_EQ(ep.host, "localhost");
  EXPECT_EQ(ep.port, 6379);
  EXPECT_EQ(parseOk("rediss://cache.example.com").port, 6379);
  EXPECT_EQ(parseOk("redis://localhost/3").port, 6379);
}

TEST(RedisUrlTest, PortRange) {
  EXPECT_EQ(parseOk("redis://h:1").port, 1);
  EXPECT_EQ(parseOk("redis://h:65535").port, 65535);
}

TEST(RedisUrlTest, UserAndPassword) {
  const auto ep = parseOk("redis://default:s3cret@db.example.com:6380");
  EXPECT_EQ(ep.username, "default");
  EXPECT_EQ(ep.password, "s3cret");
  EXPECT_EQ(ep.host, "db.example.com");
  EXPECT_EQ(ep.port, 6380);
}

TEST(RedisUrlTest, PasswordOnly) {
  const auto withColon = parseOk("redis://:s3cret@h:6379");
  EXPECT_EQ(withColon.username, "");
  EXPECT_EQ(withColon.password, "s3cret");
  const auto bare = parseOk("redis://s3cret@h:6379");
  EXPECT_EQ(bare.username, "");
  EXPECT_EQ(bare.password, "s3cret");
}

TEST(RedisUrlTest, PercentEscapesInUserAndPassword) {
  const auto ep = parseOk("redis://us%65r%3Aname:p%40ss%3Aw%2Fo%25rd%23@h:6379");
  EXPECT_EQ(ep.username, "user:name");
  EXPECT_EQ(ep.password, "p@ss:w/o%rd#");
  EXPECT_EQ(ep.host, "h");
}

TEST(RedisUrlTest, UnescapedAtSignInPasswordUsesTheLastAt) {
  const auto ep = parseOk("redis://user:p@ss@h:6379");
  EXPECT_EQ(ep.password, "p@ss");
  EXPECT_EQ(ep.host, "h");
}

TEST(RedisUrlTest, Database) {
  EXPECT_EQ(parseOk("redis://h:6379/0").db, 0);
  EXPECT_EQ(parseOk("redis://h:6379/2").db, 2);
  EXPECT_EQ(parseOk("redis://h:6379/15").db, 15);
  EXPECT_EQ(parseOk("redis://h:6379/").db, 0);
  const auto ep = parseOk("redis://u:p@h:7000/5");
  EXPECT_EQ(ep.db, 5);
  EXPECT_EQ(ep.port, 7000);
  EXPECT_EQ(ep.password, "p");
}

TEST(RedisUrlTest, RedissSetsTls) {
  const auto ep = parseOk("rediss://:pw@ec2-1-2-3-4.compute-1.amazonaws.com:25070");
  EXPECT_TRUE(ep.tls);
  EXPECT_FALSE(ep.unixSocket);
  EXPECT_EQ(ep.host, "ec2-1-2-3-4.compute-1.amazonaws.com");
  EXPECT_EQ(ep.port, 25070);
  EXPECT_EQ(ep.password, "pw");
  EXPECT_FALSE(parseOk("redis://h:1").tls);
}

TEST(RedisUrlTest, UnixSocket) {
  const auto ep = parseOk("unix:///run/redis/redis.sock");
  EXPECT_TRUE(ep.unixSocket);
  EXPECT_FALSE(ep.tls);
  EXPECT_EQ(ep.path, "/run/redis/redis.sock");
  EXPECT_EQ(ep.host, "");
  EXPECT_EQ(parseOk("unix:///tmp/r.sock").path, "/tmp/r.sock");
}

TEST(RedisUrlTest, BracketedIpv6) {
  const auto ep = parseOk("redis://[::1]:6379");
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.port, 6379);
  const auto full = parseOk("rediss://u:p@[2001:db8::2]:6380/1");
  EXPECT_EQ(full.host, "2001:db8::2");
  EXPECT_EQ(full.port, 6380);
  EXPECT_EQ(full.db, 1);
  EXPECT_TRUE(full.tls);
  EXPECT_EQ(full.username, "u");
  EXPECT_EQ(parseOk("redis://[::1]").port, 6379);
}

// --------------------------------------------------------------- bad URLs

TEST(RedisUrlTest, RefusesMissingOrUnknownScheme) {
  for (std::string_view url :
       {"", "127.0.0.1:6379", "localhost", "http://h:6379", "redis:/h:6379", "redis:h:6379",
        "REDIS://h:6379", "tcp://h:6379", "unix:/tmp/r.sock", " redis://h:6379"}) {
    EXPECT_FALSE(parseError(url).empty()) << url;
  }
}

TEST(RedisUrlTest, RefusesBadPorts) {
  for (std::string_view url :
       {"redis://h:0", "redis://h:65536", "redis://h:99999999999", "redis://h:-1", "redis://h:abc",
        "redis://h:6379x", "redis://h:+6379", "redis://h: 6379", "redis://h:63 79",
        "redis://[::1]:0", "redis://[::1]:x", "rediss://h:70000"}) {
    const auto err = parseError(url);
    EXPECT_NE(err.find("port"), std::string::npos) << url << ": " << err;
  }
}

TEST(RedisUrlTest, RefusesMissingHost) {
  for (std::string_view url :
       {"redis://", "redis://:6379", "redis://user:pw@", "redis://user:pw@:6379", "rediss://",
        "redis:///0", "redis://[]:6379"}) {
    EXPECT_FALSE(parseError(url).empty()) << url;
  }
}

TEST(RedisUrlTest, RefusesBadIpv6) {
  EXPECT_FALSE(parseError("redis://[::1").empty());
  EXPECT_FALSE(parseError("redis://[::1]6379").empty());
}

TEST(RedisUrlTest, RefusesBadDatabase) {
  for (std::string_view url : {"redis://h:6379/abc", "redis://h:6379/-1", "redis://h:6379/1x",
                               "redis://h:6379/99999999999", "redis://h:6379/1/2"}) {
    EXPECT_FALSE(parseError(url).empty()) << url;
  }
}

TEST(RedisUrlTest, RefusesBadPercentEscapes) {
  for (std::string_view url :
       {"redis://u:%zz@h:6379", "redis://u:abc%@h:6379", "redis://u%4:p@h:6379", "redis://%@h"}) {
    EXPECT_FALSE(parseError(url).empty()) << url;
  }
}

TEST(RedisUrlTest, RefusesRelativeOrMissingUnixPath) {
  EXPECT_FALSE(parseError("unix://").empty());
  EXPECT_FALSE(parseError("unix://run/redis.sock").empty());
  EXPECT_FALSE(parseError("unix://redis.sock").empty());
}

TEST(RedisUrlTest, ErrorsDoNotEchoThePassword) {
  for (std::string_view url :
       {"redis://u:hunter2@h:0", "redis://u:hunter2@h:6379/x", "redis://u:hunter2@"}) {
    EXPECT_EQ(parseError(url).find("hunter2"), std::string::npos) << url;
  }
}

// --------------------------------------------------------------- redacted()

TEST(RedisUrlTest, RedactedHidesThePassword) {
  const auto ep = parseOk("redis://user:s3cret@h:6380/2");
  const auto r = ep.redacted();
  EXPECT_EQ(r.find("s3cret"), std::string::npos) << r;
  EXPECT_EQ(r, "redis://user:***@h:6380/2");
}

TEST(RedisUrlTest, RedactedHidesAnEscapedPassword) {
  const auto ep = parseOk("rediss://:p%40ss@h:6379");
  const auto r = ep.redacted();
  EXPECT_EQ(r.find("p@ss"), std::string::npos) << r;
  EXPECT_EQ(r.find("p%40ss"), std::string::npos) << r;
  EXPECT_EQ(r, "rediss://:***@h:6379");
}

TEST(RedisUrlTest, RedactedWithoutPassword) {
  EXPECT_EQ(parseOk("redis://127.0.0.1:6379").redacted(), "redis://127.0.0.1:6379");
  EXPECT_EQ(parseOk("redis://h").redacted(), "redis://h:6379");
  EXPECT_EQ(parseOk("rediss://h:1/4").redacted(), "rediss://h:1/4");
  EXPECT_EQ(parseOk("unix:///run/redis.sock").redacted(), "unix:///run/redis.sock");
}

TEST(RedisUrlTest, RedactedUrlParsesBackToTheSameEndpoint) {
  for (std::string_view url : {"redis://h:6380/2", "rediss://cache:6379", "unix:///tmp/r.sock"}) {
    const auto ep = parseOk(url);
    const auto again = parseOk(ep.redacted());
    EXPECT_EQ(again.host, ep.host) << url;
    EXPECT_EQ(again.port, ep.port) << url;
    EXPECT_EQ(again.db, ep.db) << url;
    EXPECT_EQ(again.tls, ep.tls) << url;
    EXPECT_EQ(again.unixSocket, ep.unixSocket) << url;
    EXPECT_EQ(again.path, ep.path) << url;
  }
}

// --------------------------------------------------------------- percentDecode

TEST(PercentDecodeTest, DecodesEscapes) {
  bool ok = false;
  EXPECT_EQ(percentDecode("", ok), "");
  EXPECT_TRUE(ok);
  EXPECT_EQ(percentDecode("plain", ok), "plain");
  EXPECT_TRUE(ok);
  EXPECT_EQ(percentDecode("%41%6a%6A", ok), "Ajj");
  EXPECT_TRUE(ok);
  EXPECT_EQ(percentDecode("a%20b%2Fc%25", ok), "a b/c%");
  EXPECT_TRUE(ok);
  EXPECT_EQ(percentDecode("a+b", ok), "a+b");  // '+' is only a space in queries
  EXPECT_TRUE(ok);
}

TEST(PercentDecodeTest, RefusesBadEscapes) {
  for (std::string_view in : {"%", "%4", "a%", "a%4", "%zz", "%4g", "%g4", "%%41"}) {
    bool ok = true;
    percentDecode(in, ok);
    EXPECT_FALSE(ok) << in;
  }
}

TEST(RedisUrlSentinelTest, ParsesSentinelsMasterNameAndCredentials) {
  const auto parsed =
      parseRedisUrl("redis+sentinel://app:s%40cret@10.0.0.1:26379,[::1]:26380,sentinel-3/mymaster");
  ASSERT_TRUE(std::holds_alternative<RedisEndpoint>(parsed)) << std::get<std::string>(parsed);
  const auto& ep = std::get<RedisEndpoint>(parsed);
  EXPECT_TRUE(ep.sentinel);
  EXPECT_EQ(ep.masterName, "mymaster");
  ASSERT_EQ(ep.sentinels.size(), 3u);
  EXPECT_EQ(ep.sentinels[0], (std::pair<std::string, std::uint16_t>{"10.0.0.1", 26379}));
  EXPECT_EQ(ep.sentinels[1], (std::pair<std::string, std::uint16_t>{"::1", 26380}));
  EXPECT_EQ(ep.sentinels[2], (std::pair<std::string, std::uint16_t>{"sentinel-3", 26379}));
  EXPECT_EQ(ep.username, "app");
  EXPECT_EQ(ep.password, "s@cret");
  EXPECT_EQ(ep.redacted(),
            "redis+sentinel://app:***@10.0.0.1:26379,[::1]:26380,sentinel-3:26379/mymaster");
}

TEST(RedisUrlSentinelTest, RefusesWhatCannotWork) {
  for (std::string_view url :
       {"redis+sentinel://h:26379/", "redis+sentinel://h:26379", "redis+sentinel:///m",
        "redis+sentinel://h:0/m", "redis+sentinel://h/m/0", "rediss+sentinel://h/m",
        "redis+sentinel://h/a:b@c", "redis+cluster://h:7000/1", "redis+cluster://",
        "redis+cluster://h:0", "redis+cluster://h:7000,", "redis+sentinel://h/my master"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parseRedisUrl(url))) << url;
  }
}

TEST(RedisUrlClusterTest, ParsesSeedsAndCredentials) {
  const auto parsed =
      parseRedisUrl("redis+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001,node-3/");
  ASSERT_TRUE(std::holds_alternative<RedisEndpoint>(parsed)) << std::get<std::string>(parsed);
  const auto& ep = std::get<RedisEndpoint>(parsed);
  EXPECT_TRUE(ep.cluster);
  EXPECT_FALSE(ep.sentinel);
  ASSERT_EQ(ep.seeds.size(), 3u);
  EXPECT_EQ(ep.seeds[0], (std::pair<std::string, std::uint16_t>{"10.0.0.1", 7000}));
  EXPECT_EQ(ep.seeds[1], (std::pair<std::string, std::uint16_t>{"::1", 7001}));
  EXPECT_EQ(ep.seeds[2], (std::pair<std::string, std::uint16_t>{"node-3", 6379}));
  EXPECT_EQ(ep.host, "10.0.0.1");
  EXPECT_EQ(ep.password, "s@cret");
  EXPECT_EQ(ep.redacted(), "redis+cluster://app:***@10.0.0.1:7000,[::1]:7001,node-3:6379");
}

TEST(RedisUrlClusterTest, RedissClusterIsTlsToEveryNode) {
  const auto parsed = parseRedisUrl("rediss+cluster://:pw@node-1:6380,node-2:6380");
  ASSERT_TRUE(std::holds_alternative<RedisEndpoint>(parsed)) << std::get<std::string>(parsed);
  const auto& ep = std::get<RedisEndpoint>(parsed);
  EXPECT_TRUE(ep.cluster);
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.seeds.size(), 2u);
  EXPECT_EQ(ep.redacted(), "rediss+cluster://:***@node-1:6380,node-2:6380");
}

TEST(PercentDecodeTest, ResetsOkOnSuccess) {
  bool ok = false;
  percentDecode("x", ok);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace chat::common
