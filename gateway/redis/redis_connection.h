#pragma once
// One hiredis async connection on the gateway's libuv loop, kept up for the
// life of the process: connects, authenticates (AUTH, SELECT, CLIENT SETNAME),
// and after any failure reconnects from a backoff timer with jitter.
//
// Ownership follows hiredis: once connected, the redisAsyncContext belongs to
// hiredis and is freed after the disconnect callback, so we only hold a
// non-owning pointer and clear it there. Every pending reply callback runs,
// with a null reply, when the link dies; `ReplyFn`s are heap-held until then.
// Loop thread only.

#include <hiredis/async.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/redis_url.h"
#include "loop/uv_handles.h"
#include "redis/sentinel_lookup.h"

namespace chat::gateway {

// Called once per command: with the reply, or with nullptr when the command
// could not be sent or the connection died before the reply came.
using ReplyFn = std::function<void(redisReply* reply)>;

// How long to wait before reconnect attempt `attempt` (0, 1, ...): doubling
// from 0.1 s to 5 s, half of it random, so gateways never reconnect in step.
std::chrono::milliseconds redisReconnectDelay(unsigned attempt);

class RedisConnection {
 public:
  struct Listener {
    std::function<void()> onUp;    // connected and authenticated
    std::function<void()> onDown;  // lost (or never made); reconnect is scheduled
  };

  // A link that dies without closing (Redis hung, stopped, its packets
  // dropped) is noticed: a command unanswered for `replyTimeout` takes the
  // link down (every pending callback gets nullptr) and it reconnects. With
  // `pingWhenIdle`, a link with nothing in flight for half that sends a PING,
  // so an idle link is checked too (not on a subscriber link: RESP2 answers a
  // PING there in a form hiredis 0.14 cannot hand back). TCP keepalive is on.
  struct Liveness {
    std::chrono::milliseconds replyTimeout{5000};
    bool pingWhenIdle = false;
  };

  RedisConnection(uv_loop_t* loop, common::RedisEndpoint endpoint, std::string clientName,
                  Listener listener, Liveness liveness);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void start();
  // Connects through this Unix socket instead (the TLS tunnel's).
  void connectVia(std::string unixSocketPath) { viaSocket_ = std::move(unixSocketPath); }
  // Disconnects for good (shutdown); no reconnect follows.
  void stop();
  // Gives up on a link that is up but known not to work (a subscriber link
  // that missed its heartbeat): pending callbacks get nullptr, then reconnect.
  void drop(std::string_view reason);
  bool isUp() const { return state_ == State::kUp; }

  // Sends a command; false (and `fn` not called) when the connection is not up.
  bool command(const std::vector<std::string_view>& argv, ReplyFn fn);

  // Sends a command whose replies go to a raw hiredis callback, for SUBSCRIBE,
  // whose callback hiredis keeps and calls for every message.
  bool commandRaw(const std::vector<std::string_view>& argv, redisCallbackFn* fn, void* privdata);

  // Reads and dispatches what Redis has already sent (at most `maxReads`
  // socket reads), without waiting for the next poll.
  void readPending(int maxReads);

  const std::string& name() const { return clientName_; }
  // redis+sentinel://: the run id of the primary this link is on; else empty.
  const std::string& primaryId() const { return primaryId_; }
  unsigned reconnects() const { return reconnects_; }

 private:
  enum class State { kIdle, kConnecting, kHandshake, kUp, kStopped };

  void connect();
  void sendHandshake();
  void markDown(std::string_view reason);
  void scheduleReconnect();
  void abandonContext();
  static void onConnect(const redisAsyncContext* ctx, int status);
  static void onDisconnect(const redisAsyncContext* ctx, int status);
  static void onReply(redisAsyncContext* ctx, void* reply, void* privdata);
  // Sends one tracked command: its reply is due within the reply timeout.
  bool send(const std::vector<std::string_view>& argv, ReplyFn fn);
  void checkLiveness();

  uv_loop_t* loop_;
  common::RedisEndpoint endpoint_;
  std::string clientName_;
  std::string viaSocket_;
  Listener listener_;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis once connected
  State state_ = State::kIdle;
  unsigned attempt_ = 0;
  unsigned reconnects_ = 0;
  Liveness liveness_;
  // redis+sentinel://: where the primary is, asked before every connect.
  std::unique_ptr<SentinelLookup> lookup_;
  std::optional<SentinelLookup::Address> primary_;
  std::string primaryId_;
  // When each tracked command still unanswered was sent (uv_now ms): replies
  // come in order, so the front is the oldest.
  std::deque<std::uint64_t> sentAt_;
  std::uint64_t lastReplyAt_ = 0;
  Timer retryTimer_;
  Timer connectTimeout_;
  Timer livenessTimer_;
};

}  // namespace chat::gateway
