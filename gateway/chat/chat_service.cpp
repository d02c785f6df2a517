#include "chat/chat_service.h"

#include <uv.h>

#include <algorithm>

#include "log/log.h"
#include "protocol/codec.h"
#include "protocol/v1_codec.h"
#include "protocol/validation.h"
#include "util/clock.h"
#include "util/utf8.h"

namespace chat::gateway {

using common::V1ErrorCode;

namespace {

// How long a v1 client admitted without a token has to send its `auth` frame.
constexpr std::uint64_t kAuthFrameWaitMs = 5000;

}  // namespace

ChatService::ChatService(const common::Settings& settings, MessageStore& store, RoomHub& hub,
                         PresenceTracker& presence, ServerStats& stats, FindConnection find,
                         IsReady ready, Clock clock)
    : settings_(settings),
      tokenKeys_(settings.tokenKeys()),
      store_(store),
      hub_(hub),
      presence_(presence),
      stats_(stats),
      find_(std::move(find)),
      ready_(std::move(ready)),
      clock_(std::move(clock)) {}

void ChatService::onOpen(Connection& connection, const UrlJoin& join, bool awaitingAuth) {
  if (awaitingAuth) {
    connection.awaitAuth(join, clock_() + kAuthFrameWaitMs);
    return;
  }
  if (connection.isV1()) {
    connection.send(
        common::encodeWelcome(settings_.gatewayId + "-" + std::to_string(connection.id()),
                              connection.username(), settings_.gatewayId));
  }
  joinRoom(connection, join.room, join.request);
}

void ChatService::onClose(Connection& connection) {
  while (!connection.memberships().empty())
    leaveRoom(connection, connection.memberships().back());
}

void ChatService::joinRoom(Connection& connection, const std::string& room, JoinRequest request) {
  // Presence first: the join's read then already lists this user.
  if (connection.isV1()) presence_.add(room, connection.username());
  connection.addMembership(hub_.join(connection, room, std::move(request)));
}

void ChatService::leaveRoom(Connection& connection, Membership* membership) {
  if (connection.isV1()) presence_.remove(membership->room->name, connection.username());
  connection.removeMembership(membership);
  hub_.leave(membership);
}

void ChatService::onText(Connection& connection, std::string_view text) {
  ++stats_.messagesReceived;
  if (!withinRate(connection, text)) return;
  if (connection.isV1())
    onV1Text(connection, text);
  else
    onPlainText(connection, text);
}

bool ChatService::withinRate(Connection& connection, std::string_view text) {
  if (connection.takeToken(settings_.rateLimit, settings_.rateBurst, clock_())) return true;
  stats_.refuse(common::Refusal::kRateLimited);
  if (connection.refusedInARow() >= 2 * settings_.rateBurst) {
    // After the answers to what it sent before: acks of stores in flight, errors.
    connection.closeSoon(common::CloseCode::kPolicyViolation, "rate limit exceeded");
    return false;
  }
  // Plain clients' frames past the limit are dropped; v1 clients are told,
  // with the ref so the page can mark that message as failed.
  if (connection.isV1()) {
    const auto decoded = common::decodeV1Frame(text, settings_.maxTextCodePoints);
    const std::string ref = decoded.frame     ? decoded.frame->ref
                            : decoded.refusal ? decoded.refusal->ref
                                              : std::string();
    sendError(connection, ref, V1ErrorCode::kRateLimited, "slow down: rate limit exceeded");
  }
  return false;
}

void ChatService::storeDone() {
  --storesInFlight_;
  if (onStoreDone_) onStoreDone_();
}

// ---- Plain clients (section 2) ------------------------------------------------

void ChatService::onPlainText(Connection& connection, std::string_view text) {
  auto decoded = common::decodePlainFrame(text, settings_.maxTextCodePoints);
  if (decoded.refusal) {
    stats_.refuse(*decoded.refusal);
    // The tutorial page sends empty texts on a bare Enter: ignore them.
    if (*decoded.refusal == common::Refusal::kEmptyText) return;
    connection.closeSoon(common::plainCloseCode(*decoded.refusal), decoded.reason);
    return;
  }
  if (draining_) {
    // Never dropped silently: the client learns by the close, and reconnects
    // (through the load balancer) to a gateway that is not stopping.
    stats_.refuse(common::Refusal::kUnavailable);
    connection.closeSoon(common::CloseCode::kTryAgainLater,
                         "gateway shutting down: message not stored, reconnect");
    return;
  }
  // With AUTH_SECRET the token's subject is the author, whatever the frame says.
  const std::string& author =
      connection.username().empty() ? decoded.send->username : connection.username();
  const std::string body = common::encodeMessageBody(author, decoded.send->text);
  const std::string& room = connection.memberships().front()->room->name;
  ++storesInFlight_;
  const bool sent = store_.store(
      room, body, [this, id = connection.id(), start = uv_hrtime()](std::optional<StoredAck> ack) {
        stats_.storeLatency.observe(static_cast<double>(uv_hrtime() - start) / 1e9);
        if (ack) {
          ++stats_.messagesStored;
        } else {
          ++stats_.storeFailures;
          stats_.refuse(common::Refusal::kUnavailable);
          // Never drop a plain client's message silently: it learns by the close.
          if (Connection* c = find_(id))
            c->closeSoon(common::CloseCode::kTryAgainLater,
                         "message may not be stored: redis unavailable");
        }
        storeDone();
      });
  if (!sent) {
    --storesInFlight_;
    stats_.refuse(common::Refusal::kUnavailable);
    connection.closeSoon(common::CloseCode::kTryAgainLater,
                         "message not stored: redis unavailable");
  }
}

// ---- chat.v1 clients (section 4) ----------------------------------------------

void ChatService::onV1Text(Connection& connection, std::string_view text) {
  auto decoded = common::decodeV1Frame(text, settings_.maxTextCodePoints);
  if (connection.awaitingAuth()) {
    // Nothing but the token first (docs/protocol.md section 10).
    if (decoded.frame && decoded.frame->type == common::V1FrameType::kAuth) {
      v1Auth(connection, *decoded.frame);
    } else {
      stats_.refuse(common::Refusal::kBadToken);
      connection.closeSoon(common::CloseCode::kAuthFailed,
                           "authenticate first: send {\"type\":\"auth\",\"token\":...}");
    }
    return;
  }
  if (decoded.ignore) return;
  if (decoded.refusal) {
    stats_.refuse(decoded.refusal->reason);
    // Invalid UTF-8 in the frame itself fails the connection; a JSON escape
    // that decodes to a lone surrogate is only a bad field.
    if (decoded.refusal->reason == common::Refusal::kInvalidUtf8 && !common::isValidUtf8(text)) {
      // RFC 6455: invalid UTF-8 in a text frame fails the connection.
      connection.closeSoon(common::CloseCode::kInvalidPayload, "invalid UTF-8");
      return;
    }
    sendError(connection, decoded.refusal->ref, decoded.refusal->code, decoded.refusal->message);
    return;
  }
  const auto& frame = *decoded.frame;
  switch (frame.type) {
    case common::V1FrameType::kMessage:
      v1Message(connection, frame);
      break;
    case common::V1FrameType::kJoin:
      v1Join(connection, frame);
      break;
    case common::V1FrameType::kLeave:
      v1Leave(connection, frame);
      break;
    case common::V1FrameType::kHistory:
      v1History(connection, frame);
      break;
    case common::V1FrameType::kAuth:
      sendError(connection, frame.ref, V1ErrorCode::kInvalid,
                "already authenticated: renew a token with refresh");
      break;
    case common::V1FrameType::kRefresh:
      v1Refresh(connection, frame);
      break;
  }
}

bool ChatService::awaitKeyRotation(Connection& connection, const common::V1ClientFrame& frame,
                                   const common::TokenCheck& check, bool afterRefetch) {
  if (check.claims || !check.unknownKey || afterRefetch || !tokenKeys_.jwks ||
      !tokenKeys_.jwks->refetch)
    return false;
  const bool auth = frame.type == common::V1FrameType::kAuth;
  if (connection.keyCheckPending()) {
    // One token at a time waits for the key set.
    if (auth)
      connection.closeSoon(common::CloseCode::kAuthFailed, "a token is being checked already");
    else
      sendError(connection, frame.ref, V1ErrorCode::kInvalid, "a token is being checked already");
    return true;
  }
  // A key rotated in since the set was fetched: checked again once it is.
  connection.setKeyCheckPending(true);
  tokenKeys_.jwks->refetch([this, id = connection.id(), frame, auth] {
    Connection* again = find_(id);
    if (again == nullptr) return;
    again->setKeyCheckPending(false);
    if (auth && again->awaitingAuth())
      v1Auth(*again, frame, true);
    else if (!auth)
      v1Refresh(*again, frame, true);
  });
  return true;
}

void ChatService::v1Auth(Connection& connection, const common::V1ClientFrame& frame,
                         bool afterRefetch) {
  auto check = common::verifyToken(frame.token, tokenKeys_, common::unixSeconds());
  if (awaitKeyRotation(connection, frame, check, afterRefetch)) return;
  if (!check.claims) {
    stats_.refuse(common::Refusal::kBadToken);
    connection.closeSoon(common::CloseCode::kAuthFailed, check.error);
    return;
  }
  const std::string& room = connection.pendingRoom();
  if (!check.claims->allows(room)) {
    stats_.refuse(common::Refusal::kForbiddenRoom);
    connection.closeSoon(common::CloseCode::kAuthFailed, "your token does not allow room " + room);
    return;
  }
  if (check.claims->rooms) connection.setAllowedRooms(std::move(*check.claims->rooms));
  connection.setTokenExpiresAt(check.claims->expiresAt);
  const UrlJoin join = connection.authenticated(std::move(check.claims->subject));
  onOpen(connection, join);
}

void ChatService::v1Refresh(Connection& connection, const common::V1ClientFrame& frame,
                            bool afterRefetch) {
  if (!tokenKeys_.required()) {
    sendError(connection, frame.ref, V1ErrorCode::kInvalid, "this gateway takes no tokens");
    return;
  }
  auto check = common::verifyToken(frame.token, tokenKeys_, common::unixSeconds());
  if (awaitKeyRotation(connection, frame, check, afterRefetch)) return;
  if (!check.claims) {
    sendError(connection, frame.ref, V1ErrorCode::kForbidden, check.error);
    return;
  }
  if (check.claims->subject != connection.username()) {
    sendError(connection, frame.ref, V1ErrorCode::kForbidden, "the token is for another user");
    return;
  }
  if (check.claims->rooms) connection.setAllowedRooms(std::move(*check.claims->rooms));
  connection.setTokenExpiresAt(check.claims->expiresAt);
  connection.send(common::encodeRefreshed(check.claims->expiresAt));
}

void ChatService::closeIfUnauthenticated(Connection& connection, std::int64_t nowSeconds,
                                         std::uint64_t nowMs) {
  if (connection.awaitingAuth() && !connection.keyCheckPending() &&
      nowMs >= connection.authDeadlineMs()) {
    stats_.refuse(common::Refusal::kBadToken);
    connection.closeSoon(common::CloseCode::kAuthFailed, "no token within 5 s");
  } else if (connection.tokenExpiresAt() != 0 &&
             nowSeconds > connection.tokenExpiresAt() + common::kTokenLeewaySeconds) {
    connection.closeSoon(common::CloseCode::kAuthFailed, "token expired");
  }
}

void ChatService::sendError(Connection& connection, std::string_view ref, V1ErrorCode code,
                            std::string_view message) {
  connection.send(common::encodeError(ref, code, message));
}

Membership* ChatService::joinedRoom(Connection& connection, const common::V1ClientFrame& frame) {
  Membership* m =
      frame.room.empty()
          ? (connection.memberships().empty() ? nullptr : connection.memberships().front())
          : connection.membershipOf(frame.room);
  if (m == nullptr) {
    stats_.refuse(common::Refusal::kNotJoined);
    sendError(connection, frame.ref, V1ErrorCode::kNotJoined, "join the room first");
  }
  return m;
}

void ChatService::v1Message(Connection& connection, const common::V1ClientFrame& frame) {
  Membership* m = joinedRoom(connection, frame);
  if (m == nullptr) return;
  if (draining_) {
    // From the start of a drain no new store begins, so the drain can end.
    stats_.refuse(common::Refusal::kUnavailable);
    sendError(connection, frame.ref, V1ErrorCode::kUnavailable,
              "not stored: this gateway is shutting down, retry after reconnecting");
    return;
  }
  if (!frame.ref.empty()) {
    // A resend of a message already stored is acknowledged again, not stored.
    if (const auto* seen = connection.refs().find(frame.ref)) {
      if (seen->stored) connection.send(common::encodeAck(frame.ref, seen->id, seen->ts));
      return;  // still in flight: its ack is on the way
    }
  }
  const std::string body = common::encodeMessageBody(connection.username(), frame.text);
  ++storesInFlight_;
  connection.storeStarted();
  const bool sent = store_.store(
      m->room->name, body,
      [this, id = connection.id(), ref = frame.ref,
       start = uv_hrtime()](std::optional<StoredAck> ack) {
        Connection* c = find_(id);
        stats_.storeLatency.observe(static_cast<double>(uv_hrtime() - start) / 1e9);
        if (ack) {
          ++stats_.messagesStored;
          if (c != nullptr) {
            if (!ref.empty()) c->refs().markStored(ref, ack->id, ack->ts);
            c->send(common::encodeAck(ref, ack->id, ack->ts));
          }
        } else {
          ++stats_.storeFailures;
          stats_.refuse(common::Refusal::kUnavailable);
          if (c != nullptr) {
            if (!ref.empty()) c->refs().forget(ref);
            sendError(*c, ref, V1ErrorCode::kUnavailable,
                      "may not be stored: redis unavailable, retry with the same ref");
          }
        }
        if (c != nullptr) c->storeFinished();
        storeDone();
      },
      frame.ref.empty() ? std::nullopt
                        : std::optional<SendRef>(SendRef{connection.username(), frame.ref}));
  if (!sent) {
    --storesInFlight_;
    connection.storeFinished();
    stats_.refuse(common::Refusal::kUnavailable);
    sendError(connection, frame.ref, V1ErrorCode::kUnavailable,
              "not stored: redis unavailable, retry");
    return;
  }
  if (!frame.ref.empty()) connection.refs().addPending(frame.ref);
}

void ChatService::v1Join(Connection& connection, const common::V1ClientFrame& frame) {
  const std::string room = frame.room.empty() ? std::string(common::kDefaultRoom) : frame.room;
  if (!ready_()) {
    stats_.refuse(common::Refusal::kUnavailable);
    sendError(connection, frame.ref, V1ErrorCode::kUnavailable, "redis unavailable, retry");
    return;
  }
  if (const auto* allowed = connection.allowedRooms();
      allowed != nullptr && std::find(allowed->begin(), allowed->end(), room) == allowed->end()) {
    stats_.refuse(common::Refusal::kForbiddenRoom);
    sendError(connection, frame.ref, V1ErrorCode::kForbidden,
              "your token does not allow this room");
    return;
  }
  if (Membership* existing = connection.membershipOf(room)) {
    // A second join of the same room starts it over (a resume, say).
    leaveRoom(connection, existing);
  } else if (connection.memberships().size() >= settings_.maxRoomsPerConnection) {
    stats_.refuse(common::Refusal::kTooManyRooms);
    sendError(connection, frame.ref, V1ErrorCode::kForbidden,
              "at most " + std::to_string(settings_.maxRoomsPerConnection) + " rooms");
    return;
  }
  joinRoom(connection, room, JoinRequest{frame.since, frame.epoch});
}

void ChatService::v1Leave(Connection& connection, const common::V1ClientFrame& frame) {
  if (Membership* m = joinedRoom(connection, frame)) leaveRoom(connection, m);
}

void ChatService::v1History(Connection& connection, const common::V1ClientFrame& frame) {
  Membership* m = joinedRoom(connection, frame);
  if (m == nullptr) return;
  HistoryQuery query;
  if (frame.before) {
    query = {HistoryQuery::Mode::kBefore, *frame.before, static_cast<std::int64_t>(frame.limit)};
  } else {
    query = {HistoryQuery::Mode::kLast, frame.limit, -1};
  }
  const bool sent = store_.read(
      m->room->name, query,
      [this, id = connection.id(), room = m->room->name,
       ref = frame.ref](std::optional<HistorySlice> slice) {
        Connection* c = find_(id);
        if (c == nullptr) return;
        if (!slice) {
          sendError(*c, ref, V1ErrorCode::kUnavailable, "redis unavailable, retry");
          return;
        }
        std::vector<std::string_view> frames(slice->frames.begin(), slice->frames.end());
        c->send(common::encodeHistory(room, frames));
      });
  if (!sent)
    sendError(connection, frame.ref, V1ErrorCode::kUnavailable, "redis unavailable, retry");
}

}  // namespace chat::gateway
