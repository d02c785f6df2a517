#pragma once
// Helpers of the chat.v1 integration tests (docs/protocol.md section 4), on top of
// the GatewayTest fixture and V1Client. Helpers that expect something throw
// std::runtime_error saying what came instead (and what else was queued);
// GoogleTest reports that as the test's failure.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway_test.h"
#include "v1_client.h"

namespace chat::testing {

// A v1 test's own gateway settings: never rate-limited (tests send hundreds of
// messages as fast as their acks come back), plus `extra`.
EnvVars v1Env(const EnvVars& extra = {});

// What a join produced: the history replayed for it, then its `joined` frame.
struct V1Join {
  std::vector<ChatMessage> history;
  std::string room;
  std::string epoch;
  std::int64_t lastId = -1;
  std::optional<bool> recovered;      // absent unless `since` was given
  std::vector<std::string> presence;  // usernames, as listed
  std::string raw;                    // the joined frame
};

// A v1 client connected to `target` (see v1Target) on `gateway`; throws when
// the handshake fails or does not select chat.v1.
std::unique_ptr<V1Client> connectV1(const GatewayProcess& gateway, const std::string& target);

// The next frame, which must be `welcome`; throws otherwise.
V1Frame expectWelcome(V1Client& client, std::chrono::milliseconds timeout = 10s);

// Reads the join of `room`: its message frames, then its `joined`. With
// `strict`, any other frame before `joined` is an error (a fresh connection:
// nothing is live yet); otherwise frames of other kinds or rooms are left
// queued. Throws on a malformed `joined` or at the deadline.
V1Join readJoin(V1Client& client, const std::string& room, bool strict = true,
                std::chrono::milliseconds timeout = 20s);

// connectV1, expectWelcome (checking its username) and readJoin in one.
struct V1Session {
  std::unique_ptr<V1Client> client;
  std::string conn;  // the welcome's `conn`
  V1Join join;
};
V1Session joinV1(const GatewayProcess& gateway, const std::string& room,
                 const std::string& username, std::optional<std::int64_t> since = std::nullopt,
                 const std::string& epoch = {});

// The first frame of `type` (others stay queued); throws at the deadline.
V1Frame expectType(V1Client& client, const std::string& type,
                   std::chrono::milliseconds timeout = 10s);
// The first frame `match` accepts; throws at the deadline, naming `what`.
V1Frame expectMatching(V1Client& client, const std::function<bool(const V1Frame&)>& match,
                       const std::string& what, std::chrono::milliseconds timeout = 10s);
// The first `message` frame, parsed; throws at the deadline.
ChatMessage expectMessage(V1Client& client, std::chrono::milliseconds timeout = 10s);
// The first `error` frame; throws at the deadline.
V1Frame expectError(V1Client& client, std::chrono::milliseconds timeout = 10s);

// An ack as the sender saw it.
// Two ready gateways with v1 settings and a fresh room that alice joined on
// the first and bob on the second: where most two-gateway v1 tests start.
struct AliceAndBob {
  GatewayProcess& a;
  GatewayProcess& b;
  std::string room;
  V1Session alice;
  V1Session bob;
};

class V1GatewayTest : public GatewayTest {
 protected:
  // A gateway that is not ready is a test failure (check HasFailure()).
  AliceAndBob openAliceAndBob();
};

struct V1Ack {
  std::string ref;
  std::int64_t id = 0;
  std::int64_t ts = 0;
};

// The ack (or error) whose ref is `ref`; throws on an error frame or at the
// deadline.
V1Ack expectAck(V1Client& client, const std::string& ref, std::chrono::milliseconds timeout = 10s);
// Sends a message with `ref` and waits for its ack.
V1Ack sendAndAck(V1Client& client, const std::string& text, const std::string& ref,
                 const std::string& room = {});

// Sends `count` messages "<prefix>1".."<prefix>N" (refs the same), at most
// `window` of them unacknowledged: the publisher paces itself by its own acks
// only. `onAcked(n)` runs after the n-th ack. Returns the acks in arrival
// order; throws on an error frame or when an ack is overdue.
std::vector<V1Ack> publishPaced(V1Client& publisher, int count, const std::string& prefix,
                                int window = 16, const std::function<void(int)>& onAcked = {});

// Message frames from a JSON array (a REST answer or a `history` frame's
// `messages`), each with its exact bytes in `raw`; throws on anything else.
std::vector<ChatMessage> parseMessageArray(const std::string& jsonArray);

// The usernames of a joined frame's `presence`; throws when it is malformed.
std::vector<std::string> presenceNames(const V1Frame& joined);

// The ids of `messages`, in order.
std::vector<std::int64_t> idsOf(const std::vector<ChatMessage>& messages);
// first, first+1, .., last.
std::vector<std::int64_t> idRange(std::int64_t first, std::int64_t last);

}  // namespace chat::testing
