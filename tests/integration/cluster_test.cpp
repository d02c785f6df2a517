// redis+cluster:// (docs/protocol.md section 9) against a real Redis Cluster of
// three primaries and three replicas, started once for the whole suite (it
// runs as one ctest entry): rooms spread over every shard with sharded
// pub/sub, a slot moved under traffic, and a primary SIGKILLed under traffic.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "redis_cluster.h"
#include "v1_helpers.h"
#include "wait.h"

namespace chat::testing {
namespace {

// A v1 client that joined every room in `rooms`.
std::unique_ptr<V1Client> joinAll(const GatewayProcess& gateway, const std::string& username,
                                  const std::vector<std::string>& rooms) {
  auto client = connectV1(gateway, v1Target(rooms.front(), username));
  expectWelcome(*client);
  readJoin(*client, rooms.front());
  for (std::size_t i = 1; i < rooms.size(); ++i) {
    EXPECT_TRUE(client->sendJoin(rooms[i]));
    readJoin(*client, rooms[i], false);
  }
  return client;
}

class ClusterTest : public V1GatewayTest {
 public:
  static void SetUpTestSuite() { cluster_ = std::make_unique<RedisCluster>(); }
  static void TearDownTestSuite() { cluster_.reset(); }

 protected:
  void SetUp() override { ASSERT_TRUE(cluster_->waitHealthy(30s)) << cluster_->logs(); }
  RedisCluster& cluster() { return *cluster_; }

  GatewayProcess& startClusterGateway(const EnvVars& extra = {}) {
    EnvVars env = v1Env({{"MAX_ROOMS_PER_CONNECTION", "100"}});
    env.insert(env.end(), extra.begin(), extra.end());
    GatewayProcess& gateway = startGatewayOn(cluster().url(), env);
    EXPECT_TRUE(gateway.waitReady(20s)) << gateway.readStderr();
    return gateway;
  }

  // The primary holding `room` now.
  std::uint16_t ownerOf(const std::string& room) {
    return cluster().ownerOf(cluster().slotOf("chat:{" + room + "}"));
  }

  // `n` publishers "pub0".., alternately on `a` and `b`, each in every room.
  std::vector<std::unique_ptr<V1Client>> joinPublishers(const GatewayProcess& a,
                                                        const GatewayProcess& b, int n,
                                                        const std::vector<std::string>& rooms) {
    std::vector<std::unique_ptr<V1Client>> publishers;
    for (int p = 0; p < n; ++p)
      publishers.push_back(joinAll(p % 2 == 0 ? a : b, "pub" + std::to_string(p), rooms));
    return publishers;
  }

