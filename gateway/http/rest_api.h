#pragma once
// The HTTP API of docs/protocol.md section 1:
//   GET  /api/rooms/{room}/messages?since=&limit=   stored messages, oldest first
//   POST /api/rooms/{room}/messages                  server-side publish (Bearer API_KEY)
//   GET  /api/rooms/{room}/presence                  who is present, any gateway (Bearer API_KEY)
//   POST /api/messages                 one message into several rooms (Bearer API_KEY)
//   POST /api/users/{user}/disconnect  close that user everywhere with 4002 (Bearer API_KEY)
//   DELETE /api/rooms/{room}/messages/{id}  leave a tombstone in its place (Bearer API_KEY)
//   GET  /api/rooms                    rooms where someone is present (Bearer API_KEY)
// Answers come from Redis, so a request waits in an HttpExchange owned by the
// lws session until its reply is ready, then is written from the writable
// callback. An exchange whose connection closes first is dropped by id.
// Loop thread only.

#include <libwebsockets.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/settings.h"
#include "stats.h"
#include "store/message_store.h"

namespace chat::gateway {

struct HttpExchange {
  std::uint64_t id = 0;
  std::string room;  // empty for POST /api/messages (several rooms)
  std::string body;  // request body (POST)
  bool bodyTooLarge = false;
  bool answered = false;
  unsigned status = 0;
  std::string response;
  std::string firstId;  // GET: the X-First-Id header
};

class RestApi {
 public:
  static bool handles(std::string_view path) { return path.substr(0, 5) == "/api/"; }

  RestApi(const common::Settings& settings, MessageStore& store, ServerStats& stats);

  // LWS_CALLBACK_HTTP for an API path; `exchange` is the session's slot.
  int onRequest(lws* wsi, HttpExchange*& exchange, std::string_view path);
  void onBody(HttpExchange* exchange, const void* data, std::size_t len);
  int onBodyComplete(lws* wsi, HttpExchange* exchange);
  int onWritable(lws* wsi, HttpExchange*& exchange);
  void onClosed(HttpExchange*& exchange);

  // The POST itself, whichever way its body came (lws, or a chunked body the
  // RequestGate read): `answer` gets the status and the JSON body, at once or
  // once Redis has stored the message.
  using Answer = std::function<void(unsigned status, std::string body)>;
  void publish(const std::string& room, std::string_view authorization, std::string_view body,
               Answer answer);
  // POST /api/messages: one message into several rooms (operator API).
  void publishToRooms(std::string_view authorization, std::string_view body, Answer answer);
  // A POST to `path` whose whole body the RequestGate has read.
  void postBuffered(std::string_view path, std::string_view authorization, std::string_view body,
                    Answer answer);

 private:
  // POST /api/messages: the rooms still to store into, and what is stored.
  struct RoomBatch {
    std::vector<std::string> rooms;
    std::string message;
    std::vector<std::string> stored;  // the stored frames, in the order of `rooms`
    Answer answer;
  };
  void storeNextRoom(const std::shared_ptr<RoomBatch>& batch);
  int startGet(lws* wsi, HttpExchange& exchange);
  // POST /api/users/{username}/disconnect (operator API, Bearer API_KEY).
  int startDisconnect(lws* wsi, const std::string& username);
  // DELETE /api/rooms/{room}/messages/{id} (operator API, Bearer API_KEY).
  int startDelete(lws* wsi, HttpExchange*& exchange, std::string_view room,
                  const std::string& idText);
  // GET /api/rooms (operator API, Bearer API_KEY).
  int startRoomList(lws* wsi, HttpExchange*& exchange);
  // The answer refusing an operator call (API off, or no valid API key), if any.
  std::optional<int> refuseOperator(lws* wsi) const;
  // What the HTTP callback returns once a Redis command for exchange `id` was
  // (or could not be) sent: 0 to wait for the reply, or the 503 answer.
  int answerWhenSent(lws* wsi, std::uint64_t id, bool sent);
  // A new exchange for `room` in the session's slot, waiting in pending_.
  void beginExchange(lws* wsi, HttpExchange*& exchange, std::string_view room);
  // GET /api/rooms/{room}/presence (operator API, Bearer API_KEY).
  int startPresence(lws* wsi, HttpExchange*& exchange, std::string_view room);
  // Why a GET of `room` is refused (status, body), when login is on and the
  // request carries no token allowing the room and not the API key.
  std::optional<std::pair<unsigned, std::string>> readRefusal(lws* wsi,
                                                              const std::string& room) const;
  void answerLater(std::uint64_t id, unsigned status, std::string body, std::string firstId = {});
  bool authorized(std::string_view authorizationHeader) const;

  const common::Settings& settings_;
  common::TokenKeys tokenKeys_;
  MessageStore& store_;
  ServerStats& stats_;
  std::uint64_t nextId_ = 1;
  // Exchanges waiting for Redis, by id, with their connection.
  std::unordered_map<std::uint64_t, std::pair<lws*, HttpExchange*>> pending_;
};

}  // namespace chat::gateway
