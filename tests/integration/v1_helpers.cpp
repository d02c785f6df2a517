#include "v1_helpers.h"

#include <stdexcept>

#include "json_raw.h"

namespace chat::testing {
namespace {

// What is still queued, for failure messages: a frame expected later may be
// waiting behind the one that did not come.
std::string describeQueue(const V1Client& client) {
  if (client.queued().empty()) return "nothing queued";
  std::string text = std::to_string(client.queued().size()) + " queued, first: ";
  std::size_t shown = 0;
  for (const V1Frame& frame : client.queued()) {
    if (shown++ == 3) {
      text += " ...";
      break;
    }
    text += frame.raw().substr(0, 200) + " ";
  }
  return text;
}

[[noreturn]] void failWaiting(const V1Client& client, const std::string& what) {
  throw std::runtime_error("expected " + what + ": " + client.error() + " (" +
                           describeQueue(client) + ")");
}

}  // namespace

EnvVars v1Env(const EnvVars& extra) {
  EnvVars env = kNoRateLimit;
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::unique_ptr<V1Client> connectV1(const GatewayProcess& gateway, const std::string& target) {
  auto client = std::make_unique<V1Client>();
  if (!client->connect(gateway.port(), target)) {
    throw std::runtime_error("v1 client to " + target + " on " + gateway.id() + ": " +
                             client->error());
  }
  return client;
}

V1Frame expectWelcome(V1Client& client, std::chrono::milliseconds timeout) {
  std::optional<V1Frame> frame = client.next(timeout);
  if (!frame) failWaiting(client, "a welcome frame first");
  if (frame->type() != "welcome") {
    throw std::runtime_error("the first frame is not welcome: " + frame->raw());
  }
  return *frame;
}

V1Join readJoin(V1Client& client, const std::string& room, bool strict,
                std::chrono::milliseconds timeout) {
  Deadline deadline(timeout);
  V1Join join;
  auto ofThisJoin = [&room](const V1Frame& frame) {
    return (frame.type() == "message" || frame.type() == "joined") && frame.string("room") == room;
  };
  for (;;) {
    std::optional<V1Frame> frame =
        strict ? client.next(deadline) : client.nextMatching(ofThisJoin, deadline);
    if (!frame) failWaiting(client, "the join of room '" + room + "' to end with joined");
    if (!ofThisJoin(*frame)) {
      throw std::runtime_error("during the join of '" + room +
                               "', before its joined frame, got: " + frame->raw());
    }
    if (frame->type() == "message") {
      std::string error;
      std::optional<ChatMessage> message = parseChatMessage(frame->raw(), &error);
      if (!message) throw std::runtime_error("a malformed message frame: " + error);
      join.history.push_back(std::move(*message));
      continue;
    }
    join.room = room;
    join.raw = frame->raw();
    std::optional<std::string> epoch = frame->string("epoch");
    std::optional<std::int64_t> lastId = frame->integer("last_id");
    if (!epoch || epoch->empty() || !lastId) {
      throw std::runtime_error("joined needs a non-empty epoch and last_id: " + frame->raw());
    }
    join.epoch = *epoch;
    join.lastId = *lastId;
    if (frame->has("recovered")) {
      join.recovered = frame->boolean("recovered");
      if (!join.recovered) throw std::runtime_error("recovered is not a boolean: " + frame->raw());
    }
    join.presence = presenceNames(*frame);
    return join;
  }
}

V1Session joinV1(const GatewayProcess& gateway, const std::string& room,
                 const std::string& username, std::optional<std::int64_t> since,
                 const std::string& epoch) {
  V1Session session;
  session.client = connectV1(gateway, v1Target(room, username, since, epoch));
  V1Frame welcome = expectWelcome(*session.client);
  if (welcome.string("username") != username) {
    throw std::runtime_error("welcome names another user than '" + username +
                             "': " + welcome.raw());
  }
  session.conn = welcome.string("conn").value_or("");
  session.join = readJoin(*session.client, room);
  return session;
}

V1Frame expectMatching(V1Client& client, const std::function<bool(const V1Frame&)>& match,
                       const std::string& what, std::chrono::milliseconds timeout) {
  std::optional<V1Frame> frame = client.nextMatching(match, Deadline(timeout));
  if (!frame) failWaiting(client, what);
  return *frame;
}

V1Frame expectType(V1Client& client, const std::string& type, std::chrono::milliseconds timeout) {
  return expectMatching(
      client, [&type](const V1Frame& frame) { return frame.type() == type; },
      "a frame of type '" + type + "'", timeout);
}

ChatMessage expectMessage(V1Client& client, std::chrono::milliseconds timeout) {
  V1Frame frame = expectType(client, "message", timeout);
  std::string error;
  std::optional<ChatMessage> message = parseChatMessage(frame.raw(), &error);
  if (!message) throw std::runtime_error("a malformed message frame: " + error);
  return *message;
}

V1Frame expectError(V1Client& client, std::chrono::milliseconds timeout) {
  return expectType(client, "error", timeout);
}

V1Ack expectAck(V1Client& client, const std::string& ref, std::chrono::milliseconds timeout) {
  V1Frame frame = expectMatching(
      client,
      [&ref](const V1Frame& f) {
        return (f.type() == "ack" || f.type() == "error") && f.string("ref") == ref;
      },
      "the ack of ref '" + ref + "'", timeout);
  if (frame.type() == "error") {
    throw std::runtime_error("ref '" + ref + "' was refused: " + frame.raw());
  }
  std::optional<std::int64_t> id = frame.integer("id");
  std::optional<std::int64_t> ts = frame.integer("ts");
  if (!id || !ts) throw std::runtime_error("an ack needs integer id and ts: " + frame.raw());
  return V1Ack{ref, *id, *ts};
}

V1Ack sendAndAck(V1Client& client, const std::string& text, const std::string& ref,
                 const std::string& room) {
  if (!client.sendMessage(text, ref, room)) throw std::runtime_error(client.error());
  return expectAck(client, ref);
}

std::vector<V1Ack> publishPaced(V1Client& publisher, int count, const std::string& prefix,
                                int window, const std::function<void(int)>& onAcked) {
  std::vector<V1Ack> acks;
  int sent = 0;
  while (static_cast<int>(acks.size()) < count) {
    while (sent < count && sent - static_cast<int>(acks.size()) < window) {
      const std::string name = prefix + std::to_string(++sent);
      if (!publisher.sendMessage(name, name)) throw std::runtime_error(publisher.error());
    }
    V1Frame frame = expectMatching(
        publisher, [](const V1Frame& f) { return f.type() == "ack" || f.type() == "error"; },
        "the ack of message " + std::to_string(acks.size() + 1) + " of " + std::to_string(count),
        20s);
    if (frame.type() == "error") {
      throw std::runtime_error("the publisher's message was refused: " + frame.raw());
    }
    std::optional<std::int64_t> id = frame.integer("id");
    std::optional<std::int64_t> ts = frame.integer("ts");
    if (!id || !ts) throw std::runtime_error("an ack needs integer id and ts: " + frame.raw());
    acks.push_back(V1Ack{frame.string("ref").value_or(""), *id, *ts});
    if (onAcked) onAcked(static_cast<int>(acks.size()));
  }
  return acks;
}

std::vector<ChatMessage> parseMessageArray(const std::string& jsonArray) {
  std::optional<std::vector<std::string>> elements = rawArrayElements(jsonArray);
  if (!elements) throw std::runtime_error("not a JSON array: " + jsonArray.substr(0, 300));
  std::vector<ChatMessage> messages;
  for (const std::string& element : *elements) {
    std::string error;
    std::optional<ChatMessage> message = parseChatMessage(element, &error);
    if (!message) throw std::runtime_error("not a message frame in the array: " + error);
    messages.push_back(std::move(*message));
  }
  return messages;
}

std::vector<std::string> presenceNames(const V1Frame& joined) {
  std::optional<std::vector<std::string>> entries = joined.array("presence");
  if (!entries) throw std::runtime_error("joined has no presence array: " + joined.raw());
  std::vector<std::string> names;
  for (const std::string& entry : *entries) {
    std::optional<JsonObject> object = JsonObject::parse(entry);
    std::optional<std::string> name = object ? object->string("username") : std::nullopt;
    if (!name) throw std::runtime_error("a presence entry without a username: " + entry);
    names.push_back(*name);
  }
  return names;
}

std::vector<std::int64_t> idsOf(const std::vector<ChatMessage>& messages) {
  std::vector<std::int64_t> ids;
  ids.reserve(messages.size());
  for (const ChatMessage& message : messages)
    ids.push_back(message.id);
  return ids;
}

std::vector<std::int64_t> idRange(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = first; id <= last; ++id)
    ids.push_back(id);
  return ids;
}

AliceAndBob V1GatewayTest::openAliceAndBob() {
  GatewayProcess& a = startGateway(v1Env(), "gw-a");
  GatewayProcess& b = startGateway(v1Env(), "gw-b");
  EXPECT_TRUE(a.waitReady());
  EXPECT_TRUE(b.waitReady());
  std::string room = uniqueRoom();
  V1Session alice = joinV1(a, room, "alice");
  V1Session bob = joinV1(b, room, "bob");
  return AliceAndBob{a, b, std::move(room), std::move(alice), std::move(bob)};
}

}  // namespace chat::testing