 private:
  static std::unique_ptr<RedisCluster> cluster_;
};

std::unique_ptr<RedisCluster> ClusterTest::cluster_;

// What publishers had acknowledged, shared by their threads.
struct Acked {
  std::mutex mutex;
  std::map<std::string, std::vector<std::int64_t>> idsByRoom;
  std::set<std::string> texts;
  std::atomic<int> count{0};
  std::string failure;
};

// Sends `count` messages over `rooms` (message i to room (offset + i) % n),
// with at most `window` unacknowledged; an `unavailable` answer is retried
// under the same ref (a failover in progress). Text = ref = "<name>-<i>".
void publish(V1Client& client, const std::string& name, const std::vector<std::string>& rooms,
             int offset, int count, Acked& acked, int window = 16) {
  std::map<std::string, std::pair<std::string, std::string>> inFlight;  // ref -> room, text
  int next = 0;
  const Deadline deadline(120s);
  while ((next < count || !inFlight.empty()) && !deadline.expired()) {
    while (next < count && static_cast<int>(inFlight.size()) < window) {
      const std::string ref = name + "-" + std::to_string(next);
      const std::string& room = rooms[static_cast<std::size_t>(offset + next) % rooms.size()];
      client.sendMessage(ref, ref, room);
      inFlight[ref] = {room, ref};
      ++next;
    }
    auto frame = client.nextMatching(
        [](const V1Frame& f) { return f.type() == "ack" || f.type() == "error"; }, Deadline(15s));
    if (!frame) {
      acked.failure = name + ": no answer within 15 s";
      return;
    }
    const std::string ref = frame->string("ref").value_or("");
    const auto it = inFlight.find(ref);
    if (it == inFlight.end()) continue;
    if (frame->type() == "error") {
      if (frame->string("code") != "unavailable") {
        acked.failure = name + ": " + frame->raw();
        return;
      }
      client.sendMessage(it->second.second, ref, it->second.first);  // same ref: stored once
      continue;
    }
    std::lock_guard lock(acked.mutex);
    acked.idsByRoom[it->second.first].push_back(frame->integer("id").value_or(-1));
    acked.texts.insert(it->second.second);
    ++acked.count;
    inFlight.erase(it);
  }
  if (next < count || !inFlight.empty()) acked.failure = name + ": not every message acked";
}

// Reads `client`'s message frames until each room has `expected[room]` new
// ones; returns them by room, in arrival order.
std::map<std::string, std::vector<ChatMessage>> collect(
    V1Client& client, const std::map<std::string, std::size_t>& expected) {
  std::map<std::string, std::vector<ChatMessage>> byRoom;
  std::size_t missing = 0;
  for (const auto& [room, n] : expected)
    missing += n;
  const Deadline deadline(60s);
  while (missing > 0 && !deadline.expired()) {
    auto frame = client.nextOfType("message", deadline);
    if (!frame) break;
    auto message = frame->message();
    if (!message) continue;
    auto& list = byRoom[message->room];
    const auto want = expected.find(message->room);
    if (want != expected.end() && list.size() < want->second) --missing;
    list.push_back(*message);
  }
  return byRoom;
}

// Consecutive ids, each once, in order.
void expectGapFree(const std::vector<ChatMessage>& messages, const std::string& what) {
  for (std::size_t i = 1; i < messages.size(); ++i)
    ASSERT_EQ(messages[i].id, messages[i - 1].id + 1) << what << " at " << i;
}

// Runs one `publish` per publisher on its own thread (publisher p starts at
// room p and sends `count`); join() the threads before reading `acked`.
std::vector<std::thread> startPublishing(std::vector<std::unique_ptr<V1Client>>& publishers,
                                         const std::vector<std::string>& rooms, int count,
                                         Acked& acked, int window) {
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < publishers.size(); ++p)
    threads.emplace_back([&publishers, &rooms, &acked, count, window, p] {
      publish(*publishers[p], "pub" + std::to_string(p), rooms, static_cast<int>(p) * 7, count,
              acked, window);
    });
  return threads;
}

std::vector<std::string> roomNames(const std::string& prefix, int n) {
  std::vector<std::string> rooms;
  for (int i = 0; i < n; ++i)
    rooms.push_back(prefix + std::to_string(i));
  return rooms;
}

TEST_F(ClusterTest, RoomsSpreadOverEveryShardArriveGapFreeInOrderOverShardedPubSub) {
  GatewayProcess& a = startClusterGateway();
  GatewayProcess& b = startClusterGateway();
  const std::vector<std::string> rooms = roomNames(uniqueRoom("-"), 60);
  std::map<std::uint16_t, int> roomsPerPrimary;
  for (const auto& room : rooms)
    ++roomsPerPrimary[ownerOf(room)];
  ASSERT_EQ(roomsPerPrimary.size(), 3u) << "60 rooms should land on all three primaries";

  std::vector<std::unique_ptr<V1Client>> subscribers;
  subscribers.push_back(joinAll(a, "sub-a", rooms));
  subscribers.push_back(joinAll(b, "sub-b", rooms));
  auto publishers = joinPublishers(a, b, 8, rooms);
  Acked acked;
  auto threads = startPublishing(publishers, rooms, 250, acked, 16);
  for (auto& thread : threads)
    thread.join();
  ASSERT_TRUE(acked.failure.empty()) << acked.failure;
  ASSERT_EQ(acked.count.load(), 2000);

  std::map<std::string, std::size_t> expected;
  for (const auto& [room, ids] : acked.idsByRoom)
    expected[room] = ids.size();
  for (auto& subscriber : subscribers) {
    const auto seen = collect(*subscriber, expected);
    for (const auto& room : rooms) {
      const auto it = seen.find(room);
      ASSERT_NE(it, seen.end()) << room;
      ASSERT_EQ(it->second.size(), expected[room]) << room;
      expectGapFree(it->second, room);
      // History holds the same frames in the same order.
      const std::uint16_t owner = ownerOf(room);
      const auto history = cluster().client(owner).strings({"LRANGE", historyKey(room), "0", "-1"});
      ASSERT_EQ(history.size(), it->second.size()) << room;
      for (std::size_t i = 0; i < history.size(); ++i)
        ASSERT_EQ(history[i], it->second[i].raw) << room << " #" << i;
    }
  }
  for (const auto& room : rooms) {
    const std::uint16_t owner = ownerOf(room);
    const std::uint16_t slot = cluster().slotOf("chat:{" + room + "}");
    for (const std::string& key :
         {sequenceKey(room), historyKey(room), "chat:{" + room + "}:presence"})
      EXPECT_EQ(cluster().slotOf(key), slot) << key;
    EXPECT_EQ(cluster().client(owner).integer({"EXISTS", sequenceKey(room), historyKey(room)}), 2)
        << room;
    // Sharded subscriptions live on the owner only (a gateway of several
    // workers subscribes from each worker that has a member).
    for (std::uint16_t primary : cluster().primaries()) {
      const Reply counts =
          cluster().client(primary).command({"PUBSUB", "SHARDNUMSUB", "chat:{" + room + "}"});
      ASSERT_EQ(counts.elements.size(), 2u) << counts.describe();
      if (primary == owner)
        EXPECT_GE(counts.elements[1].integer, 2) << room;
      else
        EXPECT_EQ(counts.elements[1].integer, 0) << room << " on " << primary;
    }
  }
  // /metrics counts the shards, all up.
  const std::string metrics = httpGet(a.port(), "/metrics").body;
  EXPECT_NE(metrics.find("\nchat_redis_shards 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nchat_redis_shards_up 3\n"), std::string::npos) << metrics;
  // No classic PUBLISH anywhere: classic pub/sub would reach every node.
  for (std::uint16_t port : cluster().ports()) {
    try {
      const std::string stats = cluster().client(port).command({"INFO", "commandstats"}).str;
      EXPECT_EQ(stats.find("cmdstat_publish:"), std::string::npos) << "node " << port;
      EXPECT_EQ(cluster().client(port).integer({"PUBSUB", "NUMPAT"}), 0);
    } catch (const std::exception&) {
    }
  }
}

TEST_F(ClusterTest, MovingBusyRoomsToAnotherPrimaryLosesNothingAndKeepsTheirSequences) {
  GatewayProcess& a = startClusterGateway();
  GatewayProcess& b = startClusterGateway();
  const std::vector<std::string> rooms = roomNames(uniqueRoom("-"), 6);
  auto subscriber = joinAll(b, "sub", rooms);
  auto publishers = joinPublishers(a, b, 2, rooms);
  for (const auto& room : rooms)
    sendAndAck(*publishers[0], "first", "first-" + room, room);
  Acked acked;
  auto threads = startPublishing(publishers, rooms, 300, acked, 4);
  // Under traffic: the first three rooms' slots move to another primary.
  ASSERT_TRUE(waitFor([&] { return acked.count.load() >= 100 || !acked.failure.empty(); }, 60s));
  for (int i = 0; i < 3; ++i) {
    const std::uint16_t slot = cluster().slotOf("chat:{" + rooms[i] + "}");
    const std::uint16_t from = cluster().ownerOf(slot);
    const auto primaries = cluster().primaries();
    const auto to = *std::find_if(primaries.begin(), primaries.end(),
                                  [&](std::uint16_t p) { return p != from; });
    cluster().moveSlot(slot, to);
    ASSERT_EQ(cluster().ownerOf(slot), to);
  }
  for (auto& thread : threads)
    thread.join();
  ASSERT_TRUE(acked.failure.empty()) << acked.failure;
  ASSERT_EQ(acked.count.load(), 600);

  std::map<std::string, std::size_t> expected;
  for (const auto& room : rooms)
    expected[room] = acked.idsByRoom[room].size() + 1;  // with the "first" message
  const auto seen = collect(*subscriber, expected);
  for (const auto& room : rooms) {
    const auto it = seen.find(room);
    ASSERT_NE(it, seen.end()) << room;
    ASSERT_EQ(it->second.size(), expected[room]) << room;
    expectGapFree(it->second, room);
    // One epoch throughout: a moved slot brings its keys whole.
    for (const auto& message : it->second)
      EXPECT_EQ(message.epoch, it->second.front().epoch) << room;
    EXPECT_EQ(cluster().client(ownerOf(room)).integer({"LLEN", historyKey(room)}),
              static_cast<std::int64_t>(expected[room]));
  }
  EXPECT_FALSE(subscriber->isClosed());
  for (auto& publisher : publishers)
    EXPECT_FALSE(publisher->isClosed());
}

// Presence over the cluster: joins and leaves on either gateway reach the
// other through the room's shard (the presence script publishes with
// SPUBLISH), in rooms on every primary.
TEST_F(ClusterTest, PresenceCrossesGatewaysInRoomsOnEveryShard) {
  GatewayProcess& a = startClusterGateway();
  GatewayProcess& b = startClusterGateway();
  std::set<std::uint16_t> owners;
  std::vector<std::string> rooms;
  for (int i = 0; owners.size() < 3 && i < 100; ++i) {
    const std::string room = uniqueRoom("-" + std::to_string(i));
    if (owners.insert(ownerOf(room)).second) rooms.push_back(room);
  }
  ASSERT_EQ(rooms.size(), 3u);
  for (const auto& room : rooms) {
    V1Session alice = joinV1(a, room, "alice");
    V1Session bob = joinV1(b, room, "bob");
    EXPECT_NE(std::find(bob.join.presence.begin(), bob.join.presence.end(), "alice"),
              bob.join.presence.end())
        << bob.join.raw;
    const V1Frame joined = expectMatching(
        *alice.client,
        [](const V1Frame& f) { return f.type() == "presence" && f.string("username") == "bob"; },
        "bob's join");
    EXPECT_EQ(joined.string("event"), "join") << joined.raw();
    ASSERT_TRUE(bob.client->ws().sendClose());
    const V1Frame left = expectMatching(
        *alice.client,
        [](const V1Frame& f) { return f.type() == "presence" && f.string("username") == "bob"; },
        "bob's leave");
    EXPECT_EQ(left.string("event"), "leave") << left.raw();
    EXPECT_EQ(cluster().client(ownerOf(room)).integer({"ZCARD", "chat:{" + room + "}:presence"}), 1)
        << "only alice is left, on the room's primary";
  }
}

// The operator's disconnect crosses gateways through the control channel,
// which lives on the primary of its own slot ({control}).
TEST_F(ClusterTest, TheOperatorDisconnectReachesEveryGateway) {
  const std::string apiKey = "cluster-api-key-0123456789";
  GatewayProcess& a = startClusterGateway({{"API_KEY", apiKey}});
  GatewayProcess& b = startClusterGateway({{"API_KEY", apiKey}});
  const std::string room = uniqueRoom();
  V1Session onA = joinV1(a, room, "mallory");
  V1Session onB = joinV1(b, room, "mallory");
  HttpRequest request;
  request.method = "POST";
  request.target = "/api/users/mallory/disconnect";
  request.headers = {{"Authorization", "Bearer " + apiKey}};
  ASSERT_EQ(httpRequest(a.port(), request).status, 202);
  EXPECT_EQ(expectClose(onA.client->ws()).code, 4002);
  EXPECT_EQ(expectClose(onB.client->ws()).code, 4002);
}

// Deleting a message and listing rooms: the delete runs on the room's
// primary and its event travels in the room's shard; the room registry lives
// on its own slot ({rooms}), each room's counts come from the room's primary.
TEST_F(ClusterTest, OperatorDeleteAndRoomListWorkAcrossShards) {
  const std::string apiKey = "cluster-api-key-0123456789";
  GatewayProcess& a = startClusterGateway({{"API_KEY", apiKey}});
  GatewayProcess& b = startClusterGateway({{"API_KEY", apiKey}});
  const std::vector<std::string> rooms = roomNames(uniqueRoom("-"), 6);
  std::vector<V1Session> readers;
  for (const auto& room : rooms)
    readers.push_back(joinV1(b, room, "reader"));
  V1Session writer = joinV1(a, rooms[0], "writer");
  for (std::size_t i = 1; i < rooms.size(); ++i) {
    ASSERT_TRUE(writer.client->sendJoin(rooms[i]));
    expectMatching(
        *writer.client,
        [&](const V1Frame& f) { return f.type() == "joined" && f.string("room") == rooms[i]; },
        "joined " + rooms[i]);
  }
  const auto call = [&](const std::string& method, const std::string& target) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.headers = {{"Authorization", "Bearer " + apiKey}};
    return httpRequest(a.port(), request);
  };
  for (const auto& room : rooms) {
    const V1Ack ack = sendAndAck(*writer.client, "doomed", "d-" + room, room);
    ASSERT_EQ(call("DELETE", "/api/rooms/" + room + "/messages/" + std::to_string(ack.id)).status,
              204);
  }
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    const V1Frame deleted = expectType(*readers[i].client, "delete");
    EXPECT_EQ(deleted.string("room"), rooms[i]);
    EXPECT_EQ(deleted.integer("id"), 1);
  }
  const HttpResponse list = call("GET", "/api/rooms");
  ASSERT_EQ(list.status, 200) << list.body;
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    EXPECT_NE(list.body.find(R"({"room":")" + rooms[i] + R"(","online":2,"last_id":1})"),
              std::string::npos)
        << rooms[i] << " in " << list.body;
  }
}

