// The pure parts of Redis Cluster support: key slots (checked against values
// `CLUSTER KEYSLOT` of redis-server 7.0 gave), the `CLUSTER SHARDS` reply and
// redirect errors.
#include "redis/cluster_map.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace chat::gateway {
namespace {

TEST(ClusterMapTest, Crc16IsXmodem) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

TEST(ClusterMapTest, HashSlotsMatchClusterKeyslot) {
  const std::pair<std::string, std::uint16_t> known[] = {{"123456789", 12739},
                                                         {"foo", 12182},
                                                         {"hello", 866},
                                                         {"chat:{lobby}:seq", 10294},
                                                         {"chat:{lobby}", 10294},
                                                         {"{user1000}.following", 3443},
                                                         {"foo{}{bar}", 8363},
                                                         {"foo{{bar}}zap", 4015},
                                                         {"foo{bar}{zap}", 5061},
                                                         {"", 0},
                                                         {"chat:{Ünïcode}:history", 11467},
                                                         {"{}", 15257},
                                                         {"{a", 10276}};
  for (const auto& [key, slot] : known)
    EXPECT_EQ(hashSlot(key), slot) << key;
}

TEST(ClusterMapTest, ARoomsKeysAndChannelShareOneSlot) {
  for (const std::string room : {"lobby", "a", "Ünïcode", "x{y", "room-42"}) {
    const auto slot = hashSlot("chat:{" + room + "}");
    EXPECT_EQ(hashSlot("chat:{" + room + "}:seq"), slot) << room;
    EXPECT_EQ(hashSlot("chat:{" + room + "}:presence:alice"), slot) << room;
  }
}

// A reply as hiredis' parser builds it from RESP bytes.
std::unique_ptr<redisReply, decltype(&freeReplyObject)> parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return {static_cast<redisReply*>(reply), freeReplyObject};
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

std::string node(const std::string& id, int port, const std::string& role,
                 const std::string& health) {
  return "*14\r\n" + bulk("id") + bulk(id) + bulk("port") + ":" + std::to_string(port) + "\r\n" +
         bulk("ip") + bulk("127.0.0.1") + bulk("endpoint") + bulk("127.0.0.1") + bulk("role") +
         bulk(role) + bulk("replication-offset") + ":0\r\n" + bulk("health") + bulk(health);
}

TEST(ClusterMapTest, ReadsShardsWithTheirOnlinePrimaryAndPeers) {
  const std::string reply =
      "*2\r\n"
      // shard 1: slots 0-5460 and 10923-10923; its old primary failed, the replica took over
      "*4\r\n" +
      bulk("slots") + "*4\r\n:0\r\n:5460\r\n:10923\r\n:10923\r\n" + bulk("nodes") + "*2\r\n" +
      node("aaa", 7000, "master", "fail") + node("bbb", 7003, "master", "online") +
      // shard 2: no slots (a new, empty primary): left out
      "*4\r\n" + bulk("slots") + "*0\r\n" + bulk("nodes") + "*1\r\n" +
      node("ccc", 7001, "master", "online");
  const auto parsed = parse(reply);
  const auto shards = parseClusterShards(parsed.get());
  ASSERT_TRUE(shards);
  ASSERT_EQ(shards->size(), 1u);
  const ClusterShard& shard = shards->front();
  EXPECT_EQ(shard.primary, (ClusterNode{"127.0.0.1", 7003}));
  EXPECT_EQ(shard.primaryId, "bbb");
  EXPECT_EQ(shard.peerIds, std::vector<std::string>{"aaa"});
  ASSERT_EQ(shard.slots.size(), 2u);
  EXPECT_EQ(shard.slots[1], (std::pair<std::uint16_t, std::uint16_t>{10923, 10923}));
}

TEST(ClusterMapTest, RefusesWhatIsNotAShardList) {
  EXPECT_FALSE(parseClusterShards(nullptr));
  EXPECT_FALSE(parseClusterShards(parse("-ERR unknown command\r\n").get()));
  EXPECT_FALSE(parseClusterShards(
      parse("*1\r\n*4\r\n" + bulk("slots") + "*2\r\n:9\r\n:3\r\n" + bulk("nodes") + "*0\r\n")
          .get()))
      << "a range that ends before it starts";
  EXPECT_FALSE(parseClusterShards(
      parse("*1\r\n*4\r\n" + bulk("slots") + "*2\r\n:0\r\n:16384\r\n" + bulk("nodes") + "*0\r\n")
          .get()))
      << "a slot past 16383";
}

TEST(ClusterMapTest, SlotMapAssignsRanges) {
  SlotMap map;
  EXPECT_FALSE(map.complete());
  map.assign(0, 8000, 0);
  map.assign(8001, kClusterSlots - 1, 1);
  EXPECT_TRUE(map.complete());
  EXPECT_EQ(map.ownerOf(8000), 0);
  EXPECT_EQ(map.ownerOf(8001), 1);
  map.setOwner(8000, 2);
  EXPECT_EQ(map.ownerOf(8000), 2);
}

TEST(ClusterMapTest, ParsesRedirects) {
  const auto moved = parseRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->target, (ClusterNode{"127.0.0.1", 6381}));
  const auto ask = parseRedirect("ASK 12 ::1:7002");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->target, (ClusterNode{"::1", 7002}));
  EXPECT_EQ(parseRedirect("TRYAGAIN Multiple keys request during rehashing of slot")->kind,
            Redirect::Kind::kTryAgain);
  EXPECT_EQ(parseRedirect("CLUSTERDOWN The cluster is down")->kind, Redirect::Kind::kClusterDown);
  for (const char* bad : {"ERR wrong", "MOVED", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1",
                          "MOVED 1 nohost", "MOVED 1 h:0", "MOVED 1 :7000", "ASK 1 h:70000"})
    EXPECT_FALSE(parseRedirect(bad)) << bad;
}

}  // namespace
}  // namespace chat::gateway
