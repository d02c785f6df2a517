#pragma once
// One WebSocket client. lws owns the socket and its per-session memory, which
// holds only a pointer to this object: created on ESTABLISHED, destroyed on
// CLOSED after it has left its rooms. Frames to the client wait in a bounded
// OutboundQueue; they are written once per loop iteration while the socket
// takes them (WriteScheduler), else from the writable callback, so a slow
// reader never blocks anyone else. v1 clients get queued frames batched into
// one WebSocket frame, joined by '\n'. Loop thread only.

#include <libwebsockets.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/refusal.h"
#include "rooms/room_hub.h"
#include "stats.h"
#include "util/token_bucket.h"
#include "ws/outbound_queue.h"
#include "ws/recent_refs.h"
#include "ws/write_scheduler.h"

namespace chat::gateway {

enum class ClientKind : std::uint8_t { kPlain, kV1 };

class Connection;

// What a connection hands up to the server: complete text messages.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // A complete text message; refusals close through Connection::closeSoon.
  virtual void onClientText(Connection& connection, std::string_view text) = 0;
  // The outbound queue overflowed: the owner counts it and closes the
  // connection now (its 1008 close reason is pending).
  virtual void onSlowConsumer(Connection& connection) = 0;
  // The queue has drained while a history replay of one of its rooms waits
  // for room (RoomHub::resumeReplay).
  virtual void onRoomForHistory(Connection& connection) = 0;
};

// What every connection of a server shares: its limits and its counters.
struct ConnectionLimits {
  QueueLimits queue;
  std::size_t maxFrameBytes = 8192;
  ServerStats* stats = nullptr;
  // Plain bursts may be framed by us and sent raw (not with permessage-deflate).
  bool rawFraming = true;
  // Direct writes once per loop iteration; without it, every write waits for
  // lws' WRITEABLE callback.
  WriteScheduler* writes = nullptr;
};

class Connection final : public RoomMember {
 public:
  Connection(lws* wsi, std::uint64_t id, ClientKind kind, std::string username,
             const ConnectionLimits& limits, ConnectionHandler& handler, double burst,
             std::uint64_t nowMs);
  ~Connection() override;

  std::uint64_t id() const { return id_; }
  ClientKind kind() const { return kind_; }
  bool isV1() const { return kind_ == ClientKind::kV1; }
  const std::string& username() const { return username_; }
  lws* wsi() const { return wsi_; }
  std::size_t queuedBytes() const { return queue_.bytes(); }

  // Rooms, in join order; the first is the default room of a v1 send.
  const std::vector<Membership*>& memberships() const { return memberships_; }
  Membership* membershipOf(std::string_view room) const;
  void addMembership(Membership* m) { memberships_.push_back(m); }
  void removeMembership(Membership* m);

  // Remembers the refs of recent sends (created on first use).
  RecentRefs& refs();

  // Rate limit: takes a token for one client frame; counts refusals in a row.
  bool takeToken(double rate, double burst, std::uint64_t nowMs);
  std::uint32_t refusedInARow() const { return refusedInARow_; }

  // Rooms a token allows (nullptr: any), and the address the per-IP cap counts.
  const std::vector<std::string>* allowedRooms() const {
    return extras_ && extras_->allowedRooms ? &*extras_->allowedRooms : nullptr;
  }
  void setAllowedRooms(std::vector<std::string> rooms) { extras().allowedRooms = std::move(rooms); }
  const std::string& peerKey() const;
  void setPeerKey(std::string key) { extras().peerKey = std::move(key); }

  // Tokens (docs/protocol.md section 10): when the connection's token expires
  // (Unix s; 0: none), and, for a v1 client that must still send its `auth`
  // frame, the URL's join waiting for it and the deadline (uv_now ms).
  std::int64_t tokenExpiresAt() const { return extras_ ? extras_->tokenExpiresAt : 0; }
  void setTokenExpiresAt(std::int64_t at) { extras().tokenExpiresAt = at; }
  bool awaitingAuth() const { return extras_ && extras_->authDeadlineMs != 0; }
  std::uint64_t authDeadlineMs() const { return extras_ ? extras_->authDeadlineMs : 0; }
  void awaitAuth(UrlJoin join, std::uint64_t deadlineMs) {
    extras().pendingJoin = std::move(join);
    extras().authDeadlineMs = deadlineMs;
  }
  const std::string& pendingRoom() const {
    static const std::string none;
    return extras_ ? extras_->pendingJoin.room : none;
  }
  // A token of this connection waits for the key set to be fetched again
  // (a rotated kid): one at a time, and the `auth` deadline waits with it.
  bool keyCheckPending() const { return extras_ && extras_->keyCheckPending; }
  void setKeyCheckPending(bool pending) { extras().keyCheckPending = pending; }
  // The token came: the connection takes its user; returns the URL's join.
  UrlJoin authenticated(std::string username) {
    username_ = std::move(username);
    extras().authDeadlineMs = 0;
    return std::move(extras().pendingJoin);
  }