// CLUSTER_PUBSUB=classic: PUBLISH and SUBSCRIBE, which the cluster forwards
// to every node; delivery is the same.
TEST_F(ClusterTest, ClassicPubSubDeliversTheSame) {
  GatewayProcess& a = startClusterGateway({{"CLUSTER_PUBSUB", "classic"}});
  GatewayProcess& b = startClusterGateway({{"CLUSTER_PUBSUB", "classic"}});
  const std::vector<std::string> rooms = roomNames(uniqueRoom("-"), 9);
  auto subscriber = joinAll(b, "sub", rooms);
  auto publishers = joinPublishers(a, b, 2, rooms);
  Acked acked;
  auto threads = startPublishing(publishers, rooms, 90, acked, 8);
  for (auto& thread : threads)
    thread.join();
  ASSERT_TRUE(acked.failure.empty()) << acked.failure;
  std::map<std::string, std::size_t> expected;
  for (const auto& room : rooms)
    expected[room] = acked.idsByRoom[room].size();
  const auto seen = collect(*subscriber, expected);
  for (const auto& room : rooms) {
    const auto it = seen.find(room);
    ASSERT_NE(it, seen.end()) << room;
    ASSERT_EQ(it->second.size(), expected[room]) << room;
    expectGapFree(it->second, room);
    const Reply counts =
        cluster().client(ownerOf(room)).command({"PUBSUB", "NUMSUB", "chat:{" + room + "}"});
    ASSERT_EQ(counts.elements.size(), 2u);
    EXPECT_GE(counts.elements[1].integer, 1) << "a classic subscription on the room's owner";
  }
}

