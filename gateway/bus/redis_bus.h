#pragma once
// Bus over Redis pub/sub on a connection of its own: a RESP2 connection in
// subscribed mode takes no other commands. Subscribes to a control channel on
// every connect, so `ready()` means Redis confirmed a subscription on the live
// link. Loop thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "bus/bus.h"
#include "redis/redis_connection.h"
#include "store/redis_keys.h"

namespace chat::gateway {

class RedisBus final : public Bus {
 public:
  // `replyTimeout`: see RedisConnection::Liveness.
  RedisBus(uv_loop_t* loop, const common::RedisEndpoint& endpoint, std::string clientName,
           const RedisKeys& keys, std::chrono::milliseconds replyTimeout);

  // The listener must be set before start() and outlive the bus.
  void start(BusListener& listener) {
    listener_ = &listener;
    connection_.start();
  }
  void stop() { connection_.stop(); }
  // Called whenever ready() may have changed (after the listener heard of it).
  void setOnReadinessChange(std::function<void()> fn) { onReadinessChange_ = std::move(fn); }
  void connectVia(std::string unixSocketPath) { connection_.connectVia(std::move(unixSocketPath)); }

  bool subscribe(std::string_view room) override;
  bool unsubscribe(std::string_view room) override;
  bool ready() const override { return connection_.isUp() && controlConfirmed_; }
  void setControlHandler(std::function<void(std::string_view)> handler) override {
    controlHandler_ = std::move(handler);
  }
  bool connected() const { return connection_.isUp(); }
  unsigned reconnects() const { return connection_.reconnects(); }
  void readPending(int maxReads) { connection_.readPending(maxReads); }

  // Liveness of the subscriber link, which cannot send a PING of its own: the
  // command link publishes on heartbeatChannel() (this bus alone subscribes
  // to it), and a heartbeat that does not come back means this link is dead.
  const std::string& heartbeatChannel() const { return heartbeatChannel_; }
  std::uint64_t lastHeartbeatAt() const { return lastHeartbeatAt_; }  // uv_now ms
  void drop(std::string_view reason) { connection_.drop(reason); }

 private:
  // hiredis calls this for every subscribe/unsubscribe confirmation and every
  // message on the channels subscribed with it.
  static void onPubSub(redisAsyncContext* ctx, void* reply, void* privdata);
  void handlePubSub(const redisReply* reply);

  const RedisKeys& keys_;
  uv_loop_t* loop_;
  std::string heartbeatChannel_;
  std::uint64_t lastHeartbeatAt_ = 0;
  BusListener* listener_ = nullptr;
  std::function<void()> onReadinessChange_;
  std::function<void(std::string_view)> controlHandler_;
  bool controlConfirmed_ = false;
  RedisConnection connection_;  // last: its teardown runs callbacks that use the members above
};

}  // namespace chat::gateway