  // RoomMember
  void deliver(const FramePtr& frame) override;
  void deliverEvent(const FramePtr& frame) override;
  void onJoined(const JoinOutcome& outcome) override;
  // A replay fills at most half the queue's limits: live frames keep the rest.
  bool hasRoomForHistory() const override {
    return queue_.frames() < limits_.queue.maxFrames / 2 &&
           queue_.bytes() < limits_.queue.maxBytes / 2;
  }

  // Queues a frame made for this client alone (v1 control frames).
  void send(std::string_view json);

  // Closes with a code and a reason of at most 123 bytes, after the frames
  // already queued and the answers of this connection's stores in flight;
  // every close the gateway starts goes this way, through the one write path.
  // From now on what the client sends is read and dropped (lws answers its
  // close frame), so its unread bytes never turn our close into a reset.
  void closeSoon(common::CloseCode code, std::string_view reason);

  // A store for this client started or finished (its ack or error is queued).
  void storeStarted() { ++storesInFlight_; }
  void storeFinished();

  // LWS_CALLBACK_RECEIVE.
  void onReceive(const void* data, std::size_t len);

  enum class WriteResult { kOk, kFailed, kCloseRequested };
  // LWS_CALLBACK_SERVER_WRITEABLE. kCloseRequested: the queue has drained and
  // a close is pending; the owner closes it outside this callback (lws 4.1 on
  // libuv sends no close frame for a close started in WRITEABLE).
  WriteResult onWritable();

  // Writes what is queued straight to the socket, outside lws callbacks; what
  // the socket does not take waits for WRITEABLE. kFailed: the socket is
  // dead (the caller has lws kill it).
  WriteResult flush();
  // The client sent a close frame: lws answers it; nothing more is written.
  void onPeerClosing() { peerClosing_ = true; }

  // Its place in the WriteScheduler's list, while a flush is scheduled.
  static constexpr std::uint32_t kNoFlushSlot = static_cast<std::uint32_t>(-1);
  std::uint32_t flushSlot() const { return flushSlot_; }
  void setFlushSlot(std::uint32_t slot) { flushSlot_ = slot; }

  // Sends the pending close frame and closes; call outside lws callbacks.
  void closeNow();

  // What to tell the client when lws closes it (lws_close_reason).
  void setCloseReason(common::CloseCode code, std::string_view reason);

 private:
  void enqueue(const FramePtr& frame);
  // Whether the pending close may go now: queue drained, no answer awaited.
  bool readyToClose() const { return closePending_ && queue_.empty() && storesInFlight_ == 0; }
  // An oversized v1 frame is dropped with error too_large, naming its ref.
  void refuseOversized(std::string_view prefix);
  // Writes up to 256 queued frames (64 KiB) as one '\n'-joined frame.
  bool writeBatch(std::int64_t nowMs);
  bool writeFramedBurst(std::int64_t nowMs);
  // Writes from the queue until it is empty, the socket is full, or this
  // turn's budget is spent (then asks for WRITEABLE).
  WriteResult writeQueued();
  // After writes: a paused replay of one of its rooms may go on.
  void resumeReplaysIfDrained();
  // Counts a message frame written and its latency since it was stored.
  void recordWrite(const SharedFrame& frame, std::int64_t nowMs);

  lws* wsi_;
  std::uint64_t id_;
  ClientKind kind_;
  std::string username_;  // v1: fixed at the handshake (or its auth frame); plain: empty
  const ConnectionLimits& limits_;
  ConnectionHandler& handler_;
  std::vector<Membership*> memberships_;
  OutboundQueue queue_;
  std::unique_ptr<RecentRefs> refs_;
  common::TokenBucket bucket_;
  std::uint32_t refusedInARow_ = 0;
  std::uint32_t storesInFlight_ = 0;
  // What only some connections need, allocated on first use, so that an
  // idle connection costs little more than lws' own state.
  struct Extras {
    std::optional<std::vector<std::string>> allowedRooms;
    std::string peerKey;
    std::int64_t tokenExpiresAt = 0;
    std::uint64_t authDeadlineMs = 0;
    bool keyCheckPending = false;
    UrlJoin pendingJoin;
    std::string rxBuffer;  // reassembly of a message that spans callbacks
    common::CloseCode closeCode = common::CloseCode::kNormal;
    std::string closeReason;
  };
  Extras& extras();
  std::unique_ptr<Extras> extras_;
  std::uint32_t flushSlot_ = kNoFlushSlot;
  bool closePending_ = false;  // closeSoon was called; code and reason in extras
  bool slow_ = false;
  bool skippingOversized_ = false;
  bool peerClosing_ = false;
  bool closeStarted_ = false;
};

}  // namespace chat::gateway