// Reads `client`'s message frames until each room's marker text (room ->
// text) has come (a room's frames arrive in order, so all before it have
// too); returns them by room.
std::map<std::string, std::vector<ChatMessage>> collectUntil(
    V1Client& client, std::map<std::string, std::string> markers) {
  std::map<std::string, std::vector<ChatMessage>> byRoom;
  const Deadline deadline(60s);
  while (!markers.empty() && !deadline.expired()) {
    auto frame = client.nextOfType("message", deadline);
    if (!frame) break;
    auto message = frame->message();
    if (!message) continue;
    if (const auto it = markers.find(message->room);
        it != markers.end() && it->second == message->text)
      markers.erase(it);
    byRoom[message->room].push_back(*message);
  }
  EXPECT_TRUE(markers.empty()) << markers.size() << " rooms never got their last message";
  return byRoom;
}

// What a subscriber saw around a primary's SIGKILL under traffic.
struct Failover {
  Acked acked;
  std::map<std::string, std::vector<ChatMessage>> seen;
  std::string epochBefore;  // rooms[0]'s, on the primary that was killed
  std::vector<std::string> rooms;
};

class ClusterFailoverTest : public ClusterTest {
 protected:
  // Two gateways at `ackReplicas`, 12 rooms, 2 publishers of 200 each; the
  // primary of rooms[0] is SIGKILLed after 80 acks and comes back (as a
  // replica of its successor) once the replica took over; then a last
  // message "done" goes to every room and the subscriber reads up to it.
  void run(const std::string& ackReplicas, Failover& out) {
    const EnvVars env = {{"ACK_REPLICAS", ackReplicas}};
    GatewayProcess& a = startClusterGateway(env);
    GatewayProcess& b = startClusterGateway(env);
    out.rooms = roomNames(uniqueRoom("-"), 12);
    const auto& rooms = out.rooms;
    auto subscriber = joinAll(b, "sub", rooms);
    auto publishers = joinPublishers(a, b, 2, rooms);
    sendAndAck(*publishers[0], "first", "first", rooms[0]);
    out.epochBefore = cluster().client(ownerOf(rooms[0])).hash(sequenceKey(rooms[0]))["epoch"];
    auto threads = startPublishing(publishers, rooms, 200, out.acked, 4);
    ASSERT_TRUE(
        waitFor([&] { return out.acked.count.load() >= 80 || !out.acked.failure.empty(); }, 60s));
    const std::uint16_t victim = ownerOf(rooms[0]);
    cluster().kill(victim);
    // Until a replica takes over, the gateway stays ready (other shards
    // serve) and /readyz names the shard that is down.
    const std::string down =
        "shards down (their rooms are unavailable): 127.0.0.1:" + std::to_string(victim);
    HttpResponse readiness;
    EXPECT_TRUE(waitFor(
        [&] {
          readiness = httpGet(a.port(), "/readyz", 2s);
          return readiness.body.find(down) != std::string::npos;
        },
        10s))
        << readiness.status << " " << readiness.body;
    EXPECT_EQ(readiness.status, 200);
    ASSERT_TRUE(waitFor([&] { return ownerOf(rooms[0]) != victim; }, 30s))
        << "the replica did not take over";
    // Until the old primary is back as its replica, the new primary has
    // none: with ACK_REPLICAS=1 its rooms' sends are `unavailable` (retried).
    cluster().restart(victim);
    for (auto& thread : threads)
      thread.join();
    ASSERT_TRUE(out.acked.failure.empty()) << out.acked.failure << "\n" << a.readStderr();
    ASSERT_EQ(out.acked.count.load(), 400);
    Acked last;
    publish(*publishers[1], "done", rooms, 0, static_cast<int>(rooms.size()), last, 4);
    ASSERT_TRUE(last.failure.empty()) << last.failure;
    // publish() names its messages "done-<i>": one per room, sent last.
    std::map<std::string, std::string> markers;
    for (std::size_t i = 0; i < rooms.size(); ++i)
      markers[rooms[i]] = "done-" + std::to_string(i);
    out.seen = collectUntil(*subscriber, markers);
    EXPECT_FALSE(subscriber->isClosed());
    EXPECT_TRUE(cluster().waitHealthy(30s)) << cluster().logs();
  }
};

