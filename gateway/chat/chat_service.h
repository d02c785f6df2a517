#pragma once
// What clients say, and what the gateway answers: the plain protocol
// (docs/protocol.md section 2) and chat.v1 (section 4) on top of the room hub, the
// message store and presence. Connections are found again by id after every
// asynchronous step, since a client may be gone by the time Redis answers.
// Owned by the Server; loop thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/settings.h"
#include "protocol/v1_codec.h"
#include "rooms/presence_tracker.h"
#include "rooms/room_hub.h"
#include "stats.h"
#include "store/message_store.h"
#include "ws/connection.h"

namespace chat::gateway {

class ChatService {
 public:
  using FindConnection = std::function<Connection*(std::uint64_t id)>;
  using IsReady = std::function<bool()>;
  using Clock = std::function<std::uint64_t()>;  // monotonic milliseconds

  ChatService(const common::Settings& settings, MessageStore& store, RoomHub& hub,
              PresenceTracker& presence, ServerStats& stats, FindConnection find, IsReady ready,
              Clock clock);

  // A connection is established: v1 clients get `welcome`; both join the URL's room.
  // With `awaitingAuth`, a v1 client must first send its token (`auth`
  // frame): nothing goes out, and the URL's join waits, until it is checked.
  void onOpen(Connection& connection, const UrlJoin& join, bool awaitingAuth = false);
  // Closes (4001) a connection whose token expired, or one still waiting for
  // its `auth` frame past the deadline. Called for each, every second.
  void closeIfUnauthenticated(Connection& connection, std::int64_t nowSeconds, std::uint64_t nowMs);
  // A connection is closing: it leaves every room.
  void onClose(Connection& connection);
  // A complete text message. A refusal that ends the connection closes it
  // through Connection::closeSoon, after what is queued for it.
  void onText(Connection& connection, std::string_view text);

  std::size_t storesInFlight() const { return storesInFlight_; }
  // A drain began: new sends are refused (v1 `unavailable`, plain 1013) while
  // the stores in flight finish.
  void startDraining() { draining_ = true; }
  // Called whenever a store finishes (the drain waits for none in flight).
  void setOnStoreDone(std::function<void()> fn) { onStoreDone_ = std::move(fn); }

 private:
  // The rate limit: false when this frame is refused (and, after twice the
  // burst refused in a row, the connection is closing).
  bool withinRate(Connection& connection, std::string_view text);
  void onPlainText(Connection& connection, std::string_view text);
  void onV1Text(Connection& connection, std::string_view text);
  void v1Message(Connection& connection, const common::V1ClientFrame& frame);
  void v1Join(Connection& connection, const common::V1ClientFrame& frame);
  void v1Leave(Connection& connection, const common::V1ClientFrame& frame);
  void v1History(Connection& connection, const common::V1ClientFrame& frame);
  // The `auth` frame of a client admitted without a token.
  void v1Auth(Connection& connection, const common::V1ClientFrame& frame,
              bool afterRefetch = false);
  void v1Refresh(Connection& connection, const common::V1ClientFrame& frame,
                 bool afterRefetch = false);
  // A token whose kid the AUTH_JWKS_URL set lacks: true when its frame will
  // be handled again once the set has been fetched anew.
  bool awaitKeyRotation(Connection& connection, const common::V1ClientFrame& frame,
                        const common::TokenCheck& check, bool afterRefetch);
  void sendError(Connection& connection, std::string_view ref, common::V1ErrorCode code,
                 std::string_view message);
  // The frame's room, or the connection's first one; nullptr (with an error
  // sent) when the connection is not in it.
  Membership* joinedRoom(Connection& connection, const common::V1ClientFrame& frame);
  void joinRoom(Connection& connection, const std::string& room, JoinRequest request);
  void leaveRoom(Connection& connection, Membership* membership);
  void storeDone();

  const common::Settings& settings_;
  common::TokenKeys tokenKeys_;
  MessageStore& store_;
  RoomHub& hub_;
  PresenceTracker& presence_;
  ServerStats& stats_;
  FindConnection find_;
  IsReady ready_;
  bool draining_ = false;
  Clock clock_;
  std::size_t storesInFlight_ = 0;
  std::function<void()> onStoreDone_;
};

}  // namespace chat::gateway