// No client sees two different messages under one (room, epoch, id).
void expectOneMessagePerId(const std::map<std::string, std::vector<ChatMessage>>& seen) {
  std::map<std::tuple<std::string, std::string, std::int64_t>, std::string> byId;
  for (const auto& [room, messages] : seen) {
    for (const auto& message : messages) {
      const auto [it, added] = byId.try_emplace({room, message.epoch, message.id}, message.text);
      EXPECT_TRUE(added || it->second == message.text)
          << room << " " << message.epoch << " " << message.id << ": " << it->second << " and "
          << message.text;
    }
  }
}

TEST_F(ClusterFailoverTest, WithAckReplicasEveryAckedMessageSurvivesOnce) {
  Failover failover;
  run("1", failover);
  if (HasFatalFailure()) return;
  std::map<std::string, int> inHistory;
  for (const auto& room : failover.rooms) {
    for (const auto& raw :
         cluster().client(ownerOf(room)).strings({"LRANGE", historyKey(room), "0", "-1"})) {
      const auto message = V1Frame::parse(raw);
      ASSERT_TRUE(message) << raw;
      ++inHistory[message->string("text").value_or("")];
    }
  }
  std::set<std::string> seenTexts;
  for (const auto& [room, messages] : failover.seen)
    for (const auto& message : messages)
      seenTexts.insert(message.text);
  for (const auto& text : failover.acked.texts) {
    EXPECT_EQ(inHistory[text], 1) << text << " in history";
    EXPECT_TRUE(seenTexts.count(text)) << "the subscriber never saw " << text;
  }
  expectOneMessagePerId(failover.seen);
}

// Without ACK_REPLICAS, acked messages the replica had not got are lost with
// the primary; the promoted replica's first store starts a new epoch, so
// the ids it hands out again never name a second message in the old one.
TEST_F(ClusterFailoverTest, WithoutAckReplicasNoIdNamesTwoMessages) {
  Failover failover;
  run("0", failover);
  if (HasFatalFailure()) return;
  expectOneMessagePerId(failover.seen);
  const auto& afterwards = failover.seen[failover.rooms[0]];
  ASSERT_FALSE(afterwards.empty());
  EXPECT_NE(afterwards.back().epoch, failover.epochBefore)
      << "the room on the killed primary kept its epoch on the promoted replica";
}

// rediss+cluster://: TLS to every node (its own tunnel per node), the map's
// tls-port followed; the plain ports stay for the test's own inspection.
class ClusterTlsTest : public V1GatewayTest {
 protected:
  // Outlives TearDown, which stops the gateways first.
  std::unique_ptr<RedisCluster> cluster_ = std::make_unique<RedisCluster>(ClusterTls::kOn);
};

TEST_F(ClusterTlsTest, RoomsOnEveryShardWorkOverTls) {
  RedisCluster& cluster = *cluster_;
  ASSERT_TRUE(cluster.waitHealthy(30s)) << cluster.logs();
  std::vector<GatewayProcess*> gateways;
  for (int i = 0; i < 2; ++i) {
    gateways.push_back(&startGatewayOn(
        cluster.url(),
        v1Env({{"REDIS_TLS_CA", cluster.caFile()}, {"MAX_ROOMS_PER_CONNECTION", "100"}})));
    ASSERT_TRUE(gateways.back()->waitReady(20s)) << gateways.back()->readStderr();
  }
  std::vector<std::string> rooms = roomNames("tls-", 30);
  std::set<std::uint16_t> owners;
  for (const auto& room : rooms)
    owners.insert(cluster.ownerOf(cluster.slotOf("chat:{" + room + "}")));
  ASSERT_EQ(owners.size(), 3u);
  auto subscriber = joinAll(*gateways[1], "sub", rooms);
  auto publisher = joinAll(*gateways[0], "pub", rooms);
  for (const auto& room : rooms)
    sendAndAck(*publisher, "over tls", "tls-" + room, room);
  std::map<std::string, std::size_t> expected;
  for (const auto& room : rooms)
    expected[room] = 1;
  const auto seen = collect(*subscriber, expected);
  // Every gateway link came in on a node's TLS port (CLIENT LIST's laddr).
  int links = 0;
  for (std::uint16_t port : cluster.ports()) {
    std::istringstream clients(cluster.client(port).command({"CLIENT", "LIST"}).str);
    for (std::string line; std::getline(clients, line);) {
      if (line.find(" name=chat-gw") == std::string::npos) continue;
      ++links;
      EXPECT_NE(line.find("laddr=127.0.0.1:" + std::to_string(cluster.tlsPortOf(port)) + " "),
                std::string::npos)
          << line;
    }
  }
  EXPECT_GE(links, 2 * 3 * 2) << "a command and a subscriber link per primary per gateway";
  for (const auto& room : rooms) {
    ASSERT_EQ(seen.count(room), 1u) << room;
    EXPECT_EQ(seen.at(room).front().text, "over tls");
    EXPECT_EQ(cluster.client(cluster.ownerOf(cluster.slotOf("chat:{" + room + "}")))
                  .integer({"LLEN", historyKey(room)}),
              1);
  }
}

}  // namespace
}  // namespace chat::testing
